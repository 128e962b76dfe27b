import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSqsClient } from '../../adapters/aws/sqs/sqs-dead-letter-queue.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';

/**
 * The outbound side through whole local runs (`npm start`'s runtime, the real action runner): templated path
 * segments, the orchestrator's own listeners, and a registered service's credential, which must reach the
 * service and nothing else (registration responses, progress, output, dead letters, events).
 */

const SECRET = 'svc-secret-0a1b2c3d4e5f';
type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
interface ExecutionData {
  execution_id: string;
  status: string;
  actions: { action_id: string; status: string; output?: { response: unknown }; error?: { error: string; cause: string } }[];
}

const seen: { path: string; authorization: string | undefined }[] = [];
let service: Server;
let origin: string;
let runtime: LocalRuntime;
let call: Call;

beforeAll(async () => {
  service = createServer((request: IncomingMessage, response) => {
    const path = request.url ?? '/';
    seen.push({ path, authorization: request.headers.authorization });
    const reply = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (path === '/api/admin/secret') return reply(200, { admin: 'must never be reached' });
    if (path === '/api/v1/fail') return reply(503, { down: true, saw: request.headers.authorization ?? null });
    if (path === '/api/v1/health') return reply(200, { status: 'ok' });
    reply(200, { path, saw: request.headers.authorization ?? null });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
  ({ runtime, call } = await startTestApi({ secretEnvironment: { SVC_TOKEN: SECRET }, log: () => undefined }));
});
afterAll(async () => {
  await runtime.engine.idle();
  await runtime.close();
  service.closeAllConnections();
  await new Promise<void>((resolve) => service.close(() => resolve()));
});

async function run(definition: unknown, parameters: Record<string, unknown> = {}): Promise<ExecutionData> {
  const created = await call('POST', '/workflows', { body: definition });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const started = await call<ExecutionData>('POST', `/workflows/${String(created.body.data.workflow_id)}/execute`, { body: { parameters } });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  for (let attempt = 0; attempt < 400; attempt++) {
    const reply = await call<ExecutionData>('GET', `/workflows/executions/${started.body.data.execution_id}`);
    if (!['pending', 'running'].includes(reply.body.data.status)) return reply.body.data;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the run did not end');
}

const serviceCall = (id: string, service: string, endpoint: string, extra: Record<string, unknown> = {}) => ({ action_id: id, action_type: 'service_call', config: { service, endpoint, method: 'GET' }, ...extra });

describe('templated path segments in a local run', () => {
  it('percent-encodes a parameter, so ../../admin/secret stays one segment under the base path', async () => {
    expect((await call('POST', '/registry/register', { body: { name: 'catalog', url: `${origin}/api/v1` } })).status).toBe(201);
    const done = await run(
      { name: 'paths', parameters: [{ name: 'p', type: 'string', required: true }], actions: [serviceCall('get_item', 'catalog', '/items/{{p}}')] },
      { p: '../../admin/secret' },
    );
    expect(done.status).toBe('completed');
    expect(seen.map((entry) => entry.path)).toContain('/api/v1/items/..%2F..%2Fadmin%2Fsecret');
    expect(seen.map((entry) => entry.path)).not.toContain('/api/admin/secret');
  });
});

describe("the orchestrator's own listeners in a local run", () => {
  it('refuses a service at the API itself or at its DynamoDB, though 127.0.0.1/8 is allowed', async () => {
    expect((await call('POST', '/registry/register', { body: { name: 'own_api', url: runtime.url } })).status).toBe(201);
    expect((await call('POST', '/registry/register', { body: { name: 'own_db', url: inject('dynamoEndpoint') } })).status).toBe(201);
    for (const name of ['own_api', 'own_db']) {
      const done = await run({ name, actions: [serviceCall('reach', name, '/')] });
      expect(done.status, name).toBe('failed');
      expect(done.actions[0]?.error).toMatchObject({ error: 'ForbiddenAddressError', cause: expect.stringMatching(/this orchestrator's own listener/) });
    }
    expect(runtime.describeOutbound()[0]).toBe('outbound calls (ORCHESTRATOR_OUTBOUND_ALLOW): public addresses, and 127.0.0.1/8');
    expect(runtime.describeOutbound()[1]).toContain(new URL(runtime.url).port);
  });
});

describe("a registered service's credential in a local run", () => {
  it('is stored and shown as a reference only', async () => {
    const registered = await call('POST', '/registry/register', { body: { name: 'secured', url: `${origin}/api/v1`, auth: { type: 'bearer', secret_ref: 'env:SVC_TOKEN' } } });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    expect(registered.body.data).toMatchObject({ auth: { type: 'bearer', secret_ref: 'env:SVC_TOKEN' } });
    for (const reply of [registered, await call('GET', '/registry'), await call('GET', '/registry/secured')]) expect(JSON.stringify(reply.body)).not.toContain(SECRET);
  });

  it.each([
    [{ type: 'bearer', secret_ref: 'secretsmanager:prod/db-password' }, /under orchestrator\/.*may read no other/],
    [{ type: 'bearer', secret_ref: 'ssm:/prod/db/password' }, /under \/orchestrator\/.*may read no other/],
    [{ type: 'bearer', secret_ref: 'env:AWS_SECRET_ACCESS_KEY' }, /AWS_\* variable/],
    [{ type: 'bearer', secret_ref: 'vault:kv/x' }, /must be one of env:NAME, file:/],
    [{ type: 'bearer', secret_ref: 'env:SVC_TOKEN', header: 'X-Key' }, /header is for api_key only/],
    [{ type: 'api_key', secret_ref: 'env:SVC_TOKEN', header: 'Host' }, /must not be a header the HTTP client/],
  ])('refuses auth %j with a 400 naming the rule', async (auth, rule) => {
    const reply = await call('POST', '/registry/register', { body: { name: 'refused_auth', url: `${origin}/api/v1`, auth } });
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.body.details)).toMatch(rule);
  });

  it('reaches the service, and nothing else: not the progress, the output, the dead letter or the events', async () => {
    const done = await run({
      name: 'secured run',
      actions: [serviceCall('who', 'secured', '/whoami'), serviceCall('broken', 'secured', '/fail', { depends_on: ['who'] })],
    });
    expect(done.status).toBe('failed');
    expect(seen.filter((entry) => entry.path === '/api/v1/whoami').map((entry) => entry.authorization)).toEqual([`Bearer ${SECRET}`]);
    expect(seen.filter((entry) => entry.path === '/api/v1/fail').every((entry) => entry.authorization === `Bearer ${SECRET}`)).toBe(true);
    expect(done.actions[0]?.output?.response).toEqual({ path: '/api/v1/whoami', saw: '[redacted]' });

    const execution = await call('GET', `/workflows/executions/${done.execution_id}`);
    expect(JSON.stringify(execution.body)).not.toContain(SECRET);
    expect(JSON.stringify(runtime.eventLog.events)).not.toContain(SECRET);
    const sqs = createSqsClient({ endpoint: runtime.sqsEndpoint, region: 'us-east-1' });
    try {
      const letters: string[] = [];
      for (let polls = 0; polls < 5 && !letters.some((body) => body.includes(done.execution_id)); polls++) {
        const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: runtime.deadLetterQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        letters.push(...(received.Messages ?? []).map((message) => message.Body ?? ''));
      }
      const letter = letters.find((body) => body.includes(done.execution_id));
      expect(letter).toBeDefined();
      expect(letter).not.toContain(SECRET);
    } finally {
      sqs.destroy();
    }
  });

  it('goes with the health probe to the instance’s health path', async () => {
    const checked = await call('POST', '/registry/health-check?name=secured');
    expect(checked.status).toBe(200);
    expect(seen.filter((entry) => entry.path === '/api/v1/health').at(-1)?.authorization).toBe(`Bearer ${SECRET}`);
    expect(JSON.stringify(checked.body)).not.toContain(SECRET);
  });
});
