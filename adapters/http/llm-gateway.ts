import * as z from 'zod';
import { ActionErrorName } from '../../core/errors.ts';
import { LlmErrorName } from '../../core/execution/llm-check.ts';
import type { MessagesResponse, ModelInvoker } from '../../core/ai/model-invoker.ts';
import type { OutboundHttp, OutboundResponse } from '../../core/ports.ts';
import { isOutboundHttpError } from './outbound-http.ts';

/**
 * The local runtime's stand-in for Bedrock's InvokeModel (the compiled `bedrock:invokeModel` states of llm
 * actions): an OpenAI-compatible endpoint, `POST <LLM_GATEWAY_URL>/v1/chat/completions`, called through the
 * outbound rules like every other call (adapters/http/outbound-http.ts: the address is checked when the
 * connection is made). The Messages request body the compiler wrote (core/workflow/llm.ts) is translated to a
 * chat completion request, and the answer back to a Messages response, so the compiled states read the same
 * fields in both runtimes; failures take Bedrock's error names, so the same Retry and Catch apply.
 */

export const LLM_GATEWAY_URL_VARIABLE = 'LLM_GATEWAY_URL';
export const LLM_GATEWAY_API_KEY_VARIABLE = 'LLM_GATEWAY_API_KEY';

/** A model call has this long unless the run is cancelled first (the state's TimeoutSeconds may end it sooner). */
export const DEFAULT_LLM_GATEWAY_TIMEOUT_MS = 300_000;
/** An answer larger than this is not one (a chat completion is kilobytes). */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** How much of a refusal's body its error keeps. */
const ERROR_BODY_CHARS = 512;

export interface LlmGatewayOptions {
  readonly http: OutboundHttp;
  /** LLM_GATEWAY_URL (http or https); undefined: every call fails, naming the variable. */
  readonly url?: string;
  /** LLM_GATEWAY_API_KEY: sent as a bearer token when set. */
  readonly apiKey?: string;
  readonly timeoutMs?: number;
}


const TextBlocks = z.array(z.object({ type: z.string(), text: z.string().optional() }).loose());
const MessagesRequestSchema = z
  .object({
    max_tokens: z.number().int().positive(),
    temperature: z.number().optional(),
    system: z.union([z.string(), TextBlocks]).optional(),
    messages: z.array(z.object({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), TextBlocks]) }).loose()).min(1),
  })
  .loose();

const ChatCompletionSchema = z
  .object({
    id: z.string().optional(),
    model: z.string().optional(),
    choices: z.array(z.object({ message: z.object({ content: z.string().nullable().optional() }).loose(), finish_reason: z.string().nullable().optional() }).loose()).min(1),
    usage: z.object({ prompt_tokens: z.number().int().min(0), completion_tokens: z.number().int().min(0) }).loose().nullable().optional(),
  })
  .loose();

/** The model invoker behind the local engine's `bedrock:invokeModel` states. */
export function createLlmGateway(options: LlmGatewayOptions): ModelInvoker {
  return async (request, signal) => {
    if (options.url === undefined || options.url.trim() === '') {
      throw named(
        LlmErrorName.GatewayNotConfigured,
        `${LLM_GATEWAY_URL_VARIABLE} is not set: locally, llm actions call an OpenAI-compatible endpoint (POST <${LLM_GATEWAY_URL_VARIABLE}>/v1/chat/completions); set ${LLM_GATEWAY_URL_VARIABLE} (and ${LLM_GATEWAY_API_KEY_VARIABLE} if it needs a key)`,
      );
    }
    const body = MessagesRequestSchema.safeParse(request.Body);
    if (!body.success) throw named(LlmErrorName.Validation, `the model request is not a Messages request: ${body.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    const url = `${options.url.replace(/\/+$/, '')}/v1/chat/completions`;
    const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_LLM_GATEWAY_TIMEOUT_MS);
    let response: OutboundResponse;
    try {
      response = await options.http.send({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
        body: JSON.stringify(chatRequest(request.ModelId, body.data)),
        signal: AbortSignal.any([signal, timeout]),
        maxBodyBytes: MAX_RESPONSE_BYTES,
      });
    } catch (error) {
      // The run was cancelled: not a failure of the model.
      if (signal.aborted) throw error;
      throw callFailure(error, url, timeout.aborted);
    }
    if (response.status < 200 || response.status > 299) throw statusFailure(response, url);
    if (response.body.kind !== 'complete') throw named(LlmErrorName.ModelError, `${url} answered more than ${MAX_RESPONSE_BYTES} bytes`);
    let parsed: z.infer<typeof ChatCompletionSchema>;
    try {
      parsed = ChatCompletionSchema.parse(JSON.parse(response.body.text));
    } catch {
      throw named(LlmErrorName.ModelError, `${url} did not answer a chat completion: ${response.body.text.slice(0, ERROR_BODY_CHARS)}`);
    }
    return { Body: messagesResponse(request.ModelId, parsed), ContentType: 'application/json' };
  };
}

/** The Messages request as a chat completion request: the system text first, then the turns, each as text. */
function chatRequest(model: string, body: z.infer<typeof MessagesRequestSchema>): Record<string, unknown> {
  const system = body.system === undefined ? [] : [{ role: 'system', content: textOf(body.system) }];
  return {
    model,
    messages: [...system, ...body.messages.map((message) => ({ role: message.role, content: textOf(message.content) }))],
    max_tokens: body.max_tokens,
    ...(body.temperature === undefined ? {} : { temperature: body.temperature }),
  };
}

function textOf(content: string | z.infer<typeof TextBlocks>): string {
  return typeof content === 'string' ? content : content.flatMap((block) => (block.type === 'text' && block.text !== undefined ? [block.text] : [])).join('\n');
}

function messagesResponse(model: string, completion: z.infer<typeof ChatCompletionSchema>): MessagesResponse {
  const choice = completion.choices[0]!;
  return {
    id: completion.id ?? 'local',
    type: 'message',
    role: 'assistant',
    model: completion.model ?? model,
    content: [{ type: 'text', text: choice.message.content ?? '' }],
    stop_reason: choice.finish_reason === 'length' ? 'max_tokens' : 'end_turn',
    usage: { input_tokens: completion.usage?.prompt_tokens ?? 0, output_tokens: completion.usage?.completion_tokens ?? 0 },
  };
}

/** A refusal by status, named as Bedrock would name it (what the compiled Retry matches). */
function statusFailure(response: OutboundResponse, url: string): Error {
  const text = response.body.kind === 'complete' ? response.body.text : response.body.preview;
  const message = `${url} answered ${response.status}: ${text.slice(0, ERROR_BODY_CHARS)}`;
  const { status } = response;
  if (status === 429) return named(LlmErrorName.Throttling, message);
  if (status === 503) return named(LlmErrorName.ServiceUnavailable, message);
  if (status === 408 || status === 504) return named(LlmErrorName.ModelTimeout, message);
  if (status >= 500) return named(LlmErrorName.InternalServer, message);
  if (status === 401 || status === 403) return named(LlmErrorName.AccessDenied, message);
  if (status === 404) return named(LlmErrorName.ResourceNotFound, message);
  return named(LlmErrorName.Validation, message);
}

/** A call that got no answer: refused by the outbound rules, timed out, or no connection (the gateway is down). */
function callFailure(error: unknown, url: string, timedOut: boolean): Error {
  if (timedOut) return named(LlmErrorName.ModelTimeout, `${url} did not answer in time`);
  if (isOutboundHttpError(error) && error.kind === 'refused') return named(ActionErrorName.ForbiddenAddress, `${LLM_GATEWAY_URL_VARIABLE} ${url}: ${error.message} (ORCHESTRATOR_OUTBOUND_ALLOW lists what may be called)`);
  if (isOutboundHttpError(error) && error.kind === 'timeout') return named(LlmErrorName.ModelTimeout, `${url}: ${error.message}`);
  return named(LlmErrorName.ServiceUnavailable, `${url}: ${error instanceof Error ? error.message : String(error)}`);
}

function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}
