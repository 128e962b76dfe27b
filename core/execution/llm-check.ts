import * as z from 'zod';
import { ActionErrorName } from '../errors.ts';
import { outputSchemaErrors, type OutputSchemaError } from '../workflow/output-schema.ts';
import type { TokenUsage } from './model.ts';

/**
 * An llm action's answer, and its check against `output_schema` (docs/adr/0017-llm-action.md). The compiled
 * machine sends each answer to the action runner as an `llm_check` payload (the Lambda in AWS; the local
 * engine answers it in process with this same function):
 *
 * - attempt 1: a valid answer is the action's result (`{ outcome: completed, response: { text, json, usage } }`);
 *   an invalid one comes back as `{ outcome: invalid }` with the two turns that ask the model again (its own
 *   answer, then the schema errors), which the machine appends to the conversation for one repair call;
 * - attempt 2 (the repair's answer): valid, the result (usage summed over both calls); invalid, the action
 *   fails with OutputSchemaMismatchError, the errors in its message.
 */

/**
 * How a model call fails, by the names Step Functions' Bedrock integration gives them (`Bedrock.<exception>`):
 * the compiled Retry and Catch match these, and the local gateway fails with the same names.
 */
export const LlmErrorName = {
  Throttling: 'Bedrock.ThrottlingException',
  ServiceUnavailable: 'Bedrock.ServiceUnavailableException',
  InternalServer: 'Bedrock.InternalServerException',
  ModelNotReady: 'Bedrock.ModelNotReadyException',
  ModelTimeout: 'Bedrock.ModelTimeoutException',
  /** The model failed to produce an answer (locally: the gateway's answer was not one). */
  ModelError: 'Bedrock.ModelErrorException',
  Validation: 'Bedrock.ValidationException',
  AccessDenied: 'Bedrock.AccessDeniedException',
  ResourceNotFound: 'Bedrock.ResourceNotFoundException',
  /** Locally: LLM_GATEWAY_URL is not set, so there is no model to call. */
  GatewayNotConfigured: 'LlmGatewayNotConfiguredError',
  /** The answer still did not match output_schema after the repair call. */
  OutputSchemaMismatch: 'OutputSchemaMismatchError',
} as const;

/** Worth calling the model again (with the action's retry policy): throttling, the service or the model not ready. */
export const LLM_TRANSIENT_ERRORS: readonly string[] = [LlmErrorName.Throttling, LlmErrorName.ServiceUnavailable, LlmErrorName.InternalServer, LlmErrorName.ModelNotReady, LlmErrorName.ModelTimeout];

/** What one model call answered, as the compiled call's ResultSelector takes it from the Messages response body. */
export interface LlmAnswer {
  readonly text: string;
  readonly usage: TokenUsage;
}

const UsageSchema = z.object({ input_tokens: z.number().int().min(0), output_tokens: z.number().int().min(0) });
const AnswerSchema = z.object({ text: z.string(), usage: UsageSchema });
/** The Messages response body (Bedrock InvokeModel's `Body`): the first content block's text, and the usage. */
const ModelBodySchema = z.object({ content: z.array(z.object({ text: z.string() }).loose()).min(1), usage: UsageSchema.loose() }).loose();

/** The answer in a Messages response body (what the compiled ResultSelector reads: `content[0].text`, `usage`), or undefined. */
export function answerOfModelBody(body: unknown): LlmAnswer | undefined {
  const parsed = ModelBodySchema.safeParse(body);
  if (!parsed.success) return undefined;
  const { input_tokens, output_tokens } = parsed.data.usage;
  return { text: parsed.data.content[0]!.text, usage: { input_tokens, output_tokens } };
}

const CheckRequestSchema = z.object({
  action_id: z.string().min(1),
  execution_id: z.string().min(1),
  schema: z.record(z.string(), z.unknown()),
  answer: AnswerSchema,
  attempt: z.union([z.literal(1), z.literal(2)]),
  /** Attempt 2: the first call's usage, added to the repair's. */
  earlier_usage: UsageSchema.optional(),
});

export type LlmCheckResult =
  | { readonly outcome: 'completed'; readonly status_code: null; readonly response: { readonly text: string; readonly json: unknown; readonly usage: TokenUsage } }
  | {
      readonly outcome: 'invalid';
      readonly status_code: null;
      readonly response: { readonly errors: readonly OutputSchemaError[]; readonly assistant: { role: 'assistant'; content: string }; readonly feedback: { role: 'user'; content: string } };
    };

/** The answer failed its schema twice; the message is JSON: the action, the errors (ajv's), the answer's start. */
export class OutputSchemaMismatchError extends Error {
  override readonly name = LlmErrorName.OutputSchemaMismatch;
  readonly errors: readonly OutputSchemaError[];
  constructor(actionId: string, errors: readonly OutputSchemaError[], text: string) {
    super(JSON.stringify({ action_id: actionId, reason: 'the answer does not match output_schema, after one repair', errors, answer: text.slice(0, ANSWER_PREVIEW_CHARS) }));
    this.errors = errors;
  }
}

/** How much of an answer the mismatch error keeps. */
const ANSWER_PREVIEW_CHARS = 2048;

export function isLlmCheckPayload(payload: unknown): payload is { readonly llm_check: unknown } {
  return typeof payload === 'object' && payload !== null && 'llm_check' in payload;
}

/** Checks one answer (see above). A payload that is not a check fails as InvalidPayloadError, which no retry helps. */
export function checkLlmAnswer(payload: { readonly llm_check: unknown }): LlmCheckResult {
  const parsed = CheckRequestSchema.safeParse(payload.llm_check);
  if (!parsed.success) {
    const error = new Error(`not an llm_check payload: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(payload)'}: ${issue.message}`).join('; ')}`);
    error.name = ActionErrorName.InvalidPayload;
    throw error;
  }
  const { action_id, schema, answer, attempt, earlier_usage } = parsed.data;
  const json = parseAnswer(answer.text);
  const errors = 'value' in json ? outputSchemaErrors(schema, json.value) : [notJson(json.reason)];
  const usage = earlier_usage ? { input_tokens: earlier_usage.input_tokens + answer.usage.input_tokens, output_tokens: earlier_usage.output_tokens + answer.usage.output_tokens } : answer.usage;
  if (errors.length === 0) return { outcome: 'completed', status_code: null, response: { text: answer.text, json: 'value' in json ? json.value : null, usage } };
  if (attempt === 2) throw new OutputSchemaMismatchError(action_id, errors, answer.text);
  return {
    outcome: 'invalid',
    status_code: null,
    response: { errors, assistant: { role: 'assistant', content: answer.text }, feedback: { role: 'user', content: repairRequest(errors) } },
  };
}

/**
 * The JSON in an answer: the whole text, or the inside of one fenced block that is the whole text (models
 * often fence JSON although told not to; that is no reason to ask again).
 */
export function parseAnswer(text: string): { readonly value: unknown } | { readonly reason: string } {
  const trimmed = text.trim();
  const fenced = /^```[A-Za-z]*\s*\n([\s\S]*?)\n?```$/.exec(trimmed);
  try {
    return { value: JSON.parse(fenced ? fenced[1]! : trimmed) as unknown };
  } catch (error) {
    return { reason: error instanceof Error ? error.message : String(error) };
  }
}

function notJson(reason: string): OutputSchemaError {
  return { instancePath: '', schemaPath: '', keyword: 'json', params: {}, message: `is not JSON (${reason})` };
}

/** The follow-up turn of the repair call: every schema error, where it is and what the rule says. */
export function repairRequest(errors: readonly OutputSchemaError[]): string {
  const lines = errors.map((error) => `- ${error.instancePath === '' ? 'the answer' : error.instancePath}: ${error.message ?? error.keyword}${describeParams(error)}`);
  return `Your answer does not match the JSON Schema:\n${lines.join('\n')}\nAnswer again with only the corrected JSON value.`;
}

function describeParams(error: OutputSchemaError): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties' && typeof params['additionalProperty'] === 'string') return ` ('${params['additionalProperty']}')`;
  if (error.keyword === 'enum' && Array.isArray(params['allowedValues'])) return ` (${params['allowedValues'].map((value) => JSON.stringify(value)).join(', ')})`;
  return '';
}
