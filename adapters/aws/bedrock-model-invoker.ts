import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import * as z from 'zod';
import { LlmErrorName } from '../../core/execution/llm-check.ts';
import type { MessagesResponse, ModelInvoker } from '../../core/ai/model-invoker.ts';

/**
 * A ModelInvoker on Amazon Bedrock's InvokeModel: the request's Body (an Anthropic Messages body, as the
 * compiled llm states and the planner write it) sent as JSON to the model, its answer parsed back. Failures
 * take the names Step Functions gives Bedrock's errors (`Bedrock.ThrottlingException`...), the names the
 * local gateway uses too (adapters/http/llm-gateway.ts), so callers handle both runtimes alike.
 */

const MessagesResponseSchema = z
  .object({
    id: z.string().optional(),
    model: z.string().optional(),
    content: z.array(z.object({ type: z.string(), text: z.string().optional() }).loose()),
    stop_reason: z.string().nullable().optional(),
    usage: z.object({ input_tokens: z.number().int().min(0), output_tokens: z.number().int().min(0) }).loose(),
  })
  .loose();

/** How much of an answer that is not one its error keeps. */
const ERROR_BODY_CHARS = 512;

/** Bedrock's exceptions that say "too much for now": the account's quota of requests or tokens for the model. */
const THROTTLED = new Set(['ThrottlingException', 'ServiceQuotaExceededException', 'TooManyRequestsException']);
/** Bedrock's exceptions by name, as Step Functions names them (`Bedrock.<name>`). */
const KNOWN = new Set(['ServiceUnavailableException', 'InternalServerException', 'ModelNotReadyException', 'ModelTimeoutException', 'ModelErrorException', 'ValidationException', 'AccessDeniedException', 'ResourceNotFoundException']);

export interface BedrockModelInvokerOptions {
  /** Built on the first call when omitted, so that a function that never asks a model pays nothing at init. */
  readonly client?: BedrockRuntimeClient;
}

/** The model invoker of AWS: InvokeModel with the request's model id and body. */
export function createBedrockModelInvoker(options: BedrockModelInvokerOptions = {}): ModelInvoker {
  let client = options.client;
  return async (request, signal) => {
    client ??= new BedrockRuntimeClient({});
    let output;
    try {
      output = await client.send(
        new InvokeModelCommand({ modelId: request.ModelId, contentType: 'application/json', accept: 'application/json', body: new TextEncoder().encode(JSON.stringify(request.Body)) }),
        { abortSignal: signal },
      );
    } catch (error) {
      // Cancelled by the caller (its time budget): not a failure of the model.
      if (signal.aborted) throw error;
      throw bedrockFailure(error, request.ModelId);
    }
    const text = new TextDecoder().decode(output.body);
    let parsed: z.infer<typeof MessagesResponseSchema>;
    try {
      parsed = MessagesResponseSchema.parse(JSON.parse(text));
    } catch {
      throw named(LlmErrorName.ModelError, `Bedrock model ${request.ModelId} did not answer a Messages response: ${text.slice(0, ERROR_BODY_CHARS)}`);
    }
    return { Body: messagesResponse(request.ModelId, parsed), ContentType: output.contentType ?? 'application/json' };
  };
}

function messagesResponse(modelId: string, parsed: z.infer<typeof MessagesResponseSchema>): MessagesResponse {
  return {
    id: parsed.id ?? 'bedrock',
    type: 'message',
    role: 'assistant',
    model: parsed.model ?? modelId,
    // Text is what callers read; other blocks (thinking, tool use) are not asked for.
    content: parsed.content.flatMap((block) => (block.type === 'text' && block.text !== undefined ? [{ type: 'text' as const, text: block.text }] : [])),
    stop_reason: parsed.stop_reason ?? 'end_turn',
    usage: { input_tokens: parsed.usage.input_tokens, output_tokens: parsed.usage.output_tokens },
  };
}

/** An SDK failure under Bedrock's error name, with a message that says what to do about the common ones. */
export function bedrockFailure(error: unknown, modelId: string): Error {
  const name = error instanceof Error ? error.name : '';
  const detail = error instanceof Error ? error.message : String(error);
  if (THROTTLED.has(name)) {
    return named(
      LlmErrorName.Throttling,
      `Bedrock throttled the call to ${modelId} (${name}: ${detail}): the account's requests or tokens per minute for this model in this region are used up; try again shortly, or ask for a higher quota (Service Quotas, Amazon Bedrock)`,
      error,
    );
  }
  if (name === 'AccessDeniedException') {
    return named(LlmErrorName.AccessDenied, `Bedrock refused access to ${modelId} (${detail}): the model's access must be enabled in the account (Bedrock console, Model access) and the function's role allowed bedrock:InvokeModel on it`, error);
  }
  if (KNOWN.has(name)) return named(`Bedrock.${name}`, `Bedrock ${name} calling ${modelId}: ${detail}`, error);
  return named(LlmErrorName.ServiceUnavailable, `Bedrock could not be called for ${modelId}: ${name ? `${name}: ` : ''}${detail}`, error);
}

function named(name: string, message: string, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  error.name = name;
  return error;
}
