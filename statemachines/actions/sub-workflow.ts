import type { Action } from '../../core/workflow/definition.ts';
import { Placeholder, Resource } from '../asl.ts';
import { COMPLETED, TRACE_ID, type ActionContext, type ActionTarget, type States } from '../context.ts';
import { failureHandling } from '../failure.ts';
import { payloadTemplate } from '../paths.ts';
import { task } from '../task.ts';

/** A sub-workflow: starts the other workflow's state machine and waits for it (startExecution.sync). */
export function compileSubWorkflow(context: ActionContext, action: Extract<Action, { action_type: 'sub_workflow' }>, target: ActionTarget): States {
  const id = action.action_id;
  const failure = failureHandling(context, action, target);
  return {
    [id]: task({
      resource: Resource.startExecutionSync,
      parameters: {
        StateMachineArn: Placeholder.workflow(action.config.workflow_id, action.config.version),
        // The child gets the input every compiled machine expects (executionInput), with this run's trace.
        Input: {
          params: payloadTemplate(action.config.parameters, context.scope),
          results: {},
          failures: {},
          'trace_id.$': TRACE_ID,
          'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
        },
      },
      resultSelector: { outcome: COMPLETED, status_code: null, 'response.$': '$.Output', 'execution_arn.$': '$.ExecutionArn' },
      resultPath: target.resultPath,
      timeoutSeconds: action.timeout_seconds,
      retry: { policy: action.retry },
      catch: failure.catch,
      next: target.next,
    }),
    ...failure.states,
  };
}
