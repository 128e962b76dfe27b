import { LLM_GATEWAY_URL_VARIABLE } from '../../adapters/http/llm-gateway.ts';
import type { ModelInvoker } from '../../core/ai/model-invoker.ts';
import { ActionErrorName, BadGatewayError, DependencyUnavailableError, GatewayTimeoutError } from '../../core/errors.ts';
import { LlmErrorName } from '../../core/execution/llm-check.ts';
import { ANTHROPIC_BEDROCK_VERSION } from '../../core/workflow/llm.ts';
import type { PlannerModelSource } from './plan-service.ts';
import type { ChatMessage, PlannerModel } from './planner.ts';

/**
 * The planner's model (functions/ai/planner.ts PlannerModel) over a ModelInvoker: the one request format the
 * orchestrator speaks to models, the Anthropic Messages body of Bedrock's InvokeModel. So the same adapter
 * serves locally (the OpenAI-compatible gateway of LLM_GATEWAY_URL, adapters/http/llm-gateway.ts) and in AWS
 * (Bedrock, adapters/aws/bedrock-model-invoker.ts), and both name their failures alike (Bedrock's names).
 */

/** Room for a whole workflow definition and its explanation in one answer. */
export const PLANNER_MAX_TOKENS = 4096;

/** The variable that names the planner's model on both sides; failures that mean "this model is not usable" name it. */
export const PLANNER_MODEL_VARIABLE = 'ORCHESTRATOR_PLANNER_MODEL';

export interface InvokerPlannerModelOptions {
  readonly invoke: ModelInvoker;
  /** The model id (Bedrock's, or the name an OpenAI-compatible gateway routes on). */
  readonly modelId: string;
  /** Ends a call in flight: the plan's time budget. */
  readonly signal: AbortSignal;
  readonly maxTokens?: number;
}

/** A PlannerModel that sends each conversation as one Messages request, at temperature 0 (plans should repeat). */
export function createInvokerPlannerModel({ invoke, modelId, signal, maxTokens = PLANNER_MAX_TOKENS }: InvokerPlannerModelOptions): PlannerModel {
  return {
    model: modelId,
    async complete(messages) {
      let answer: Awaited<ReturnType<ModelInvoker>>;
      try {
        answer = await invoke({ ModelId: modelId, Body: messagesBody(messages, maxTokens) }, signal);
      } catch (error) {
        // The plan ran out of time: the plan service says so with its budget.
        if (signal.aborted) throw error;
        throw plannerModelFailure(error, modelId);
      }
      const text = answer.Body.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
      return { text, usage: { input_tokens: answer.Body.usage.input_tokens, output_tokens: answer.Body.usage.output_tokens } };
    },
  };
}

/**
 * The planner's model on one machine: `modelId` through the OpenAI-compatible gateway (the same invoker as llm
 * actions), or, without LLM_GATEWAY_URL, none, with the message the route's 503 gives.
 */
export function gatewayPlannerModel(invoke: ModelInvoker, gatewayUrl: string | undefined, modelId: string): PlannerModelSource {
  if (gatewayUrl === undefined || gatewayUrl.trim() === '') {
    return {
      configured: false,
      missing: `no language model is configured for planning: set ${LLM_GATEWAY_URL_VARIABLE} to an OpenAI-compatible endpoint (POST <${LLM_GATEWAY_URL_VARIABLE}>/v1/chat/completions); ${PLANNER_MODEL_VARIABLE} names the model (now ${modelId})`,
    };
  }
  return { configured: true, modelFor: (signal) => createInvokerPlannerModel({ invoke, modelId, signal }) };
}

/** The Messages body: the system turns as the one system text, the others as they are, in order. */
export function messagesBody(messages: readonly ChatMessage[], maxTokens: number): Record<string, unknown> {
  const system = messages.filter((message) => message.role === 'system').map((message) => message.content);
  return {
    anthropic_version: ANTHROPIC_BEDROCK_VERSION,
    max_tokens: maxTokens,
    temperature: 0,
    ...(system.length > 0 ? { system: system.join('\n\n') } : {}),
    messages: messages.filter((message) => message.role !== 'system').map(({ role, content }) => ({ role, content })),
  };
}

/**
 * A failed model call as the API's error: the model busy or down is a 503 (try again later), a model that
 * cannot be used as configured a 503 naming the variable, a slow model a 504, a refusal of the request 502.
 * Anything else is not the model's doing and stays what it is (a 500).
 */
export function plannerModelFailure(error: unknown, modelId: string): Error {
  const name = error instanceof Error ? error.name : '';
  const detail = error instanceof Error ? error.message : String(error);
  const options = { cause: error };
  switch (name) {
    case LlmErrorName.Throttling:
      return new DependencyUnavailableError(`the planner's model ${modelId} is throttled (too many requests or tokens for now): try again shortly. ${detail}`, [], options);
    case LlmErrorName.ServiceUnavailable:
    case LlmErrorName.InternalServer:
    case LlmErrorName.ModelNotReady:
      return new DependencyUnavailableError(`the planner's model ${modelId} is unavailable: ${detail}`, [], options);
    case LlmErrorName.AccessDenied:
    case LlmErrorName.ResourceNotFound:
      return new DependencyUnavailableError(`the planner's model ${modelId} cannot be used (check ${PLANNER_MODEL_VARIABLE} and the orchestrator's access to that model): ${detail}`, [], options);
    case LlmErrorName.GatewayNotConfigured:
    case ActionErrorName.ForbiddenAddress:
      return new DependencyUnavailableError(detail, [], options);
    case LlmErrorName.ModelTimeout:
      return new GatewayTimeoutError(`the planner's model ${modelId} did not answer in time: ${detail}`, [], options);
    case LlmErrorName.ModelError:
    case LlmErrorName.Validation:
      return new BadGatewayError(`the planner's model ${modelId} failed the request: ${detail}`, [], options);
    default:
      return error instanceof Error ? error : new Error(detail);
  }
}
