/**
 * The port to a language model, in Bedrock's InvokeModel shape with an Anthropic Messages body (ADR 0017): what
 * the compiled `bedrock:invokeModel` states send in AWS, and so what every model adapter takes. Implemented by
 * the OpenAI-compatible gateway (adapters/http/llm-gateway.ts, the local engine's and planner's) and the Bedrock
 * runtime client (adapters/aws/bedrock-model-invoker.ts, the planner's in AWS).
 */

export type ModelRequest = { readonly ModelId: string; readonly Body: unknown };
export type ModelInvoker = (request: ModelRequest, signal: AbortSignal) => Promise<{ readonly Body: MessagesResponse; readonly ContentType: string }>;

export interface MessagesResponse {
  readonly id: string;
  readonly type: 'message';
  readonly role: 'assistant';
  readonly model: string;
  readonly content: readonly { readonly type: 'text'; readonly text: string }[];
  readonly stop_reason: string;
  readonly usage: { readonly input_tokens: number; readonly output_tokens: number };
}
