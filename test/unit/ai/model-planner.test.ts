import { describe, expect, it } from 'vitest';
import type { MessagesResponse, ModelInvoker, ModelRequest } from '../../../core/ai/model-invoker.ts';
import { createInvokerPlannerModel, gatewayPlannerModel, messagesBody, plannerModelFailure } from '../../../functions/ai/model-planner.ts';
import type { ChatMessage } from '../../../functions/ai/planner.ts';
import { ERROR_STATUS } from '../../../functions/middleware/envelope.ts';

/** The planner's model over a ModelInvoker: the Messages request it sends, the answer it reads, the errors it gives. */

const conversation: ChatMessage[] = [
  { role: 'system', content: 'You design workflows.' },
  { role: 'user', content: 'Goal: summarise' },
  { role: 'assistant', content: '{"workflow": {}}' },
  { role: 'user', content: 'The orchestrator refused that draft: ...' },
];

function answering(body: Partial<MessagesResponse>): ModelInvoker & { readonly requests: ModelRequest[] } {
  const requests: ModelRequest[] = [];
  const invoke = async (request: ModelRequest) => {
    requests.push(request);
    return {
      Body: { id: 'm-1', type: 'message' as const, role: 'assistant' as const, model: 'm', content: [], stop_reason: 'end_turn', usage: { input_tokens: 0, output_tokens: 0 }, ...body },
      ContentType: 'application/json',
    };
  };
  return Object.assign(invoke, { requests });
}

const failing = (name: string, message = 'nope'): ModelInvoker => async () => {
  throw Object.assign(new Error(message), { name });
};

const statusOf = (error: unknown) => ERROR_STATUS[(error as Error).name]?.status ?? 500;

describe('the planner model over a model invoker', () => {
  it('sends the system turns as the system text and the rest as messages, at temperature 0, to the configured model', async () => {
    const invoke = answering({ content: [{ type: 'text', text: '{"workflow"' }, { type: 'text', text: ': {}}' }], usage: { input_tokens: 120, output_tokens: 30 } });
    const model = createInvokerPlannerModel({ invoke, modelId: 'anthropic.claude-test', signal: new AbortController().signal });
    const answer = await model.complete(conversation);
    expect(answer).toEqual({ text: '{"workflow": {}}', usage: { input_tokens: 120, output_tokens: 30 } });
    expect(model.model).toBe('anthropic.claude-test');
    expect(invoke.requests).toEqual([
      {
        ModelId: 'anthropic.claude-test',
        Body: {
          anthropic_version: 'bedrock-2023-05-31',
          max_tokens: 4096,
          temperature: 0,
          system: 'You design workflows.',
          messages: conversation.slice(1).map(({ role, content }) => ({ role, content })),
        },
      },
    ]);
  });

  it('leaves the system text out when there is none', () => {
    expect(messagesBody([{ role: 'user', content: 'hi' }], 100)).not.toHaveProperty('system');
  });

  it('passes the time budget on to the invoker, and lets its cancellation through as it is', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const invoke: ModelInvoker = async (_request, signal) => {
      seen = signal;
      controller.abort();
      throw Object.assign(new Error('aborted'), { name: 'AbortError' });
    };
    const model = createInvokerPlannerModel({ invoke, modelId: 'm', signal: controller.signal });
    await expect(model.complete(conversation)).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toBe(controller.signal);
  });

  it.each([
    ['Bedrock.ThrottlingException', 503, /throttled .*try again shortly/],
    ['Bedrock.ServiceUnavailableException', 503, /unavailable/],
    ['Bedrock.ModelNotReadyException', 503, /unavailable/],
    ['Bedrock.AccessDeniedException', 503, /check ORCHESTRATOR_PLANNER_MODEL/],
    ['Bedrock.ResourceNotFoundException', 503, /check ORCHESTRATOR_PLANNER_MODEL/],
    ['ForbiddenAddressError', 503, /nope/],
    ['Bedrock.ModelTimeoutException', 504, /did not answer in time/],
    ['Bedrock.ModelErrorException', 502, /failed the request/],
    ['Bedrock.ValidationException', 502, /failed the request/],
  ])('turns a model failure named %s into a %i that says why', async (name, status, message) => {
    const model = createInvokerPlannerModel({ invoke: failing(name), modelId: 'm-1', signal: new AbortController().signal });
    const error = await model.complete(conversation).catch((caught: unknown) => caught);
    expect(statusOf(error)).toBe(status);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).cause).toMatchObject({ name });
  });

  it('leaves a failure that is not the model\'s as it is (a 500)', () => {
    const bug = new TypeError('x is undefined');
    expect(plannerModelFailure(bug, 'm')).toBe(bug);
  });
});

describe('the planner model of the local runtime', () => {
  it('is not configured without LLM_GATEWAY_URL, and says to set it', () => {
    const source = gatewayPlannerModel(answering({}), undefined, 'local-model');
    expect(source).toEqual({ configured: false, missing: expect.stringContaining('set LLM_GATEWAY_URL') });
    expect(source.configured ? '' : source.missing).toContain('ORCHESTRATOR_PLANNER_MODEL names the model (now local-model)');
  });

  it('asks the gateway for the configured model when the URL is set', async () => {
    const invoke = answering({ content: [{ type: 'text', text: 'ok' }] });
    const source = gatewayPlannerModel(invoke, 'http://127.0.0.1:4000', 'local-model');
    if (!source.configured) throw new Error('not configured');
    await source.modelFor(new AbortController().signal).complete([{ role: 'user', content: 'hi' }]);
    expect(invoke.requests[0]!.ModelId).toBe('local-model');
  });
});
