import * as z from 'zod';
import { JsonValue } from '../../core/workflow/definition.ts';
import { EXECUTION_STATUSES } from '../../core/execution/model.ts';
import { OVERLAP_POLICIES, ScheduleFiringSchema, scheduleFields } from '../../core/schedules/model.ts';
import { idSchema, positiveInt } from './workflow-schemas.ts';

/** Workflow schedules: `/workflows/{workflow_id}/schedules[/{schedule_id}[/trigger]]`. */

export const ScheduleParams = z.object({ workflow_id: idSchema('workflow_id'), schedule_id: idSchema('schedule_id') });

const Expression = z
  .string({ error: 'expression is required: cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)' })
  .min(1, 'expression must not be empty')
  .max(256, 'expression is at most 256 characters')
  .describe('EventBridge Scheduler syntax: cron(0 9 ? * MON-FRI *), rate(15 minutes), at(2027-01-01T09:00:00)');
const TimeZone = z.string({ error: 'timezone must be an IANA time zone name, e.g. Europe/Berlin' }).min(1).max(64).describe('IANA time zone cron and at are read in');
const Policy = z.enum(OVERLAP_POLICIES, { error: `overlap_policy must be one of ${OVERLAP_POLICIES.join(', ')}` }).describe('When the previous run is still going: allow another, skip this firing, or cancel_previous first');
const Description = z.string().max(512, 'description is at most 512 characters');

export const CreateScheduleBody = z.strictObject({
  expression: Expression,
  timezone: TimeZone.default('UTC'),
  parameters: z.record(z.string(), JsonValue, { error: 'parameters must be an object' }).default({}).describe("The run's parameters, checked against the workflow's declarations"),
  version: positiveInt('version').optional().describe("A version to run (default: the workflow's latest at each firing)"),
  enabled: z.boolean({ error: 'enabled must be true or false' }).default(true),
  overlap_policy: Policy.default('allow'),
  description: Description.optional(),
});

export const UpdateScheduleBody = z
  .strictObject({
    expression: Expression.optional(),
    timezone: TimeZone.optional(),
    parameters: z.record(z.string(), JsonValue, { error: 'parameters must be an object' }).optional(),
    version: positiveInt('version').optional(),
    enabled: z.boolean({ error: 'enabled must be true or false' }).optional(),
    overlap_policy: Policy.optional(),
    description: Description.optional(),
  })
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), { message: 'give at least one field to change' });

export const ScheduleResponse = z.object({
  ...scheduleFields,
  parameters: z.record(z.string(), JsonValue),
  next_runs: z.array(z.string()).describe('The next five times it fires (UTC); empty when disabled or it never fires again'),
});

export const ScheduleListResponse = z.object({ schedules: z.array(ScheduleResponse), count: z.number().int() });

export const DeleteScheduleResponse = z.object({ deleted: z.literal(true), schedule_id: z.string() });

export const TriggerResponse = z.object({
  schedule_id: z.string(),
  firing: ScheduleFiringSchema,
  execution: z.object({ execution_id: z.string(), status: z.enum(EXECUTION_STATUSES), trace_id: z.string().optional() }).optional(),
});
