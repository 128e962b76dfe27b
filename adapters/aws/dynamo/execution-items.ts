import * as z from 'zod';
import { DEFAULT_TENANT } from '../../../core/auth/model.ts';
import { ACTION_STATUSES, COMPENSATION_STATUSES, EXECUTION_STATUSES, type ActionProgress, type Execution } from '../../../core/execution/model.ts';
import { ACTION_SORT_KEY_PREFIX } from './execution-table.ts';
import { jsonText } from './items.ts';

/**
 * The execution item and its action items (execution-table.ts) as zod schemas: what DynamoExecutionStore reads
 * through parseItem. Listings read an index, which projects everything but `output`.
 */

/** One action's progress as stored: an entry of a run item's `actions` map, or an action item's `progress`. */
const ActionProgressItem = z.object({
  action_id: z.string(),
  action_type: z.string(),
  status: z.enum(ACTION_STATUSES),
  attempts: z.number().int().min(0),
  started_at: z.string().optional(),
  ended_at: z.string().optional(),
  // The response is JSON text in `response_json`; items written before hold it as a value in `response`
  // (absent when it was undefined: the document client drops it).
  output: z
    .object({ status_code: z.number().int().nullable(), response: z.unknown().optional(), response_json: jsonText(z.unknown()).optional() })
    .transform(({ status_code, response, response_json }) => ({ status_code, response: response_json === undefined ? response : response_json }))
    .optional(),
  error: z.object({ error: z.string(), cause: z.string() }).optional(),
  reason: z.string().optional(),
  compensation: z
    .object({
      status: z.enum(COMPENSATION_STATUSES),
      attempts: z.number().int().min(0),
      started_at: z.string().optional(),
      ended_at: z.string().optional(),
      error: z.object({ error: z.string(), cause: z.string() }).optional(),
    })
    .optional(),
  usage: z.object({ model: z.string(), input_tokens: z.number().int().min(0), output_tokens: z.number().int().min(0) }).optional(),
}) satisfies z.ZodType<ActionProgress>;

/**
 * One execution (pk `EX#<execution_id>`, sk `EXECUTION`). Items written before tenants existed have no
 * `tenant` (the default tenant's); `output` is JSON text. Its actions are its action items (ActionItemSchema),
 * which the store adds: the run's item gives none. Items written before action items existed hold them in
 * `actions`, a map by action id, in the order `action_order` gives (items without it keep the map's order).
 */
export const ExecutionItemSchema = z
  .object({
    execution_id: z.string(),
    workflow_id: z.string(),
    workflow_version: z.number().int(),
    status: z.enum(EXECUTION_STATUSES),
    // JSON text; items written before hold a map.
    parameters: z.union([jsonText(z.record(z.string(), z.unknown())), z.record(z.string(), z.unknown())]).default({}),
    trace_id: z.string(),
    parent_span_id: z.string().optional(),
    started_by: z.string(),
    tenant: z.string().default(DEFAULT_TENANT),
    created_at: z.string(),
    started_at: z.string().optional(),
    ended_at: z.string().optional(),
    actions: z.record(z.string(), ActionProgressItem).optional(),
    action_order: z.array(z.string()).optional(),
    output: jsonText(z.unknown()).optional(),
    error: z.object({ action_id: z.string().optional(), error: z.string(), cause: z.string() }).optional(),
    warnings: z.array(z.string()).optional(),
    redrive_count: z.number().int().min(0).optional(),
    redrives: z.array(z.object({ at: z.string(), by: z.string(), from_status: z.enum(EXECUTION_STATUSES) })).optional(),
    rerun_of: z.object({ execution_id: z.string(), from_action: z.string() }).optional(),
  })
  .transform(({ actions, action_order, output, started_at, ended_at, error, ...execution }): Execution => ({
    ...execution,
    ...(started_at ? { started_at } : {}),
    ...(ended_at ? { ended_at } : {}),
    actions: actions === undefined ? [] : (action_order ?? Object.keys(actions)).map((id) => actions[id]).filter((action): action is ActionProgress => action !== undefined),
    ...(output === undefined ? {} : { output }),
    ...(error ? { error } : {}),
  }));

/**
 * One action of a run, in its collection (sk `EXECUTION#ACT#<action_id>`): its progress, and its `position`
 * among the run's actions (the order the workflow declares them in, which their sort keys do not keep).
 */
export const ActionItemSchema = z.object({
  sk: z.string().startsWith(ACTION_SORT_KEY_PREFIX),
  position: z.number().int().min(0),
  progress: ActionProgressItem,
});
