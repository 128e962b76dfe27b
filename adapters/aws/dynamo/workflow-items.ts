import * as z from 'zod';
import { DEFAULT_TENANT } from '../../../core/auth/model.ts';
import { ActionSchema, DefinitionFields, ParameterSchema, WorkflowStatusSchema, type DefinitionBody } from '../../../core/workflow/definition.ts';
import type { Workflow, WorkflowSummary, WorkflowVersion } from '../../../core/workflow/model.ts';
import { jsonText } from './items.ts';

export { parseItem } from './items.ts';

/**
 * The workflows table's items (workflow-table.ts) as zod schemas, each read into its domain object:
 *   HeadItemSchema     sk `HEAD`: the current workflow               -> Workflow
 *   VersionItemSchema  sk `V#<version>`: one immutable snapshot      -> WorkflowVersion
 *   SummaryItemSchema  a HEAD item as the listing indexes project it -> WorkflowSummary
 * Use them through parseItem (items.ts), which throws CorruptItemError naming the item, e.g.
 * `parseItem(HeadItemSchema, Item, 'workflow')`.
 *
 * Compatibility with items written by older versions, as defaults: no `tags` (none), no `tenant` (the default
 * tenant), no `action_types` (none counted), and a definition without `execution_mode` (standard).
 */

/** The action types a definition may hold, for the `action_types` counts of a summary. */
const ActionTypeSchema = z.enum(ActionSchema.options.map((schema) => schema.shape.action_type.value));

/**
 * The `definition` attribute: JSON text of the versioned part of a workflow, as core/workflow/definition.ts
 * describes it. Each action and parameter is read with the definition's own schemas (a stored definition was
 * valid when written); the limits on how many there are apply to writes only, so a definition stored under
 * an older limit still reads.
 */
export const StoredDefinitionSchema = jsonText(
  z.object({
    execution_mode: DefinitionFields.execution_mode.default('standard'),
    parameters: z.array(ParameterSchema),
    strict_parameters: z.boolean().default(false),
    actions: z.array(ActionSchema),
  }),
) satisfies z.ZodType<Required<DefinitionBody>>;

/** The summary attributes a HEAD item and the listing indexes share (SUMMARY_ATTRIBUTES, without the counts). */
const summaryFields = {
  workflow_id: z.string(),
  name: z.string(),
  description: z.string(),
  tags: z.array(z.string()).default([]),
  status: WorkflowStatusSchema,
  version: z.number().int().min(1),
  revision: z.number().int(),
  tenant: z.string().default(DEFAULT_TENANT),
  created_by: z.string(),
  created_at: z.string(),
  updated_by: z.string(),
  updated_at: z.string(),
};

/** A workflow's summary: a HEAD item as the listing indexes project it (SUMMARY_ATTRIBUTES), or a HEAD item itself. */
export const SummaryItemSchema = z.object({
  ...summaryFields,
  action_count: z.number().int().min(0),
  action_types: z.partialRecord(ActionTypeSchema, z.number().int().min(0)).default({}),
}) satisfies z.ZodType<WorkflowSummary>;

/** The HEAD item (pk `WF#<workflow_id>`, sk `HEAD`): the current workflow, its definition as JSON text. */
export const HeadItemSchema = z
  .object({
    ...summaryFields,
    definition: StoredDefinitionSchema,
    version_created_by: z.string(),
    version_created_at: z.string(),
  })
  .transform(
    (item): Workflow => ({
      workflow_id: item.workflow_id,
      name: item.name,
      description: item.description,
      tags: item.tags,
      status: item.status,
      version: item.version,
      revision: item.revision,
      ...item.definition,
      tenant: item.tenant,
      created_by: item.created_by,
      created_at: item.created_at,
      updated_by: item.updated_by,
      updated_at: item.updated_at,
      version_created_by: item.version_created_by,
      version_created_at: item.version_created_at,
    }),
  );

/** A version item (pk `WF#<workflow_id>`, sk `V#<10-digit version>`): one immutable definition snapshot. */
export const VersionItemSchema = z
  .object({
    workflow_id: z.string(),
    version: z.number().int().min(1),
    name: z.string(),
    definition: StoredDefinitionSchema,
    created_by: z.string(),
    created_at: z.string(),
  })
  .transform(
    (item): WorkflowVersion => ({
      workflow_id: item.workflow_id,
      version: item.version,
      name: item.name,
      ...item.definition,
      created_by: item.created_by,
      created_at: item.created_at,
    }),
  );

/** A search word as the byWord index projects it (dynamo-word-index.ts). */
export const WordItemSchema = z.object({ workflow_id: z.string(), tenant: z.string().optional() });
