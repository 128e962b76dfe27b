import * as z from 'zod';
import { outputSchemaProblems } from './output-schema.ts';

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

/**
 * A model id as Bedrock names it (`anthropic.claude-3-5-haiku-20241022-v1:0`, an inference profile
 * `us.anthropic...`, or an ARN) or as an OpenAI-compatible gateway does locally (`gpt-4o-mini`, `llama3.1:8b`).
 * Literal, never templated: it is a metrics label and what IAM grants.
 */
const MODEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/;
export const LLM_MESSAGE_ROLES = ['system', 'user', 'assistant'] as const;
/** Text sent to a model (a prompt, a message, the system text): large documents pass through templates. */
const MAX_LLM_TEXT = 100_000;
export const DEFAULT_LLM_MAX_TOKENS = 1024;

const llmText = (field: string) => requiredString(field).max(MAX_LLM_TEXT);

export const LlmMessageSchema = z.strictObject({
  role: z.enum(LLM_MESSAGE_ROLES, { error: (issue) => (issue.input === undefined ? 'role is required' : `role must be one of ${LLM_MESSAGE_ROLES.join(', ')}`) }),
  content: llmText('content'),
});

/** A JSON Schema (2020-12) that compiles: refused at validation, naming the field, when it does not. */
const OutputSchemaSchema = z.record(z.string(), JsonValue, { error: 'output_schema must be a JSON Schema object' }).superRefine((schema, context) => {
  for (const problem of outputSchemaProblems(schema)) context.addIssue({ code: 'custom', message: `output_schema is not a valid JSON Schema: ${problem}` });
});

/**
 * Asks a model (`model`) with `prompt` or `messages` (exactly one), templated like any action's config; the
 * answer is `{{id.response.text}}`, and with `output_schema` also `{{id.response.json}}`, checked against it.
 */
export const LlmConfigSchema = z
  .strictObject({
    model: requiredString('model').max(256).regex(MODEL_PATTERN, 'model must be a model id (letters, digits and . _ : / @ + -), e.g. anthropic.claude-3-5-haiku-20241022-v1:0'),
    system: z.string({ error: 'system must be a string' }).max(MAX_LLM_TEXT).optional(),
    prompt: llmText('prompt').optional(),
    messages: z.array(LlmMessageSchema).min(1, 'messages must not be empty').max(200).optional(),
    /** Bedrock's Anthropic models take 0 to 1. */
    temperature: z.number({ error: 'temperature must be a number' }).min(0).max(1).optional(),
    max_tokens: z.number({ error: 'max_tokens must be a whole number' }).int('max_tokens must be a whole number').min(1).max(200_000).default(DEFAULT_LLM_MAX_TOKENS),
    output_schema: OutputSchemaSchema.optional(),
  })
  .superRefine((config, context) => {
    if (config.prompt === undefined && config.messages === undefined) context.addIssue({ code: 'custom', path: ['prompt'], message: 'an llm action needs prompt or messages' });
    if (config.prompt !== undefined && config.messages !== undefined) context.addIssue({ code: 'custom', path: ['messages'], message: 'an llm action takes prompt or messages, not both' });
    const turns = (config.messages ?? []).map((message, index) => ({ ...message, index })).filter((message) => message.role !== 'system');
    if (config.messages !== undefined && turns.length === 0) context.addIssue({ code: 'custom', path: ['messages'], message: 'messages need at least one user message (system messages only set the system text)' });
    const first = turns[0];
    if (first && first.role !== 'user') context.addIssue({ code: 'custom', path: ['messages', first.index, 'role'], message: 'the first message that is not a system message must be a user message' });
    const last = turns[turns.length - 1];
    // A trailing assistant turn is a prefill: the answer would continue it, and could not be a JSON document alone.
    if (last && last.role === 'assistant' && config.output_schema !== undefined) {
      context.addIssue({ code: 'custom', path: ['messages', last.index, 'role'], message: 'with output_schema, the last message must be a user message (the answer must be a whole JSON value)' });
    }
  });
export const LlmActionSchema = z.strictObject({ ...actionBase, action_type: z.literal('llm'), config: LlmConfigSchema });

/** Adding an action type means adding a schema here; validation and statistics pick it up from the union. */
const ACTION_SCHEMAS = [
  ServiceCallActionSchema,
  NotificationActionSchema,
  WaitActionSchema,
  TransformActionSchema,
  ForeachActionSchema,
  SubWorkflowActionSchema,
  LlmActionSchema,
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
