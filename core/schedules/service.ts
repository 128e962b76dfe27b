import { ConflictError, NotFoundError, ValidationError, type FieldIssue } from '../errors.ts';
import { inScope, type TenantScope } from '../auth/model.ts';
import type { Clock, IdGenerator, ScheduleStore, ScheduleTimer, WorkflowStore } from '../ports.ts';
import type { ExecutionService } from '../execution/service.ts';
import { isTerminal, type Execution } from '../execution/model.ts';
import { resolveParameters } from '../execution/parameters.ts';
import type { Workflow } from '../workflow/model.ts';
import { parseScheduleExpression, timeZoneProblem } from './expression.ts';
import { cronProblem, nextFireTimes } from './fire-times.ts';
import { MAX_SCHEDULES_PER_WORKFLOW, type FireTrigger, type ScheduleFiring, type ScheduleInput, type WorkflowSchedule } from './model.ts';

/** How many upcoming times a schedule view lists. */
export const NEXT_RUNS_SHOWN = 5;

export interface ScheduleServiceDeps {
  readonly schedules: ScheduleStore;
  readonly timer: ScheduleTimer;
  readonly workflows: Pick<WorkflowStore, 'get'>;
  readonly executions: Pick<ExecutionService, 'startExecution' | 'getExecution' | 'cancelExecution'>;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

/** A schedule as the API shows it: what is stored, plus its next times. */
export interface ScheduleView extends WorkflowSchedule {
  /** The next NEXT_RUNS_SHOWN times it fires (UTC ISO); empty when disabled or it never fires again. */
  readonly next_runs: readonly string[];
}

/** What one firing did, with the run it started (when it started one). */
export interface FireResult {
  readonly firing: ScheduleFiring;
  readonly execution?: Execution;
}

/** A partial update: any field of ScheduleInput. */
export type SchedulePatch = Partial<ScheduleInput>;

/**
 * Workflow schedules: their definitions (checked against the workflow's parameters when written), their timers
 * (kept in step with the store: a timer that cannot be set undoes the write), and their firings, which apply
 * the overlap policy and start the run idempotently (the same due time of the same schedule never starts two
 * runs, however often the timer delivers it).
 */
export function createScheduleService({ schedules, timer, workflows, executions, clock, ids }: ScheduleServiceDeps) {
  async function requireWorkflow(workflowId: string, scope: TenantScope): Promise<Workflow> {
    const workflow = await workflows.get(workflowId);
    if (!workflow || !inScope(scope, workflow.tenant)) {
      throw new NotFoundError(`workflow ${workflowId} not found`, [{ field: 'workflow_id', message: `no workflow with id ${workflowId}` }]);
    }
    return workflow;
  }

  /** The schedule and its workflow (one read each): another tenant's is not found, like one that does not exist. */
  async function requireSchedule(workflowId: string, scheduleId: string, scope: TenantScope): Promise<{ workflow: Workflow; schedule: WorkflowSchedule }> {
    const workflow = await requireWorkflow(workflowId, scope);
    const schedule = await schedules.get(workflowId, scheduleId);
    if (!schedule) throw new NotFoundError(`schedule ${scheduleId} not found`, [{ field: 'schedule_id', message: `workflow ${workflowId} has no schedule ${scheduleId}` }]);
    return { workflow, schedule };
  }

  /** Every problem of a definition: its expression, time zone, version and parameters (against the workflow's declarations). */
  function problemsOf(input: ScheduleInput, workflow: Workflow): FieldIssue[] {
    const issues: FieldIssue[] = [];
    const parsed = parseScheduleExpression(input.expression, 'expression');
    if ('problems' in parsed) issues.push(...parsed.problems);
    else {
      const problem = cronProblem(parsed.expression, 'expression');
      if (problem) issues.push(problem);
    }
    const zone = timeZoneProblem(input.timezone, 'timezone');
    if (zone) issues.push(zone);
    if (input.version !== undefined && input.version > workflow.version) {
      issues.push({ field: 'version', message: `workflow ${workflow.workflow_id} has versions 1 to ${workflow.version}` });
    }
    // Checked against the latest version's declarations: a schedule whose runs would all be refused is refused now.
    if (input.version === undefined) issues.push(...resolveParameters(workflow.parameters, input.parameters, workflow.strict_parameters).issues);
    return issues;
  }

  function view(schedule: WorkflowSchedule): ScheduleView {
    const parsed = parseScheduleExpression(schedule.expression);
    const next_runs =
      schedule.enabled && 'expression' in parsed
        ? nextFireTimes(parsed.expression, { after: clock.now(), timezone: schedule.timezone, anchor: schedule.created_at, count: NEXT_RUNS_SHOWN })
        : [];
    return { ...schedule, next_runs };
  }

  /** Sets the timer for what was just stored; a failure undoes the store write and is rethrown. */
  async function armed(stored: WorkflowSchedule, undo: () => Promise<unknown>): Promise<void> {
    try {
      await timer.put(stored);
    } catch (error) {
      await undo();
      throw error;
    }
  }

  /** The firing's bookkeeping; a schedule deleted meanwhile is simply not updated. */
  async function record(schedule: WorkflowSchedule, firing: ScheduleFiring): Promise<ScheduleFiring> {
    await schedules.recordFiring(schedule.workflow_id, schedule.schedule_id, firing);
    return firing;
  }

  async function fire(schedule: WorkflowSchedule, workflow: Workflow, dueAt: string, trigger: FireTrigger): Promise<FireResult> {
    const base = { trigger, due_at: dueAt, fired_at: clock.now() } as const;
    const scope: TenantScope = { tenant: schedule.tenant };
    const previousId = schedule.last_firing?.outcome === 'started' ? schedule.last_firing.execution_id : undefined;
    let cancelled: string | undefined;
    if (previousId !== undefined && schedule.overlap_policy !== 'allow') {
      const previous = await executions.getExecution(previousId, scope).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      });
      const going = previous !== undefined && !isTerminal(previous.status);
      if (going && schedule.overlap_policy === 'skip') {
        return { firing: await record(schedule, { ...base, outcome: 'skipped', execution_id: previousId, reason: `run ${previousId} is still ${previous.status} (overlap policy skip)` }) };
      }
      if (going) {
        await executions.cancelExecution(previousId, `schedule:${schedule.schedule_id}`, scope).catch((error: unknown) => {
          // It finished meanwhile: nothing left to cancel.
          if (!(error instanceof ConflictError)) throw error;
        });
        cancelled = previousId;
      }
    }
    try {
      const { execution } = await executions.startExecution(
        workflow.workflow_id,
        {
          parameters: schedule.parameters,
          ...(schedule.version === undefined ? {} : { version: schedule.version }),
          // A timer delivering the same due time twice (EventBridge Scheduler is at least once) starts one run.
          idempotencyKey: `schedule:${schedule.schedule_id}:${trigger === 'schedule' ? dueAt : ids.next()}`,
        },
        `schedule:${schedule.schedule_id}`,
        scope,
      );
      const firing = await record(schedule, { ...base, outcome: 'started', execution_id: execution.execution_id, ...(cancelled ? { cancelled_execution_id: cancelled } : {}) });
      return { firing, execution };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const firing = await record(schedule, { ...base, outcome: 'failed', reason, ...(cancelled ? { cancelled_execution_id: cancelled } : {}) });
      // A manual trigger answers with the reason (400 for parameters the workflow no longer accepts...).
      if (trigger === 'manual') throw error;
      return { firing };
    }
  }

  return {
    async createSchedule(workflowId: string, input: ScheduleInput, actor: string, scope: TenantScope = {}): Promise<ScheduleView> {
      const workflow = await requireWorkflow(workflowId, scope);
      const issues = problemsOf(input, workflow);
      if (issues.length > 0) throw new ValidationError(issues);
      const existing = await schedules.listByWorkflow(workflowId);
      if (existing.length >= MAX_SCHEDULES_PER_WORKFLOW) {
        throw new ConflictError(`workflow ${workflowId} already has ${existing.length} schedules`, [{ field: 'workflow_id', message: `at most ${MAX_SCHEDULES_PER_WORKFLOW} schedules per workflow` }]);
      }
      const now = clock.now();
      const schedule: WorkflowSchedule = {
        schedule_id: ids.next(),
        workflow_id: workflowId,
        tenant: workflow.tenant,
        ...input,
        created_at: now,
        created_by: actor,
        updated_at: now,
        updated_by: actor,
        revision: 1,
      };
      await schedules.create(schedule);
      await armed(schedule, () => schedules.delete(workflowId, schedule.schedule_id));
      return view(schedule);
    },

    async listSchedules(workflowId: string, scope: TenantScope = {}): Promise<ScheduleView[]> {
      await requireWorkflow(workflowId, scope);
      return (await schedules.listByWorkflow(workflowId)).map(view);
    },

    async getSchedule(workflowId: string, scheduleId: string, scope: TenantScope = {}): Promise<ScheduleView> {
      return view((await requireSchedule(workflowId, scheduleId, scope)).schedule);
    },

    async updateSchedule(workflowId: string, scheduleId: string, patch: SchedulePatch, actor: string, scope: TenantScope = {}): Promise<ScheduleView> {
      const { workflow, schedule: current } = await requireSchedule(workflowId, scheduleId, scope);
      const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as SchedulePatch;
      const next: WorkflowSchedule = { ...current, ...defined, updated_at: clock.now(), updated_by: actor, revision: current.revision + 1 };
      const issues = problemsOf(next, workflow);
      if (issues.length > 0) throw new ValidationError(issues);
      await schedules.replace(next, current.revision);
      await armed(next, () => schedules.replace({ ...current, last_firing: next.last_firing, revision: next.revision + 1 }, next.revision));
      return view(next);
    },

    async deleteSchedule(workflowId: string, scheduleId: string, scope: TenantScope = {}): Promise<{ deleted: true; schedule_id: string }> {
      const { schedule } = await requireSchedule(workflowId, scheduleId, scope);
      // Timer first: a crash after it leaves a stored schedule that no longer fires, which a retry deletes.
      await timer.remove(schedule);
      await schedules.delete(workflowId, scheduleId);
      return { deleted: true, schedule_id: scheduleId };
    },

    /** Removes every schedule of a workflow that was deleted (its timers, then its items). Returns how many. */
    async removeWorkflowSchedules(workflowId: string): Promise<number> {
      const found = await schedules.listByWorkflow(workflowId);
      for (const schedule of found) {
        await timer.remove(schedule);
        await schedules.delete(workflowId, schedule.schedule_id);
      }
      return found.length;
    },

    /** `POST .../trigger`: one run now, whatever the schedule's times and `enabled`, under its overlap policy. */
    async triggerSchedule(workflowId: string, scheduleId: string, scope: TenantScope = {}): Promise<FireResult> {
      const { workflow, schedule } = await requireSchedule(workflowId, scheduleId, scope);
      return fire(schedule, workflow, clock.now(), 'manual');
    },

    /**
     * A timer fired (the scheduled-run worker in AWS, the local scheduler): starts the run due at `dueAt`
     * unless the schedule was disabled or deleted since. A schedule whose workflow is gone is removed, so an
     * orphan left by a crash during a workflow's deletion cleans itself up at its next firing.
     */
    async fireSchedule(workflowId: string, scheduleId: string, dueAt: string): Promise<FireResult | { readonly ignored: string }> {
      const schedule = await schedules.get(workflowId, scheduleId);
      if (!schedule) {
        await timer.remove({ workflow_id: workflowId, schedule_id: scheduleId });
        return { ignored: 'the schedule no longer exists' };
      }
      const workflow = await workflows.get(workflowId);
      if (!workflow) {
        await timer.remove(schedule);
        await schedules.delete(workflowId, scheduleId);
        return { ignored: 'the workflow no longer exists; its schedule was removed' };
      }
      if (!schedule.enabled) return { ignored: 'the schedule is disabled' };
      return fire(schedule, workflow, dueAt, 'schedule');
    },

    view,
  };
}

export type ScheduleService = ReturnType<typeof createScheduleService>;
