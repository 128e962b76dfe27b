/**
 * Executions: one run of one workflow version. Statuses and their legal transitions live here so that every
 * runtime (the local engine, the AWS status listener) applies the same rules.
 */

/** `paused`: actions in flight finish, no new one starts, until the run is resumed. */
export const EXECUTION_STATUSES = ['pending', 'running', 'paused', 'completed', 'failed', 'cancelled', 'timed_out'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/**
 * `cancelled`: stopped while running, when its run was cancelled or failed elsewhere; `not_run`: never started
 * because its run ended first (its `reason` says how). A finished run has no action left pending or running.
 */
export const ACTION_STATUSES = ['pending', 'running', 'completed', 'failed', 'skipped', 'cancelled', 'not_run'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** Statuses a run can be retried from (redriven): it keeps its id, completed actions are reused. */
export const RETRYABLE_STATUSES = ['failed', 'timed_out', 'cancelled'] as const satisfies readonly ExecutionStatus[];

const NEXT: Readonly<Record<ExecutionStatus, readonly ExecutionStatus[]>> = {
  pending: ['running', 'failed', 'cancelled'],
  running: ['paused', 'completed', 'failed', 'cancelled', 'timed_out'],
  // A paused run can still end: the actions in flight when it was paused may finish it, fail it or time out.
  paused: ['running', 'completed', 'failed', 'cancelled', 'timed_out'],
  completed: [],
  failed: [],
  cancelled: [],
  timed_out: [],
};

/** A run in a terminal status does not move on by itself (a retry is a new attempt of it, not a transition). */
export function isTerminal(status: ExecutionStatus): boolean {
  return NEXT[status].length === 0;
}

/** Statuses a run is in while it may still end by itself: it has started and not finished. */
export const ACTIVE_STATUSES = ['running', 'paused'] as const satisfies readonly ExecutionStatus[];

export function isRetryable(status: ExecutionStatus): status is (typeof RETRYABLE_STATUSES)[number] {
  return (RETRYABLE_STATUSES as readonly ExecutionStatus[]).includes(status);
}

export function canMove(from: ExecutionStatus, to: ExecutionStatus): boolean {
  return NEXT[from].includes(to);
}

/** A compensation: `planned` until its saga needs it, `skipped` when the run ended without needing it. */
export const COMPENSATION_STATUSES = ['planned', 'running', 'completed', 'failed', 'skipped'] as const;
export type CompensationStatus = (typeof COMPENSATION_STATUSES)[number];

export interface CompensationProgress {
  readonly status: CompensationStatus;
  readonly attempts: number;
  readonly started_at?: string;
  readonly ended_at?: string;
  readonly error?: { readonly error: string; readonly cause: string };
}

/** Tokens one model call, or all of an action's, took. */
export interface TokenUsage {
  readonly input_tokens: number;
  readonly output_tokens: number;
}

/** What an llm action's model calls took: every call of the action that answered (a repair call included), summed. */
export interface ActionUsage extends TokenUsage {
  readonly model: string;
}

export interface ActionProgress {
  readonly action_id: string;
  readonly action_type: string;
  readonly status: ActionStatus;
  readonly attempts: number;
  readonly started_at?: string;
  readonly ended_at?: string;
  readonly output?: { readonly status_code: number | null; readonly response: unknown };
  readonly error?: { readonly error: string; readonly cause: string };
  /** Why a `not_run` or `cancelled` action did not complete. */
  readonly reason?: string;
  /** The action's compensation, when it declares one (the run is then a saga). */
  readonly compensation?: CompensationProgress;
  /** An llm action's tokens, once a model call has answered. */
  readonly usage?: ActionUsage;
}

/** `a` plus `b`, the model kept (an action calls one model). */
export function addUsage(a: ActionUsage | undefined, b: ActionUsage): ActionUsage {
  return a === undefined ? b : { model: b.model, input_tokens: a.input_tokens + b.input_tokens, output_tokens: a.output_tokens + b.output_tokens };
}

export interface ExecutionFailure {
  /** The action that failed, when one did. */
  readonly action_id?: string;
  readonly error: string;
  readonly cause: string;
}

export interface Execution {
  readonly execution_id: string;
  readonly workflow_id: string;
  readonly workflow_version: number;
  readonly status: ExecutionStatus;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly trace_id: string;
  /**
   * The span of the request that started the run, when its caller sent a W3C `traceparent`: the run's span is
   * its child, so the caller's trace continues through the run (core/observability/run-spans.ts).
   */
  readonly parent_span_id?: string;
  readonly started_by: string;
  /** The workflow's tenant: only its members (and admins) see the run. */
  readonly tenant: string;
  readonly created_at: string;
  readonly started_at?: string;
  readonly ended_at?: string;
  readonly actions: readonly ActionProgress[];
  readonly output?: unknown;
  readonly error?: ExecutionFailure;
  /** Given parameters the workflow does not declare (kept in `parameters`), and similar notices. */
  readonly warnings?: readonly string[];
  /** How many times the run was retried from where it stopped, and when and by whom. */
  readonly redrive_count?: number;
  readonly redrives?: readonly Redrive[];
  /** A rerun: the run whose outputs it reused, and the action it ran again from. */
  readonly rerun_of?: { readonly execution_id: string; readonly from_action: string };
}

export interface Redrive {
  readonly at: string;
  readonly by: string;
  /** The status the run had when it was retried. */
  readonly from_status: ExecutionStatus;
}

/** Actions that are done one way or another, out of all of them. */
export function progressOf(execution: Pick<Execution, 'actions'>): { completed: number; total: number; percent: number } {
  const total = execution.actions.length;
  const completed = execution.actions.filter((action) => action.status !== 'pending' && action.status !== 'running').length;
  return { completed, total, percent: total === 0 ? 100 : Math.round((completed / total) * 100) };
}

/**
 * What a notification action's output shows of the event it sent (with the event's id beside it): the
 * rendered message and its attributes, from the event's detail. Absent and null fields are left out.
 */
export function sentNotification(detail: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { message, title, severity, channels, recipients } = detail;
  return Object.fromEntries(Object.entries({ message, title, severity, channels, recipients }).filter(([, value]) => value !== undefined && value !== null));
}

/**
 * The progress a run leaves when it ends as `status`: every action still `pending` becomes `not_run` and every
 * one still `running` becomes `cancelled` (a completed run's leftovers are settled from its output by the
 * runtime before this). `failedAction` names the action whose failure ended the run, for the reasons.
 */
export function settleProgress(actions: readonly ActionProgress[], status: ExecutionStatus, at: string, failedAction?: string): ActionProgress[] {
  if (!isTerminal(status)) return [...actions];
  const why = status === 'failed' ? (failedAction ? `the run failed at ${failedAction}` : 'the run failed') : status === 'timed_out' ? 'the run timed out' : status === 'cancelled' ? 'the run was cancelled' : 'the run ended';
  return actions.map((before) => {
    const action = before.compensation ? { ...before, compensation: settledCompensation(before.compensation, at) } : before;
    if (action.status === 'pending') return { ...action, status: 'not_run', reason: `${why} before it started` };
    if (action.status === 'running') return { ...action, status: 'cancelled', ended_at: action.ended_at ?? at, reason: `stopped while running: ${why}` };
    return action;
  });
}

/** A compensation never needed is skipped; one cut off while running failed. */
function settledCompensation(compensation: CompensationProgress, at: string): CompensationProgress {
  if (compensation.status === 'planned') return { ...compensation, status: 'skipped' };
  if (compensation.status === 'running') return { ...compensation, status: 'failed', ended_at: at, error: compensation.error ?? { error: 'Interrupted', cause: 'the run ended while the compensation was running' } };
  return compensation;
}
