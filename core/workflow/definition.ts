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

/** A value that must be exactly one `{{reference}}` (its type is only known at run time). */
const singleReference = (field: string) =>
  requiredString(field).regex(/^\s*\{\{[^{}]+\}\}\s*$/, `${field} must be a single {{reference}}, e.g. {{previous_action.response.items}}`);

/**
 * Retries for transient failures only (5xx, timeouts, throttling, connection errors; never 4xx).
 * `max_attempts` counts the first try.
 */
export const RetryPolicySchema = z.strictObject({
  max_attempts: z.number().int().min(1).max(20).default(3),
  interval_seconds: z.number().int('interval_seconds must be a whole number (Step Functions retries in whole seconds)').min(1).max(3600).default(2),
  backoff_rate: z.number().min(1).max(10).default(2),
  max_delay_seconds: z.number().int().min(1).max(86_400).default(60),
  jitter: z.enum(['full', 'none']).default('full'),
});
export type RetryPolicy = z.output<typeof RetryPolicySchema>;

export const CONDITION_OPERATORS = ['equals', 'not_equals', 'greater_than', 'greater_than_or_equal', 'less_than', 'less_than_or_equal', 'is_present', 'is_null'] as const;

/**
 * When an action runs. A comparison names a `{{reference}}` and one operator; `all`, `any` and `not`
 * combine comparisons. Compiled into a Choice state.
 */
export type Condition =
  | { readonly all: readonly Condition[] }
  | { readonly any: readonly Condition[] }
  | { readonly not: Condition }
  | ({ readonly ref: string } & Partial<Record<(typeof CONDITION_OPERATORS)[number], unknown>>);

const Primitive = z.union([z.string(), z.number(), z.boolean()]);
export const ConditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(ConditionSchema).min(1) }),
    z.strictObject({ any: z.array(ConditionSchema).min(1) }),
    z.strictObject({ not: ConditionSchema }),
    z
      .strictObject({
        ref: singleReference('ref'),
        equals: Primitive.optional(),
        not_equals: Primitive.optional(),
        greater_than: z.union([z.number(), z.string()]).optional(),
        greater_than_or_equal: z.union([z.number(), z.string()]).optional(),
        less_than: z.union([z.number(), z.string()]).optional(),
        less_than_or_equal: z.union([z.number(), z.string()]).optional(),
        is_present: z.boolean().optional(),
        is_null: z.boolean().optional(),
      })
      .refine((rule) => CONDITION_OPERATORS.filter((operator) => rule[operator] !== undefined).length === 1, {
        message: `a comparison needs exactly one of ${CONDITION_OPERATORS.join(', ')}`,
      }),
  ]),
);

/** What an action does to undo itself when a later failure asks for compensation (a saga step). */
export const CompensationSchema = z.lazy(() => z.discriminatedUnion('action_type', [
  z.strictObject({ action_type: z.literal('service_call'), config: ServiceCallConfigSchema }),
  z.strictObject({ action_type: z.literal('notification'), config: NotificationConfigSchema }),
]));

export const ON_FAILURE = ['fail', 'continue', 'compensate'] as const;

const actionBase = {
  action_id: identifier('action_id'),
  name: z.string().min(1).max(200).optional(),
  description: z.string().max(2000).optional(),
  depends_on: z.array(z.string({ error: 'depends_on entries must be action ids' })).default([]),
  /** Run only when true; otherwise the action is `skipped`. */
  condition: ConditionSchema.optional(),
  /** When an action whose output this one uses was skipped or failed: `skip` this one too (default) or `run` anyway. */
  on_skipped_input: z.enum(['skip', 'run']).optional(),
  retry: RetryPolicySchema.optional(),
  timeout_seconds: z.number().int().min(1).max(31_536_000).optional(),
  /** `fail` (default) the execution, `continue` without this action's output, or `compensate` completed actions. */
  on_failure: z.enum(ON_FAILURE).optional(),
  compensation: CompensationSchema.optional(),
  /**
   * How long the action usually takes. Kept for the reference's format and for people reading it: the
   * compiler no longer needs it, since every action starts as soon as its dependencies finish (ADR 0016).
   */
  expected_duration_seconds: z.number().positive().max(31_536_000).optional(),
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

export const WaitConfigSchema = z
  .strictObject({
    seconds: z.union([z.number().int().min(0).max(31_536_000), singleReference('seconds')]).optional(),
    until: z.union([z.iso.datetime({ offset: true }), singleReference('until')]).optional(),
  })
  .refine((config) => (config.seconds === undefined) !== (config.until === undefined), { message: 'a wait needs exactly one of seconds or until' });

export const WaitActionSchema = z.strictObject({ ...actionBase, action_type: z.literal('wait'), config: WaitConfigSchema });

/** Builds a value from parameters and earlier outputs; `{{transform_id.response}}` is that value. */
export const TransformConfigSchema = z.strictObject({ output: JsonValue });
export const TransformActionSchema = z.strictObject({ ...actionBase, action_type: z.literal('transform'), config: TransformConfigSchema });

/** Runs one inner action per item of an array, `max_concurrency` at a time (0: no limit). */
export const ForeachConfigSchema = z.strictObject({
  items: singleReference('items'),
  max_concurrency: z.number().int().min(0).max(1000).default(10),
  action: z.discriminatedUnion('action_type', [
    z.strictObject({ action_type: z.literal('service_call'), config: ServiceCallConfigSchema }),
    z.strictObject({ action_type: z.literal('notification'), config: NotificationConfigSchema }),
    z.strictObject({ action_type: z.literal('transform'), config: TransformConfigSchema }),
  ]),
});
export const ForeachActionSchema = z.strictObject({ ...actionBase, action_type: z.literal('foreach'), config: ForeachConfigSchema });

/** Starts another workflow and waits for it; `{{id.response}}` is its output. */
export const SubWorkflowConfigSchema = z.strictObject({
  workflow_id: requiredString('workflow_id').max(128).regex(/^[A-Za-z0-9_-]+$/, 'workflow_id contains characters an id never has'),
  version: z.number().int().min(1).optional(),
  parameters: z.record(z.string(), JsonValue).default({}),
});
export const SubWorkflowActionSchema = z.strictObject({ ...actionBase, action_type: z.literal('sub_workflow'), config: SubWorkflowConfigSchema });

/** Adding an action type means adding a schema here; validation and statistics pick it up from the union. */
const ACTION_SCHEMAS = [
  ServiceCallActionSchema,
  NotificationActionSchema,
  WaitActionSchema,
  TransformActionSchema,
  ForeachActionSchema,
  SubWorkflowActionSchema,
] as const;
export const ACTION_TYPES: readonly string[] = ACTION_SCHEMAS.map((schema) => schema.shape.action_type.value);

export const ActionSchema = z.discriminatedUnion('action_type', ACTION_SCHEMAS, {
  error: (issue): string | undefined =>
    issue.code === 'invalid_union'
      ? `unknown action_type ${JSON.stringify((issue.input as { action_type?: unknown } | undefined)?.action_type)}; expected one of ${ACTION_TYPES.join(', ')}`
      : undefined,
});
export type Action = z.output<typeof ActionSchema>;
export type ActionType = Action['action_type'];

/** Standard: up to a year, exactly-once; Express: up to 5 minutes, cheaper at high volume. */
export const EXECUTION_MODES = ['standard', 'express'] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];

export const WORKFLOW_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export const WorkflowStatusSchema = z.enum(WORKFLOW_STATUSES, {
  error: `status must be one of ${WORKFLOW_STATUSES.join(', ')}`,
});
export type WorkflowStatus = z.output<typeof WorkflowStatusSchema>;

export const TagsSchema = z
  .array(z.string().trim().min(1, 'tags must not be empty').max(64))
  .max(50, 'at most 50 tags')
  .transform((tags) => [...new Set(tags)]);

/**
 * At about 2 KB of compiled ASL per service call (task, dead letter, failure states), a workflow past about
 * 100 actions no longer fits a quarter of Step Functions' 1 MB definition limit; the compiler then splits it
 * into child state machines (statemachines/split.ts), so the limit is the DynamoDB item and API body that hold
 * the definition, and how much a person can still read. Larger fan-outs belong in a foreach, whose size does
 * not grow with the data.
 */
export const MAX_ACTIONS = 1000;

/** The versioned part of a workflow: changing either creates a new immutable version. */
export const DefinitionFields = {
  execution_mode: z.enum(EXECUTION_MODES, { error: `execution_mode must be one of ${EXECUTION_MODES.join(', ')}` }),
  parameters: z.array(ParameterSchema).max(200, 'at most 200 parameters'),
  /** Refuse run parameters the workflow does not declare (400) instead of keeping them with a warning. */
  strict_parameters: z.boolean({ error: 'strict_parameters must be true or false' }),
  actions: z.array(ActionSchema).min(1, 'a workflow needs at least one action').max(MAX_ACTIONS, `at most ${MAX_ACTIONS} actions; use a foreach for larger fan-outs`),
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
  execution_mode: DefinitionFields.execution_mode.default('standard'),
  parameters: DefinitionFields.parameters.default([]),
  strict_parameters: DefinitionFields.strict_parameters.default(false),
  actions: DefinitionFields.actions,
});
export type WorkflowDefinitionInput = z.input<typeof WorkflowDefinitionSchema>;
export type WorkflowDefinition = z.output<typeof WorkflowDefinitionSchema>;

/** The part of a definition that is versioned. */
export interface DefinitionBody {
  readonly execution_mode?: ExecutionMode;
  readonly parameters: readonly Parameter[];
  readonly strict_parameters?: boolean;
  readonly actions: readonly Action[];
}
