import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { IfMatchHeader } from '../../functions/http/workflow-schemas.ts';
import { RESERVED_WORKFLOW_IDS } from '../../functions/fixed-path-words.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';

/**
 * Edges of the API over real HTTP: messages that name the rule broken, a body with prototype keys, requests the
 * OpenAPI document admits exactly when the server does, and ids a fixed path would shadow.
 */

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
let runtime: LocalRuntime;
let call: Call;

beforeAll(async () => {
  ({ runtime, call } = await startTestApi());
});
afterAll(() => runtime.close());

const workflowBody = (name = 'edges') => ({ name, actions: [{ action_id: 'only', action_type: 'notification', config: { message: 'hi' } }] });

function expectRefused(reply: ApiReply, field: string, message: string | RegExp): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(400);
  expect(reply.body.error_code).toBe('VALIDATION_ERROR');
  expect(reply.body.details).toContainEqual({ field, message: typeof message === 'string' ? message : expect.stringMatching(message) });
}

describe('messages name the rule broken', () => {
  it('names the limit of an over-long query string, not its presence or type', async () => {
    expectRefused(await call('GET', `/workflows/search?q=${'x'.repeat(5000)}`), 'q', 'q must be at most 200 characters');
    expectRefused(await call('GET', `/workflows?created_by=${'c'.repeat(300)}`), 'created_by', 'created_by must be at most 256 characters');
    expectRefused(await call('GET', `/audit?actor=${'a'.repeat(300)}`), 'actor', 'actor must be at most 256 characters');
  });

  it('names the bound of an out-of-range number, the options of an enum and the format of a date', async () => {
    expectRefused(await call('GET', '/workflows?page_size=500'), 'page_size', 'page_size must be at most 100');
    expectRefused(await call('GET', '/workflows?page=0'), 'page', 'page must be at least 1');
    expectRefused(await call('GET', '/workflows?page=1e300'), 'page', /^page must be at most 9007199254740991$/);
    expectRefused(await call('GET', '/workflows/history?status=exploded'), 'status', /^status must be one of pending, running, /);
    expectRefused(await call('GET', '/workflows/history?since=yesterday'), 'since', /^since must be an ISO 8601 timestamp/);
  });

  it('names the limit of an over-long path id and body field', async () => {
    expectRefused(await call('GET', `/workflows/${'w'.repeat(129)}`), 'workflow_id', 'workflow_id must be at most 128 characters');
    const service = { action_id: 'call', action_type: 'service_call', config: { service: 's'.repeat(129), endpoint: '/x', method: 'GET' } };
    expectRefused(await call('POST', '/workflows', { body: { name: 'n'.repeat(201), actions: [service] } }), 'name', 'name must be at most 200 characters');
    expectRefused(await call('POST', '/workflows', { body: { name: 'n', actions: [service] } }), 'actions[0].config.service', 'actions[0].config.service must be at most 128 characters');
    expectRefused(await call('POST', '/registry/register', { body: { name: 'svc', url: 'http://svc.internal', version: 'v'.repeat(65) } }), 'version', 'version must be at most 64 characters');
    expectRefused(await call('POST', '/auth/api-keys', { body: { name: 'k', role: 'root' } }), 'role', 'role must be one of viewer, operator, admin');
  });
});

describe('a body with __proto__ or constructor.prototype', () => {
  const send = (rawBody: string) => call('POST', '/workflows', { rawBody, headers: { 'content-type': 'application/json' } });
  const RULE = 'keys __proto__ and constructor.prototype are not allowed';

  it('is valid JSON refused as a field problem, naming where the key is and the rule', async () => {
    const reply = await send('{"__proto__": {}, "name": "x"}');
    expect(reply.body.error_code).toBe('VALIDATION_ERROR');
    expect(reply.body.details).toEqual([{ field: '__proto__', message: RULE }]);
    expect(reply.status).toBe(400);
    expect((await send('{"name": "x", "constructor": {"prototype": {"polluted": true}}}')).body.details).toEqual([{ field: 'constructor.prototype', message: RULE }]);
    const nested = await send('{"name": "x", "actions": [{"action_id": "a", "config": {"\\u005f_proto__": {"polluted": true}}}]}');
    expect(nested.body.details).toEqual([{ field: 'actions[0].config.__proto__', message: RULE }]);
  });

  it('pollutes nothing', async () => {
    await send('{"__proto__": {"polluted": true}, "name": "x"}');
    await send('{"constructor": {"prototype": {"polluted": true}}}');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('leaves really malformed JSON malformed', async () => {
    expect((await send('{"__proto__": ')).body.error_code).toBe('MALFORMED_JSON');
  });
});

interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly schema: { readonly pattern?: string; readonly minLength?: number; readonly maxLength?: number };
}
interface OpenApi {
  paths: Record<string, Record<string, { parameters: Parameter[]; requestBody?: { content: Record<string, { schema: { $ref?: string; properties?: Record<string, { pattern?: string; format?: string }> } }> } }>>;
  components: { schemas: Record<string, { properties?: Record<string, { pattern?: string; format?: string }> }> };
}

describe('what the OpenAPI document admits, the server accepts', () => {
  let document: OpenApi;
  beforeAll(async () => {
    document = (await (await fetch(`${runtime.url}/openapi.json`)).json()) as OpenApi;
  });
  const admits = (schema: Parameter['schema'], value: string) =>
    (schema.pattern === undefined || new RegExp(schema.pattern, 'u').test(value)) && value.length >= (schema.minLength ?? 0) && value.length <= (schema.maxLength ?? Infinity);

  it('documents next_token as a base64url cursor, so that next_token=0 is outside the document as it is refused', async () => {
    for (const [path, method] of [['/workflows', 'get'], ['/workflows/history', 'get'], ['/audit', 'get']] as const) {
      const token = document.paths[path]![method]!.parameters.find((parameter) => parameter.name === 'next_token')!;
      expect(token.schema, path).toMatchObject({ pattern: '^[A-Za-z0-9_-]+$', minLength: 3 });
      expect(admits(token.schema, '0'), path).toBe(false);
    }
    expectRefused(await call('GET', '/workflows?next_token=0'), 'next_token', /^next_token must be at least 3 characters/);
    expectRefused(await call('GET', '/workflows?next_token=a%20b%2Bc'), 'next_token', /^next_token must be base64url/);
    // A token of the document's form that this API did not issue is a cursor problem, still named.
    const forged = await call('GET', '/workflows?next_token=garbage');
    expect([forged.status, forged.body.error_code]).toEqual([400, 'INVALID_CURSOR']);
  });

  it("documents a registration's url as an http(s) URI with the form the server checks, so that url 0 is outside it", async () => {
    const body = document.paths['/registry/register']!['post']!.requestBody!.content['application/json']!.schema;
    const properties = body.properties ?? document.components.schemas[body.$ref!.split('/').pop()!]!.properties!;
    const url = properties['url']!;
    expect(url.format).toBe('uri');
    const pattern = new RegExp(url.pattern!, 'u');
    const samples = ['0', 'svc.internal', 'ftp://svc.internal', 'http:/svc.internal', 'http://user:pw@svc.internal', 'http://svc.internal/?q=1', 'http://svc.internal#top', 'http://svc.internal/a b', 'http://svc.internal', 'https://svc.internal:8443/base/', 'HTTP://SVC.internal'];
    for (const sample of samples) {
      const reply = await call('POST', '/registry/register', { body: { name: `svc-${randomUUID().slice(0, 8)}`, url: sample } });
      expect(reply.status < 300, `${sample}: document ${pattern.test(sample) ? 'admits' : 'refuses'} it, server answered ${reply.status} ${JSON.stringify(reply.body.details)}`).toBe(pattern.test(sample));
    }
  });

  it('refuses exactly the If-Match values the exported IfMatchHeader schema refuses (empty ones too)', async () => {
    const created = await call<{ workflow_id: string }>('POST', '/workflows', { body: workflowBody() });
    const id = created.body.data.workflow_id;
    for (const value of ['', '""', ' ', 'abc', '"1", "2"', 'W/""', '*', '"999"', 'W/"999"', '999']) {
      const reply = await call('PUT', `/workflows/${id}`, { body: { description: 'x' }, headers: { 'if-match': value } });
      const refused = reply.status === 400 && reply.body.details?.some((detail) => detail.field === 'If-Match') === true;
      expect(refused, `If-Match ${JSON.stringify(value)}: server ${reply.status}`).toBe(!IfMatchHeader.safeParse(value).success);
    }
  });
});

describe('ids a fixed path would shadow', () => {
  let shadowed: Awaited<ReturnType<typeof startTestApi>>;
  /** What the id generator hands out next (each fixed path word once), before random ids again. */
  let words: string[] = [];
  beforeAll(async () => {
    shadowed = await startTestApi({ ids: { next: () => words.shift() ?? randomUUID() } });
  });
  afterAll(() => shadowed.runtime.close());

  it('are never given to a workflow, created or from a template: the generator is asked again', async () => {
    // The request's audit record takes the first id (ids of audit records must be unique); the workflow would get the second.
    words = [randomUUID(), ...RESERVED_WORKFLOW_IDS];
    const created = await shadowed.call<{ workflow_id: string }>('POST', '/workflows', { body: workflowBody() });
    expect(created.status).toBe(201);
    expect(RESERVED_WORKFLOW_IDS).not.toContain(created.body.data.workflow_id);
    words = [randomUUID(), ...RESERVED_WORKFLOW_IDS];
    const fromTemplate = await shadowed.call<{ workflow_id: string }>('POST', '/workflows/from-template', { body: { template_name: 'hello_world' } });
    expect(fromTemplate.status).toBe(201);
    expect(RESERVED_WORKFLOW_IDS).not.toContain(fromTemplate.body.data.workflow_id);
    for (const id of [created.body.data.workflow_id, fromTemplate.body.data.workflow_id]) {
      expect((await shadowed.call<{ workflow_id: string }>('GET', `/workflows/${id}`)).body.data.workflow_id).toBe(id);
    }
  });
});
