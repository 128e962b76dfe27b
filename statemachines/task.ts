import { GATE_UNAVAILABLE_ERROR, RETRYABLE_ACTION_ERRORS, RUN_PAUSED_ERROR } from '../core/errors.ts';
import { LLM_TRANSIENT_ERRORS } from '../core/execution/llm-check.ts';
import type { RetryPolicy } from '../core/workflow/definition.ts';
import { RetryPolicySchema } from '../core/workflow/definition.ts';
import { Placeholder, Resource, type Catcher, type JsonObject, type Retrier, type TaskState } from './asl.ts';
import { flow } from './context.ts';

/**
 * The one way the compiler makes a Task state: every Task of every action, of the failure handling and of the
 * saga goes through `task`, and its Retry list through `retriers`, so that what a Task retries depends on
 * what it calls and why, never on which action type built it.
 */

/** What an action's own work may fail with and recover from, per resource it calls. */
export const TRANSIENT_ERRORS = {
  /** The action runner: the service's transient failures, Lambda's own, and a task that hit its TimeoutSeconds. */
  [Resource.lambdaInvoke]: RETRYABLE_ACTION_ERRORS,
  /** A gated call (ADR 0016): the same runner, whose errors come back with its token. */
  [Resource.lambdaInvokeCallback]: RETRYABLE_ACTION_ERRORS,
  [Resource.putEvents]: ['EventBridge.InternalException', 'EventBridge.ThrottlingException'],
  [Resource.startExecutionSync]: ['StepFunctions.ExecutionLimitExceededException', 'StepFunctions.SdkClientException'],
  /** A model call: Bedrock throttling, the service or the model not ready or too slow (the local gateway fails with the same names). */
  [Resource.bedrockInvokeModel]: LLM_TRANSIENT_ERRORS,
} as const satisfies Record<string, readonly string[]>;

/** A resource an action's own work calls (and so retries with the action's policy). */
export type ActionResource = keyof typeof TRANSIENT_ERRORS;

/** Lambda's own transient failures, when invoking the runner for control (parking a call, the redrive gate). */
export const LAMBDA_TRANSIENT_ERRORS = RETRYABLE_ACTION_ERRORS.filter((name) => name.startsWith('Lambda.'));

/** A dependency gate's store or release failed: four attempts over about 15 s (ADR 0016). */
const GATE_RETRIER: Retrier = { ErrorEquals: [GATE_UNAVAILABLE_ERROR, ...LAMBDA_TRANSIENT_ERRORS], IntervalSeconds: 1, MaxAttempts: 4, BackoffRate: 2 };

/** How a Task retries. */
export type TaskRetry =
  /**
   * The action's own work: its retry policy (the default when it sets none) over the transient errors of the
   * resource it calls. `retryTimeout` adds States.Timeout where the resource's list lacks it (see
   * notification.ts for why only there).
   */
  | {
      readonly policy: RetryPolicy | undefined;
      readonly retryTimeout?: boolean;
      /**
       * The call reports to dependency gates from the runner: a report that failed (GateUnavailableError) is
       * retried too, calling again (under the same Idempotency-Key), since the state has no other way to report.
       */
      readonly reportsToGates?: boolean;
    }
  /** The runner's control tasks (parking a call, the redrive gate): Lambda's own transient failures only. */
  | 'runner-control'
  /** Dependency gate states: Lambda's transient failures and the gates' own (GateUnavailableError), a few times. */
  | 'gate'
  /** Sending a dead letter or announcing it: anything, twice, quickly; losing it must not hold the run up. */
  | 'delivery'
  /** No Retry field at all. */
  | 'none';

interface TaskFields {
  readonly comment?: string;
  readonly parameters: JsonObject;
  readonly resultSelector?: JsonObject;
  /** Absent: the field is left out (ASL's default, `$`); null: the result is dropped. */
  readonly resultPath?: string | null;
  readonly timeoutSeconds?: number;
  readonly catch?: readonly Catcher[];
  /** The state after this one; undefined ends the machine or branch. */
  readonly next: string | undefined;
}

export type TaskSpec = TaskFields &
  (
    | { readonly resource: ActionResource; readonly retry: TaskRetry }
    | { readonly resource: (typeof Resource)[keyof typeof Resource]; readonly retry: Exclude<TaskRetry, { policy: unknown }> }
  );

/** A complete Task state, its fields in the order every compiled Task has them. */
export function task(spec: TaskSpec): TaskState {
  const retry = retriers(spec);
  return {
    Type: 'Task',
    ...(spec.comment === undefined ? {} : { Comment: spec.comment }),
    Resource: spec.resource,
    Parameters: spec.parameters,
    ...(spec.resultSelector === undefined ? {} : { ResultSelector: spec.resultSelector }),
    ...(spec.resultPath === undefined ? {} : { ResultPath: spec.resultPath }),
    ...(spec.timeoutSeconds === undefined ? {} : { TimeoutSeconds: spec.timeoutSeconds }),
    ...(retry === undefined ? {} : { Retry: retry }),
    ...(spec.catch === undefined ? {} : { Catch: [...spec.catch] }),
    ...flow(spec.next),
  };
}

/**
 * The Retry list of a Task (undefined: none). An action's transient failures retry with its policy (defaults: 3
 * attempts, 2 s, x2, full jitter, at most 60 s apart); everything else goes straight to the catch.
 */
function retriers(spec: TaskSpec): Retrier[] | undefined {
  const { retry } = spec;
  if (retry === 'none') return undefined;
  if (retry === 'runner-control') return [{ ErrorEquals: [...LAMBDA_TRANSIENT_ERRORS], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 }];
  if (retry === 'gate') return [GATE_RETRIER];
  if (retry === 'delivery') return [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2 }];
  const errors: string[] = [...TRANSIENT_ERRORS[spec.resource as ActionResource]];
  if (retry.retryTimeout && !errors.includes('States.Timeout')) errors.push('States.Timeout');
  const policy = retry.policy ?? RetryPolicySchema.parse({});
  const gates = retry.reportsToGates ? [GATE_RETRIER] : [];
  if (policy.max_attempts <= 1) return gates;
  return [
    ...gates,
    {
      ErrorEquals: errors,
      IntervalSeconds: Math.max(1, Math.round(policy.interval_seconds)),
      MaxAttempts: policy.max_attempts - 1,
      BackoffRate: policy.backoff_rate,
      MaxDelaySeconds: policy.max_delay_seconds,
      JitterStrategy: policy.jitter === 'full' ? 'FULL' : 'NONE',
    },
  ];
}

/**
 * Pause on Step Functions (ADR 0012; core/execution/held-calls.ts): a call to the action runner made
 * pausable, and the state it parks in. The call's payload says `pausable`: while its run is paused the runner
 * answers RunPaused instead of calling, and a catch parks the call in a callback state (no time limit: a pause
 * lasts as long as it lasts) until resume sends its task token back; then the call is made. A run that is
 * never paused enters none of this, so it costs no transition; a call parked by a pause costs two (the
 * callback state, and the task entered again). `call` is complete; the result keeps its fields where they
 * are (a Catch it did not have comes last).
 */
export function pausable(call: TaskState, callName: string, parkedName: string, ids: JsonObject): { call: TaskState; parked: TaskState } {
  const parameters = call.Parameters!;
  const onFailure = call.Catch?.find((catcher) => catcher.ErrorEquals.includes('States.ALL'));
  const paused: TaskState = {
    ...call,
    Parameters: { ...parameters, Payload: { ...(parameters.Payload as JsonObject), pausable: true } },
    Catch: [{ ErrorEquals: [RUN_PAUSED_ERROR], ResultPath: null, Next: parkedName }, ...(call.Catch ?? [])],
  };
  const parked = task({
    comment: 'the run is paused: wait here until it is resumed, then make the call',
    resource: Resource.lambdaInvokeCallback,
    parameters: { FunctionName: Placeholder.actionRunner, Payload: { park: { ...ids, 'task_token.$': '$$.Task.Token' } } },
    resultPath: null,
    retry: 'runner-control',
    // A call that cannot be parked fails like the call itself would.
    ...(onFailure ? { catch: [{ ...onFailure }] } : {}),
    next: callName,
  });
  return { call: paused, parked };
}
