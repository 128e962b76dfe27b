import type { Action } from '../../core/workflow/definition.ts';
import { Resource } from '../asl.ts';
import { notificationEntry } from '../bus-entries.ts';
import { COMPLETED, runIds, type ActionContext, type ActionTarget, type States } from '../context.ts';
import { failureHandling } from '../failure.ts';
import { task } from '../task.ts';

/** A notification: one native PutEvents on the workflow bus (no Lambda), and its failure handling. */
export function compileNotification(context: ActionContext, action: Extract<Action, { action_type: 'notification' }>, target: ActionTarget): States {
  const id = action.action_id;
  const failure = failureHandling(context, action, target);
  return {
    [id]: task({
      resource: Resource.putEvents,
      parameters: { Entries: [notificationEntry(action.config, runIds(context, id), context.scope)] },
      resultSelector: { outcome: COMPLETED, status_code: 200, response: { 'event_id.$': '$.Entries[0].EventId' } },
      resultPath: target.resultPath,
      timeoutSeconds: action.timeout_seconds,
      // The action may set timeout_seconds (TimeoutSeconds), and a PutEvents that timed out is retried like a
      // throttled one. States.Timeout is listed whether or not it sets one (without TimeoutSeconds it never
      // occurs); a foreach item's notification has no TimeoutSeconds and does not list it (foreach.ts).
      retry: { policy: action.retry, retryTimeout: true },
      catch: failure.catch,
      next: target.next,
    }),
    ...failure.states,
  };
}
