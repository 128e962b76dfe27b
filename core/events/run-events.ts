import type { ActionProgress, Execution, ExecutionStatus } from '../execution/model.ts';
import type { AttemptOutcome, ExecutionStore } from '../ports.ts';
import type { EmitEvent } from './emitter.ts';
import type { EventType } from './envelope.ts';

/**
 * Run and action events (`orchestrator.run.*`, `orchestrator.action.*`) come from the store of runs: every
 * change of a run goes through it, whoever makes it (the API's use cases, the local engine, the AWS status
 * listener and action runner), so decorating the store emits each change once, where it is recorded, in
 * both runtimes, without a publish call beside each write. An event is emitted only after its write
 * succeeded, and only for a write that changed something: a transition that lost its condition emits
 * nothing, so two deliveries of one status change give one event.
 *
 * Action events need to know what changed: the decorator remembers each action's last known status (from
 * the runs it read or wrote, a bounded cache), so rewriting an entry with the same status (a compensation's
 * progress, a settled leftover written twice) is not a second `completed`.
 */

/** Runs whose facts and action statuses are remembered (the action runner sees many runs per container). */
const REMEMBERED_RUNS = 500;
/** Error texts in events are cut here: an event is a notice, the run's record has the whole story. */
const MAX_CAUSE_CHARS = 1024;

interface RunFacts {
  readonly tenant: string;
  readonly workflow_id: string;
  readonly workflow_version: number;
  readonly trace_id: string;
  readonly correlation_id: string;
  /** action id -> the status (and compensation status) last seen. */
  readonly actions: Map<string, string>;
}

const RUN_END_EVENTS: Partial<Record<ExecutionStatus, EventType>> = {
  paused: 'orchestrator.run.paused',
  completed: 'orchestrator.run.completed',
  failed: 'orchestrator.run.failed',
  cancelled: 'orchestrator.run.cancelled',
  timed_out: 'orchestrator.run.timed_out',
};

/** `store`, emitting an event for each change it records (see above). */
export function withRunEvents(store: ExecutionStore, emit: EmitEvent): ExecutionStore {
  const runs = new Map<string, RunFacts>();

  const remember = (execution: Execution): RunFacts => {
    const facts: RunFacts = {
      tenant: execution.tenant,
      workflow_id: execution.workflow_id,
      workflow_version: execution.workflow_version,
      trace_id: execution.trace_id,
      // A rerun belongs to the business transaction of the run it reran; a retry keeps its own id.
      correlation_id: execution.rerun_of?.execution_id ?? execution.execution_id,
      actions: new Map(execution.actions.map((action) => [action.action_id, signature(action)])),
    };
    runs.delete(execution.execution_id);
    runs.set(execution.execution_id, facts);
    if (runs.size > REMEMBERED_RUNS) runs.delete(runs.keys().next().value as string);
    return facts;
  };

  /** The run's facts, read once per change at most; reading them must not fail the change already stored. */
  const factsOf = async (executionId: string): Promise<RunFacts | undefined> => {
    const known = runs.get(executionId);
    if (known) return known;
    const execution = await store.get(executionId).catch(() => undefined);
    return execution ? remember(execution) : undefined;
  };

  /** One event of the run `facts` describes; nothing when they could not be read. */
  const emitFor = async (facts: RunFacts | undefined, executionId: string, type: EventType, data: Record<string, unknown>, actionId?: string): Promise<void> => {
    if (!facts) return;
    await emit({
      type,
      tenant: facts.tenant,
      subject: actionId === undefined ? `executions/${executionId}` : `executions/${executionId}/actions/${actionId}`,
      trace_id: facts.trace_id,
      correlation_id: facts.correlation_id,
      data: { execution_id: executionId, workflow_id: facts.workflow_id, workflow_version: facts.workflow_version, ...(actionId === undefined ? {} : { action_id: actionId }), ...data },
    });
  };

  /** What changed in one action, as events; updates the remembered status. */
  /** `before`: the action as it was before the change was written (see updateAction). */
  const actionChanged = async (executionId: string, progress: ActionProgress, before: string | undefined): Promise<void> => {
    const facts = await factsOf(executionId);
    const after = signature(progress);
    facts?.actions.set(progress.action_id, after);
    if (before === after) return;
    const [beforeStatus, beforeCompensation] = (before ?? '').split('/');
    const base = { action_type: progress.action_type, attempt: progress.attempts };
    if (progress.status !== beforeStatus) {
      const type = ACTION_EVENTS[progress.status];
      if (type === 'orchestrator.action.started' && progress.attempts > 1) await emitFor(facts, executionId, 'orchestrator.action.retried', base, progress.action_id);
      if (type) await emitFor(facts, executionId, type, { ...base, status: progress.status, ...outcomeOf(progress) }, progress.action_id);
    }
    if (progress.compensation?.status === 'completed' && beforeCompensation !== 'completed') {
      await emitFor(facts, executionId, 'orchestrator.action.compensated', { action_type: progress.action_type, compensation_attempts: progress.compensation.attempts }, progress.action_id);
    }
  };

  return {
    async create(execution) {
      const result = await store.create(execution);
      if (result.created) {
        await emitFor(remember(result.execution), execution.execution_id, 'orchestrator.run.requested', { status: execution.status, started_by: execution.started_by, ...(execution.rerun_of ? { rerun_of: execution.rerun_of } : {}) });
      }
      return result;
    },
    async get(executionId) {
      const execution = await store.get(executionId);
      if (execution) remember(execution);
      return execution;
    },
    async updateAction(executionId, progress) {
      // The action as it was is read before the write: a read of the run meanwhile (get refreshes the facts
      // from the store) would otherwise already hold this change, and its event would never be sent.
      const before = (await factsOf(executionId))?.actions.get(progress.action_id);
      await store.updateAction(executionId, progress);
      await actionChanged(executionId, progress, before);
    },
    async startAttempt(executionId, actionId, at) {
      await store.startAttempt(executionId, actionId, at);
      const facts = await factsOf(executionId);
      const before = facts?.actions.get(actionId);
      facts?.actions.set(actionId, 'running/');
      await emitFor(facts, executionId, 'orchestrator.action.started', { started_at: at, ...(before?.startsWith('running') ? { after_retry: true } : {}) }, actionId);
    },
    async finishAttempt(executionId, actionId, outcome) {
      await store.finishAttempt(executionId, actionId, outcome);
      const facts = await factsOf(executionId);
      facts?.actions.set(actionId, `${outcome.status}/`);
      await emitFor(facts, executionId, ATTEMPT_EVENTS[outcome.status], { status: outcome.status, ended_at: outcome.ended_at, ...attemptOutcome(outcome) }, actionId);
    },
    async transition(executionId, from, status, fields) {
      const moved = await store.transition(executionId, from, status, fields);
      if (!moved) return false;
      const type = status === 'running' ? (from.includes('pending') ? 'orchestrator.run.started' : 'orchestrator.run.resumed') : RUN_END_EVENTS[status];
      if (type) {
        await emitFor(await factsOf(executionId), executionId, type, {
          status,
          ...(fields?.started_at === undefined ? {} : { started_at: fields.started_at }),
          ...(fields?.ended_at === undefined ? {} : { ended_at: fields.ended_at }),
          ...(fields?.error === undefined ? {} : { error: { ...fields.error, cause: cut(fields.error.cause) } }),
        });
      }
      return true;
    },
    list: (query) => store.list(query),
    unfinished: () => store.unfinished(),
    async reopen(execution, redrive, actions) {
      const reopened = await store.reopen(execution, redrive, actions);
      if (reopened) {
        await emitFor(remember({ ...execution, actions }), execution.execution_id, 'orchestrator.run.retried', { status: 'running', from_status: redrive.from_status, retried_by: redrive.by, redrive_count: (execution.redrive_count ?? 0) + 1 });
      }
      return reopened;
    },
    saveCheckpoint: (executionId, key, result) => store.saveCheckpoint(executionId, key, result),
    checkpoints: (executionId) => store.checkpoints(executionId),
  };
}

const ACTION_EVENTS: Partial<Record<ActionProgress['status'], EventType>> = {
  running: 'orchestrator.action.started',
  completed: 'orchestrator.action.completed',
  failed: 'orchestrator.action.failed',
  skipped: 'orchestrator.action.skipped',
  // Never started because the run ended first: skipped, with the reason.
  not_run: 'orchestrator.action.skipped',
};

const ATTEMPT_EVENTS: Record<AttemptOutcome['status'], EventType> = {
  completed: 'orchestrator.action.completed',
  failed: 'orchestrator.action.failed',
  // An attempt failed and another follows.
  running: 'orchestrator.action.retried',
};

function signature(action: ActionProgress): string {
  return `${action.status}/${action.compensation?.status ?? ''}`;
}

/** An action's end as event data: its status code or its error, never its output (size, and what it may hold). */
function outcomeOf(progress: ActionProgress): Record<string, unknown> {
  return {
    ...(progress.ended_at === undefined ? {} : { ended_at: progress.ended_at }),
    ...(progress.output === undefined ? {} : { status_code: progress.output.status_code }),
    ...(progress.error === undefined ? {} : { error: { error: progress.error.error, cause: cut(progress.error.cause) } }),
    ...(progress.reason === undefined ? {} : { reason: progress.reason }),
  };
}

function attemptOutcome(outcome: AttemptOutcome): Record<string, unknown> {
  return 'output' in outcome ? { status_code: outcome.output.status_code } : { error: { error: outcome.error.error, cause: cut(outcome.error.cause) } };
}

function cut(text: string): string {
  return text.length > MAX_CAUSE_CHARS ? `${text.slice(0, MAX_CAUSE_CHARS)}…` : text;
}
