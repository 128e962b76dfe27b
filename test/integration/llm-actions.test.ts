import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';
import { startChatStub, type ChatStub } from '../support/chat-stub.ts';
import { until } from '../support/poll.ts';
import { readScrape } from '../unit/functions/observability/metrics-text.ts';

/**
 * llm actions on the local runtime, end to end: workflows created and run through the API, the compiled
 * bedrock:invokeModel states served by an OpenAI-compatible stub on loopback (LLM_GATEWAY_URL) through the
 * outbound rules, the output_schema checks answered by the runner's own check, progress and /metrics read
 * back over HTTP. The stub answers by the `mode:` its first user message names: `good` (valid at once),
 * `repair` (invalid, then valid once the request carries the schema errors), `never` (invalid twice).
 */

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
type ChatMessage = { role: string; content: string };
type ChatRequest = { model: string; messages: ChatMessage[]; max_tokens: number; temperature?: number };

const MODEL = 'local-test-model';
const API_KEY = 'sk-test-0123456789';
let stub: ChatStub<ChatRequest>;
let requests: ChatStub<ChatRequest>['requests'];
let runtime: LocalRuntime;
let call: Call;

const LABEL_SCHEMA = { type: 'object', properties: { label: { enum: ['good', 'bad'] }, confidence: { type: 'number' } }, required: ['label', 'confidence'], additionalProperties: false };

function answer(request: ChatRequest): string {
  const user = request.messages.find((message) => message.role === 'user')?.content ?? '';
  const mode = /mode: (\w+)/.exec(user)?.[1];
  const repairing = request.messages.at(-1)?.content.startsWith('Your answer does not match the JSON Schema');
  if (mode === 'summary') return `Summary of: ${user}`;
  if (mode === 'good' || (mode === 'repair' && repairing)) return '{"label": "good", "confidence": 0.75}';
  return '{"label": "unsure"}';
}

beforeAll(async () => {
  stub = await startChatStub<ChatRequest>(
    (body) => ({ content: answer(body), usage: { prompt_tokens: body.messages.map((message) => message.content).join(' ').length, completion_tokens: 7 } }),
    { '/docs/fetch': { title: 'Quarterly "results"', content: 'Revenue grew.\nCosts fell.' } },
  );
  requests = stub.requests;
  ({ runtime, call } = await startTestApi({ llmGateway: { url: stub.url, apiKey: API_KEY }, serviceUrls: { DOCS_URL: `${stub.url}/docs` } }));
});

afterAll(async () => {
  await runtime?.engine.idle();
  await runtime?.close();
  await stub?.close();
});

interface ActionView {
  action_id: string;
  status: string;
  attempts: number;
  output?: { status_code: number | null; response: Record<string, unknown> };
  error?: { error: string; cause: string };
  usage?: { model: string; input_tokens: number; output_tokens: number };
}

async function createWorkflow(actions: unknown[], parameters: unknown[] = []): Promise<string> {
  const created = await call<{ workflow_id: string }>('POST', '/workflows', { body: { name: `llm ${Math.random()}`, parameters, actions } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.data.workflow_id;
}

/** Runs the workflow to its end; its status and its actions by id. */
async function runToEnd(workflowId: string, parameters: Record<string, unknown>, runtimeCall: Call = call): Promise<{ id: string; status: string; actions: Record<string, ActionView>; error?: unknown }> {
  const started = await runtimeCall<{ execution_id: string }>('POST', `/workflows/${workflowId}/execute`, { body: { parameters } });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return { id: started.body.data.execution_id, ...(await toEnd(started.body.data.execution_id, runtimeCall)) };
}

async function toEnd(id: string, runtimeCall: Call = call): Promise<{ status: string; actions: Record<string, ActionView>; error?: unknown }> {
  let execution: { status: string; actions: ActionView[]; error?: unknown } = { status: 'pending', actions: [] };
  await until(async () => {
    execution = (await runtimeCall<{ status: string; actions: ActionView[] }>('GET', `/workflows/executions/${id}`)).body.data;
    return ['completed', 'failed', 'cancelled', 'timed_out'].includes(execution.status);
  }, `run ${id} to end`);
  return { status: execution.status, actions: Object.fromEntries(execution.actions.map((action) => [action.action_id, action])), error: execution.error };
}

const classify = (extra: Record<string, unknown> = {}) => ({
  action_id: 'classify',
  action_type: 'llm',
  depends_on: ['summarize'],
  config: { model: MODEL, messages: [{ role: 'system', content: 'You classify.' }, { role: 'user', content: 'mode: {{mode}}. Classify: {{summarize.response.text}}' }], output_schema: LABEL_SCHEMA },
  ...extra,
});

const pipeline = (extra: Record<string, unknown> = {}) => [
  { action_id: 'fetch', action_type: 'service_call', config: { service: 'docs', endpoint: '/fetch', method: 'GET' } },
  { action_id: 'summarize', action_type: 'llm', depends_on: ['fetch'], config: { model: MODEL, system: 'Write for {{audience}}.', prompt: 'mode: summary. {{fetch.response.title}}: {{fetch.response.content}}', max_tokens: 200, temperature: 0.1 } },
  classify(extra),
];
const parameters = [{ name: 'mode', type: 'string', required: true }, { name: 'audience', type: 'string', required: true }];

describe('llm actions on the local runtime', () => {
  it('calls LLM_GATEWAY_URL with prompts templated from parameters and earlier outputs, and records answers and tokens', async () => {
    requests.length = 0;
    const workflowId = await createWorkflow(pipeline(), parameters);
    const run = await runToEnd(workflowId, { mode: 'good', audience: 'the board' });
    expect(run.status, JSON.stringify(run)).toBe('completed');

    expect(requests).toHaveLength(2);
    const [summary, classification] = requests.map((request) => request.body);
    expect(requests[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(summary).toEqual({ model: MODEL, max_tokens: 200, temperature: 0.1, messages: [{ role: 'system', content: 'Write for the board.' }, { role: 'user', content: 'mode: summary. Quarterly "results": Revenue grew.\nCosts fell.' }] });
    // The second action reads the first's answer; its system text carries the schema.
    expect(classification!.messages[0]!.role).toBe('system');
    expect(classification!.messages[0]!.content).toMatch(/^You classify\.\n\nAnswer with a single JSON value and nothing else/);
    expect(classification!.messages[1]).toEqual({ role: 'user', content: `mode: good. Classify: Summary of: ${summary!.messages[1]!.content}` });
    expect(classification!.max_tokens).toBe(1024);

    const summarize = run.actions['summarize']!;
    const summaryTokens = { input_tokens: summary!.messages.map((message) => message.content).join(' ').length, output_tokens: 7 };
    expect(summarize).toMatchObject({ status: 'completed', attempts: 1, usage: { model: MODEL, ...summaryTokens } });
    expect(summarize.output).toEqual({ status_code: null, response: { text: `Summary of: ${summary!.messages[1]!.content}`, usage: summaryTokens } });
    expect(run.actions['classify']).toMatchObject({ status: 'completed', attempts: 1, output: { status_code: null, response: { text: '{"label": "good", "confidence": 0.75}', json: { label: 'good', confidence: 0.75 } } } });
    expect(run.actions['classify']!.usage).toMatchObject({ model: MODEL, output_tokens: 7 });
  });

  it('repairs an answer that misses output_schema with one more call that carries the schema errors', async () => {
    const workflowId = await createWorkflow(pipeline(), parameters);
    requests.length = 0;
    const run = await runToEnd(workflowId, { mode: 'repair', audience: 'all' });
    expect(run.status, JSON.stringify(run)).toBe('completed');
    expect(requests).toHaveLength(3);
    const repair = requests[2]!.body.messages;
    expect(repair.slice(-2)).toEqual([
      { role: 'assistant', content: '{"label": "unsure"}' },
      {
        role: 'user',
        content: `Your answer does not match the JSON Schema:\n- the answer: must have required property 'confidence'\n- /label: must be equal to one of the allowed values ("good", "bad")\nAnswer again with only the corrected JSON value.`,
      },
    ]);
    const classified = run.actions['classify']!;
    expect(classified).toMatchObject({ status: 'completed', attempts: 2, output: { response: { json: { label: 'good', confidence: 0.75 } } } });
    // Both calls' tokens, in the progress and in the recorded answer.
    expect(classified.usage!.output_tokens).toBe(14);
    expect((classified.output!.response['usage'] as { output_tokens: number }).output_tokens).toBe(14);
  });

  it('fails the action with OutputSchemaMismatchError and the schema errors when the repair is still invalid; a retry calls only its model again', async () => {
    const workflowId = await createWorkflow(pipeline(), parameters);
    requests.length = 0;
    const run = await runToEnd(workflowId, { mode: 'never', audience: 'all' });
    expect(run.status).toBe('failed');
    expect(requests).toHaveLength(3);
    const classified = run.actions['classify']!;
    expect(classified).toMatchObject({ status: 'failed', attempts: 2, error: { error: 'OutputSchemaMismatchError' }, usage: { model: MODEL, output_tokens: 14 } });
    const detail = JSON.parse(classified.error!.cause) as { errors: { keyword: string; instancePath: string }[] };
    expect(detail.errors.map((error) => `${error.instancePath} ${error.keyword}`).sort()).toEqual([' required', '/label enum']);
    expect(run.error).toMatchObject({ action_id: 'classify', error: 'ActionFailed' });

    // A retry runs the failed action again and reuses the completed ones: the summary's model is not called again.
    requests.length = 0;
    const retried = await call('POST', `/workflows/executions/${run.id}/retry`, { body: {} });
    expect(retried.status, JSON.stringify(retried.body)).toBe(202);
    await until(async () => (await call<{ redrive_count?: number; status: string }>('GET', `/workflows/executions/${run.id}`)).body.data.redrive_count === 1, 'the retry to start');
    const again = await toEnd(run.id);
    expect(again.status).toBe('failed');
    expect(requests.map((request) => request.body.messages.find((message) => message.role === 'user')?.content.slice(0, 14))).toEqual(['mode: never. C', 'mode: never. C']);
    expect(again.actions['summarize']).toMatchObject({ status: 'completed', usage: run.actions['summarize']!.usage });
  });

  it('counts the tokens of every call in /metrics, by model and direction', async () => {
    await runtime.engine.idle();
    const scrape = readScrape(await (await fetch(`${runtime.url}/metrics`)).text());
    expect(scrape.typeOf('orchestrator_llm_tokens_total')).toBe('COUNTER');
    // Three runs and a retry: 2 + 3 + 3 + 2 calls of 7 answer tokens each (the retry's reused summary called nothing).
    expect(scrape.value('orchestrator_llm_tokens_total', { model: MODEL, direction: 'output' })).toBe(10 * 7);
    expect(scrape.value('orchestrator_llm_tokens_total', { model: MODEL, direction: 'input' })).toBeGreaterThan(0);
    expect(scrape.value('orchestrator_actions_ended_total', { type: 'llm', status: 'completed' })).toBeGreaterThanOrEqual(4);
  });
});

describe('llm action definitions through the API', () => {
  it('refuse an output_schema that is not a JSON Schema with 400, naming actions[i].config.output_schema', async () => {
    const refused = await call('POST', '/workflows', {
      body: { name: 'bad schema', actions: [{ action_id: 'ask', action_type: 'llm', config: { model: MODEL, prompt: 'Hi', output_schema: { type: 'object', properties: { n: { type: 'integr' } } } } }] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.details?.map((detail) => detail.field)).toEqual(['actions[0].config.output_schema']);
    expect(refused.body.details?.[0]?.message).toBe(
      'output_schema is not a valid JSON Schema: output_schema/properties/n/type must be equal to one of the allowed values (array, boolean, integer, null, number, object, string)',
    );
  });
});

describe('llm actions without LLM_GATEWAY_URL', () => {
  it('fail with an error that names LLM_GATEWAY_URL, and call nothing', async () => {
    const bare = await startTestApi();
    try {
      const created = await bare.call<{ workflow_id: string }>('POST', '/workflows', { body: { name: 'no gateway', actions: [{ action_id: 'ask', action_type: 'llm', config: { model: MODEL, prompt: 'Hello' } }] } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      requests.length = 0;
      const run = await runToEnd(created.body.data.workflow_id, {}, bare.call);
      expect(run.status).toBe('failed');
      expect(run.actions['ask']).toMatchObject({ status: 'failed', attempts: 1, error: { error: 'LlmGatewayNotConfiguredError' } });
      expect(run.actions['ask']!.error!.cause).toMatch(/^LLM_GATEWAY_URL is not set: locally, llm actions call an OpenAI-compatible endpoint/);
      expect(requests).toHaveLength(0);
    } finally {
      await bare.runtime.engine.idle();
      await bare.runtime.close();
    }
  });
});
