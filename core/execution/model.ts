/**
 * Executions: one run of one workflow version. Statuses and their legal transitions live here so that every
 * runtime (the local engine, the AWS status listener) applies the same rules.
 */

export const EXECUTION_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled', 'timed_out'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const ACTION_STATUSES = ['pending', 'running', 'completed', 'failed', 'skipped'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

const NEXT: Readonly<Record<ExecutionStatus, readonly ExecutionStatus[]>> = {
  pending: ['running', 'failed', 'cancelled'],
  running: ['completed', 'failed', 'cancelled', 'timed_out'],
  completed: [],
  failed: [],
  cancelled: [],
  timed_out: [],
};

export function isTerminal(status: ExecutionStatus): boolean {
  return NEXT[status].length === 0;
}

export function canMove(from: ExecutionStatus, to: ExecutionStatus): boolean {
  return NEXT[from].includes(to);
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
  readonly started_by: string;
  /** The workflow's tenant: only its members (and admins) see the run. */
  readonly tenant: string;
  readonly created_at: string;
  readonly started_at?: string;
  readonly ended_at?: string;
  readonly actions: readonly ActionProgress[];
  readonly output?: unknown;
  readonly error?: ExecutionFailure;
}

/** Actions that are done one way or another, out of all of them. */
export function progressOf(execution: Pick<Execution, 'actions'>): { completed: number; total: number; percent: number } {
  const total = execution.actions.length;
  const completed = execution.actions.filter((action) => action.status === 'completed' || action.status === 'skipped' || action.status === 'failed').length;
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
