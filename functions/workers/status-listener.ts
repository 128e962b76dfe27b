import * as z from 'zod';
import { eventsOfDelivery, isLogSubscriptionDelivery, type LogSubscriptionDelivery } from '../../adapters/aws/logs/express-execution-log.ts';
import type { ActionProgress, Execution, ExecutionFailure, ExecutionStatus } from '../../core/execution/model.ts';
import { ACTIVE_STATUSES, isTerminal, RETRYABLE_STATUSES, sentNotification, settleProgress } from '../../core/execution/model.ts';
import { failedActionOf } from '../../core/errors.ts';
import { sagaFailure } from '../../core/execution/saga.ts';
import type { Clock, DependencyGates, ExecutionHistory, ExecutionStore } from '../../core/ports.ts';
import { progressFromHistory } from '../../statemachines/progress.ts';
import { WORKFLOW_EVENTS } from '../../core/workflow/service.ts';
import { sharedLog } from '../observability/logger.ts';

/**
 * The status listener: Step Functions reports every status change of a standard execution to EventBridge
 * ("Step Functions Execution Status Change"), and an express execution's start and end reach it through a
 * subscription to the state machines' log group; this worker moves the stored execution along with them.
 * When a run ends, its history settles every action's progress (started, attempts, output or error, skipped)
 * before the final status is written. Every
 * move is a conditional `transition` from the statuses it may legally come from, so duplicate and
 * out-of-order deliveries (EventBridge is at least once and unordered) change nothing they should not: a
 * RUNNING event that arrives after SUCCEEDED finds the execution completed and leaves it so.
 *
 * Executions are named by their execution id (the engine starts them so); an execution the store does not
 * hold (a sub-workflow's child run, started by Step Functions under a generated name) is ignored.
 */

export const STATUS_CHANGE_DETAIL_TYPE = 'Step Functions Execution Status Change';

/** Step Functions statuses -> execution statuses. PENDING_REDRIVE (a redrive about to start) has none. */
const STATUS_MAP = {
  RUNNING: 'running',
  SUCCEEDED: 'completed',
  FAILED: 'failed',
  TIMED_OUT: 'timed_out',
  ABORTED: 'cancelled',
} as const satisfies Record<string, ExecutionStatus>;

/** What the store keeps of a run's output at most; larger outputs are kept as a preview (the item holds 400 KB in all). */
export const MAX_STORED_OUTPUT_BYTES = 64 * 1024;
const OUTPUT_PREVIEW_CHARS = 1024;

const optionalText = z.string().nullish();
const StatusChangeEvent = z.object({
  'detail-type': z.literal(STATUS_CHANGE_DETAIL_TYPE),
  source: z.literal('aws.states'),
  time: z.string().optional(),
  detail: z.object({
    executionArn: z.string(),
    stateMachineArn: z.string().optional(),
    name: z.string().min(1),
    status: z.string(),
    startDate: z.number().nullish(),
    stopDate: z.number().nullish(),
    output: optionalText,
    outputDetails: z.object({ included: z.boolean().optional() }).nullish(),
    error: optionalText,
    cause: optionalText,
  }),
});
export type StatusChangeEvent = z.input<typeof StatusChangeEvent>;

export interface StatusChangeOutcome {
  readonly execution_id: string;
  /** The Step Functions status the event reported. */
  readonly reported: string;
  /** The status the execution was moved to, or undefined when nothing changed (duplicate, late, unknown execution). */
  readonly moved_to?: ExecutionStatus;
  /** Actions whose progress the run's history corrected when it ended. */
  readonly actions_settled?: number;
  /** The notification action recorded (for NOTIFICATION_SENT). */
  readonly action_id?: string;
}

export interface StatusListenerDeps {
  readonly executions: Pick<ExecutionStore, 'get' | 'transition' | 'updateAction' | 'startAttempt' | 'finishAttempt'>;
  /** For timestamps the event lacks. */
  readonly clock: Clock;
  /**
   * Where a finished run's events are read to settle every action's progress: Step Functions' history for
   * standard workflows, the log group for express ones. Without it, only the execution's status is recorded.
   */
  readonly history?: { readonly standard: ExecutionHistory; readonly express?: ExecutionHistory };
  /**
   * The runs' dependency gates (ADR 0016), removed when a run ends for good (see forgetsGates). Without it,
   * gates stay with their run's items.
   */
  readonly gates?: Pick<DependencyGates, 'forget'>;
}

/**
 * Whether a run that ended in `status` has its gates removed: only when it cannot go on. A run that failed,
 * timed out or was stopped can be retried (RedriveExecution), which runs again only what did not succeed: a
 * producer that reported before the end does not report again, so its waiter, waiting again with a new token,
 * needs the gate as it was.
 */
export function forgetsGates(status: ExecutionStatus): boolean {
  return isTerminal(status) && !(RETRYABLE_STATUSES as readonly ExecutionStatus[]).includes(status);
}

/** A Step Functions status change, from EventBridge (standard workflows) or from an express workflow's log. */
interface StatusChange {
  readonly executionId: string;
  readonly executionArn: string;
  readonly reported: string;
  readonly time?: string;
  readonly startDate?: number | null;
  readonly stopDate?: number | null;
  readonly output?: string | null;
  readonly outputIncluded?: boolean;
  readonly error?: string | null;
  readonly cause?: string | null;
}

/** What the listener reports for a notification it recorded. */
export const NOTIFICATION_SENT = 'NOTIFICATION_SENT';

/** A notification action's event, as the workflow bus delivers it (compile.ts writes its detail). */
const NotificationSent = z.object({
  id: z.string().min(1),
  source: z.literal(WORKFLOW_EVENTS.source),
  'detail-type': z.literal(WORKFLOW_EVENTS.notification),
  time: z.string().optional(),
  detail: z.object({
    execution_id: z.string().min(1),
    action_id: z.string().min(1),
    item_index: z.number().int().optional(),
    message: z.unknown().optional(),
    title: z.unknown().optional(),
    severity: z.unknown().optional(),
    channels: z.unknown().optional(),
    recipients: z.unknown().optional(),
  }),
});
export type NotificationSentEvent = z.input<typeof NotificationSent>;

export type StatusListener = (event: StatusChangeEvent | LogSubscriptionDelivery | NotificationSentEvent) => Promise<StatusChangeOutcome[]>;

/** Log event types of an express execution's start and end, and the status each reports. */
const EXPRESS_LOG_STATUSES: Readonly<Record<string, string>> = {
  ExecutionStarted: 'RUNNING',
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionTimedOut: 'TIMED_OUT',
  ExecutionAborted: 'ABORTED',
};

/**
 * Builds the Lambda handler. It takes EventBridge status changes (standard workflows) and the state
 * machines' log subscription (express workflows, which send no status events). A failure to write (the
 * store unreachable) throws, so Lambda retries the event and, after its retries, sends it to the listener's
 * dead-letter queue.
 */
export function createStatusListener({ executions, clock, history, gates }: StatusListenerDeps): StatusListener {
  /** A gate left behind costs storage, not correctness: a failure to remove them is logged, not retried. */
  const forgetGates = async (executionId: string): Promise<void> => {
    if (!gates) return;
    try {
      await gates.forget(executionId);
    } catch (error) {
      sharedLog({ level: 'warn', message: 'dependency gates of the ended run not removed', execution_id: executionId, error: String(error) });
    }
  };

  const settleActions = async (execution: Execution, change: StatusChange, target: ExecutionStatus, endedAt: string): Promise<{ changed: number; actions: readonly ActionProgress[] }> => {
    const express = isExpressExecutionArn(change.executionArn);
    const source = express ? history?.express : history?.standard;
    let fromHistory: readonly ActionProgress[] = execution.actions;
    try {
      if (source) fromHistory = progressFromHistory(execution.actions, await source.events(change.executionArn), target !== 'completed');
    } catch (error) {
      // The status matters more than the detail: record it even when the history cannot be read.
      sharedLog({ level: 'warn', message: 'execution history unreadable; actions are settled from their live progress', execution_id: execution.execution_id, error: String(error) });
    }
    // A finished run leaves nothing pending or running (not_run, cancelled), whatever the history held.
    const settled = target === 'completed' && !source ? fromHistory : settleProgress(fromHistory, target, endedAt, failedActionOf(change.cause ?? ''));
    const before = new Map(execution.actions.map((action) => [action.action_id, JSON.stringify(action)]));
    const changed = settled.filter((action) => before.get(action.action_id) !== JSON.stringify(action) && !(action.status === 'pending' && action.attempts === 0 && before.has(action.action_id)));
    for (let index = 0; index < changed.length; index += SETTLE_CONCURRENCY) {
      await Promise.all(changed.slice(index, index + SETTLE_CONCURRENCY).map((action) => executions.updateAction(execution.execution_id, action)));
    }
    return { changed: changed.length, actions: settled };
  };

  const handle = async (reportedChange: StatusChange): Promise<StatusChangeOutcome> => {
    // Read the cause once, whichever edge it came from (EventBridge or an express workflow's log).
    const change: StatusChange = { ...reportedChange, cause: executionCause(reportedChange.cause) };
    const { executionId, reported } = change;
    const target = Object.hasOwn(STATUS_MAP, reported) ? STATUS_MAP[reported as keyof typeof STATUS_MAP] : undefined;
    const startedAt = isoFromEpoch(change.startDate) ?? change.time ?? clock.now();
    if (target === undefined) return log({ execution_id: executionId, reported });

    if (target === 'running') {
      const moved = await executions.transition(executionId, ['pending'], 'running', { started_at: startedAt });
      return log({ execution_id: executionId, reported, ...(moved ? { moved_to: target } : {}) });
    }

    const execution = await executions.get(executionId);
    // Not ours (a sub-workflow's child run), or already settled by an earlier delivery of this event.
    if (!execution || isTerminal(execution.status)) return log({ execution_id: executionId, reported });
    // Actions first: a client that sees the run finished sees its actions settled too.
    const endedAt = isoFromEpoch(change.stopDate) ?? change.time ?? clock.now();
    const { changed: settled, actions } = await settleActions(execution, change, target, endedAt);
    const fields = {
      ended_at: endedAt,
      ...(target === 'completed' ? outputOf(change.output, change.outputIncluded) : { error: sagaFailure(actions, failureOf(target, change.error, change.cause)) }),
    };
    let moved = await executions.transition(executionId, ACTIVE_STATUSES, target, fields);
    // The RUNNING event has not arrived yet (EventBridge does not keep order): the run did start, so record
    // that first and then its end, keeping to the legal transitions.
    if (!moved && (await executions.transition(executionId, ['pending'], 'running', { started_at: startedAt }))) {
      moved = await executions.transition(executionId, ACTIVE_STATUSES, target, fields);
    }
    // Whoever moved it (this delivery or a concurrent one), the run has ended; removing gates twice is harmless.
    if (forgetsGates(target)) await forgetGates(executionId);
    return log({ execution_id: executionId, reported, ...(moved ? { moved_to: target } : {}), ...(settled > 0 ? { actions_settled: settled } : {}) });
  };

  /**
   * A notification action put its event on the workflow bus: the bus sends it here too, so that the
   * notification shows as completed, with its message and event id, as soon as it is sent rather than when the
   * run ends. A foreach item's notification is part of the foreach action (settled from the history).
   */
  const recordNotification = async (event: z.output<typeof NotificationSent>): Promise<StatusChangeOutcome> => {
    const { detail } = event;
    const outcome = { execution_id: detail.execution_id, reported: NOTIFICATION_SENT, action_id: detail.action_id };
    if (detail.item_index !== undefined) return log(outcome);
    const at = event.time ?? clock.now();
    await executions.startAttempt(detail.execution_id, detail.action_id, at);
    await executions.finishAttempt(detail.execution_id, detail.action_id, { status: 'completed', ended_at: at, output: { status_code: 200, response: { event_id: event.id, ...sentNotification(detail) } } });
    return log(outcome);
  };

  return async (raw) => {
    const notification = NotificationSent.safeParse(raw);
    if (notification.success) return [await recordNotification(notification.data)];
    if (isLogSubscriptionDelivery(raw)) {
      const outcomes: StatusChangeOutcome[] = [];
      for (const change of expressStatusChanges(raw)) outcomes.push(await handle(change));
      return outcomes;
    }
    const parsed = StatusChangeEvent.safeParse(raw);
    if (!parsed.success) {
      throw new Error(`not a Step Functions execution status change: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    }
    const { detail, time } = parsed.data;
    return [
      await handle({
        executionId: detail.name,
        executionArn: detail.executionArn,
        reported: detail.status,
        time,
        startDate: detail.startDate,
        stopDate: detail.stopDate,
        output: detail.output,
        outputIncluded: detail.outputDetails?.included,
        error: detail.error,
        cause: detail.cause,
      }),
    ];
  };
}

/** How many action updates are written at once when a run is settled. */
const SETTLE_CONCURRENCY = 8;

/** `arn:aws:states:<region>:<account>:express:<state machine>:<execution name>:<run id>` */
function isExpressExecutionArn(arn: string): boolean {
  return arn.split(':')[5] === 'express';
}

/** Express executions' starts and ends, from the state machines' log (standard ones come from EventBridge). */
function expressStatusChanges(delivery: LogSubscriptionDelivery): StatusChange[] {
  return eventsOfDelivery(delivery).flatMap(({ executionArn, event }) => {
    const reported = EXPRESS_LOG_STATUSES[event.type];
    const executionId = executionArn.split(':')[7];
    if (reported === undefined || !isExpressExecutionArn(executionArn) || !executionId) return [];
    const at = Date.parse(event.timestamp);
    return [
      {
        executionId,
        executionArn,
        reported,
        ...(reported === 'RUNNING' ? { startDate: at } : { stopDate: at }),
        ...(event.output !== undefined ? { output: event.output } : {}),
        ...(event.error !== undefined ? { error: event.error } : {}),
        ...(event.cause !== undefined ? { cause: event.cause } : {}),
      },
    ];
  });
}

function log(outcome: StatusChangeOutcome): StatusChangeOutcome {
  sharedLog({ message: 'execution status change', ...outcome });
  return outcome;
}

function isoFromEpoch(milliseconds: number | null | undefined): string | undefined {
  return typeof milliseconds === 'number' && Number.isFinite(milliseconds) ? new Date(milliseconds).toISOString() : undefined;
}

/**
 * The run's output: JSON, as the state machine ended. Step Functions leaves it out of the event when it is
 * too large for EventBridge (`outputDetails.included: false`); then none is stored.
 */
function outputOf(output: string | null | undefined, included: boolean | undefined): { output?: unknown } {
  if (output === undefined || output === null || included === false) return {};
  const size = new TextEncoder().encode(output).length;
  if (size > MAX_STORED_OUTPUT_BYTES) return { output: { truncated: true, size_bytes: size, preview: output.slice(0, OUTPUT_PREVIEW_CHARS) } };
  try {
    return { output: JSON.parse(output) as unknown };
  } catch {
    return { output };
  }
}

const DEFAULT_FAILURES: Readonly<Record<'failed' | 'timed_out' | 'cancelled', ExecutionFailure>> = {
  failed: { error: 'States.Runtime', cause: 'the execution failed' },
  timed_out: { error: 'States.Timeout', cause: 'the execution timed out' },
  cancelled: { error: 'Cancelled', cause: 'the execution was stopped' },
};

/**
 * The compiled failure gate names the failed action in its cause: "action <id> failed: <error>: <cause>".
 * It is a Lambda task, so Step Functions reports the runner's error as Lambda's JSON (`errorMessage`...): the
 * message is the cause. Causes of older Fail states, and every other cause, are kept as they are.
 */
export function executionCause(cause: string | null | undefined): string | undefined {
  if (cause === null || cause === undefined) return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown; errorType?: unknown } | null;
    if (parsed && typeof parsed.errorMessage === 'string' && typeof parsed.errorType === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: a Fail state's own cause.
  }
  return cause;
}

function failureOf(status: 'failed' | 'timed_out' | 'cancelled', error: string | null | undefined, cause: string | null | undefined): ExecutionFailure {
  const fallback = DEFAULT_FAILURES[status];
  const text = cause ?? fallback.cause;
  const actionId = failedActionOf(text);
  return { ...(actionId ? { action_id: actionId } : {}), error: error ?? fallback.error, cause: text };
}
