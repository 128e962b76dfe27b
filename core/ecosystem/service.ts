import { DEFAULT_TENANT } from '../auth/model.ts';
import { NotFoundError } from '../errors.ts';
import type { Clock, IdGenerator } from '../ports.ts';
import type { ExecutionService, StartRequest } from '../execution/service.ts';
import type { Execution, ExecutionStatus } from '../execution/model.ts';
import type { WorkflowService } from '../workflow/service.ts';
import { parseScheduleExpression } from '../schedules/expression.ts';
import { nextFireTimes } from '../schedules/fire-times.ts';
import { ingestionParameters, type SourceRequest } from './sources.ts';
import { SYSTEM_ACTOR, systemWorkflowDefinition, systemWorkflowId, type SystemWorkflowName } from './system-workflows.ts';
import { JOB_NAMES, JOBS, SYSTEM_SCHEDULE_ACTOR, type JobName, type JobSchedule } from './jobs.ts';

export { JOB_NAMES, JOBS, SYSTEM_SCHEDULE_ACTOR, type JobName, type JobSchedule } from './jobs.ts';

export interface EcosystemServiceDeps {
  readonly workflows: Pick<WorkflowService, 'ensureWorkflow'>;
  readonly executions: Pick<ExecutionService, 'startExecution' | 'listExecutions'>;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Each job's schedule (configuration); a job not named here runs on its default schedule. */
  readonly jobSchedules?: Partial<Record<JobName, JobSchedule>>;
  /**
   * When rate schedules count from (the local scheduler's start; in AWS the rules' creation, unknown here, so
   * the last scheduled run is used when there is one).
   */
  readonly scheduleAnchor?: string;
}

/** Who asks: the run's actor and tenant, and the trace of the request (the run continues it). */
export interface Requester {
  readonly actor: string;
  readonly tenant: string;
  readonly trace?: StartRequest['trace'];
}

export interface StartedRun {
  readonly execution: Execution;
  readonly correlation_id: string;
}

export interface JobView {
  readonly name: JobName;
  readonly description: string;
  readonly workflow_id: string;
  readonly schedule: { readonly expression: string | null; readonly timezone: 'UTC'; readonly enabled: boolean };
  readonly next_run: string | null;
  readonly last_run: { readonly execution_id: string; readonly status: ExecutionStatus; readonly started_by: string; readonly created_at: string; readonly ended_at: string | null } | null;
}

/**
 * Ingestion and jobs: each request becomes a run of a system workflow (made sure to exist in the caller's
 * tenant first), so it has the status, progress, retries and traces of any run.
 */
export function createEcosystemService({ workflows, executions, clock, ids, jobSchedules = {}, scheduleAnchor }: EcosystemServiceDeps) {
  async function start(name: SystemWorkflowName, parameters: Record<string, unknown>, requester: Requester, idempotencyKey?: string): Promise<Execution> {
    const workflowId = systemWorkflowId(name, requester.tenant);
    await workflows.ensureWorkflow(workflowId, systemWorkflowDefinition(name), SYSTEM_ACTOR, requester.tenant);
    const { execution } = await executions.startExecution(
      workflowId,
      { parameters, ...(requester.trace ? { trace: requester.trace } : {}), ...(idempotencyKey ? { idempotencyKey } : {}) },
      requester.actor,
      { tenant: requester.tenant },
    );
    return execution;
  }

  const scheduleOf = (job: JobName): JobSchedule => jobSchedules[job] ?? { expression: JOBS[job].defaultSchedule, enabled: true };

  return {
    /** One or more sources ingested in parallel (`analyze`: then the consistency analysis), as one run. */
    async ingest(sources: readonly SourceRequest[], options: { correlationId?: string; analyze: boolean; idempotencyKey?: string }, requester: Requester): Promise<StartedRun> {
      const correlationId = options.correlationId ?? ids.next();
      const execution = await start('ingestion', ingestionParameters(sources, correlationId, options.analyze), requester, options.idempotencyKey);
      return { execution, correlation_id: correlationId };
    },

    /**
     * A job by hand (the caller's Idempotency-Key never starts a second run), or (`dueAt`) by its schedule: the
     * same due time never starts two runs.
     */
    async startJob(job: JobName, options: { correlationId?: string; parameters?: Record<string, unknown>; dueAt?: string; idempotencyKey?: string }, requester: Requester): Promise<StartedRun> {
      const correlationId = options.correlationId ?? ids.next();
      const parameters = { ...options.parameters, correlation_id: correlationId, requested_by: requester.actor };
      const execution = await start(JOBS[job].workflow, parameters, requester, options.dueAt === undefined ? options.idempotencyKey : `job:${job}:${options.dueAt}`);
      return { execution, correlation_id: correlationId };
    },

    scheduleOf,

    /** Every job with its schedule, next time, and last run in `tenant` (default: the default tenant's, where schedules run). */
    async listJobs(tenant: string = DEFAULT_TENANT): Promise<JobView[]> {
      return Promise.all(
        JOB_NAMES.map(async (name): Promise<JobView> => {
          const workflowId = systemWorkflowId(JOBS[name].workflow, tenant);
          const schedule = scheduleOf(name);
          const last = await executions.listExecutions({ workflowId, limit: 1 }, { tenant }).then(
            (page) => page.items[0],
            (error: unknown) => {
              // Never run in this tenant: its system workflow does not exist yet.
              if (error instanceof NotFoundError) return undefined;
              throw error;
            },
          );
          let nextRun: string | null = null;
          if (schedule.enabled) {
            const parsed = parseScheduleExpression(schedule.expression);
            const anchor = last?.started_by === SYSTEM_SCHEDULE_ACTOR ? last.created_at : (scheduleAnchor ?? clock.now());
            if ('expression' in parsed) nextRun = nextFireTimes(parsed.expression, { after: clock.now(), timezone: 'UTC', anchor, count: 1 })[0] ?? null;
          }
          return {
            name,
            description: JOBS[name].description,
            workflow_id: workflowId,
            schedule: { expression: schedule.enabled ? schedule.expression : null, timezone: 'UTC', enabled: schedule.enabled },
            next_run: nextRun,
            last_run: last
              ? { execution_id: last.execution_id, status: last.status, started_by: last.started_by, created_at: last.created_at, ended_at: last.ended_at ?? null }
              : null,
          };
        }),
      );
    },
  };
}

export type EcosystemService = ReturnType<typeof createEcosystemService>;
