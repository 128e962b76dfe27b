import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { createActionRunner } from '../../functions/workers/action-runner.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;

type Service = {
  name: string;
  url: string;
  health_path: string;
  openapi_path?: string;
  version?: string;
  metadata: Record<string, unknown>;
  registered_at: string;
  updated_at: string;
};

let runtime: LocalRuntime;
let call: Call;

beforeAll(async () => {
  ({ runtime, call } = await startTestApi());
});
afterAll(() => runtime.close());

function expectInvalid(reply: ApiReply, fields: string[], text?: RegExp) {
  expect(reply.status, JSON.stringify(reply.body)).toBe(400);
  expect(reply.body.success).toBe(false);
  expect(reply.body.error_code).toBe('VALIDATION_ERROR');
  expect(reply.body.details?.map((detail) => detail.field)).toEqual(expect.arrayContaining(fields));
  if (text) expect(`${reply.body.message} ${JSON.stringify(reply.body.details)}`).toMatch(text);
}

const register = (body: unknown) => call<Service>('POST', '/registry/register', { body });

describe('registering services', () => {
  it('registers a new service with 201, defaults applied, the URL in one spelling', async () => {
    const reply = await register({ name: 'analysis_service', url: 'HTTP://Analysis.Internal:8080/api/', version: '1.0.0', metadata: { team: 'quality' } });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body).toMatchObject({ success: true, message: expect.stringMatching(/registered/) });
    expect(reply.body.data).toEqual({
      name: 'analysis_service',
      url: 'http://analysis.internal:8080/api',
      health_path: '/health',
      version: '1.0.0',
      metadata: { team: 'quality' },
      registered_at: expect.any(String),
      updated_at: expect.any(String),
    });
  });

  it('replaces an existing registration with 200, keeping when it was first registered', async () => {
    const first = await register({ name: 'source_agent', url: 'http://source.internal', openapi_path: '/openapi.json' });
    expect(first.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await register({ name: 'source_agent', url: 'https://source-v2.internal', health_path: '/healthz' });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.message).toMatch(/replaced/);
    expect(second.body.data).toEqual({
      name: 'source_agent',
      url: 'https://source-v2.internal',
      health_path: '/healthz',
      metadata: {},
      registered_at: first.body.data.registered_at,
      updated_at: expect.any(String),
    });
    expect(second.body.data.updated_at > first.body.data.updated_at).toBe(true);
  });

  it('lists every registered service by name', async () => {
    await register({ name: 'zz_last', url: 'http://last.internal' });
    const reply = await call<{ services: Service[]; total: number }>('GET', '/registry');
    expect(reply.status).toBe(200);
    const names = reply.body.data.services.map((service) => service.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['analysis_service', 'source_agent', 'zz_last']));
    expect(reply.body.data.total).toBe(names.length);
    expect(reply.body.data.services.find((service) => service.name === 'source_agent')?.url).toBe('https://source-v2.internal');
  });
});

describe('refusing bad registrations', () => {
  it('refuses a missing name and a missing url, naming both', async () => {
    expectInvalid(await register({}), ['name', 'url'], /name is required/);
  });

  it('refuses a name a workflow could not use', async () => {
    expectInvalid(await register({ name: 'has spaces/and#hash', url: 'http://x.internal' }), ['name']);
  });

  it.each([
    ['ftp://files.internal/', /http or https/],
    ['file:///etc/passwd', /http or https/],
    ['not a url', /absolute http or https URL/],
    ['/relative/path', /absolute http or https URL/],
    ['http://user:secret@svc.internal', /credentials/],
    ['http://svc.internal/?key=1', /query string/],
  ])('refuses the url %s', async (url, text) => {
    expectInvalid(await register({ name: 'svc', url }), ['url'], text);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data', 'metadata'],
    ['http://169.254.170.2/v2/credentials', 'metadata'],
    ['http://[fd00:ec2::254]/', 'metadata'],
    ['http://2852039166/', 'metadata'],
    ['http://0xA9.0xFE.0xA9.0xFE/', 'metadata'],
    ['http://[::ffff:169.254.169.254]/', 'metadata'],
    ['http://169.254.10.20:8080', 'link-local'],
    ['http://[fe80::1]:8080', 'link-local'],
    ['http://0.0.0.0:8080', 'unspecified'],
    ['http://224.0.0.1', 'multicast'],
    ['http://255.255.255.255', 'broadcast'],
  ])('refuses %s, a %s address literal', async (url, addressClass) => {
    expectInvalid(await register({ name: 'svc', url }), ['url'], new RegExp(`${addressClass} address`));
  });

  it('accepts loopback and private address literals: whether they may be called is the runner configuration', async () => {
    for (const url of ['http://127.0.0.1:9000', 'http://10.1.2.3', 'http://[::1]:8080']) {
      expect((await register({ name: 'private_svc', url })).status).toBeLessThan(300);
    }
  });

  it('reports every problem at once, and unknown fields', async () => {
    const reply = await register({ name: '', url: 'gopher://x', health_path: 'health', metadata: [], colour: 'blue' });
    expectInvalid(reply, ['name', 'url', 'health_path', 'metadata', '(body)']);
    expect(JSON.stringify(reply.body.details)).toMatch(/unknown field 'colour'/);
  });

  it('refuses oversized metadata', async () => {
    expectInvalid(await register({ name: 'svc', url: 'http://svc.internal', metadata: { blob: 'x'.repeat(20_000) } }), ['metadata'], /at most 16384 bytes/);
  });

  it('refuses a body that is not JSON', async () => {
    const reply = await call('POST', '/registry/register', { rawBody: '{"name":', headers: { 'content-type': 'application/json' } });
    expect(reply.status).toBe(400);
    expect(reply.body.error_code).toBe('MALFORMED_JSON');
  });

  it('stores nothing for a refused registration', async () => {
    await register({ name: 'never_stored', url: 'http://169.254.169.254' });
    const listed = await call<{ services: Service[] }>('GET', '/registry');
    expect(listed.body.data.services.map((service) => service.name)).not.toContain('never_stored');
  });
});

describe('the action runner and the registry', () => {
  let service: Server;
  let serviceUrl: string;

  beforeAll(async () => {
    service = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ path: request.url }));
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => service.close(() => resolve())));

  it('calls a service at the URL registered through the API, before the configured one', async () => {
    expect((await register({ name: 'registered_svc', url: `${serviceUrl}/v1` })).status).toBe(201);
    const run = createActionRunner({ registry: runtime.services.registry, env: { REGISTERED_SVC_URL: 'http://127.0.0.1:9/ignored' }, allowPrivateNetworks: true });
    const result = await run({ action_id: 'a', execution_id: 'e', workflow_id: 'w', workflow_version: 1, service: 'registered_svc', endpoint: '/ping', method: 'GET', timeout_seconds: 5 });
    expect(result).toMatchObject({ status_code: 200, response: { path: '/v1/ping' } });
  });
});
