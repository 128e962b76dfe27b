import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiReply } from '../support/api.ts';
import { bearer, startSecureApi, type SecureApi } from '../support/security.ts';

/**
 * Broken object-level authorization: two tenants on one API. Another tenant's workflow or run must be
 * indistinguishable from one that does not exist, and must leave no trace in listings, search, statistics
 * or history. Admins see every tenant and may narrow to one.
 */

let api: SecureApi;
let acme: Record<string, string>;
let globex: Record<string, string>;
let admin: Record<string, string>;

const marker = randomUUID().slice(0, 8);
const acmeName = `acme-confidential-${marker}`;
const acmeSecretMessage = `acme-private-note-${marker}`;
const globexName = `globex-own-${marker}`;
let acmeWorkflow: string;
let acmeRun: string;
let globexWorkflow: string;
let globexRun: string;

function notifying(name: string, message: string) {
  return { name, description: `${name} description`, tags: [name], actions: [{ action_id: 'tell', action_type: 'notification', config: { message } }] };
}

/** Acme's workflow: a notification, and a transform whose output is acme's own data. */
function acmeDefinition() {
  const base = notifying(acmeName, acmeSecretMessage);
  return { ...base, actions: [...base.actions, { action_id: 'reveal', action_type: 'transform', config: { output: { note: acmeSecretMessage } } }] };
}

async function create(headers: Record<string, string>, definition: unknown): Promise<string> {
  const reply = await api.call('POST', '/workflows', { headers, body: definition });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.data.workflow_id as string;
}

async function runToEnd(headers: Record<string, string>, workflowId: string): Promise<{ id: string; status: string; body: unknown }> {
  const started = await api.call('POST', `/workflows/${workflowId}/execute`, { headers, body: { parameters: {} } });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const id = started.body.data.execution_id as string;
  for (let attempt = 0; attempt < 200; attempt++) {
    const read = await api.call('GET', `/workflows/executions/${id}`, { headers });
    const status = read.body.data.status as string;
    if (!['pending', 'running'].includes(status)) return { id, status, body: read.body.data };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`run ${id} did not end`);
}

beforeAll(async () => {
  api = await startSecureApi({ mode: 'required' });
  acme = bearer(await api.token(`acme-operator-${marker}`, 'operator', 'acme'));
  globex = bearer(await api.token(`globex-operator-${marker}`, 'operator', 'globex'));
  admin = bearer(await api.token(`root-${marker}`, 'admin', 'default'));
  acmeWorkflow = await create(acme, acmeDefinition());
  const acmeOutcome = await runToEnd(acme, acmeWorkflow);
  expect(acmeOutcome.status).toBe('completed');
  acmeRun = acmeOutcome.id;
  globexWorkflow = await create(globex, notifying(globexName, 'globex note'));
  globexRun = (await runToEnd(globex, globexWorkflow)).id;
});
afterAll(() => api?.runtime.close());

/** A 404 for another tenant's object, next to the 404 for an id that exists nowhere: same status, code, message and details but for the id. */
function expectSameAsAbsent(reply: ApiReply, realId: string, absent: ApiReply, absentId: string): void {
  expect(absent.status, JSON.stringify(absent.body)).toBe(404);
  expect(reply.status, JSON.stringify(reply.body)).toBe(404);
  const shape = (body: ApiReply['body'], id: string) => ({
    keys: Object.keys(body).sort(),
    error_code: body.error_code,
    message: body.message.replaceAll(id, '<id>'),
    details: JSON.stringify(body.details).replaceAll(id, '<id>'),
  });
  expect(shape(reply.body, realId)).toEqual(shape(absent.body, absentId));
}

describe("another tenant's objects are not found", () => {
  it('acme itself reads its workflow and run (the 404s below are about tenants, not about ids)', async () => {
    expect((await api.call('GET', `/workflows/${acmeWorkflow}`, { headers: acme })).status).toBe(200);
    expect((await api.call('GET', `/workflows/executions/${acmeRun}`, { headers: acme })).status).toBe(200);
    const viewer = bearer(await api.token(`acme-viewer-${marker}`, 'viewer', 'acme'));
    expect((await api.call('GET', `/workflows/${acmeWorkflow}/versions`, { headers: viewer })).status).toBe(200);
  });

  const absentWorkflow = `wf-${randomUUID()}`;
  const absentRun = `ex-${randomUUID()}`;
  const workflowRequests: Array<[string, string, (id: string) => string, unknown]> = [
    ['reads', 'GET', (id) => `/workflows/${id}`, undefined],
    ['updates', 'PUT', (id) => `/workflows/${id}`, { description: 'taken over by globex' }],
    ['deletes', 'DELETE', (id) => `/workflows/${id}`, undefined],
    ['lists the versions of', 'GET', (id) => `/workflows/${id}/versions`, undefined],
    ['reads the state machine of', 'GET', (id) => `/workflows/${id}/state-machine`, undefined],
    ['lists the runs of', 'GET', (id) => `/workflows/${id}/executions`, undefined],
    ['executes', 'POST', (id) => `/workflows/${id}/execute`, { parameters: {} }],
  ];
  for (const [verb, method, path, body] of workflowRequests) {
    it(`globex ${verb} acme's workflow: 404, exactly as for an absent id`, async () => {
      const options = (headers: Record<string, string>) => ({ headers, ...(body === undefined ? {} : { body }) });
      const reply = await api.call(method, path(acmeWorkflow), options(globex));
      const absent = await api.call(method, path(absentWorkflow), options(globex));
      expectSameAsAbsent(reply, acmeWorkflow, absent, absentWorkflow);
    });
  }

  it("globex reads and cancels acme's run: 404 (not the 409 of a finished run), exactly as for an absent id", async () => {
    expectSameAsAbsent(await api.call('GET', `/workflows/executions/${acmeRun}`, { headers: globex }), acmeRun, await api.call('GET', `/workflows/executions/${absentRun}`, { headers: globex }), absentRun);
    expectSameAsAbsent(
      await api.call('POST', `/workflows/executions/${acmeRun}/cancel`, { headers: globex }),
      acmeRun,
      await api.call('POST', `/workflows/executions/${absentRun}/cancel`, { headers: globex }),
      absentRun,
    );
  });

  it("left acme's workflow and run as they were", async () => {
    const workflow = await api.call('GET', `/workflows/${acmeWorkflow}`, { headers: acme });
    expect(workflow.status).toBe(200);
    expect(workflow.body.data).toMatchObject({ description: `${acmeName} description`, version: 1 });
    const runs = await api.call<{ executions: { execution_id: string }[] }>('GET', `/workflows/${acmeWorkflow}/executions`, { headers: acme });
    expect(runs.body.data.executions.map((run) => run.execution_id)).toEqual([acmeRun]);
    expect((await api.call('GET', `/workflows/executions/${acmeRun}`, { headers: acme })).body.data.status).toBe('completed');
  });
});

describe('listings show no trace of another tenant', () => {
  const traces = () => [acmeWorkflow, acmeName, acmeRun, acmeSecretMessage, `acme-operator-${marker}`];

  const globexReads = [
    '/workflows',
    '/workflows?tenant=acme',
    `/workflows/search?q=${encodeURIComponent(acmeName)}`,
    `/workflows/search?q=${encodeURIComponent(acmeName)}&tenant=acme`,
    '/workflows/search?q=acme',
    '/workflows/statistics',
    '/workflows/statistics?tenant=acme',
    '/workflows/history',
    '/workflows/history?tenant=acme',
  ];
  for (const path of globexReads) {
    it(`globex GET ${path} holds nothing of acme's`, async () => {
      const reply = await api.call('GET', path, { headers: globex });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      // The data, not the message, and not the query a search echoes back.
      const { query: _echoed, ...data } = reply.body.data;
      const text = JSON.stringify(data);
      for (const trace of traces()) expect(text).not.toContain(trace);
    });
  }

  it("globex's own listings do show globex's workflow and run (the checks above can see what they look for)", async () => {
    expect(JSON.stringify((await api.call('GET', '/workflows', { headers: globex })).body.data)).toContain(globexWorkflow);
    expect(JSON.stringify((await api.call('GET', `/workflows/search?q=${globexName}`, { headers: globex })).body.data)).toContain(globexWorkflow);
    expect(JSON.stringify((await api.call('GET', '/workflows/history', { headers: globex })).body.data)).toContain(globexRun);
    const statistics = await api.call<{ total_workflows: number }>('GET', '/workflows/statistics', { headers: globex });
    const listed = await api.call<{ total: number }>('GET', '/workflows', { headers: globex });
    expect(statistics.body.data.total_workflows).toBe(listed.body.data.total);
  });

  it('an admin sees both tenants, and only acme with ?tenant=acme', async () => {
    const everything = JSON.stringify((await api.call('GET', '/workflows', { headers: admin })).body.data);
    expect(everything).toContain(acmeWorkflow);
    expect(everything).toContain(globexWorkflow);
    const acmeOnly = JSON.stringify((await api.call('GET', '/workflows?tenant=acme', { headers: admin })).body.data);
    expect(acmeOnly).toContain(acmeWorkflow);
    expect(acmeOnly).not.toContain(globexWorkflow);
    const history = JSON.stringify((await api.call('GET', '/workflows/history?tenant=acme', { headers: admin })).body.data);
    expect(history).toContain(acmeRun);
    expect(history).not.toContain(globexRun);
    const search = JSON.stringify((await api.call('GET', `/workflows/search?q=${marker}&tenant=globex`, { headers: admin })).body.data);
    expect(search).toContain(globexWorkflow);
    expect(search).not.toContain(acmeWorkflow);
    expect((await api.call('GET', `/workflows/executions/${acmeRun}`, { headers: admin })).status).toBe(200);
  });
});

describe('sub-workflows stay in their tenant', () => {
  const subWorkflow = (name: string, workflowId: string, version?: number) => ({
    name,
    actions: [{ action_id: 'inner', action_type: 'sub_workflow', config: { workflow_id: workflowId, ...(version === undefined ? {} : { version }) } }],
  });

  it("refuses to run a globex workflow whose sub_workflow is acme's", async () => {
    const created = await api.call('POST', '/workflows', { headers: globex, body: subWorkflow(`globex-borrower-${marker}`, acmeWorkflow) });
    if (created.status !== 201) {
      expect([400, 404]).toContain(created.status);
      return;
    }
    const reply = await api.call('POST', `/workflows/${created.body.data.workflow_id}/execute`, { headers: globex, body: { parameters: {} } });
    expect([400, 404], JSON.stringify(reply.body)).toContain(reply.status);
    expect(JSON.stringify(reply.body)).not.toContain(acmeName);
  });

  it("refuses to reach acme's workflow through an older version of a globex sub-workflow", async () => {
    // v1 of the middle workflow calls acme's; v2 no longer does; the outer workflow pins the middle one at v1.
    const middle = await api.call('POST', '/workflows', { headers: globex, body: subWorkflow(`globex-middle-${marker}`, acmeWorkflow) });
    if (middle.status !== 201) {
      expect([400, 404]).toContain(middle.status);
      return;
    }
    const middleId = middle.body.data.workflow_id as string;
    const updated = await api.call('PUT', `/workflows/${middleId}`, { headers: globex, body: { actions: notifying('x', 'harmless').actions } });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body.data.version).toBe(2);
    const outer = await create(globex, subWorkflow(`globex-outer-${marker}`, middleId, 1));
    const reply = await api.call('POST', `/workflows/${outer}/execute`, { headers: globex, body: { parameters: {} } });
    let leaked = '';
    if (reply.status === 202) {
      await api.runtime.engine.idle();
      leaked = JSON.stringify((await api.call('GET', `/workflows/executions/${reply.body.data.execution_id}`, { headers: globex })).body.data);
    }
    expect(leaked, "the run's output holds acme's data").not.toContain(acmeSecretMessage);
    expect([400, 404], `execute answered ${reply.status}; the run: ${leaked}`).toContain(reply.status);
  });
});
