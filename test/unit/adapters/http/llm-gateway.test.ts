import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlmGateway } from '../../../../adapters/http/llm-gateway.ts';
import { testHttp } from '../../../support/outbound.ts';

/**
 * The local stand-in for Bedrock's InvokeModel: Messages requests become chat completions at
 * `<LLM_GATEWAY_URL>/v1/chat/completions` (through the outbound rules), answers become Messages responses, and
 * failures take Bedrock's error names, so the compiled Retry and Catch treat them as in AWS.
 */

let server: Server;
let base: string;
let reply: { status: number; body: string } = { status: 200, body: '{}' };
const received: { url: string; headers: IncomingHttpHeaders; body: Record<string, unknown> }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      received.push({ url: request.url ?? '', headers: request.headers, body: JSON.parse(text) as Record<string, unknown> });
      response.writeHead(reply.status, { 'content-type': 'application/json' });
      response.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const request = { ModelId: 'gpt-test', Body: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, temperature: 0, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: [{ type: 'text', text: 'Hello' }] }, { role: 'user', content: 'Bye' }] } };
const completion = (content: string | null, finish = 'stop') => JSON.stringify({ id: 'c1', model: 'gpt-test-2024', choices: [{ message: { role: 'assistant', content }, finish_reason: finish }], usage: { prompt_tokens: 12, completion_tokens: 3 } });
const failureOf = async (run: Promise<unknown>) => run.then(() => undefined, (error: Error) => ({ name: error.name, message: error.message }));

describe('the LLM gateway (local bedrock:invokeModel)', () => {
  it('posts a chat completion, with the bearer key, and answers a Messages response', async () => {
    reply = { status: 200, body: completion('Goodbye', 'length') };
    received.length = 0;
    const invoke = createLlmGateway({ http: testHttp(), url: `${base}/`, apiKey: 'sk-local' });
    const answer = await invoke(request, new AbortController().signal);
    expect(received).toHaveLength(1);
    expect(received[0]!.url).toBe('/v1/chat/completions');
    expect(received[0]!.headers.authorization).toBe('Bearer sk-local');
    expect(received[0]!.body).toEqual({
      model: 'gpt-test',
      max_tokens: 64,
      temperature: 0,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
        { role: 'user', content: 'Bye' },
      ],
    });
    expect(answer).toEqual({
      ContentType: 'application/json',
      Body: { id: 'c1', type: 'message', role: 'assistant', model: 'gpt-test-2024', content: [{ type: 'text', text: 'Goodbye' }], stop_reason: 'max_tokens', usage: { input_tokens: 12, output_tokens: 3 } },
    });
  });

  it('sends no authorization without a key', async () => {
    reply = { status: 200, body: completion(null) };
    received.length = 0;
    const answer = await createLlmGateway({ http: testHttp(), url: base })(request, new AbortController().signal);
    expect(received[0]!.headers.authorization).toBeUndefined();
    expect(answer.Body.content).toEqual([{ type: 'text', text: '' }]);
  });

  it("names each failure as Bedrock would, so that throttling and outages are retried and refusals are not", async () => {
    const invoke = createLlmGateway({ http: testHttp(), url: base });
    const cases: [number, string][] = [
      [429, 'Bedrock.ThrottlingException'],
      [503, 'Bedrock.ServiceUnavailableException'],
      [500, 'Bedrock.InternalServerException'],
      [504, 'Bedrock.ModelTimeoutException'],
      [400, 'Bedrock.ValidationException'],
      [401, 'Bedrock.AccessDeniedException'],
      [404, 'Bedrock.ResourceNotFoundException'],
    ];
    for (const [status, name] of cases) {
      reply = { status, body: '{"error": {"message": "no"}}' };
      expect(await failureOf(invoke(request, new AbortController().signal)), String(status)).toEqual({ name, message: `${base}/v1/chat/completions answered ${status}: {"error": {"message": "no"}}` });
    }
    reply = { status: 200, body: '<html>not json</html>' };
    expect(await failureOf(invoke(request, new AbortController().signal))).toMatchObject({ name: 'Bedrock.ModelErrorException' });
  });

  it('fails as unavailable when nothing listens, and as ForbiddenAddressError where the outbound rules forbid', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await failureOf(createLlmGateway({ http: testHttp(), url: `http://127.0.0.1:${port}` })(request, new AbortController().signal))).toMatchObject({ name: 'Bedrock.ServiceUnavailableException' });
    const publicOnly = testHttp({ allow: [] });
    try {
      const refused = await failureOf(createLlmGateway({ http: publicOnly, url: base })(request, new AbortController().signal));
      expect(refused).toMatchObject({ name: 'ForbiddenAddressError' });
      expect(refused!.message).toContain('ORCHESTRATOR_OUTBOUND_ALLOW');
    } finally {
      await publicOnly.close();
    }
  });

  it('fails naming LLM_GATEWAY_URL when it is not set, without calling anything', async () => {
    received.length = 0;
    const failure = await failureOf(createLlmGateway({ http: testHttp() })(request, new AbortController().signal));
    expect(failure).toMatchObject({ name: 'LlmGatewayNotConfiguredError' });
    expect(failure!.message).toMatch(/^LLM_GATEWAY_URL is not set/);
    expect(received).toHaveLength(0);
  });

  it('times out as Bedrock.ModelTimeoutException, and passes a cancellation through', async () => {
    const slow = createServer(() => undefined);
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    try {
      expect(await failureOf(createLlmGateway({ http: testHttp(), url, timeoutMs: 100 })(request, new AbortController().signal))).toMatchObject({ name: 'Bedrock.ModelTimeoutException' });
      const cancel = new AbortController();
      const pending = failureOf(createLlmGateway({ http: testHttp(), url })(request, cancel.signal));
      setTimeout(() => cancel.abort(), 50);
      expect((await pending)?.name).not.toMatch(/^Bedrock\./);
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });
});
