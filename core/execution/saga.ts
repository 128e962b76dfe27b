import type { ActionProgress, CompensationStatus, Execution, ExecutionFailure } from './model.ts';

/**
 * Sagas: a run of a workflow whose actions declare compensations. Its record is the run itself (each action's
 * progress carries its compensation's), so the saga view and its statistics are read from runs; the saga id
 * is the execution id.
 */

export const SAGA_STATES = ['running', 'completed', 'compensating', 'compensated', 'compensation_failed', 'failed'] as const;
export type SagaState = (typeof SAGA_STATES)[number];

/** The run's error when a compensation failed after its retries (and was dead-lettered). */
export const COMPENSATION_FAILED = 'CompensationFailed';

export interface SagaStep {
  readonly action_id: string;
  readonly status: ActionProgress['status'];
  readonly started_at?: string;
  readonly ended_at?: string;
  readonly error?: { readonly error: string; readonly cause: string };
}

export interface SagaCompensation {
  readonly action_id: string;
  readonly status: CompensationStatus;
  readonly attempts: number;
  readonly started_at?: string;
  readonly ended_at?: string;
  readonly error?: { readonly error: string; readonly cause: string };
}

export interface SagaView {
  readonly saga_id: string;
  readonly workflow_id: string;
  readonly workflow_version: number;
  readonly tenant: string;
  readonly state: SagaState;
  readonly execution_status: Execution['status'];
  readonly started_at?: string;
  readonly ended_at?: string;
  /** Actions that completed, in the order they completed. */
  readonly completed_steps: readonly SagaStep[];
  /** The action whose failure ended the forward flow, if one did. */
  readonly failed_step: SagaStep | null;
  /** Every compensation, in the order they ran, then the ones still planned or skipped (newest action first). */
  readonly compensations: readonly SagaCompensation[];
  /** From the first compensation's start to the last one's end, once they are all done. */
  readonly compensation_ms: number | null;
}

export function isSaga(execution: Pick<Execution, 'actions'>): boolean {
  return execution.actions.some((action) => action.compensation !== undefined);
}

/** A failed compensation makes the run's error CompensationFailed, naming them: never "compensated". */
export function sagaFailure(actions: readonly ActionProgress[], error: ExecutionFailure | undefined): ExecutionFailure | undefined {
  const failed = actions.filter((action) => action.compensation?.status === 'failed').map((action) => action.action_id);
  if (failed.length === 0) return error;
  return {
    ...(error?.action_id ? { action_id: error.action_id } : {}),
    error: COMPENSATION_FAILED,
    cause: `the compensation of ${failed.join(', ')} failed after its retries and was dead-lettered${error ? `; the saga had failed with ${error.error}: ${error.cause}` : ''}`,
  };
}

const byTime = (a: string | undefined, b: string | undefined) => (a ?? '\uffff').localeCompare(b ?? '\uffff');

export function sagaOf(execution: Execution): SagaView {
  const compensable = execution.actions.filter((action) => action.compensation !== undefined);
  const compensations = compensable.map((action): SagaCompensation => ({ action_id: action.action_id, ...action.compensation! }));
  const ran = compensations.filter((compensation) => compensation.started_at !== undefined).sort((a, b) => byTime(a.started_at, b.started_at));
  const notRun = compensations
    .filter((compensation) => compensation.started_at === undefined)
    .sort((a, b) => byTime(endOf(execution, b.action_id), endOf(execution, a.action_id)));
  const completedSteps = execution.actions
    .filter((action) => action.status === 'completed')
    .sort((a, b) => byTime(a.ended_at, b.ended_at))
    .map(step);
  const failedAction = execution.error?.action_id ?? execution.actions.find((action) => action.status === 'failed')?.action_id;
  const failed = failedAction ? execution.actions.find((action) => action.action_id === failedAction) : undefined;
  const allDone = ran.length > 0 && ran.every((compensation) => compensation.status === 'completed' || compensation.status === 'failed');
  const first = ran[0]?.started_at;
  const last = ran.map((compensation) => compensation.ended_at).sort(byTime).at(-1);
  return {
    saga_id: execution.execution_id,
    workflow_id: execution.workflow_id,
    workflow_version: execution.workflow_version,
    tenant: execution.tenant,
    state: stateOf(execution, compensations),
    execution_status: execution.status,
    ...(execution.started_at ? { started_at: execution.started_at } : {}),
    ...(execution.ended_at ? { ended_at: execution.ended_at } : {}),
    completed_steps: completedSteps,
    failed_step: failed ? step(failed) : null,
    compensations: [...ran, ...notRun],
    compensation_ms: allDone && first && last ? Math.max(0, Date.parse(last) - Date.parse(first)) : null,
  };
}

function endOf(execution: Execution, actionId: string): string | undefined {
  return execution.actions.find((action) => action.action_id === actionId)?.ended_at;
}

function step(action: ActionProgress): SagaStep {
  return {
    action_id: action.action_id,
    status: action.status,
    ...(action.started_at ? { started_at: action.started_at } : {}),
    ...(action.ended_at ? { ended_at: action.ended_at } : {}),
    ...(action.error ? { error: action.error } : {}),
  };
}

function stateOf(execution: Execution, compensations: readonly SagaCompensation[]): SagaState {
  const started = compensations.filter((compensation) => compensation.status !== 'planned' && compensation.status !== 'skipped');
  if (started.some((compensation) => compensation.status === 'failed') || execution.error?.error === COMPENSATION_FAILED) return 'compensation_failed';
  if (execution.status === 'pending' || execution.status === 'running' || execution.status === 'paused') return started.length > 0 ? 'compensating' : 'running';
  if (execution.status === 'completed') return 'completed';
  return started.length > 0 ? 'compensated' : 'failed';
}

export interface SagaStats {
  readonly sagas: number;
  readonly by_state: Readonly<Record<SagaState, number>>;
  readonly by_workflow: Readonly<Record<string, Readonly<Partial<Record<SagaState, number>>> & { readonly total: number }>>;
  /** Compensations that completed, out of those that ran to an end; null when none ran. */
  readonly compensation_success_rate: number | null;
  readonly compensations_run: number;
  /** Mean time from a saga's first compensation to its last one's end, over sagas whose compensations all ended. */
  readonly mean_time_to_compensate_ms: number | null;
}

export function sagaStats(executions: readonly Execution[]): SagaStats {
  const views = executions.filter(isSaga).map(sagaOf);
  const byState = Object.fromEntries(SAGA_STATES.map((state) => [state, 0])) as Record<SagaState, number>;
  const byWorkflow: Record<string, Partial<Record<SagaState, number>> & { total: number }> = {};
  let ended = 0;
  let succeeded = 0;
  const durations: number[] = [];
  for (const view of views) {
    byState[view.state] += 1;
    const entry = (byWorkflow[view.workflow_id] ??= { total: 0 });
    entry.total += 1;
    entry[view.state] = (entry[view.state] ?? 0) + 1;
    for (const compensation of view.compensations) {
      if (compensation.status === 'completed' || compensation.status === 'failed') ended += 1;
      if (compensation.status === 'completed') succeeded += 1;
    }
    if (view.compensation_ms !== null) durations.push(view.compensation_ms);
  }
  return {
    sagas: views.length,
    by_state: byState,
    by_workflow: byWorkflow,
    compensation_success_rate: ended === 0 ? null : Math.round((succeeded / ended) * 10_000) / 10_000,
    compensations_run: ended,
    mean_time_to_compensate_ms: durations.length === 0 ? null : Math.round(durations.reduce((sum, value) => sum + value, 0) / durations.length),
  };
}
