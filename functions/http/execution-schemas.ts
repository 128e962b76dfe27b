import * as z from 'zod';
import { JsonValue } from '../../core/workflow/definition.ts';
import { ACTION_STATUSES, COMPENSATION_STATUSES, EXECUTION_STATUSES } from '../../core/execution/model.ts';
import { idSchema, NextTokenSchema, positiveInt, TenantFilter, WorkflowIdParams } from './workflow-schemas.ts';

export { WorkflowIdParams };

export const ExecutionIdParams = z.object({ execution_id: idSchema('execution_id') });

export const ExecuteBody = z.strictObject({
  parameters: z.record(z.string(), JsonValue).default({}),
  version: positiveInt('version').optional(),
});

export const RetryBody = z.strictObject({
  from_action: z
    .string({ error: 'from_action must be an action id' })
    .min(1, 'from_action must not be empty')
    .max(128, 'from_action must be at most 128 characters')
    .optional()
    .describe('rerun from this action: a new run reusing the outputs of every action not downstream of it'),
  parameters: z.record(z.string(), JsonValue).optional().describe("a rerun's parameters (default: the original run's); only with from_action"),
});

export const ListExecutionsQuery = z.object({
  limit: positiveInt('limit').max(100, 'limit must be at most 100').default(50),
  status: z.enum(EXECUTION_STATUSES, { error: `status must be one of ${EXECUTION_STATUSES.join(', ')}` }).optional(),
  next_token: NextTokenSchema.optional(),
});

export const HistoryQuery = ListExecutionsQuery.extend({
  tenant: TenantFilter,
  since: z.iso.datetime({ offset: true, error: 'since must be an ISO 8601 timestamp, e.g. 2026-11-24T00:00:00Z' }).optional(),
});

const ActionProgressResponse = z.object({
  action_id: z.string(),
  action_type: z.string(),
  status: z.enum(ACTION_STATUSES),
  attempts: z.number().int(),
  started_at: z.string().optional(),
  ended_at: z.string().optional(),
  output: z.object({ status_code: z.number().int().nullable(), response: JsonValue }).optional(),
  error: z.object({ error: z.string(), cause: z.string() }).optional(),
  reason: z.string().optional().describe('why a not_run or cancelled action did not complete'),
  compensation: z
    .object({
      status: z.enum(COMPENSATION_STATUSES),
      attempts: z.number().int(),
      started_at: z.string().optional(),
      ended_at: z.string().optional(),
      error: z.object({ error: z.string(), cause: z.string() }).optional(),
    })
    .optional()
    .describe("the action's compensation, when it declares one: planned until the saga needs it"),
  usage: z
    .object({ model: z.string(), input_tokens: z.number().int(), output_tokens: z.number().int() })
    .optional()
    .describe("an llm action's tokens: every model call of it that answered (a repair call included), summed"),
});

export const ExecutionResponse = z.object({
  execution_id: z.string(),
  workflow_id: z.string(),
  workflow_version: z.number().int(),
  status: z.enum(EXECUTION_STATUSES),
  progress: z.object({ completed: z.number().int(), total: z.number().int(), percent: z.number() }),
  parameters: z.record(z.string(), JsonValue),
  trace_id: z.string().describe("The run's trace (GET /infrastructure/tracing/trace/{trace_id}): the caller's when its request carried a W3C traceparent"),
  parent_span_id: z.string().optional().describe("The caller's span the run continues, when its request carried a traceparent"),
  started_by: z.string(),
  tenant: z.string(),
  created_at: z.string(),
  started_at: z.string().optional(),
  ended_at: z.string().optional(),
  actions: z.array(ActionProgressResponse),
  output: JsonValue.optional(),
  error: z.object({ action_id: z.string().optional(), error: z.string(), cause: z.string() }).optional(),
  warnings: z.array(z.string()).optional().describe('e.g. given parameters the workflow does not declare (kept in parameters); shown when the run is read by id'),
  redrive_count: z.number().int().optional().describe('how many times the run was retried from where it stopped'),
  redrives: z.array(z.object({ at: z.string(), by: z.string(), from_status: z.enum(EXECUTION_STATUSES) })).optional(),
  rerun_of: z.object({ execution_id: z.string(), from_action: z.string() }).optional().describe('the run whose outputs this rerun reused'),
});

export const ExecutionListResponse = z.object({
  executions: z.array(ExecutionResponse),
  count: z.number().int(),
  next_token: z.string().nullable(),
});
