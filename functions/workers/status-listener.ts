import * as z from 'zod';
import type { ExecutionFailure, ExecutionStatus } from '../../core/execution/model.ts';
import type { Clock, ExecutionStore } from '../../core/ports.ts';

/**
 * The status listener: Step Functions reports every status change of a standard execution to EventBridge
 * ("Step Functions Execution Status Change"); this worker moves the stored execution along with it. Every
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
}

export interface StatusListenerDeps {
  readonly executions: Pick<ExecutionStore, 'transition'>;
  /** For timestamps the event lacks. */
  readonly clock: Clock;
}

export type StatusListener = (event: StatusChangeEvent) => Promise<StatusChangeOutcome>;

/**
 * Builds the Lambda handler. A failure to write (the store unreachable) throws, so Lambda retries the event
 * and, after its retries, sends it to the listener's dead-letter queue.
 */
export function createStatusListener({ executions, clock }: StatusListenerDeps): StatusListener {
  return async (raw) => {
    const parsed = StatusChangeEvent.safeParse(raw);
    if (!parsed.success) {
      throw new Error(`not a Step Functions execution status change: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    }
    const { detail, time } = parsed.data;
    const executionId = detail.name;
    const reported = detail.status;
    const target = Object.hasOwn(STATUS_MAP, reported) ? STATUS_MAP[reported as keyof typeof STATUS_MAP] : undefined;
    const startedAt = isoFromEpoch(detail.startDate) ?? time ?? clock.now();
    if (target === undefined) return log({ execution_id: executionId, reported });

    if (target === 'running') {
      const moved = await executions.transition(executionId, ['pending'], 'running', { started_at: startedAt });
      return log({ execution_id: executionId, reported, ...(moved ? { moved_to: target } : {}) });
    }

    const fields = {
      ended_at: isoFromEpoch(detail.stopDate) ?? time ?? clock.now(),
      ...(target === 'completed' ? outputOf(detail.output, detail.outputDetails?.included) : { error: failureOf(target, detail.error, detail.cause) }),
    };
    let moved = await executions.transition(executionId, ['running'], target, fields);
    // The RUNNING event has not arrived yet (EventBridge does not keep order): the run did start, so record
    // that first and then its end, keeping to the legal transitions.
    if (!moved && (await executions.transition(executionId, ['pending'], 'running', { started_at: startedAt }))) {
      moved = await executions.transition(executionId, ['running'], target, fields);
    }
    return log({ execution_id: executionId, reported, ...(moved ? { moved_to: target } : {}) });
  };
}

function log(outcome: StatusChangeOutcome): StatusChangeOutcome {
  console.info(JSON.stringify({ message: 'execution status change', ...outcome }));
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

/** The compiled Fail states name the failed action in their cause: "action <id> failed: <error>: <cause>". */
function failureOf(status: 'failed' | 'timed_out' | 'cancelled', error: string | null | undefined, cause: string | null | undefined): ExecutionFailure {
  const fallback = DEFAULT_FAILURES[status];
  const text = cause ?? fallback.cause;
  const actionId = /^action (\S+) failed: /.exec(text)?.[1];
  return { ...(actionId ? { action_id: actionId } : {}), error: error ?? fallback.error, cause: text };
}
