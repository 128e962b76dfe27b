import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoScheduleStore } from '../adapters/aws/dynamo/dynamo-schedule-store.ts';
import { DEFAULT_TENANT } from '../core/auth/model.ts';
import { createEcosystemService, JOB_NAMES, SYSTEM_SCHEDULE_ACTOR, type EcosystemService, type JobSchedule, type JobName } from '../core/ecosystem/service.ts';
import type { ExecutionService } from '../core/execution/service.ts';
import type { Clock, IdGenerator, Log, WorkflowStore } from '../core/ports.ts';
import { createScheduleService, type ScheduleService } from '../core/schedules/service.ts';
import type { WorkflowService } from '../core/workflow/service.ts';
import { createServiceProxy, logAnalysisServiceOf, type ServiceProxy } from '../functions/ecosystem/service-proxy.ts';
import type { SpanRecorder } from '../functions/observability/span-recorder.ts';
import type { ActionRunner } from '../functions/workers/action-runner.ts';
import { createLocalScheduler, type LocalScheduler } from './scheduler.ts';

export interface LocalEcosystemOptions {
  readonly documentClient: DynamoDBDocumentClient;
  readonly workflowsTableName: string;
  /** False for a table kept from before schedules (no `schedules` index): the scheduler's start scans instead. */
  readonly schedulesIndexed: boolean;
  readonly workflowStore: WorkflowStore;
  readonly workflows: WorkflowService;
  readonly executions: ExecutionService;
  /** An action runner without spans of its own: the proxy records its `proxy` spans. */
  readonly proxyRunner: ActionRunner;
  readonly spans?: SpanRecorder;
  readonly proxyTimeoutSeconds?: number;
  readonly jobSchedules?: Partial<Record<JobName, JobSchedule>>;
  /** LOG_COLLECTOR_URL: where /demo/e2e reads the log analysis (else reporting). */
  readonly logCollectorUrl?: string;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly log: Log;
}

export interface LocalEcosystem {
  readonly services: { ecosystem: EcosystemService; serviceProxy: ServiceProxy; logAnalysisService: string; schedules: ScheduleService };
  readonly scheduler: LocalScheduler;
  close(): Promise<void>;
}

/**
 * Ingestion, jobs, proxies and workflow schedules on one machine: the same use cases as in AWS, with the local
 * scheduler in place of EventBridge Scheduler and the jobs' rules. Every stored schedule and every enabled job
 * is armed before the API serves.
 */
export async function startLocalEcosystem(options: LocalEcosystemOptions): Promise<LocalEcosystem> {
  const { clock, ids, log } = options;
  const store = new DynamoScheduleStore(options.documentClient, options.workflowsTableName, { withoutIndex: !options.schedulesIndexed });
  if (!options.schedulesIndexed) log({ level: 'warn', kind: 'schedules_scan', message: 'the workflows table predates the schedules index (dynalite cannot add one): schedules are found by a scan at start' });
  // The scheduler fires through the service, which arms timers through the scheduler: the service is read when a timer fires.
  const service: { current?: ScheduleService } = {};
  const scheduler = createLocalScheduler({ clock, log, fireSchedule: (workflowId, scheduleId, dueAt) => service.current!.fireSchedule(workflowId, scheduleId, dueAt) });
  const schedules = createScheduleService({ schedules: store, timer: scheduler, workflows: options.workflowStore, executions: options.executions, clock, ids });
  service.current = schedules;
  const startedAt = clock.now();
  const ecosystem = createEcosystemService({
    workflows: options.workflows,
    executions: options.executions,
    clock,
    ids,
    ...(options.jobSchedules ? { jobSchedules: options.jobSchedules } : {}),
    scheduleAnchor: startedAt,
  });
  for (const job of JOB_NAMES) {
    const schedule = ecosystem.scheduleOf(job);
    if (!schedule.enabled) continue;
    scheduler.arm({
      key: `job:${job}`,
      expression: schedule.expression,
      timezone: 'UTC',
      anchor: startedAt,
      enabled: true,
      fire: async (dueAt) => {
        const run = await ecosystem.startJob(job, { dueAt }, { actor: SYSTEM_SCHEDULE_ACTOR, tenant: DEFAULT_TENANT });
        log({ kind: 'job_started', job, due_at: dueAt, execution_id: run.execution.execution_id });
      },
    });
  }
  let armed = 0;
  for await (const schedule of store.all()) {
    await scheduler.put(schedule);
    armed += 1;
  }
  if (armed > 0) log({ kind: 'schedules_armed', count: armed, message: `${armed} workflow schedule${armed === 1 ? '' : 's'} armed` });
  const serviceProxy = createServiceProxy({ runner: options.proxyRunner, ...(options.spans ? { spans: options.spans } : {}), ...(options.proxyTimeoutSeconds === undefined ? {} : { timeoutSeconds: options.proxyTimeoutSeconds }) });
  return {
    services: { ecosystem, serviceProxy, logAnalysisService: logAnalysisServiceOf({ LOG_COLLECTOR_URL: options.logCollectorUrl }), schedules },
    scheduler,
    close: () => scheduler.stop(),
  };
}
