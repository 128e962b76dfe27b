import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { Clock, ExecutionStore, IdGenerator, WorkflowEngine, WorkflowStore } from '../ports.ts';
import { atVersion, type Workflow } from '../workflow/model.ts';
import { ACTIVE_STATUSES, isRetryable, isTerminal, RETRYABLE_STATUSES, type Execution, type ExecutionStatus } from './model.ts';
import { rerunPlan, retryProgress } from './rerun.ts';
import { isSaga, sagaOf, sagaStats, type SagaView } from './saga.ts';
import { resolveParameters } from './parameters.ts';
import { inScope, type TenantScope } from '../auth/model.ts';
import type { Action } from '../workflow/definition.ts';
import { loadWorkflowAt } from '../workflow/versions.ts';

/** Every sub_workflow an action list starts (inner actions of foreach and compensations too), at its version. */
function subWorkflowTargets(actions: readonly Action[]): Array<{ actionId: string; workflowId: string; version?: number }> {
  const targets: Array<{ actionId: string; workflowId: string; version?: number }> = [];
  const visit = (action: Action, actionId: string) => {
    if (action.action_type === 'sub_workflow') targets.push({ actionId, workflowId: action.config.workflow_id, ...(action.config.version === undefined ? {} : { version: action.config.version }) });
    if (action.action_type === 'foreach') visit(action.config.action as Action, actionId);
    if (action.compensation) visit(action.compensation as Action, actionId);
  };
  for (const action of actions) visit(action, action.action_id);
  return targets;
}

export interface ExecutionServiceDeps {
  /** Read to start a run and to check a workflow exists; nothing else. */
  readonly workflows: Pick<WorkflowStore, 'get' | 'getVersion'>;
  readonly executions: ExecutionStore;
  readonly engine: WorkflowEngine;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

export interface RetryRequest {
  /** Rerun from this action: a new run reusing the outputs of every action not downstream of it. */
  readonly fromAction?: string;
  /** A rerun's parameters (default: the original run's); a retry keeps its own. */
  readonly parameters?: Readonly<Record<string, unknown>>;
}

export interface StartRequest {
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly version?: number;
  /** The same key for the same workflow never starts a second run. */
  readonly idempotencyKey?: string;
  /** The trace of the request that starts the run (its caller's, when it sent a `traceparent`): the run continues it. */
  readonly trace?: { readonly trace_id: string; readonly parent_span_id: string };
}

/** How many runs one saga statistics request reads at most. */
export const SAGA_STATS_MAX_RUNS = 1000;

/** Execution use cases: start (with idempotency), read, list, cancel, retry and rerun, pause and resume, sagas. */
export function createExecutionService({ workflows, executions, engine, clock, ids }: ExecutionServiceDeps) {
  async function workflowAt(workflowId: string, version: number | undefined, scope: TenantScope): Promise<Workflow> {
    const current = await workflows.get(workflowId);
    if (!current || !inScope(scope, current.tenant)) throw new NotFoundError(`workflow ${workflowId} not found`, [{ field: 'workflow_id', message: `no workflow with id ${workflowId}` }]);
    if (version === undefined || version === current.version) return current;
    const snapshot = version < current.version ? await workflows.getVersion(workflowId, version) : undefined;
    if (!snapshot) throw new NotFoundError(`workflow ${workflowId} has no version ${version}`, [{ field: 'version', message: `versions run from 1 to ${current.version}` }]);
    return atVersion(current, snapshot);
  }

  /** Another tenant's run is not found, exactly like one that does not exist. */
  async function requireExecution(executionId: string, scope: TenantScope = {}): Promise<Execution> {
    const execution = await executions.get(executionId);
    if (!execution || !inScope(scope, execution.tenant)) throw new NotFoundError(`execution ${executionId} not found`, [{ field: 'execution_id', message: `no execution with id ${executionId}` }]);
    return execution;
  }

  /**
   * A run may only start workflows of its own tenant: every sub_workflow it can reach (directly, in a
   * foreach, in a compensation, or through another sub-workflow) must exist there, at the version that will
   * run, whose own sub-workflows are checked in turn. One or two reads per distinct workflow version.
   */
  async function assertSubWorkflowsInTenant(root: Workflow): Promise<void> {
    const seen = new Set<string>([`${root.workflow_id}@${root.version}`]);
    const pending: Workflow[] = [root];
    while (pending.length > 0) {
      const workflow = pending.pop()!;
      for (const target of subWorkflowTargets(workflow.actions)) {
        const child = await loadWorkflowAt(workflows, target.workflowId, target.version);
        if (!child || child.tenant !== root.tenant) {
          const where = workflow === root ? `action ${target.actionId}` : `workflow ${workflow.workflow_id} version ${workflow.version}, action ${target.actionId}`;
          throw new ValidationError([{ field: where, message: `sub_workflow ${target.workflowId}${target.version === undefined ? '' : ` version ${target.version}`} not found` }]);
        }
        const key = `${child.workflow_id}@${child.version}`;
        if (seen.has(key)) continue;
        seen.add(key);
        pending.push(child);
      }
    }
  }

  async function listExecutions(query: { workflowId?: string; status?: ExecutionStatus; since?: string; limit: number; cursor?: string }, scope: TenantScope = {}) {
    // Another tenant's workflow has no runs to show: it is not found, like one that does not exist.
    if (query.workflowId) await workflowAt(query.workflowId, undefined, scope);
    return executions.list({ ...query, tenant: scope.tenant });
  }

  return {
    async startExecution(workflowId: string, request: StartRequest, actor: string, scope: TenantScope = {}): Promise<{ execution: Execution; created: boolean }> {
      const workflow = await workflowAt(workflowId, request.version, scope);
      await assertSubWorkflowsInTenant(workflow);
      if (workflow.status !== 'active') {
        throw notActive(workflow);
      }
      const { values, issues, warnings } = resolveParameters(workflow.parameters, request.parameters, workflow.strict_parameters);
      if (issues.length > 0) throw new ValidationError(issues);
      const execution: Execution = {
        execution_id: request.idempotencyKey ? idempotentId(workflowId, request.idempotencyKey) : ids.next(),
        workflow_id: workflowId,
        workflow_version: workflow.version,
        status: 'pending',
        parameters: values,
        ...(warnings.length > 0 ? { warnings } : {}),
        ...(request.trace ? { trace_id: request.trace.trace_id, parent_span_id: request.trace.parent_span_id } : { trace_id: traceId(ids.next()) }),
        started_by: actor,
        tenant: workflow.tenant,
        created_at: clock.now(),
        actions: workflow.actions.map((action) => ({
          action_id: action.action_id,
          action_type: action.action_type,
          status: 'pending',
          attempts: 0,
          ...(action.compensation ? { compensation: { status: 'planned', attempts: 0 } } : {}),
        })),
      };
      const stored = await executions.create(execution);
      if (stored.created) {
        try {
          await engine.start(stored.execution, workflow);
        } catch (error) {
          await executions.transition(execution.execution_id, ['pending'], 'failed', {
            ended_at: clock.now(),
            error: startFailure('run', error),
          });
          throw error;
        }
      }
      return { execution: (await executions.get(execution.execution_id)) ?? stored.execution, created: stored.created };
    },

    getExecution: (executionId: string, scope: TenantScope = {}) => requireExecution(executionId, scope),

    /**
     * Without `fromAction`, a retry: the failed, timed-out or cancelled run resumes where it stopped, keeping
     * its id; completed actions are reused, the rest run. With it, a rerun: a new run of the same version
     * (linked by `rerun_of`) that reuses the outputs of every action not downstream of `fromAction`.
     */
    async retryExecution(executionId: string, request: RetryRequest, actor: string, scope: TenantScope = {}): Promise<{ execution: Execution; rerun: boolean }> {
      const source = await requireExecution(executionId, scope);
      const workflow = await workflowAt(source.workflow_id, source.workflow_version, scope);
      if (request.fromAction === undefined) {
        if (request.parameters !== undefined) {
          throw new ValidationError([{ field: 'parameters', message: 'a retry resumes the run with its own parameters; give from_action to rerun with new ones' }]);
        }
        if (!isRetryable(source.status)) {
          throw new ConflictError(`execution ${executionId} is ${source.status}; only ${RETRYABLE_STATUSES.join(', ')} runs can be retried`, [
            { field: 'execution_id', message: `is ${source.status}${source.status === 'completed' ? '; give from_action to rerun part of it' : ''}` },
          ]);
        }
        await engine.assertRetryable(source);
        const { progress, reused } = retryProgress(source.actions);
        if (!(await executions.reopen(source, { at: clock.now(), by: actor, from_status: source.status }, progress))) {
          const now = await requireExecution(executionId);
          throw new ConflictError(`execution ${executionId} changed (${now.status}) while it was being retried`, [{ field: 'execution_id', message: `is ${now.status}` }]);
        }
        const reopened = await requireExecution(executionId);
        try {
          await engine.resume(reopened, workflow, { from: executionId, actions: reused, partialForeach: true });
        } catch (error) {
          await executions.transition(executionId, ['running'], source.status, {
            ended_at: clock.now(),
            error: startFailure('retry', error),
          });
          throw error;
        }
        return { execution: (await executions.get(executionId)) ?? reopened, rerun: false };
      }

      if (!isTerminal(source.status)) {
        throw new ConflictError(`execution ${executionId} is ${source.status}; a rerun starts from a finished run`, [{ field: 'execution_id', message: `is ${source.status}` }]);
      }
      if (workflow.status !== 'active') {
        throw notActive(workflow);
      }
      const plan = rerunPlan(workflow.actions, source.actions, request.fromAction);
      if ('issue' in plan) throw new ValidationError([plan.issue]);
      const given = request.parameters ?? source.parameters;
      const { values, issues, warnings } = resolveParameters(workflow.parameters, given, workflow.strict_parameters);
      if (issues.length > 0) throw new ValidationError(issues);
      const execution: Execution = {
        execution_id: ids.next(),
        workflow_id: source.workflow_id,
        workflow_version: source.workflow_version,
        status: 'running',
        parameters: values,
        ...(warnings.length > 0 ? { warnings } : {}),
        trace_id: traceId(ids.next()),
        started_by: actor,
        tenant: source.tenant,
        created_at: clock.now(),
        started_at: clock.now(),
        actions: plan.progress,
        rerun_of: { execution_id: executionId, from_action: request.fromAction },
      };
      await executions.create(execution);
      try {
        await engine.resume(execution, workflow, { from: executionId, actions: plan.reused, partialForeach: false });
      } catch (error) {
        await executions.transition(execution.execution_id, ['running'], 'failed', {
          ended_at: clock.now(),
          error: startFailure('rerun', error),
        });
        throw error;
      }
      return { execution: (await executions.get(execution.execution_id)) ?? execution, rerun: true };
    },

    listExecutions,

    /** A run whose workflow declares compensations, seen as a saga; any other run is not found as one. */
    async getSaga(sagaId: string, scope: TenantScope = {}): Promise<SagaView> {
      const execution = await requireExecution(sagaId, scope);
      if (!isSaga(execution)) {
        throw new NotFoundError(`execution ${sagaId} is not a saga: its workflow declares no compensations`, [{ field: 'saga_id', message: 'not a saga (no action declares a compensation)' }]);
      }
      return sagaOf(execution);
    },

    /**
     * Sagas among the runs started since `since` (newest first, at most SAGA_STATS_MAX_RUNS of them read, in
     * pages of 100), counted by state and workflow, with the compensation success rate and mean time.
     */
    async sagaStatistics(query: { since: string; workflowId?: string }, scope: TenantScope = {}) {
      const runs: Execution[] = [];
      let cursor: string | undefined;
      do {
        const page = await listExecutions({ workflowId: query.workflowId, since: query.since, limit: 100, cursor }, scope);
        runs.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && runs.length < SAGA_STATS_MAX_RUNS);
      return { since: query.since, runs_examined: runs.length, truncated: cursor !== undefined, ...sagaStats(runs) };
    },

    /** Actions in flight finish; no new one starts until resume. Pausing twice is harmless; a finished run is a 409. */
    async pauseExecution(executionId: string, scope: TenantScope = {}): Promise<Execution> {
      const execution = await requireExecution(executionId, scope);
      if (execution.status === 'paused') return execution;
      if (execution.status !== 'running') {
        throw new ConflictError(`execution ${executionId} is ${execution.status}; only a running execution can be paused`, [{ field: 'execution_id', message: `is ${execution.status}` }]);
      }
      await engine.hold(execution);
      if (!(await executions.transition(executionId, ['running'], 'paused'))) {
        await engine.release(execution);
        const now = await requireExecution(executionId);
        if (now.status !== 'paused') throw new ConflictError(`execution ${executionId} ended (${now.status}) before it could be paused`, [{ field: 'execution_id', message: `is ${now.status}` }]);
      }
      return requireExecution(executionId);
    },

    /** A paused run goes on; resuming a running one is harmless; a finished run is a 409. */
    async resumeExecution(executionId: string, scope: TenantScope = {}): Promise<Execution> {
      const execution = await requireExecution(executionId, scope);
      if (execution.status === 'running') {
        // A resume whose release failed after the status changed is finished by the next one: calls still
        // held (parked, on Step Functions) go now. Releasing a run that holds nothing changes nothing.
        await engine.release(execution);
        return execution;
      }
      if (execution.status !== 'paused') {
        throw new ConflictError(`execution ${executionId} is ${execution.status}; only a paused execution can be resumed`, [{ field: 'execution_id', message: `is ${execution.status}` }]);
      }
      // The status first: an action released before it would report progress on a run still marked paused.
      await executions.transition(executionId, ['paused'], 'running');
      await engine.release(execution);
      return requireExecution(executionId);
    },

    /** Cancelling twice is harmless; cancelling a run that ended otherwise is a conflict. */
    async cancelExecution(executionId: string, actor: string, scope: TenantScope = {}): Promise<Execution> {
      const execution = await requireExecution(executionId, scope);
      if (execution.status === 'cancelled') return execution;
      if (isTerminal(execution.status)) {
        throw new ConflictError(`execution ${executionId} already ${execution.status}`, [{ field: 'execution_id', message: `is ${execution.status}; only pending or running executions can be cancelled` }]);
      }
      await engine.stop(executionId, `cancelled by ${actor}`);
      const moved = await executions.transition(executionId, ['pending', ...ACTIVE_STATUSES], 'cancelled', {
        ended_at: clock.now(),
        error: { error: 'Cancelled', cause: `cancelled by ${actor}` },
      });
      const after = await requireExecution(executionId);
      if (!moved && after.status !== 'cancelled') {
        throw new ConflictError(`execution ${executionId} ended (${after.status}) before it could be cancelled`, [{ field: 'execution_id', message: `is ${after.status}` }]);
      }
      return after;
    },
  };
}

export type ExecutionService = ReturnType<typeof createExecutionService>;

/** A stable id per (workflow, key): Step Functions and the store both refuse a second run with the same name. */
export function idempotentId(workflowId: string, key: string): string {
  // FNV-1a over 2 x 32 bits, enough that distinct keys of one workflow never collide in practice.
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (const character of `${workflowId}\u0000${key}`) {
    const code = character.codePointAt(0)!;
    a = Math.imul(a ^ code, 0x01000193) >>> 0;
    b = Math.imul(b ^ code, 0x811c9dc5) >>> 0;
  }
  return `idem-${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}`;
}

/** Why a run that was recorded could not be handed to the engine: its error, kept on the run. */
function startFailure(what: 'run' | 'retry' | 'rerun', error: unknown): { error: string; cause: string } {
  return { error: error instanceof Error ? error.name : 'Error', cause: `the ${what} could not start: ${error instanceof Error ? error.message : String(error)}` };
}

function notActive(workflow: Workflow): ConflictError {
  return new ConflictError(`workflow ${workflow.workflow_id} is ${workflow.status}; only active workflows run`, [{ field: 'status', message: `is ${workflow.status}` }]);
}

/** A W3C trace id (32 hex digits) from a random id. */
function traceId(seed: string): string {
  const hex = seed.replace(/[^0-9a-f]/gi, '').toLowerCase();
  return (hex + '0'.repeat(32)).slice(0, 32);
}
