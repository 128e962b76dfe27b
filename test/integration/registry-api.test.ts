import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { createActionRunner } from '../../functions/workers/action-runner.ts';
import { RESERVED_SERVICE_NAMES } from '../../core/registry/registration.ts';
import { routes } from '../../functions/routes.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';
import { testHttp } from '../support/outbound.ts';

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;

type Instance = {
  name: string;
  instance_id: string;
  url: string;
  health_path: string;
  openapi_path?: string;
  version?: string;
  tags: string[];
  metadata: Record<string, unknown>;
  registered_at: string;
  updated_at: string;
  ttl_seconds?: number;
  expires_at?: string;
  health: { status: string; history: unknown[]; consecutive_failures: number };
  circuit: { state: string; failures: string[]; revision: number };
};
type Service = { name: string; status: string; instances: Instance[] };
type Listing = { services: Service[]; total: number; instances: number };

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

const register = (body: unknown) => call<Instance>('POST', '/registry/register', { body });

const UNCHECKED = { health: { status: 'unknown', history: [], consecutive_failures: 0 }, circuit: { state: 'closed', failures: [], revision: 0 } };

describe('registering services', () => {
  it('registers a new instance with 201, defaults applied, the URL in one spelling, its id from the URL', async () => {
    const reply = await register({ name: 'analysis_service', url: 'HTTP://Analysis.Internal:8080/api/', version: '1.0.0', metadata: { team: 'quality' }, tags: ['nlp', 'nlp', 'gpu'] });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body).toMatchObject({ success: true, message: expect.stringMatching(/registered/) });
    expect(reply.body.data).toEqual({
      name: 'analysis_service',
      instance_id: expect.stringMatching(/^analysis\.internal-8080-[0-9a-f]{8}$/),
      url: 'http://analysis.internal:8080/api',
      health_path: '/health',
      version: '1.0.0',
      tags: ['nlp', 'gpu'],
      metadata: { team: 'quality' },
      registered_at: expect.any(String),
      updated_at: expect.any(String),
      ...UNCHECKED,
    });
  });

  it('replaces the registration of the same instance with 200, keeping when it was first registered', async () => {
    const first = await register({ name: 'source_agent', instance_id: 'primary', url: 'http://source.internal', openapi_path: '/openapi.json' });
    expect(first.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await register({ name: 'source_agent', instance_id: 'primary', url: 'https://source-v2.internal', health_path: '/healthz' });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.message).toMatch(/replaced/);
    expect(second.body.data).toEqual({
      name: 'source_agent',
      instance_id: 'primary',
      url: 'https://source-v2.internal',
      health_path: '/healthz',
      tags: [],
      metadata: {},
      registered_at: first.body.data.registered_at,
      updated_at: expect.any(String),
      ...UNCHECKED,
    });
    expect(second.body.data.updated_at > first.body.data.updated_at).toBe(true);
  });

  it('adds an instance for another URL under the same name, and replaces the one with the same URL', async () => {
    expect((await register({ name: 'multi', url: 'http://10.0.0.1:8000' })).status).toBe(201);
    expect((await register({ name: 'multi', url: 'http://10.0.0.2:8000' })).status).toBe(201);
    expect((await register({ name: 'multi', url: 'http://10.0.0.1:8000/' })).status).toBe(200);
    const reply = await call<Service>('GET', '/registry/multi');
    expect(reply.status).toBe(200);
    expect(reply.body.data).toMatchObject({ name: 'multi', status: 'unknown' });
    expect(reply.body.data.instances.map((instance) => [instance.instance_id, instance.url])).toEqual([
      ['10.0.0.1-8000', 'http://10.0.0.1:8000'],
      ['10.0.0.2-8000', 'http://10.0.0.2:8000'],
    ]);
  });

  it('lists every registered service by name, with its instances, and filters by name, tag and status', async () => {
    await register({ name: 'zz_last', url: 'http://last.internal', tags: ['edge'] });
    const reply = await call<Listing>('GET', '/registry');
    expect(reply.status).toBe(200);
    const names = reply.body.data.services.map((service) => service.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['analysis_service', 'source_agent', 'zz_last', 'multi']));
    expect(reply.body.data.total).toBe(names.length);
    expect(reply.body.data.instances).toBe(reply.body.data.services.reduce((sum, service) => sum + service.instances.length, 0));
    expect(reply.body.data.services.find((service) => service.name === 'source_agent')?.instances[0]?.url).toBe('https://source-v2.internal');

    const tagged = await call<Listing>('GET', '/registry?tag=edge');
    expect(tagged.body.data.services.map((service) => service.name)).toEqual(['zz_last']);
    const named = await call<Listing>('GET', '/registry?name=multi');
    expect(named.body.data).toMatchObject({ total: 1, instances: 2 });
    expect((await call<Listing>('GET', '/registry?status=healthy')).body.data.services).toEqual([]);
    expect((await call<Listing>('GET', '/registry?status=unknown')).body.data.total).toBe(names.length);
    expect((await call('GET', '/registry?status=sleepy')).status).toBe(400);
  });

  it('answers 404 for a service that is not registered', async () => {
    const reply = await call('GET', '/registry/nobody_home');
    expect(reply.status).toBe(404);
    expect(reply.body.message).toMatch(/nobody_home/);
  });

  it('deregisters one instance, then the whole service; 404 when nothing matches', async () => {
    for (const url of ['http://10.9.0.1', 'http://10.9.0.2', 'http://10.9.0.3']) await register({ name: 'leaving', url });
    const one = await call<{ removed: number }>('DELETE', '/registry/leaving?instance_id=10.9.0.2-80');
    expect(one.status, JSON.stringify(one.body)).toBe(200);
    expect(one.body.data).toEqual({ name: 'leaving', instance_id: '10.9.0.2-80', removed: 1 });
    expect((await call('DELETE', '/registry/leaving?instance_id=10.9.0.2-80')).status).toBe(404);
    expect((await call<Service>('GET', '/registry/leaving')).body.data.instances).toHaveLength(2);
    const all = await call<{ removed: number }>('DELETE', '/registry/leaving');
    expect(all.body.data).toEqual({ name: 'leaving', removed: 2 });
    expect((await call('GET', '/registry/leaving')).status).toBe(404);
    expect((await call('DELETE', '/registry/leaving')).status).toBe(404);
  });
});

describe('registrations with a TTL', () => {
  it('disappear when not renewed, and stay while they are', async () => {
    let now = Date.parse('2026-11-25T10:00:00.000Z');
    const api = await startTestApi({ clock: { now: () => new Date(now).toISOString() } });
    try {
      const first = await api.call<Instance>('POST', '/registry/register', { body: { name: 'ephemeral', url: 'http://10.1.0.1', ttl_seconds: 30 } });
      expect(first.body.data).toMatchObject({ ttl_seconds: 30, expires_at: '2026-11-25T10:00:30.000Z' });
      await api.call('POST', '/registry/register', { body: { name: 'ephemeral', url: 'http://10.1.0.2', ttl_seconds: 30 } });
      now += 20_000;
      // Renewal: registering again moves the expiry.
      expect((await api.call<Instance>('POST', '/registry/register', { body: { name: 'ephemeral', url: 'http://10.1.0.1', ttl_seconds: 30 } })).body.data.expires_at).toBe('2026-11-25T10:00:50.000Z');
      now += 15_000;
      const service = await api.call<Service>('GET', '/registry/ephemeral');
      expect(service.body.data.instances.map((instance) => instance.url)).toEqual(['http://10.1.0.1']);
      now += 20_000;
      expect((await api.call('GET', '/registry/ephemeral')).status).toBe(404);
      expect((await api.call<Listing>('GET', '/registry')).body.data.services).toEqual([]);
    } finally {
      await api.runtime.close();
    }
  });

  it('refuses a TTL out of bounds and malformed instance ids and tags', async () => {
    expectInvalid(await register({ name: 'svc', url: 'http://svc.internal', ttl_seconds: 1 }), ['ttl_seconds'], /at least 10/);
    expectInvalid(await register({ name: 'svc', url: 'http://svc.internal', ttl_seconds: 2.5 }), ['ttl_seconds'], /integer/);
    expectInvalid(await register({ name: 'svc', url: 'http://svc.internal', instance_id: 'has space' }), ['instance_id']);
    expectInvalid(await register({ name: 'svc', url: 'http://svc.internal', tags: 'one' }), ['tags']);
  });
});

describe('refusing bad registrations', () => {
  it('refuses a missing name and a missing url, naming both', async () => {
    expectInvalid(await register({}), ['name', 'url'], /name is required/);
  });

  it('refuses a name a workflow could not use', async () => {
    expectInvalid(await register({ name: 'has spaces/and#hash', url: 'http://x.internal' }), ['name']);
  });

  it("refuses the names of the registry's own paths, which /registry/{name} could never reach", async () => {
    const fixedSegments = Object.values(routes)
      .map((route) => /^\/registry\/([^/{]+)$/.exec(route.path)?.[1])
      .filter((segment): segment is string => segment !== undefined);
    expect(fixedSegments.length).toBeGreaterThan(0);
    expect([...RESERVED_SERVICE_NAMES].sort()).toEqual([...new Set(fixedSegments)].sort());
    for (const name of fixedSegments) expectInvalid(await register({ name, url: 'http://x.internal' }), ['name'], /registry's own paths/);
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
    const listed = await call<Listing>('GET', '/registry');
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
    const run = createActionRunner({ registry: runtime.services.registry, env: { REGISTERED_SVC_URL: 'http://127.0.0.1:9/ignored' }, http: testHttp() });
    const result = await run({ action_id: 'a', execution_id: 'e', workflow_id: 'w', workflow_version: 1, service: 'registered_svc', endpoint: '/ping', method: 'GET', timeout_seconds: 5 });
    expect(result).toMatchObject({ status_code: 200, response: { path: '/v1/ping' } });
  });
});
