import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiDriftService } from '../../core/registry/openapi-poll.ts';
import { createHttpApiDocumentSource } from '../../adapters/http/api-document-source.ts';
import { testHttp } from '../support/outbound.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
type Operation = { method: string; path: string; operation_id?: string };
type ServiceResult = {
  name: string;
  status: string;
  instance_id?: string;
  digest?: string;
  previous_digest?: string;
  operations?: number;
  counts?: { added: number; removed: number; changed: number };
  diff?: { added: Operation[]; removed: Operation[]; changed: (Operation & { previous_digest: string; digest: string })[] };
  document_changed?: boolean;
  event_id?: string;
  reason?: string;
};
type Report = { polled_at: string; services: ServiceResult[]; counts: Record<string, number> };

/** A loopback service whose answer to each path the test sets (a document, a status, raw text). */
async function documentServer(): Promise<{ server: Server; url: string; answers: Map<string, { status?: number; body: string; type?: string }> }> {
  const answers = new Map<string, { status?: number; body: string; type?: string }>();
  const server = createServer((request, response) => {
    const answer = answers.get(request.url ?? '/') ?? { status: 404, body: '{"error":"not found"}' };
    response.writeHead(answer.status ?? 200, { 'content-type': answer.type ?? 'application/json' });
    response.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, answers };
}

/** A petstore: three operations sharing one schema. */
function petstore(changes: { petFields?: Record<string, unknown>; withoutDelete?: boolean; withSearch?: boolean; description?: string } = {}) {
  const pet = { $ref: '#/components/schemas/Pet' };
  return {
    openapi: '3.1.0',
    info: { title: 'Pets', version: '1.0.0', ...(changes.description ? { description: changes.description } : {}) },
    paths: {
      '/pets': {
        get: { operationId: 'listPets', summary: 'List pets', responses: { '200': { description: 'ok', content: { 'application/json': { schema: { type: 'array', items: pet } } } } } },
        post: { operationId: 'createPet', requestBody: { content: { 'application/json': { schema: pet } } }, responses: { '201': { description: 'created' } } },
      },
      '/pets/{petId}': {
        parameters: [{ name: 'petId', in: 'path', required: true, schema: { type: 'string' } }],
        ...(changes.withoutDelete ? {} : { delete: { operationId: 'deletePet', responses: { '204': { description: 'gone' } } } }),
      },
      ...(changes.withSearch ? { '/pets/search': { get: { operationId: 'searchPets', responses: { '200': { description: 'ok' } } } } } : {}),
    },
    components: { schemas: { Pet: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, ...changes.petFields } } } },
  };
}

/** A local orchestrator and a document server for one describe block: started before its tests, stopped after. */
function orchestratorWithDocuments(): { runtime: LocalRuntime; call: Call; service: Awaited<ReturnType<typeof documentServer>> } {
  const env = {} as ReturnType<typeof orchestratorWithDocuments>;
  beforeAll(async () => {
    Object.assign(env, await startTestApi(), { service: await documentServer() });
  });
  afterAll(async () => {
    await env.runtime.close();
    await new Promise<void>((resolve) => env.service.server.close(() => resolve()));
  });
  return env;
}

describe('OpenAPI polling and drift', () => {
  const env = orchestratorWithDocuments();
  const poll = (name?: string) => env.call<Report>('POST', `/registry/poll-openapi${name === undefined ? '' : `?name=${encodeURIComponent(name)}`}`);
  const serve = (path: string, document: unknown) => env.service.answers.set(path, { body: JSON.stringify(document) });
  /** Drift events as the recorder stored them, oldest first. */
  const driftEvents = async () => {
    await env.runtime.events.idle();
    return (await env.runtime.events.history.query({ type: 'orchestrator.service.api_drift', limit: 100 })).items.reverse();
  };

  it('stores a first snapshot, finds nothing new next time, then reports operations added, removed and changed and publishes the drift', async () => {
    serve('/pets/openapi.json', petstore());
    await env.call('POST', '/registry/register', { body: { name: 'pets', url: `${env.service.url}/pets`, openapi_path: '/openapi.json' } });

    const first = await poll('pets');
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.data.services).toEqual([
      { name: 'pets', status: 'first_snapshot', instance_id: expect.any(String), source_url: `${env.service.url}/pets/openapi.json`, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), operations: 3 },
    ]);
    const digest = first.body.data.services[0]!.digest;

    const second = await poll('pets');
    expect(second.body.data.services[0]).toMatchObject({ status: 'unchanged', digest, previous_digest: digest });
    expect(await driftEvents()).toEqual([]);

    // Same content, other key order and spacing: still unchanged.
    env.service.answers.set('/pets/openapi.json', { body: JSON.stringify(petstore(), null, 2).replace('"openapi": "3.1.0",', '"openapi": "3.1.0" ,') });
    expect((await poll('pets')).body.data.services[0]?.status).toBe('unchanged');

    // The shared Pet schema changes (so both operations that use it change), DELETE goes, a search comes.
    serve('/pets/openapi.json', petstore({ petFields: { tag: { type: 'string' } }, withoutDelete: true, withSearch: true }));
    const third = await poll('pets');
    const result = third.body.data.services[0]!;
    expect(result).toMatchObject({ name: 'pets', status: 'drift', previous_digest: digest, counts: { added: 1, removed: 1, changed: 2 }, event_id: expect.any(String) });
    expect(result.digest).not.toBe(digest);
    expect(result.diff?.added).toEqual([{ method: 'GET', path: '/pets/search', operation_id: 'searchPets', digest: expect.any(String) }]);
    expect(result.diff?.removed).toEqual([{ method: 'DELETE', path: '/pets/{petId}', operation_id: 'deletePet', digest: expect.any(String) }]);
    expect(result.diff?.changed.map((operation) => `${operation.method} ${operation.path}`)).toEqual(['GET /pets', 'POST /pets']);
    expect(third.body.data.counts).toMatchObject({ drift: 1 });

    expect(await driftEvents()).toHaveLength(1);
    const [event] = await driftEvents();
    expect(event).toMatchObject({
      event_id: result.event_id,
      source: '/orchestrator/registry',
      type: 'orchestrator.service.api_drift',
      subject: 'services/pets',
      tenant: '@platform',
      data: {
        service: 'pets',
        previous_digest: digest,
        digest: result.digest,
        counts: { added: 1, removed: 1, changed: 2 },
        added: [{ method: 'GET', path: '/pets/search', operation_id: 'searchPets' }],
        removed: [{ method: 'DELETE', path: '/pets/{petId}', operation_id: 'deletePet' }],
        changed: [expect.objectContaining({ method: 'GET', path: '/pets' }), expect.objectContaining({ method: 'POST', path: '/pets' })],
        truncated: false,
      },
    });

    // The new document is the snapshot now: nothing to report, nothing published.
    expect((await poll('pets')).body.data.services[0]).toMatchObject({ status: 'unchanged', digest: result.digest });
    expect(await driftEvents()).toHaveLength(1);
  });

  it('keeps a change outside the operations as the new snapshot without calling it drift', async () => {
    serve('/info/openapi.json', petstore());
    await env.call('POST', '/registry/register', { body: { name: 'described', url: `${env.service.url}/info`, openapi_path: '/openapi.json' } });
    await poll('described');
    serve('/info/openapi.json', petstore({ description: 'Now with a description' }));
    const events = (await driftEvents()).length;
    expect((await poll('described')).body.data.services[0]).toMatchObject({ status: 'unchanged', document_changed: true });
    expect(await driftEvents()).toHaveLength(events);
  });

  it('reads Swagger 2.0 documents too', async () => {
    serve('/legacy/swagger.json', { swagger: '2.0', info: { title: 'Legacy', version: '0.9' }, paths: { '/items': { get: { operationId: 'items', responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/Item' } } } } } }, definitions: { Item: { type: 'object' } } });
    await env.call('POST', '/registry/register', { body: { name: 'legacy', url: `${env.service.url}/legacy`, openapi_path: '/swagger.json' } });
    expect((await poll('legacy')).body.data.services[0]).toMatchObject({ status: 'first_snapshot', operations: 1 });
  });

  it('keeps the snapshot out of the instance listing and of the service', async () => {
    const listed = await env.call<{ services: { name: string; instances: unknown[] }[] }>('GET', '/registry?name=pets');
    expect(listed.body.data.services).toEqual([expect.objectContaining({ name: 'pets', instances: [expect.objectContaining({ name: 'pets' })] })]);
    expect(await env.runtime.services.registry.instancesOf('pets')).toHaveLength(1);
    expect((await env.runtime.services.registry.list()).every((instance) => typeof instance.instance_id === 'string' && instance.url !== undefined)).toBe(true);
    expect((await env.runtime.services.registry.getApiSnapshot('pets'))?.operations.map((operation) => `${operation.method} ${operation.path}`)).toEqual(['GET /pets', 'POST /pets', 'GET /pets/search']);
  });

  it('answers 404 for a service that is not registered and 400 for a name no service can have', async () => {
    expect((await poll('nobody_here')).status).toBe(404);
    const bad = await poll('bad name!');
    expect(bad.status).toBe(400);
    expect(bad.body.details?.map((detail) => detail.field)).toEqual(['name']);
  });
});

describe('polling every service', () => {
  const env = orchestratorWithDocuments();

  it('skips services without an openapi_path and reports a document that is not JSON, too big or missing as an error of that service only', async () => {
    env.service.answers.set('/good/openapi.json', { body: JSON.stringify(petstore()) });
    env.service.answers.set('/yaml/openapi.yaml', { body: 'openapi: 3.0.0\ninfo:\n  title: x\n', type: 'application/yaml' });
    env.service.answers.set('/huge/openapi.json', { body: JSON.stringify({ openapi: '3.0.0', paths: {}, padding: 'x'.repeat(6 * 1024 * 1024) }) });
    env.service.answers.set('/plain/openapi.json', { body: JSON.stringify({ hello: 'world' }) });
    const register = (body: Record<string, unknown>) => env.call('POST', '/registry/register', { body });
    await register({ name: 'good', url: `${env.service.url}/good`, openapi_path: '/openapi.json' });
    await register({ name: 'no_document', url: `${env.service.url}/none` });
    await register({ name: 'yaml', url: `${env.service.url}/yaml`, openapi_path: '/openapi.yaml' });
    await register({ name: 'huge', url: `${env.service.url}/huge`, openapi_path: '/openapi.json' });
    await register({ name: 'plain', url: `${env.service.url}/plain`, openapi_path: '/openapi.json' });
    await register({ name: 'missing', url: `${env.service.url}/missing`, openapi_path: '/openapi.json' });

    const reply = await env.call<Report>('POST', '/registry/poll-openapi');
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const byName = Object.fromEntries(reply.body.data.services.map((result) => [result.name, result]));
    expect(byName['good']).toMatchObject({ status: 'first_snapshot', operations: 3 });
    expect(byName['no_document']).toEqual({ name: 'no_document', status: 'skipped', reason: 'no instance registers an openapi_path' });
    expect(byName['yaml']).toMatchObject({ status: 'error', reason: expect.stringMatching(/not JSON/) });
    expect(byName['huge']).toMatchObject({ status: 'error', reason: expect.stringMatching(/larger than|limit is/) });
    expect(byName['plain']).toMatchObject({ status: 'error', reason: expect.stringMatching(/not an OpenAPI 3\.x or Swagger 2\.0 document/) });
    expect(byName['missing']).toMatchObject({ status: 'error', reason: expect.stringMatching(/answered 404/) });
    expect(reply.body.data.counts).toEqual({ first_snapshot: 1, unchanged: 0, drift: 0, skipped: 1, error: 4 });
    expect(await env.runtime.services.registry.getApiSnapshot('yaml')).toBeUndefined();
  });

  it('reads the document from a healthy instance rather than an unhealthy one', async () => {
    env.service.answers.set('/sick/openapi.json', { status: 500, body: '{}' });
    env.service.answers.set('/well/openapi.json', { body: JSON.stringify(petstore()) });
    await env.call('POST', '/registry/register', { body: { name: 'twins', instance_id: 'a-sick', url: `${env.service.url}/sick`, openapi_path: '/openapi.json' } });
    await env.call('POST', '/registry/register', { body: { name: 'twins', instance_id: 'b-well', url: `${env.service.url}/well`, openapi_path: '/openapi.json' } });
    const checked = (status: 'healthy' | 'unhealthy') => ({ status, checked_at: new Date().toISOString(), latency_ms: 1, history: [], consecutive_failures: status === 'healthy' ? 0 : 3 });
    await env.runtime.services.registry.recordHealth('twins', 'a-sick', checked('unhealthy'));
    await env.runtime.services.registry.recordHealth('twins', 'b-well', checked('healthy'));
    expect((await env.call<Report>('POST', '/registry/poll-openapi?name=twins')).body.data.services[0]).toMatchObject({ status: 'first_snapshot', instance_id: 'b-well' });
  });

  it('puts the previous snapshot back when the drift event cannot be published, so the next poll reports the drift again', async () => {
    env.service.answers.set('/flaky/openapi.json', { body: JSON.stringify(petstore()) });
    await env.call('POST', '/registry/register', { body: { name: 'flaky_bus', url: `${env.service.url}/flaky`, openapi_path: '/openapi.json' } });
    const published: unknown[] = [];
    let busDown = true;
    const drift = createApiDriftService({
      registry: env.runtime.services.registry,
      documents: createHttpApiDocumentSource({ http: testHttp() }),
      events: {
        publish: async (event) => {
          if (busDown) throw new Error('the bus is unavailable');
          published.push(event);
        },
      },
      clock: { now: () => new Date().toISOString() },
      ids: { next: () => 'event-1' },
    });
    const first = (await drift.poll('flaky_bus')).services[0]!;
    expect(first.status).toBe('first_snapshot');
    env.service.answers.set('/flaky/openapi.json', { body: JSON.stringify(petstore({ withSearch: true })) });
    expect((await drift.poll('flaky_bus')).services[0]).toMatchObject({ status: 'error', counts: { added: 1 }, reason: expect.stringMatching(/not published: the bus is unavailable/) });
    expect((await env.runtime.services.registry.getApiSnapshot('flaky_bus'))?.digest).toBe(first.digest);
    busDown = false;
    expect((await drift.poll('flaky_bus')).services[0]).toMatchObject({ status: 'drift', counts: { added: 1 }, event_id: expect.stringMatching(/-event-1$/) });
    expect(published).toHaveLength(1);
  });

  it('refuses to read a document from an address the outbound policy forbids', async () => {
    const strict = createApiDriftService({
      registry: env.runtime.services.registry,
      documents: createHttpApiDocumentSource({ http: testHttp({ allow: [] }) }),
      events: { publish: async () => undefined },
      clock: { now: () => new Date().toISOString() },
      ids: { next: () => 'never' },
    });
    expect((await strict.poll('good')).services[0]).toMatchObject({ status: 'error', reason: expect.stringMatching(/refused to call 127\.0\.0\.1.*loopback/) });
  });
});

describe('the local poll schedule', () => {
  it('polls by itself every ORCHESTRATOR_OPENAPI_POLL_INTERVAL seconds', async () => {
    const service = await documentServer();
    service.answers.set('/openapi.json', { body: JSON.stringify(petstore()) });
    const api = await startTestApi({ openApiPollIntervalSeconds: 1 });
    try {
      await api.call('POST', '/registry/register', { body: { name: 'scheduled', url: service.url, openapi_path: '/openapi.json' } });
      const deadline = Date.now() + 5000;
      while ((await api.runtime.services.registry.getApiSnapshot('scheduled')) === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await api.runtime.services.registry.getApiSnapshot('scheduled'))?.operations).toHaveLength(3);
    } finally {
      await api.runtime.close();
      await new Promise<void>((resolve) => service.server.close(() => resolve()));
    }
  });
});
