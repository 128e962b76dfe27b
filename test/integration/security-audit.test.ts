import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { routes, type RouteSpec } from '../../functions/routes.ts';
import type { ApiReply } from '../support/api.ts';
import { allAuditRecords, apiKeyHeader, bearer, pathOf, startSecureApi, type AuditRecordReply, type SecureApi } from '../support/security.ts';

/**
 * The audit trail over real HTTP: one record for every state-changing request and every refused one, with the
 * right action, outcome, actor and method; its filters and paging; and no credential anywhere in it, in
 * responses or in logs.
 */

const marker = randomUUID().slice(0, 8);
const ADMIN = `audit-admin-${marker}`;
const VIEWER = `audit-viewer-${marker}`;
const suiteStart = new Date(Date.now() - 60_000).toISOString();

let api: SecureApi;
let admin: Record<string, string>;
let setup: Record<string, string>;
let viewer: Record<string, string>;
const consoleLines: string[] = [];
const fixtures = { workflow: '', doomed: '', run: '', key: '', service: `doomed_${marker}` };
/** Every credential this suite presents, and what was created: none may show up where it should not. */
const secrets: string[] = [];
let createdKey = '';

/** One audited request: the route it went to, what the API answered, and its request id. */
interface Sent {
  name: string;
  route: RouteSpec;
  status: number;
  requestId: string;
  reply: ApiReply;
}
const sent: Sent[] = [];

function notifying(name: string) {
  return { name, actions: [{ action_id: 'tell', action_type: 'notification', config: { message: `hello from ${name}` } }] };
}

async function send(name: string, route: RouteSpec, headers: Record<string, string>, request: { params?: Record<string, string>; query?: string; body?: unknown } = {}): Promise<Sent> {
  const reply = await api.call(route.method, `${pathOf(route, request.params)}${request.query ?? ''}`, { headers, ...(request.body === undefined ? {} : { body: request.body }) });
  const entry = { name, route, status: reply.status, requestId: reply.headers.get('x-request-id') ?? '', reply };
  expect(entry.requestId, `${name} answered without X-Request-Id`).not.toBe('');
  sent.push(entry);
  return entry;
}

/** A realistic request per state-changing route; a route added later gets ids that name nothing and an empty body. */
function requestFor(name: string, route: RouteSpec): { params?: Record<string, string>; query?: string; body?: unknown } {
  switch (name) {
    case 'createWorkflow': return { body: notifying(`audited-${marker}`) };
    case 'createFromTemplate': return { body: { template_name: 'hello_world' } };
    case 'updateWorkflow': return { params: { workflow_id: fixtures.workflow }, body: { description: 'audited change' } };
    case 'deleteWorkflow': return { params: { workflow_id: fixtures.doomed } };
    case 'executeWorkflow': return { params: { workflow_id: fixtures.workflow }, body: { parameters: {} } };
    case 'cancelExecution': return { params: { execution_id: fixtures.run } };
    case 'registerService': return { body: { name: `audited_${marker}`, url: 'http://audited.internal:8080' } };
    case 'deregisterService': return { params: { name: fixtures.service } };
    case 'replicateInstances': return { body: { instances: [] } };
    case 'runHealthCheck':
    case 'pollOpenApi': return { query: `?name=absent_${marker}` };
    case 'createApiKey': return { body: { name: `audited-key-${marker}`, role: 'viewer' } };
    case 'revokeApiKey': return { params: { key_id: fixtures.key } };
    default: return route.body ? { body: {} } : {};
  }
}

const stateChanging = Object.entries(routes).filter(([, route]) => (route as RouteSpec).method !== 'GET') as [string, RouteSpec][];

beforeAll(async () => {
  for (const method of ['log', 'info', 'warn', 'error'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void consoleLines.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')));
  }
  // Waits last their full time here (an hour), so the fixture run is still going when it is cancelled.
  api = await startSecureApi({ mode: 'required', overrides: { waitMilliseconds: undefined } });
  admin = bearer(await api.token(ADMIN, 'admin'));
  setup = bearer(await api.token(`audit-setup-${marker}`, 'admin'));
  viewer = bearer(await api.token(VIEWER, 'viewer'));
  secrets.push(api.secret, api.peerToken, api.adminApiKey, admin.authorization!.slice(7), setup.authorization!.slice(7), viewer.authorization!.slice(7));

  const created = async (body: unknown) => (await api.call('POST', '/workflows', { headers: setup, body })).body.data.workflow_id as string;
  fixtures.workflow = await created(notifying(`fixture-${marker}`));
  fixtures.doomed = await created(notifying(`doomed-${marker}`));
  // A wait keeps the run going long enough to be cancelled.
  const waiting = await created({ name: `waiting-${marker}`, actions: [{ action_id: 'pause', action_type: 'wait', config: { seconds: 3600 } }] });
  fixtures.run = (await api.call('POST', `/workflows/${waiting}/execute`, { headers: setup, body: { parameters: {} } })).body.data.execution_id as string;
  const key = await api.call('POST', '/auth/api-keys', { headers: setup, body: { name: `doomed-key-${marker}`, role: 'viewer' } });
  fixtures.key = key.body.data.key_id as string;
  secrets.push(key.body.data.api_key as string);
  expect((await api.call('POST', '/registry/register', { headers: setup, body: { name: fixtures.service, url: 'http://doomed.internal:8080' } })).status).toBe(201);

  for (const [name, route] of stateChanging) {
    const entry = await send(name, route, admin, requestFor(name, route));
    if (name === 'createApiKey') {
      createdKey = entry.reply.body.data.api_key as string;
      secrets.push(createdKey);
    }
  }
});
afterAll(async () => {
  await api?.runtime.close();
  vi.restoreAllMocks();
});

/** The trail since the suite began (every record of this API: its audit table is its own). */
const dump = (query: Record<string, string> = {}) => allAuditRecords(api.call, setup, { since: suiteStart, ...query });

function recordsOf(records: AuditRecordReply[], requestId: string): AuditRecordReply[] {
  return records.filter((record) => record.request_id === requestId);
}

describe('every state-changing request leaves exactly one record', () => {
  it('covers every state-changing route of the table', () => {
    expect(sent.map((entry) => entry.name)).toEqual(stateChanging.map(([name]) => name));
    expect(sent.length).toBeGreaterThanOrEqual(14);
  });

  for (const [name, route] of stateChanging) {
    it(`${name} (${route.method} ${route.path}): action, outcome, actor, method and targets`, async () => {
      const entry = sent.find((candidate) => candidate.name === name)!;
      const records = recordsOf(await dump(), entry.requestId);
      expect(records, `records of ${name} (answered ${entry.status})`).toHaveLength(1);
      const [record] = records;
      expect(record).toMatchObject({ action: name, outcome: entry.status, actor: ADMIN, method: 'jwt', roles: ['admin'], tenant: 'default', route: `${route.method} ${route.path}` });
      for (const id of Object.values(requestFor(name, route).params ?? {})) expect(record!.targets).toContain(id);
      const createdId = entry.reply.body.data?.workflow_id ?? entry.reply.body.data?.key_id ?? entry.reply.body.data?.subscription_id;
      if (entry.status === 201 && typeof createdId === 'string') expect(record!.targets).toContain(createdId);
      // Each id once: a run's workflow is named by the path and by the response, and is listed once.
      expect(new Set(record!.targets).size, JSON.stringify(record!.targets)).toBe(record!.targets.length);
    });
  }

  it('most of these requests did what they asked (the records describe real work, not only refusals)', () => {
    const succeeded = sent.filter((entry) => entry.status >= 200 && entry.status < 300).map((entry) => entry.name);
    expect(succeeded).toEqual(expect.arrayContaining(['createWorkflow', 'createFromTemplate', 'updateWorkflow', 'deleteWorkflow', 'executeWorkflow', 'cancelExecution', 'registerService', 'deregisterService', 'createApiKey', 'revokeApiKey']));
  });

  it('leaves no record of a read that was let through', async () => {
    const read = await api.call('GET', '/workflows', { headers: admin });
    expect(read.status).toBe(200);
    expect(recordsOf(await dump(), read.headers.get('x-request-id')!)).toEqual([]);
  });
});

describe('refused requests leave a record too', () => {
  it('a bad token (401 at the gate)', async () => {
    const token = admin.authorization!.slice(7);
    const forged = `${token.slice(0, -3)}${token.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    secrets.push(forged);
    const reply = await send('createWorkflow', routes.createWorkflow, bearer(forged), { body: notifying(`forged-${marker}`) });
    expect(reply.status).toBe(401);
    const records = recordsOf(await dump(), reply.requestId);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 401, route: 'POST /workflows', reason: expect.any(String) });
    // The local gate names the route; the Lambda authorizer, which runs before routing, says `authenticate`.
    expect(['createWorkflow', 'authenticate']).toContain(records[0]!.action);
    expect(records[0]!.actor).not.toBe(ADMIN);
  });

  it('no credential (401 at the route)', async () => {
    const reply = await send('createWorkflow', routes.createWorkflow, {}, { body: notifying(`anonymous-${marker}`) });
    expect(reply.status).toBe(401);
    expect(recordsOf(await dump(), reply.requestId)).toMatchObject([{ action: 'createWorkflow', outcome: 401, method: 'anonymous' }]);
  });

  it('a viewer creating a workflow, and a viewer reading the trail (403)', async () => {
    const post = await send('createWorkflow', routes.createWorkflow, viewer, { body: notifying(`viewer-${marker}`) });
    const read = await send('listAuditRecords', routes.listAuditRecords, viewer);
    expect([post.status, read.status]).toEqual([403, 403]);
    const records = await dump();
    expect(recordsOf(records, post.requestId)).toMatchObject([{ action: 'createWorkflow', outcome: 403, actor: VIEWER, roles: ['viewer'], reason: expect.stringContaining('operator') }]);
    expect(recordsOf(records, read.requestId)).toMatchObject([{ action: 'listAuditRecords', outcome: 403, actor: VIEWER }]);
  });
});

describe('no credential leaks', () => {
  beforeAll(async () => {
    // Every other credential in use once, in an audited request.
    expect((await api.call('POST', '/registry/replicate', { headers: bearer(api.peerToken), body: { instances: [] } })).status).toBe(200);
    expect((await api.call('GET', '/auth/whoami', { headers: apiKeyHeader(createdKey) })).status).toBe(200);
    expect((await api.call('POST', '/registry/health-check', { headers: apiKeyHeader(api.adminApiKey) })).status).toBe(200);
    expect((await api.call('POST', '/workflows', { headers: apiKeyHeader(createdKey), body: notifying(`by-key-${marker}`) })).status).toBe(403);
  });

  /** Each credential, and the part of it that is secret on its own (a JWT's signature, a key's secret). */
  const needles = (): string[] => [...new Set(secrets.flatMap((secret) => [secret, secret.split('.').at(-1)!, secret.split('_').at(-1)!]).filter((needle) => needle.length >= 16))];

  it('not in any audit record', async () => {
    const text = JSON.stringify(await dump());
    expect(text.length).toBeGreaterThan(1000);
    for (const needle of needles()) expect(text).not.toContain(needle);
  });

  it('not in any response but the one that created the key', () => {
    const creating = sent.find((entry) => entry.name === 'createApiKey')!;
    expect(JSON.stringify(creating.reply.body)).toContain(createdKey);
    // The responses that created keys (the one above and the fixture's) are the only ones allowed to show a key.
    const others = api.exchanges.filter((exchange) => !(exchange.method === 'POST' && exchange.path === '/auth/api-keys' && exchange.status === 201));
    expect(api.exchanges.length - others.length).toBe(2);
    expect(others.length).toBeGreaterThan(sent.length);
    const leaks = others.filter((exchange) => needles().some((needle) => exchange.body.includes(needle) || exchange.headers.includes(needle)));
    expect(leaks.map((exchange) => `${exchange.method} ${exchange.path} ${exchange.status}`)).toEqual([]);
  });

  it("not in the runtime's log lines or on the console", () => {
    const lines = [...api.logs, ...consoleLines];
    expect(api.logs.length, 'the runtime logged nothing: the capture would prove nothing').toBeGreaterThan(0);
    for (const needle of needles()) expect(lines.filter((line) => line.includes(needle))).toEqual([]);
  });
});

describe('GET /audit filters and pages', () => {
  it('lists the trail without filters, and with each filter alone', async () => {
    for (const query of ['', `?actor=${ADMIN}`, '?action=createWorkflow', `?target=${fixtures.workflow}`, '?tenant=default', '?limit=5']) {
      const reply = await api.call('GET', `/audit${query}`, { headers: setup });
      expect(reply.status, `GET /audit${query}: ${JSON.stringify(reply.body)}`).toBe(200);
    }
  });

  it('by actor: exactly the requests that actor made', async () => {
    const records = await dump({ actor: ADMIN });
    expect(records.every((record) => record.actor === ADMIN)).toBe(true);
    const mine = sent.filter((entry) => entry.reply.status !== 401 && entry.reply.status !== 403).map((entry) => entry.requestId);
    expect(records.map((record) => record.request_id).sort()).toEqual(mine.sort());
  });

  it('by action: only that route, every request to it', async () => {
    const records = await dump({ action: 'createWorkflow' });
    expect(records.every((record) => record.action === 'createWorkflow')).toBe(true);
    for (const entry of sent.filter((candidate) => candidate.name === 'createWorkflow')) expect(records.map((record) => record.request_id)).toContain(entry.requestId);
  });

  it('by target: the requests that named the workflow', async () => {
    const records = await dump({ target: fixtures.workflow });
    const actions = records.map((record) => record.action);
    expect(actions).toEqual(expect.arrayContaining(['updateWorkflow', 'executeWorkflow']));
    expect(records.every((record) => record.targets[0] === fixtures.workflow)).toBe(true);
  });

  it('by time: since and until bound the records, inclusive', async () => {
    const everything = await dump();
    const times = [...new Set(everything.map((record) => record.time))].sort();
    expect(times.length).toBeGreaterThan(3);
    const [since, until] = [times[1]!, times.at(-2)!];
    const window = await dump({ since, until });
    expect(window.every((record) => record.time >= since && record.time <= until)).toBe(true);
    expect(window.map((record) => record.audit_id).sort()).toEqual(everything.filter((record) => record.time >= since && record.time <= until).map((record) => record.audit_id).sort());
    expect(window.length).toBeLessThan(everything.length);
  });

  it('pages with limit and next_token: newest first, no record twice, none missed', async () => {
    const everything = await dump();
    const pages: AuditRecordReply[][] = [];
    let nextToken: string | null = null;
    do {
      const query = new URLSearchParams({ since: suiteStart, limit: '4', ...(nextToken ? { next_token: nextToken } : {}) });
      const reply: ApiReply<{ records: AuditRecordReply[]; next_token: string | null }> = await api.call('GET', `/audit?${query}`, { headers: setup });
      expect(reply.status).toBe(200);
      expect(reply.body.data.records.length).toBeLessThanOrEqual(4);
      pages.push(reply.body.data.records);
      nextToken = reply.body.data.next_token;
    } while (nextToken && pages.length < 100);
    expect(pages.length).toBeGreaterThan(2);
    const [first, second] = [pages[0]!.map((record) => record.audit_id), pages[1]!.map((record) => record.audit_id)];
    expect(first.filter((id) => second.includes(id))).toEqual([]);
    const flat = pages.flat();
    expect(flat.map((record) => record.audit_id).sort()).toEqual(everything.map((record) => record.audit_id).sort());
    expect(flat.map((record) => record.time)).toEqual([...flat.map((record) => record.time)].sort().reverse());
  });

  it('refuses a next_token that is not one, or that belongs to other filters (400)', async () => {
    const page = await api.call<{ next_token: string | null }>('GET', `/audit?since=${suiteStart}&limit=1`, { headers: setup });
    const token = page.body.data.next_token!;
    expect(token).toEqual(expect.any(String));
    expect((await api.call('GET', `/audit?since=${suiteStart}&next_token=not-a-token`, { headers: setup })).status).toBe(400);
    expect((await api.call('GET', `/audit?since=${suiteStart}&actor=${ADMIN}&next_token=${token}`, { headers: setup })).status).toBe(400);
  });
});

describe('fail closed', () => {
  it('answers 503 and does nothing when the audit trail cannot be written; refusals stay refusals', async () => {
    const auditTableName = `audit-down-${randomUUID()}`;
    const down = await startSecureApi({ mode: 'required', overrides: { auditTableName } });
    try {
      const root = bearer(await down.token('root', 'admin'));
      await down.runtime.documentClient.send(new DeleteTableCommand({ TableName: auditTableName }));
      const name = `unaudited-${marker}`;
      const reply = await down.call('POST', '/workflows', { headers: root, body: notifying(name) });
      expect(reply.status, JSON.stringify(reply.body)).toBe(503);
      expect(reply.body.error_code).toBe('SERVICE_UNAVAILABLE');
      const search = await down.call<{ total_matches: number }>('GET', `/workflows/search?q=${name}`, { headers: root });
      expect(search.status).toBe(200);
      expect(search.body.data.total_matches).toBe(0);
      const refused = await down.call('POST', '/workflows', { headers: bearer(await down.token('reader', 'viewer')), body: notifying(name) });
      expect(refused.status).toBe(403);
    } finally {
      await down.runtime.close();
    }
  });
});
