import { scopeOf } from '../../core/auth/model.ts';
import { ConflictError } from '../../core/errors.ts';
import type { ScheduleService } from '../../core/schedules/service.ts';
import { handlerFactory } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import type { Secured } from './services.ts';

export interface ScheduleHttpServices extends Secured {
  readonly schedules: ScheduleService;
}

/** Workflow schedules. No side effects until called. */
export function createScheduleHandlers({ schedules, security }: ScheduleHttpServices) {
  const handle = handlerFactory(security);
  return {
    createSchedule: handle(routes.createSchedule, async ({ params, body, actor, caller }) => {
      const schedule = await schedules.createSchedule(params.workflow_id, body, actor, scopeOf(caller));
      return {
        message: `schedule ${schedule.schedule_id} created${schedule.next_runs[0] ? `; next run ${schedule.next_runs[0]}` : ''}`,
        data: schedule,
        status: 201,
        headers: { location: `/workflows/${params.workflow_id}/schedules/${schedule.schedule_id}` },
      };
    }),

    listSchedules: handle(routes.listSchedules, async ({ params, caller }) => {
      const found = await schedules.listSchedules(params.workflow_id, scopeOf(caller));
      return { message: `${found.length} schedule${found.length === 1 ? '' : 's'}`, data: { schedules: found, count: found.length } };
    }),

    getSchedule: handle(routes.getSchedule, async ({ params, caller }) => {
      const schedule = await schedules.getSchedule(params.workflow_id, params.schedule_id, scopeOf(caller));
      return { message: `schedule ${schedule.schedule_id}`, data: schedule };
    }),

    updateSchedule: handle(routes.updateSchedule, async ({ params, body, actor, caller }) => {
      const schedule = await schedules.updateSchedule(params.workflow_id, params.schedule_id, body, actor, scopeOf(caller));
      return { message: `schedule ${schedule.schedule_id} updated (revision ${schedule.revision})`, data: schedule };
    }),

    deleteSchedule: handle(routes.deleteSchedule, async ({ params, caller }) => {
      const deleted = await schedules.deleteSchedule(params.workflow_id, params.schedule_id, scopeOf(caller));
      return { message: `schedule ${params.schedule_id} deleted`, data: deleted };
    }),

    triggerSchedule: handle(routes.triggerSchedule, async ({ params, caller }) => {
      const { firing, execution } = await schedules.triggerSchedule(params.workflow_id, params.schedule_id, scopeOf(caller));
      if (firing.outcome === 'skipped') {
        throw new ConflictError(`schedule ${params.schedule_id} did not start a run: ${firing.reason ?? 'its previous run is still going'}`, [
          { field: 'overlap_policy', message: `skip: run ${firing.execution_id ?? ''} is still going` },
        ]);
      }
      return {
        message: execution ? `run ${execution.execution_id} started` : `schedule ${params.schedule_id} fired`,
        data: { schedule_id: params.schedule_id, firing, ...(execution ? { execution: { execution_id: execution.execution_id, status: execution.status, ...(execution.trace_id ? { trace_id: execution.trace_id } : {}) } } : {}) },
        status: 202,
        ...(execution ? { headers: { location: `/workflows/executions/${execution.execution_id}` } } : {}),
      };
    }),
  };
}
