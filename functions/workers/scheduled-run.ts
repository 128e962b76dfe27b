import * as z from 'zod';
import { DEFAULT_TENANT } from '../../core/auth/model.ts';
import { JOB_NAMES, SYSTEM_SCHEDULE_ACTOR, type EcosystemService, type JobName } from '../../core/ecosystem/service.ts';
import type { Log } from '../../core/ports.ts';
import type { ScheduleService } from '../../core/schedules/service.ts';

/** What each EventBridge Scheduler schedule sends its target (adapters/aws/scheduler/event-bridge-scheduler-timer.ts). */
export const ScheduledRunEvent = z.object({ workflow_id: z.string().min(1), schedule_id: z.string().min(1), due_at: z.iso.datetime({ offset: true }) });

/** What each job's EventBridge rule sends (infra: RuleTargetInput with the event's time). */
export const JobRunEvent = z.object({ job: z.enum(JOB_NAMES as [JobName, ...JobName[]]), due_at: z.iso.datetime({ offset: true }) });

/**
 * A workflow schedule fired in AWS: the overlap policy, the run and the bookkeeping are fireSchedule's. A run
 * that could not start is recorded on the schedule and logged, not thrown: the scheduler retrying the same due
 * time would meet the same refusal. An event that is not one is refused with its problems.
 */
export function createScheduledRunWorker({ schedules, log }: { schedules: ScheduleService; log: Log }) {
  return async (event: unknown) => {
    const { workflow_id: workflowId, schedule_id: scheduleId, due_at: dueAt } = ScheduledRunEvent.parse(event);
    const result = await schedules.fireSchedule(workflowId, scheduleId, dueAt);
    if ('ignored' in result) {
      log({ message: 'schedule firing ignored', workflow_id: workflowId, schedule_id: scheduleId, due_at: dueAt, reason: result.ignored });
      return { ignored: result.ignored };
    }
    const { firing } = result;
    log({ level: firing.outcome === 'failed' ? 'warn' : 'info', message: `schedule firing ${firing.outcome}`, workflow_id: workflowId, schedule_id: scheduleId, due_at: dueAt, execution_id: firing.execution_id, reason: firing.reason });
    return firing;
  };
}

/** A job's rule fired: the job's run in the default tenant; the same due time never starts two runs. */
export function createJobRunWorker({ ecosystem, log }: { ecosystem: EcosystemService; log: Log }) {
  return async (event: unknown) => {
    const { job, due_at: dueAt } = JobRunEvent.parse(event);
    const run = await ecosystem.startJob(job, { dueAt }, { actor: SYSTEM_SCHEDULE_ACTOR, tenant: DEFAULT_TENANT });
    log({ message: `job ${job} started by its schedule`, job, due_at: dueAt, execution_id: run.execution.execution_id });
    return { job, execution_id: run.execution.execution_id };
  };
}
