import { actionFailureCause } from '../core/errors.ts';
import { DEFAULT_TENANT } from '../core/auth/model.ts';
import type { Action } from '../core/workflow/definition.ts';
import { Placeholder, Resource, type Catcher, type JsonObject, type TaskState } from './asl.ts';
import { DEAD_LETTER_NOTICE, deadLetterNotice } from './bus-entries.ts';
import { flow, TRACE_ID, type ActionContext, type ActionTarget, type States } from './context.ts';
import { executionIdPath, payloadTemplate } from './paths.ts';
import { task } from './task.ts';

/** What happens after an action's retries are spent: the catch of its main state and the states it leads to. */
export interface FailureHandling {
  /** The main state's Catch. */
  readonly catch: readonly Catcher[];
  /** The states the catch leads to, to put after the main state. */
  readonly states: States;
}

/**
 * After retries: a failed service call goes to the dead-letter queue (`deadLetter` names the call in the
 * message), then `fail` ends the execution naming the action, while `continue` and `compensate` record the
 * failure as the action's result and go on (a later check starts compensation).
 */
export function failureHandling(context: ActionContext, action: Action, target: ActionTarget, deadLetter?: JsonObject): FailureHandling {
  const id = action.action_id;
  const { input, scope } = context;
  const failureAt = `$.failures.${id}`;
  const onFailure = action.on_failure ?? 'fail';
  const handle = onFailure === 'fail' ? `${id}: failed` : `${id}: record failure`;
  const describe = `${id}: describe failure`;
  // Where the failure goes once it is dead-lettered (or straight from the catch without a dead letter).
  const recorded = onFailure === 'fail' ? describe : handle;
  const states: States = {};
  let caught = recorded;
  if (deadLetter) {
    const dlq = `${id}: dead letter`;
    const notice = `${id}: ${DEAD_LETTER_NOTICE}`;
    states[dlq] = task({
      resource: Resource.sqsSendMessage,
      parameters: {
        QueueUrl: Placeholder.deadLetterQueue,
        // The action runner puts the rendered request in its error's cause (JSON), so the message holds what
        // a replay needs without rendering the request a second time here; failures outside the runner
        // (Lambda service errors, timeouts) still name the execution, action and endpoint.
        MessageBody: { kind: 'action_failed', ...payloadTemplate(deadLetter, scope), 'error.$': `${failureAt}.Error`, 'cause.$': `${failureAt}.Cause` },
      },
      resultPath: null,
      retry: 'delivery',
      // Losing the dead letter must not hide the failure itself.
      catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: recorded }],
      next: notice,
    });
    // The dead letter is an event too (orchestrator.dlq.added, announced by the action runner), once it is in
    // the queue; losing the event must not hide the failure either. Runs that succeed never enter it.
    states[notice] = task({
      resource: Resource.lambdaInvoke,
      parameters: deadLetterNotice({ workflowId: input.workflow_id, version: input.version, tenant: input.tenant ?? DEFAULT_TENANT, executionIdPath: executionIdPath(scope) }, id, failureAt, TRACE_ID),
      resultPath: null,
      retry: 'delivery',
      catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: recorded }],
      next: recorded,
    });
    caught = dlq;
  }

  if (onFailure === 'fail') {
    states[describe] = {
      Type: 'Pass',
      Parameters: { 'cause.$': `States.Format('${actionFailureCause(id)}', ${failureAt}.Error, ${failureAt}.Cause)`, 'redrive_count.$': '$$.Execution.RedriveCount' },
      ResultPath: `$.failures.${id}`,
      Next: handle,
    };
    states[handle] = redriveGate(id);
  } else {
    states[handle] = {
      Type: 'Pass',
      Comment: onFailure === 'continue' ? 'on_failure continue: record the failure and go on' : 'on_failure compensate: record the failure; compensation runs at the end',
      Parameters: { outcome: 'failed', status_code: null, response: null, 'error.$': `${failureAt}.Error`, 'cause.$': `${failureAt}.Cause` },
      ResultPath: target.resultPath ?? `$.failures.${id}`,
      ...flow(target.next),
    };
  }
  return { catch: [{ ErrorEquals: ['States.ALL'], ResultPath: failureAt, Next: caught }], states };
}

/**
 * The end of a run that failed at an action, made so that a retry can resume it (RedriveExecution restarts
 * the state that failed, so that state must not be a Fail state, which would only fail again). The runner
 * fails this task with ActionFailed and the recorded cause while the run has not been redriven since the
 * failure was recorded, and lets it go once it has: the flow then goes back to the action (whose first state
 * is named by its id), which runs again with its retries, catch and dead letter. Runs that succeed never
 * enter it. See ADR 0012.
 */
function redriveGate(actionId: string): TaskState {
  return task({
    comment: 'fails the run with the recorded failure; after a retry (redrive), goes back to the action',
    resource: Resource.lambdaInvoke,
    parameters: {
      FunctionName: Placeholder.actionRunner,
      Payload: {
        redrive_gate: {
          action_id: actionId,
          'cause.$': `$.failures.${actionId}.cause`,
          'failed_at_redrive.$': `$.failures.${actionId}.redrive_count`,
          'redrive_count.$': '$$.Execution.RedriveCount',
        },
      },
    },
    resultPath: null,
    retry: 'runner-control',
    next: actionId,
  });
}
