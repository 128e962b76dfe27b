import * as z from 'zod';

/**
 * The workflow definition format: what users write. Schemas are strict so that a misspelt key
 * (`depend_on`) is reported instead of silently ignored. Structural checks live here; checks that need the
 * whole definition (dependencies, cycles, template references) live in `validate.ts`.
 */

export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const identifier = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .regex(IDENTIFIER_PATTERN, `${what} must start with a letter or underscore and contain only letters, digits, '_' or '-' (at most 64 characters)`);

export const PARAMETER_TYPES = ['string', 'integer', 'number', 'boolean', 'array', 'object'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

/** Any JSON value. The id names it once in the OpenAPI document instead of inlining a recursive schema per use. */
export const JsonValue: z.ZodType<unknown> = z.json().meta({ id: 'JsonValue', description: 'Any JSON value' });

export const ParameterSchema = z.strictObject({
  name: identifier('parameter name'),
  type: z.enum(PARAMETER_TYPES, { error: `type must be one of ${PARAMETER_TYPES.join(', ')}` }),
  description: z.string().max(2000).optional(),
  required: z.boolean().default(false),
  default: JsonValue.optional(),
  enum: z.array(JsonValue).min(1, 'enum must list at least one value').optional(),
});
export type Parameter = z.output<typeof ParameterSchema>;

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** A string field whose absence is reported as "x is required" rather than zod's type message. */
const requiredString = (field: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? `${field} is required` : `${field} must be a string`) }).min(1, `${field} is required`);

export const ServiceCallConfigSchema = z.strictObject({
  service: requiredString('service').max(128),
  endpoint: requiredString('endpoint').max(2048).startsWith('/', 'endpoint must be a path starting with /'),
  method: z.preprocess(
    (value) => (typeof value === 'string' ? value.toUpperCase() : value),
    z.enum(HTTP_METHODS, { error: (issue) => (issue.input === undefined ? 'method is required' : `method must be one of ${HTTP_METHODS.join(', ')}`) }),
  ),
  parameters: z.record(z.string(), JsonValue).optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

export const NOTIFICATION_CHANNELS = ['log', 'event', 'email', 'slack', 'webhook'] as const;

export const NotificationConfigSchema = z.strictObject({
  message: requiredString('message').max(16_384),
  title: z.string().max(512).optional(),
  severity: z.enum(['info', 'warning', 'error']).default('info'),
  channels: z.array(z.enum(NOTIFICATION_CHANNELS)).min(1).default(['log']),
  recipients: z.array(z.string().min(1)).optional(),
});

const actionBase = {
  action_id: identifier('action_id'),
  name: z.string().min(1).max(200).optional(),
  description: z.string().max(2000).optional(),
  depends_on: z.array(z.string({ error: 'depends_on entries must be action ids' })).default([]),
};

export const ServiceCallActionSchema = z.strictObject({
  ...actionBase,
  action_type: z.literal('service_call'),
  config: ServiceCallConfigSchema,
});

export const NotificationActionSchema = z.strictObject({
  ...actionBase,
  action_type: z.literal('notification'),
  config: NotificationConfigSchema,
});

/** Adding an action type means adding a schema here; validation and statistics pick it up from the union. */
const ACTION_SCHEMAS = [ServiceCallActionSchema, NotificationActionSchema] as const;
export const ACTION_TYPES: readonly string[] = ACTION_SCHEMAS.map((schema) => schema.shape.action_type.value);

export const ActionSchema = z.discriminatedUnion('action_type', ACTION_SCHEMAS, {
  error: (issue): string | undefined =>
    issue.code === 'invalid_union'
      ? `unknown action_type ${JSON.stringify((issue.input as { action_type?: unknown } | undefined)?.action_type)}; expected one of ${ACTION_TYPES.join(', ')}`
      : undefined,
});
export type Action = z.output<typeof ActionSchema>;
export type ActionType = Action['action_type'];

export const WORKFLOW_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export const WorkflowStatusSchema = z.enum(WORKFLOW_STATUSES, {
  error: `status must be one of ${WORKFLOW_STATUSES.join(', ')}`,
});
export type WorkflowStatus = z.output<typeof WorkflowStatusSchema>;

export const TagsSchema = z
  .array(z.string().trim().min(1, 'tags must not be empty').max(64))
  .max(50, 'at most 50 tags')
  .transform((tags) => [...new Set(tags)]);

/** The versioned part of a workflow: changing either creates a new immutable version. */
export const DefinitionFields = {
  parameters: z.array(ParameterSchema).max(200, 'at most 200 parameters'),
  actions: z.array(ActionSchema).min(1, 'a workflow needs at least one action').max(2000, 'at most 2000 actions'),
};

/** Metadata: changing it does not create a version. */
export const MetadataFields = {
  name: z.string().trim().min(1, 'name is required').max(200),
  description: z.string().max(4000),
  tags: TagsSchema,
  status: WorkflowStatusSchema,
};

export const WorkflowDefinitionSchema = z.strictObject({
  name: MetadataFields.name,
  description: MetadataFields.description.default(''),
  tags: MetadataFields.tags.default([]),
  status: MetadataFields.status.default('active'),
  parameters: DefinitionFields.parameters.default([]),
  actions: DefinitionFields.actions,
});
export type WorkflowDefinitionInput = z.input<typeof WorkflowDefinitionSchema>;
export type WorkflowDefinition = z.output<typeof WorkflowDefinitionSchema>;

/** The part of a definition that is versioned. */
export interface DefinitionBody {
  readonly parameters: readonly Parameter[];
  readonly actions: readonly Action[];
}
