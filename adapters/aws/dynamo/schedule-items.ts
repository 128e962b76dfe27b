import * as z from 'zod';
import { scheduleFields, type WorkflowSchedule } from '../../../core/schedules/model.ts';
import { jsonText } from './items.ts';

export { ItemKey, parseItem } from './items.ts';

/**
 * Schedule items of the workflows table (workflow-table.ts): one per schedule in its workflow's item collection,
 * pk `WF#<workflow_id>`, sk `X#SCHED#<schedule_id>`. The parameters are JSON text, as a workflow's definition
 * is: they are the caller's free-form values (any keys, any JSON number), which a DynamoDB map would not keep
 * exactly. `last_firing` is a map of strings, written on its own by recordFiring.
 *
 * Every schedule item carries the keys of `WorkflowIndex.schedules` (a constant partition, sorted by
 * `<workflow_id>#<schedule_id>`) and none of the listing indexes' keys, so workflow listings never see it.
 */

/**
 * The sort key prefix of schedule items: a workflow's schedules are one `begins_with` Query of its collection.
 * It sorts after the search words (`W#`): DynamoWorkflowStore.listVersions reads every item of the collection
 * below `W#` as HEAD or a version, so a plain `SCHED#` (between HEAD and `V#`) would read as a corrupt version.
 */
export const SCHEDULE_PREFIX = 'X#SCHED#';
/** The one partition of `WorkflowIndex.schedules`. */
export const SCHEDULES_PARTITION = 'SCHED';

// The same partition as the workflow's HEAD, versions and words (dynamo-workflow-store.ts), which keeps its
// key builder private: a schedule belongs to its workflow's item collection.
const workflowPartition = (workflowId: string) => `WF#${workflowId}`;

/** The table key of a schedule. */
export function scheduleKey(workflowId: string, scheduleId: string): { pk: string; sk: string } {
  return { pk: workflowPartition(workflowId), sk: `${SCHEDULE_PREFIX}${scheduleId}` };
}

/** The key condition of a workflow's schedules, for a Query of its collection. */
export function workflowSchedulesQuery(workflowId: string): { KeyConditionExpression: string; ExpressionAttributeValues: Record<string, string> } {
  return { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': workflowPartition(workflowId), ':prefix': SCHEDULE_PREFIX } };
}

/**
 * The attributes of a schedule's definition (everything but its keys and `last_firing`): what create writes
 * and replace overwrites. Optional fields absent from the schedule are absent from the record, so replace
 * removes them.
 */
export function definitionAttributes(schedule: WorkflowSchedule): Record<string, unknown> {
  const { last_firing: _firing, parameters, ...fields } = schedule;
  return { ...fields, parameters: JSON.stringify(parameters) };
}

/** The names of the optional definition attributes: replace REMOVEs those the next definition lacks. */
export const OPTIONAL_DEFINITION_ATTRIBUTES = ['version', 'description'] as const satisfies ReadonlyArray<keyof WorkflowSchedule>;

/** The whole item of a new schedule: key, definition, its firing (if any) and the `schedules` index keys. */
export function scheduleItem(schedule: WorkflowSchedule): Record<string, unknown> {
  return {
    ...scheduleKey(schedule.workflow_id, schedule.schedule_id),
    ...definitionAttributes(schedule),
    // The document client drops the firing's absent (undefined) fields: the map holds only what is there.
    ...(schedule.last_firing === undefined ? {} : { last_firing: schedule.last_firing }),
    ...scheduleIndexKeys(schedule.workflow_id, schedule.schedule_id),
  };
}

/** The `schedules` index keys of a schedule item. */
export function scheduleIndexKeys(workflowId: string, scheduleId: string): { gsi_sched_pk: string; gsi_sched_sk: string } {
  return { gsi_sched_pk: SCHEDULES_PARTITION, gsi_sched_sk: `${workflowId}#${scheduleId}` };
}

/** A schedule item read into a WorkflowSchedule (zod leaves absent optional fields absent, not `undefined`). */
export const ScheduleItemSchema = z.object({
  ...scheduleFields,
  parameters: jsonText(z.record(z.string(), z.unknown())),
}) satisfies z.ZodType<WorkflowSchedule>;

