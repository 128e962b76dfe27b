import type { Action } from '../../core/workflow/definition.ts';
import { Resource, type JsonObject, type State } from '../asl.ts';
import { notificationEntry } from '../bus-entries.ts';
import { COMPLETED, DEFAULT_SERVICE_CALL_TIMEOUT_SECONDS, flow, runIds, TRACE_ID, type ActionContext, type ActionTarget, type States } from '../context.ts';
import { failureHandling } from '../failure.ts';
import { compileValue, executionIdPath, referencedActions, resultLocation, type PathScope } from '../paths.ts';
import { pausable, task } from '../task.ts';
import { runnerCall } from './service-call.ts';
import { transformResponse } from './transform.ts';

type ForeachAction = Extract<Action, { action_type: 'foreach' }>;

/**
 * A foreach: a Map state over the items, running the inner action once per item (`max_concurrency` at a
 * time). Each item sees `{{item}}`, `{{index}}`, the parameters and the results its inner action reads; the
 * action's result is the array of the items' results. The action's retry policy and timeout apply to each
 * item; a failed item fails the whole foreach, which then has the failure handling of any action.
 */
export function compileForeach(context: ActionContext, action: ForeachAction, target: ActionTarget): States {
  const id = action.action_id;
  const items = compileValue(action.config.items, context.scope);
  if (!('path' in items)) throw new Error(`foreach ${id}: items must be a reference`);
  const inner = action.config.action;
  // An item's state data carries the results its inner action reads under `results`, wherever they came from.
  const loopScope: PathScope = { ...context.scope, loopVariables: true, released: undefined };
  const each = `${id}: each item`;
  const carried: JsonObject = {};
  for (const ref of referencedActions(inner.config, loopScope)) carried[`${ref}.$`] = resultLocation(ref, context.scope);
  const ids = runIds(context, id);
  const failure = failureHandling(
    context,
    action,
    target,
    inner.action_type === 'service_call' ? { ...ids, service: inner.config.service, endpoint: inner.config.endpoint, method: inner.config.method } : undefined,
  );
  return {
    [id]: {
      Type: 'Map',
      ItemsPath: items.path,
      MaxConcurrency: action.config.max_concurrency,
      ItemSelector: { 'item.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index', 'params.$': '$.params', 'trace_id.$': TRACE_ID, results: carried },
      ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: each, States: itemStates(context, action, loopScope, each) },
      ResultSelector: { outcome: COMPLETED, status_code: null, 'response.$': '$' },
      ResultPath: target.resultPath,
      Catch: [...failure.catch],
      ...flow(target.next),
    },
    ...failure.states,
  };
}

/** The states that run one item: the inner action's one state (and where a service call parks while paused). */
function itemStates(context: ActionContext, action: ForeachAction, loopScope: PathScope, each: string): States {
  const id = action.action_id;
  const inner = action.config.action;
  const base = runIds(context, id);
  switch (inner.action_type) {
    case 'service_call': {
      const call = task({
        ...runnerCall(loopScope, { ...base, 'trace_id.$': TRACE_ID, 'item_index.$': '$.index' }, inner.config, action.timeout_seconds ?? DEFAULT_SERVICE_CALL_TIMEOUT_SECONDS, context.inlineResultBytes.foreachItem),
        // An item's result is the item's entry in the Map's result: no outcome (the foreach has one), no ResultPath.
        resultSelector: { 'status_code.$': '$.Payload.status_code', 'response.$': '$.Payload.response' },
        retry: { policy: action.retry },
        next: undefined,
      });
      const held = `${id}: item held`;
      const paused = pausable(call, each, held, { 'execution_id.$': executionIdPath(context.scope), action_id: id, 'item_index.$': '$.index' });
      return { [each]: paused.call, [held]: paused.parked };
    }
    case 'notification':
      return {
        [each]: task({
          resource: Resource.putEvents,
          parameters: { Entries: [notificationEntry(inner.config, { ...base, 'item_index.$': '$.index' }, loopScope)] },
          resultSelector: { status_code: 200, response: { 'event_id.$': '$.Entries[0].EventId' } },
          // No TimeoutSeconds here, so no States.Timeout to retry (unlike a notification action: notification.ts).
          retry: { policy: action.retry },
          next: undefined,
        }),
      };
    case 'transform': {
      const state: State = { Type: 'Pass', Parameters: { status_code: null, ...transformResponse(inner.config.output, loopScope) }, End: true };
      return { [each]: state };
    }
  }
}
