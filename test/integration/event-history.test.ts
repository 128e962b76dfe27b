import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../core/events/envelope.ts';
import { bearer, startSecureApi, type SecureApi } from '../support/security.ts';

/**
 * The event history (issue 12) through the local server: the in-process bus, the recorder on its DynamoDB
 * table (dynalite), and GET /infrastructure/events/history, with real runs emitting their events.
 */

let api: SecureApi;
let acme: Record<string, string>;
let globex: Record<string, string>;
let acmeViewer: Record<string, string>;
let admin: Record<string, string>;
const marker = randomUUID().slice(0, 8);
let acmeWorkflow: string;
let acmeRun: string;
let globexRun: string;

interface HistoryPage {
  events: EventEnvelope[];
  count: number;
  next_token: string | null;
}

async function create(headers: Record<string, string>, name: string): Promise<string> {
  const reply = await api.call('POST', '/workflows', {
    headers,
    body: {
      name,
      actions: [
        { action_id: 'tell', action_type: 'notification', config: { message: `hello ${name}` } },
        { action_id: 'shape', action_type: 'transform', depends_on: ['tell'], config: { output: { done: true } } },
      ],
    },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.data.workflow_id as string;
}

async function runToEnd(headers: Record<string, string>, workflowId: string): Promise<string> {
  const started = await api.call('POST', `/workflows/${workflowId}/execute`, { headers, body: { parameters: {} } });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const id = started.body.data.execution_id as string;
  for (let attempt = 0; attempt < 400; attempt++) {
    const read = await api.call('GET', `/workflows/executions/${id}`, { headers });
    if (!['pending', 'running'].includes(read.body.data.status as string)) return id;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`run ${id} did not end`);
}

async function history(headers: Record<string, string>, query: string) {
  await api.runtime.events.idle();
  return api.call<HistoryPage>('GET', `/infrastructure/events/history?${query}`, { headers });
}

beforeAll(async () => {
  api = await startSecureApi({ mode: 'required' });
  acme = bearer(await api.token(`acme-op-${marker}`, 'operator', 'acme'));
  acmeViewer = bearer(await api.token(`acme-viewer-${marker}`, 'viewer', 'acme'));
  globex = bearer(await api.token(`globex-op-${marker}`, 'operator', 'globex'));
  admin = bearer(await api.token(`root-${marker}`, 'admin', 'default'));
  acmeWorkflow = await create(acme, `acme-${marker}`);
  acmeRun = await runToEnd(acme, acmeWorkflow);
  globexRun = await runToEnd(globex, await create(globex, `globex-${marker}`));
});
afterAll(() => api?.runtime.close());

describe('the event history', () => {
  it("records a run's events in the order they happened, each in the envelope, tied to the run", async () => {
    const reply = await history(acmeViewer, `execution_id=${acmeRun}&limit=50`);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const events = [...reply.body.data.events].reverse();
    expect(events.map((event) => `${event.type}${event.data['action_id'] ? ` ${String(event.data['action_id'])}` : ''}`)).toEqual([
      'orchestrator.run.requested',
      'orchestrator.run.started',
      'orchestrator.action.started tell',
      'orchestrator.action.completed tell',
      'orchestrator.action.started shape',
      'orchestrator.action.completed shape',
      'orchestrator.run.completed',
    ]);
    const [requested] = events;
    expect(requested).toMatchObject({
      source: '/orchestrator/runs',
      subject: `executions/${acmeRun}`,
      tenant: 'acme',
      correlation_id: acmeRun,
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      data: { execution_id: acmeRun, workflow_id: acmeWorkflow, workflow_version: 1, started_by: `acme-op-${marker}` },
    });
    expect(events[3]).toMatchObject({ subject: `executions/${acmeRun}/actions/tell`, data: { action_id: 'tell', action_type: 'notification', status: 'completed' } });
    expect(new Set(events.map((event) => event.trace_id))).toEqual(new Set([requested!.trace_id]));
    // Each event recorded once, whatever retried.
    expect(new Set(events.map((event) => event.event_id)).size).toBe(events.length);
  });

  it('filters by type, a type family, workflow and source, newest first', async () => {
    const runEvents = await history(acme, `type=orchestrator.run.*&execution_id=${acmeRun}`);
    expect(runEvents.body.data.events.map((event) => event.type)).toEqual(['orchestrator.run.completed', 'orchestrator.run.started', 'orchestrator.run.requested']);
    const completed = await history(acme, 'type=orchestrator.run.completed');
    expect(completed.body.data.events.map((event) => event.data['execution_id'])).toEqual([acmeRun]);
    const ofWorkflow = await history(acme, `workflow_id=${acmeWorkflow}&source=/orchestrator/workflows`);
    expect(ofWorkflow.body.data.events.map((event) => event.type)).toEqual(['orchestrator.workflow.version_published', 'orchestrator.workflow.created']);
    const times = (await history(acme, 'limit=200')).body.data.events.map((event) => Date.parse(event.time));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('pages with limit and next_token, each event once, and refuses a token of other filters', async () => {
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const reply: Awaited<ReturnType<typeof history>> = await history(acme, `execution_id=${acmeRun}&limit=3${token ? `&next_token=${encodeURIComponent(token)}` : ''}`);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      seen.push(...reply.body.data.events.map((event) => event.event_id));
      token = reply.body.data.next_token;
      pages += 1;
    } while (token !== null && pages < 10);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    const first = await history(acme, `execution_id=${acmeRun}&limit=3`);
    const reused = await history(acme, `execution_id=${globexRun}&limit=3&next_token=${encodeURIComponent(first.body.data.next_token!)}`);
    expect(reused.status).toBe(400);
  });

  it('windows by since and until', async () => {
    const all = [...(await history(acme, `execution_id=${acmeRun}`)).body.data.events].reverse();
    const started = all.find((event) => event.type === 'orchestrator.run.started')!;
    const upTo = await history(acme, `execution_id=${acmeRun}&until=${encodeURIComponent(started.time)}`);
    expect(upTo.body.data.events.every((event) => Date.parse(event.time) <= Date.parse(started.time))).toBe(true);
    expect(upTo.body.data.events.map((event) => event.type)).toContain('orchestrator.run.requested');
    const future = await history(acme, `since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`);
    expect(future.body.data.events).toEqual([]);
  });

  it("shows a tenant's members their own events only; admins see every tenant's, or one", async () => {
    const acmeSees = (await history(acme, 'limit=200')).body.data.events;
    expect(acmeSees.length).toBeGreaterThan(0);
    expect(new Set(acmeSees.map((event) => event.tenant))).toEqual(new Set(['acme']));
    expect((await history(acme, `execution_id=${globexRun}`)).body.data.events).toEqual([]);
    // A member naming another tenant still sees their own.
    expect(new Set((await history(acme, 'tenant=globex&limit=200')).body.data.events.map((event) => event.tenant))).toEqual(new Set(['acme']));
    const adminSees = (await history(admin, 'limit=200')).body.data.events;
    expect(new Set(adminSees.map((event) => event.tenant))).toEqual(new Set(['acme', 'globex']));
    const narrowed = (await history(admin, 'tenant=globex&limit=200')).body.data.events;
    expect(new Set(narrowed.map((event) => event.tenant))).toEqual(new Set(['globex']));
  });

  it('refuses bad filters with a 400 naming the field and the rule', async () => {
    const unknownType = await history(acme, 'type=orchestrator.nothing');
    expect(unknownType.status).toBe(400);
    expect(unknownType.body.details).toEqual([expect.objectContaining({ field: 'type', message: expect.stringMatching(/event type/) })]);
    const backwards = await history(acme, 'since=2026-12-06T10:00:00Z&until=2026-12-06T09:00:00Z');
    expect(backwards.body.details).toEqual([expect.objectContaining({ field: 'until', message: 'until must not be before since' })]);
    const noZone = await history(acme, 'since=2026-12-06T10:00:00');
    expect(noZone.body.details).toEqual([expect.objectContaining({ field: 'since' })]);
    expect((await history(acme, 'limit=0')).body.details).toEqual([expect.objectContaining({ field: 'limit', message: 'limit must be at least 1' })]);
    expect((await api.call('GET', '/infrastructure/events/history')).status).toBe(401);
  });
});

describe('clearing the history', () => {
  it('is for admins only, deletes what is older than `before` of the types named, and answers the count', async () => {
    await api.runtime.events.idle();
    const refused = await api.call('POST', '/infrastructure/events/clear', { headers: acme, body: { before: new Date().toISOString() } });
    expect(refused.status).toBe(403);
    const before = new Date(Date.now() + 1000).toISOString();
    const acmeActions = (await history(admin, 'tenant=acme&type=orchestrator.action.*&limit=200')).body.data.events.length;
    expect(acmeActions).toBeGreaterThan(0);
    const cleared = await api.call<{ deleted: number; tenant: string }>('POST', '/infrastructure/events/clear', { headers: admin, body: { before, types: ['orchestrator.action.*'], tenant: 'acme' } });
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
    expect(cleared.body.data).toMatchObject({ deleted: acmeActions, tenant: 'acme', before });
    expect((await history(admin, 'tenant=acme&type=orchestrator.action.*')).body.data.events).toEqual([]);
    // Other types and other tenants stay.
    expect((await history(admin, `execution_id=${acmeRun}&type=orchestrator.run.*`)).body.data.events).toHaveLength(3);
    expect((await history(admin, 'tenant=globex&type=orchestrator.action.*')).body.data.events.length).toBeGreaterThan(0);
    // The clear itself is audited.
    const audit = await api.call<{ records: { action: string; outcome: number }[] }>('GET', '/audit?action=clearEvents', { headers: admin });
    expect(audit.body.data.records).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'clearEvents', outcome: 200 }), expect.objectContaining({ action: 'clearEvents', outcome: 403 })]));
  });
});
