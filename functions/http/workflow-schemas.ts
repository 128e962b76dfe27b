import { TenantSchema } from '../../core/auth/api-keys.ts';
import * as z from 'zod';
import {
  ActionSchema,
  EXECUTION_MODES,
  DefinitionFields,
  JsonValue,
  MetadataFields,
  ParameterSchema,
  WorkflowDefinitionSchema,
  WorkflowStatusSchema,
} from '../../core/workflow/definition.ts';
import { TemplateCustomizationsSchema } from '../../core/templates/catalog.ts';

/** Request and response shapes of the workflow API. The route table, the handlers and OpenAPI read these. */

/**
 * A schema-level message for the type problem only: zod applies `z.string({ error: '...' })` to every check of
 * the schema that has no message of its own, which would answer "q is required" for a q that is too long.
 */
export const typeError =
  (field: string, expected: string) =>
  (issue: { code: string; input?: unknown }): string | undefined =>
    issue.code === 'invalid_type' ? (issue.input === undefined ? `${field} is required` : `${field} must be ${expected}`) : undefined;

/** A whole number of at least 1 from a query string or JSON, with messages naming the field. */
export const positiveInt = (field: string) =>
  z.coerce
    .number({ error: typeError(field, 'a number') })
    .int(`${field} must be a whole number`)
    .min(1, `${field} must be at least 1`);

/**
 * A listing's `next_token`: what a previous page answered, as it was (base64url of a JSON object, so at least 3
 * characters: adapters/aws/dynamo/operations.ts encodeCursor). Anything else is refused before any read; a
 * token of this form that the API did not issue for this listing is 400 INVALID_CURSOR.
 */
export const NextTokenSchema = z
  .string({ error: typeError('next_token', 'a string') })
  .min(3, 'next_token must be at least 3 characters (the next_token of a previous page, as it was)')
  .max(2048, 'next_token must be at most 2048 characters')
  .regex(/^[A-Za-z0-9_-]+$/, 'next_token must be base64url (letters, digits, - and _): the next_token of a previous page, as it was')
  .describe('The next_token of the previous page, as it was (base64url)');

/**
 * `If-Match` of the workflow writes: an ETag this API issued (`"3"`, also `W/"3"` or a bare `3`), or `*` (any
 * revision). An empty value is refused (400), like any other. The OpenAPI document's If-Match parameter and
 * the handlers' parsing (functions/http/workflow-handlers.ts parseIfMatch) follow this one pattern.
 */
// At most 15 digits: every revision this API issues is a safe integer, and a longer number would not be one.
export const IF_MATCH_PATTERN = /^\s*(?:\*|(?:W\/)?"?\d{1,15}"?)\s*$/;
export const IfMatchHeader = z
  .string()
  .regex(IF_MATCH_PATTERN, 'If-Match must be the ETag of a previous response, like "3" (also W/"3"), or *')
  .describe('ETag of the revision you read ("3", W/"3" or *); 409 if it changed since');

/** An id in a path (workflow, execution, saga): 1 to 128 letters, digits, - and _, messages naming `field`. */
export function idSchema(field: string) {
  return z
    .string()
    .min(1, `${field} must not be empty`)
    .max(128, `${field} must be at most 128 characters`)
    .regex(/^[A-Za-z0-9_-]+$/, `${field} contains characters an id never has (letters, digits, - and _ only)`);
}

export const WorkflowIdParams = z.object({ workflow_id: idSchema('workflow_id') });

export const CreateWorkflowBody = WorkflowDefinitionSchema;

export const UpdateWorkflowBody = z
  .strictObject({
    name: MetadataFields.name.optional(),
    description: MetadataFields.description.optional(),
    tags: MetadataFields.tags.optional(),
    status: MetadataFields.status.optional(),
    execution_mode: DefinitionFields.execution_mode.optional(),
    parameters: DefinitionFields.parameters.optional(),
    strict_parameters: DefinitionFields.strict_parameters.optional(),
    actions: DefinitionFields.actions.optional(),
    expected_version: positiveInt('expected_version').optional(),
  })
  .refine((body) => Object.keys(body).some((key) => key !== 'expected_version'), {
    message: 'nothing to update: give at least one of name, description, tags, status, execution_mode, parameters, strict_parameters, actions',
  });

/** Admins see every tenant and may narrow to one; for anyone else their own tenant is the only one there is. */
export const TenantFilter = TenantSchema.optional().describe("Admins only: this tenant's objects (default: every tenant's). Ignored for other callers, who see their own tenant");

export const StatisticsQuery = z.object({ tenant: TenantFilter });

/** The last page a listing may ask for: its offset ((page - 1) x page_size) stays an exact integer, with room to spare. */
export const MAX_PAGE = 1_000_000;

export const ListWorkflowsQuery = z.object({
  page: positiveInt('page').max(MAX_PAGE, `page must be at most ${MAX_PAGE}`).default(1),
  page_size: positiveInt('page_size').max(100, 'page_size must be at most 100').optional().describe('Workflows per page (default 50; with next_token, the size of the page that gave it)'),
  status: WorkflowStatusSchema.optional(),
  created_by: z.string().min(1, 'created_by must not be empty').max(256, 'created_by must be at most 256 characters').optional(),
  next_token: NextTokenSchema.optional(),
  tenant: TenantFilter,
});

export const GetWorkflowQuery = z.object({
  version: positiveInt('version').optional(),
});

export const SearchWorkflowsQuery = z.object({
  q: z.string({ error: typeError('q', 'a string') }).trim().min(1, 'q is required').max(200, 'q must be at most 200 characters'),
  limit: positiveInt('limit').max(100, 'limit must be at most 100').default(50),
  tenant: TenantFilter,
});

export const FromTemplateBody = z.strictObject({
  template_name: z.string({ error: typeError('template_name', 'a string') }).min(1, 'template_name is required').max(128, 'template_name must be at most 128 characters'),
  customizations: TemplateCustomizationsSchema.default({}),
});

const Timestamp = z.iso.datetime();

export const WorkflowSummaryResponse = z.object({
  workflow_id: z.string(),
  name: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  status: WorkflowStatusSchema,
  version: z.number().int(),
  revision: z.number().int(),
  action_count: z.number().int(),
  action_types: z.record(z.string(), z.number().int()),
  tenant: z.string(),
  created_by: z.string(),
  created_at: Timestamp,
  updated_by: z.string(),
  updated_at: Timestamp,
});

export const WorkflowResponse = WorkflowSummaryResponse.omit({ action_count: true, action_types: true }).extend({
  execution_mode: z.enum(EXECUTION_MODES),
  parameters: z.array(ParameterSchema),
  strict_parameters: z.boolean(),
  actions: z.array(ActionSchema),
  latest_version: z.number().int(),
  version_created_by: z.string(),
  version_created_at: Timestamp,
});

export const WorkflowListResponse = z.object({
  workflows: z.array(WorkflowSummaryResponse),
  total: z.number().int(),
  page: z.number().int(),
  page_size: z.number().int(),
  has_more: z.boolean(),
  next_token: z.string().nullable(),
});

export const WorkflowVersionsResponse = z.object({
  workflow_id: z.string(),
  latest_version: z.number().int(),
  versions: z.array(
    z.object({
      version: z.number().int(),
      name: z.string(),
      execution_mode: z.enum(EXECUTION_MODES),
      parameters: z.array(ParameterSchema),
      strict_parameters: z.boolean(),
      actions: z.array(ActionSchema),
      created_by: z.string(),
      created_at: Timestamp,
    }),
  ),
});

export const SearchResponse = z.object({
  query: z.string(),
  total_matches: z.number().int(),
  results: z.array(WorkflowSummaryResponse.extend({ score: z.number(), matched: z.array(z.enum(['name', 'tags', 'description'])) })),
});

export const StatisticsResponse = z.object({
  total_workflows: z.number().int(),
  total_actions: z.number().int(),
  average_actions_per_workflow: z.number(),
  by_status: z.record(z.string(), z.number().int()),
  by_action_type: z.record(z.string(), z.object({ actions: z.number().int(), workflows: z.number().int() })),
  by_creator: z.record(z.string(), z.number().int()),
});

export const TemplateListResponse = z.object({
  templates: z.array(
    z.object({
      name: z.string(),
      title: z.string(),
      description: z.string(),
      category: z.string(),
      parameters: z.array(ParameterSchema),
      action_count: z.number().int(),
      definition: z.record(z.string(), JsonValue),
    }),
  ),
});

export const DeleteResponse = z.object({ workflow_id: z.string(), deleted: z.literal(true) });

export const HealthResponse = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  service: z.string(),
  version: z.string(),
  checks: z.record(z.string(), z.object({ status: z.enum(['healthy', 'unhealthy']), latency_ms: z.number(), error: z.string().optional() })).optional(),
});

/** Served raw (no envelope): tools read /openapi.json as is. */
export const OpenApiDocumentSchema = z
  .object({ openapi: z.string(), info: z.object({ title: z.string(), version: z.string() }).loose(), paths: z.record(z.string(), JsonValue) })
  .loose();

const StructureNode: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.object({ kind: z.literal('action'), id: z.string() }),
    z.object({ kind: z.literal('sequence'), steps: z.array(StructureNode) }),
    z.object({ kind: z.literal('parallel'), branches: z.array(StructureNode) }),
  ]),
).meta({ id: 'Structure', description: 'Series-parallel structure: sequences run in order, parallels at the same time' });

export const StateMachineResponse = z.object({
  workflow_id: z.string(),
  version: z.number().int(),
  latest_version: z.number().int(),
  execution_mode: z.enum(EXECUTION_MODES),
  definition: z.record(z.string(), JsonValue).describe('Amazon States Language (JSONPath); ${...} placeholders are filled in by the runtime'),
  children: z
    .array(z.object({ part: z.number().int(), definition: z.record(z.string(), JsonValue) }))
    .describe('A workflow too large for one state machine: its child machines, started by the state machine placeholder ${WorkflowPart:<part>}'),
  placeholders: z.array(z.string()),
  graph: z.object({
    nodes: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        action_type: z.string(),
        conditional: z.boolean(),
        on_failure: z.enum(['fail', 'continue', 'compensate']),
        compensated: z.boolean(),
      }),
    ),
    edges: z.array(z.object({ from: z.string(), to: z.string(), gated: z.boolean().describe('the structure does not order the two: `to` waits for `from` at its dependency gate') })),
    structure: StructureNode,
    gates: z
      .array(z.object({ action_id: z.string(), waits_for: z.array(z.string()), in_call: z.boolean().describe('the action waits in its own service call (a gated call), with no gate state') }))
      .describe('actions that wait at a dependency gate (ADR 0016), and for which producers'),
    parts: z.array(z.object({ part: z.number().int(), actions: z.array(z.string()) })).describe('which actions each child machine runs'),
  }),
  limits: z.object({
    machines: z.number().int().describe('state machines a run uses: 1, or 1 + its child machines'),
    definition_bytes: z.number().int().describe('the largest machine'),
    states: z.number().int(),
    estimated_history_events: z.number().int(),
    warnings: z.array(z.string()),
  }),
});
