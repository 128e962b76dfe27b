import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { ScheduleStore } from '../../core/ports.ts';
import type { ScheduleFiring, WorkflowSchedule } from '../../core/schedules/model.ts';

/**
 * ScheduleStore in memory, with the semantics of DynamoScheduleStore (test/contract/schedule-store.test.ts runs
 * both): a replace keeps the stored `last_firing` (firings are recorded apart and never lost to an edit), a
 * firing leaves the revision alone, and every read hands out a copy.
 */
export class InMemoryScheduleStore implements ScheduleStore {
  /** By `<workflow_id>#<schedule_id>`, the order `all()` gives them in. */
  readonly items = new Map<string, WorkflowSchedule>();

  async create(schedule: WorkflowSchedule): Promise<void> {
    const key = keyOf(schedule.workflow_id, schedule.schedule_id);
    if (this.items.has(key)) throw new ConflictError(`schedule ${schedule.schedule_id} of workflow ${schedule.workflow_id} already exists`);
    this.items.set(key, structuredClone(schedule));
  }

  async get(workflowId: string, scheduleId: string): Promise<WorkflowSchedule | undefined> {
    const found = this.items.get(keyOf(workflowId, scheduleId));
    return found && structuredClone(found);
  }

  async listByWorkflow(workflowId: string): Promise<WorkflowSchedule[]> {
    return [...this.items.values()]
      .filter((schedule) => schedule.workflow_id === workflowId)
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.schedule_id.localeCompare(b.schedule_id))
      .map((schedule) => structuredClone(schedule));
  }

  async *all(): AsyncIterable<WorkflowSchedule> {
    const keys = [...this.items.keys()].sort();
    for (const key of keys) {
      const schedule = this.items.get(key);
      if (schedule) yield structuredClone(schedule);
    }
  }

  async replace(next: WorkflowSchedule, expectedRevision: number): Promise<void> {
    const key = keyOf(next.workflow_id, next.schedule_id);
    const current = this.items.get(key);
    if (!current) throw new NotFoundError(`schedule ${next.schedule_id} of workflow ${next.workflow_id} not found`);
    if (current.revision !== expectedRevision) {
      throw new ConflictError(`schedule ${next.schedule_id} was changed concurrently (expected revision ${expectedRevision}, stored revision ${current.revision}); read it again and retry`);
    }
    const { last_firing: _ignored, ...definition } = structuredClone(next);
    this.items.set(key, current.last_firing === undefined ? definition : { ...definition, last_firing: current.last_firing });
  }

  async recordFiring(workflowId: string, scheduleId: string, firing: ScheduleFiring): Promise<boolean> {
    const key = keyOf(workflowId, scheduleId);
    const current = this.items.get(key);
    if (!current) return false;
    this.items.set(key, { ...current, last_firing: structuredClone(firing) });
    return true;
  }

  async delete(workflowId: string, scheduleId: string): Promise<boolean> {
    return this.items.delete(keyOf(workflowId, scheduleId));
  }
}

const keyOf = (workflowId: string, scheduleId: string) => `${workflowId}#${scheduleId}`;
