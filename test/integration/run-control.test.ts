import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';

/**
 * Run control on the local runtime, with the real action runner calling services on loopback that count
 * their calls and record each call's Idempotency-Key: retry from the failed step, rerun from an action,
 * settled progress, and runs that continue after the runtime stops in the middle of them.
 */

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
interface ActionData {
  action_id: string;
  status: string;
  attempts: number;
  output?: { status_code: number | null; response: unknown };
  reason?: string;
}
interface ExecutionData {
  execution_id: string;
  status: string;
  parameters: Record<string, unknown>;
  actions: ActionData[];
  error?: { action_id?: string; error: string };
  redrive_count?: number;
  redrives?: { at: string; by: string; from_status: string }[];
  rerun_of?: { execution_id: string; from_action: string };
}

let services: Server;
let servicesUrl: string;
/** Calls per path, and the Idempotency-Key of each call. */
const calls = new Map<string, number>();
const keys: { path: string; key: string | undefined }[] = [];
/** Paths that answer 503 while listed; `/slow` answers after `slowMs`. */
const broken = new Set<string>();
let slowMs = 400;

const callsTo = (path: string) => calls.get(path) ?? 0;

function startServices(): Promise<void> {
  services = createServer((request: IncomingMessage, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      calls.set(path, callsTo(path) + 1);
      keys.push({ path, key: request.headers['idempotency-key'] as string | undefined });
      const reply = (status: number, body: unknown) => {
        response.statusCode = status;
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(body));
      };
      if (broken.has(path)) reply(503, { error: 'down' });
      else if (path === '/slow') setTimeout(() => reply(200, { slow: true, received: text ? JSON.parse(text) : null }), slowMs).unref();
      else reply(200, { path, n: callsTo(path), received: text ? JSON.parse(text) : null });
    });
  });
  return new Promise<void>((resolve) => services.listen(0, '127.0.0.1', resolve));
}

let runtime: LocalRuntime;
let call: Call;
const serviceUrls = () => ({ SVC_URL: servicesUrl });

beforeAll(async () => {
  await startServices();
  servicesUrl = `http://127.0.0.1:${(services.address() as AddressInfo).port}`;
  ({ runtime, call } = await startTestApi({ serviceUrls: serviceUrls() }));
});
afterAll(async () => {
  await runtime.engine.idle();
  await runtime.close();
  services.closeAllConnections();
  await new Promise<void>((resolve) => services.close(() => resolve()));
});
beforeEach(() => {
  broken.clear();
  slowMs = 400;
});

const serviceCall = (id: string, endpoint: string, extra: Record<string, unknown> = {}) => ({
  action_id: id,
  action_type: 'service_call',
  config: { service: 'svc', endpoint, method: 'POST', parameters: {} },
  retry: { max_attempts: 2, interval_seconds: 1 },
  ...extra,
});

async function createWorkflow(c: Call, definition: unknown): Promise<string> {
  const reply = await c('POST', '/workflows', { body: definition });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.data.workflow_id as string;
}

async function execute(c: Call, workflowId: string, parameters: Record<string, unknown> = {}): Promise<string> {
  const started = await c<ExecutionData>('POST', `/workflows/${workflowId}/execute`, { body: { parameters } });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return started.body.data.execution_id;
}

async function waitFor(c: Call, executionId: string, done: (execution: ExecutionData) => boolean): Promise<ExecutionData> {
  for (let i = 0; i < 400; i++) {
    const reply = await c<ExecutionData>('GET', `/workflows/executions/${executionId}`);
    if (done(reply.body.data)) return reply.body.data;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`execution ${executionId} did not reach the expected state`);
}

const ended = (execution: ExecutionData) => !['pending', 'running'].includes(execution.status);
const statuses = (execution: ExecutionData) => execution.actions.map((action) => [action.action_id, action.status]);

describe('retrying a failed run from the failed step', () => {
  it('resumes where it stopped once the service recovers: same id, each completed action called once in total', async () => {
    const prefix = `/r-${randomUUID().slice(0, 8)}`;
    const id = await createWorkflow(call, {
      name: 'retry me',
      actions: [serviceCall('first', `${prefix}/first`), serviceCall('flaky', `${prefix}/flaky`, { depends_on: ['first'] }), serviceCall('last', `${prefix}/last`, { depends_on: ['flaky'] })],
    });
    broken.add(`${prefix}/flaky`);
    const executionId = await execute(call, id);
    const failed = await waitFor(call, executionId, ended);
    expect(failed.status).toBe('failed');
    // Settled: nothing is left pending or running; the action never reached says why.
    expect(statuses(failed)).toEqual([
      ['first', 'completed'],
      ['flaky', 'failed'],
      ['last', 'not_run'],
    ]);
    expect(failed.actions[2]?.reason).toContain('the run failed at flaky');
    expect(callsTo(`${prefix}/flaky`)).toBe(2);

    broken.delete(`${prefix}/flaky`);
    const retried = await call<ExecutionData>('POST', `/workflows/executions/${executionId}/retry`);
    expect(retried.status, JSON.stringify(retried.body)).toBe(202);
    expect(retried.body.data).toMatchObject({ execution_id: executionId, status: 'running', redrive_count: 1 });
    expect(retried.body.data.redrives?.[0]).toMatchObject({ from_status: 'failed', by: 'anonymous' });
    expect(retried.headers.get('location')).toBe(`/workflows/executions/${executionId}`);

    const done = await waitFor(call, executionId, ended);
    expect(done.status).toBe('completed');
    expect(statuses(done)).toEqual([
      ['first', 'completed'],
      ['flaky', 'completed'],
      ['last', 'completed'],
    ]);
    expect([callsTo(`${prefix}/first`), callsTo(`${prefix}/flaky`), callsTo(`${prefix}/last`)]).toEqual([1, 3, 1]);
    // Attempts add up across the retry; the reused action keeps its single attempt and output.
    expect(done.actions.map((action) => action.attempts)).toEqual([1, 3, 1]);
    expect(done.actions[0]?.output?.response).toMatchObject({ path: `${prefix}/first`, n: 1 });
    // Every attempt of one action in one run carries the same Idempotency-Key.
    const flakyKeys = new Set(keys.filter((entry) => entry.path === `${prefix}/flaky`).map((entry) => entry.key));
    expect([...flakyKeys]).toEqual([`${executionId}:flaky`]);
  });

  it('refuses to retry a running or completed run (409) and a retry with parameters (400), naming why', async () => {
    const id = await createWorkflow(call, { name: 'fine', actions: [serviceCall('only', `/fine-${randomUUID().slice(0, 8)}`)] });
    const executionId = await execute(call, id);
    const done = await waitFor(call, executionId, ended);
    expect(done.status).toBe('completed');
    const conflict = await call('POST', `/workflows/executions/${executionId}/retry`);
    expect(conflict.status).toBe(409);
    expect(conflict.body.message).toContain('only failed, timed_out, cancelled runs can be retried');
    const withParameters = await call('POST', `/workflows/executions/${executionId}/retry`, { body: { parameters: { a: 1 } } });
    expect(withParameters.status).toBe(400);
    expect(withParameters.body.details?.[0]?.field).toBe('parameters');
    expect((await call('POST', '/workflows/executions/no-such-run/retry')).status).toBe(404);
    const unknownKey = await call('POST', `/workflows/executions/${executionId}/retry`, { body: { from: 'only' } });
    expect(unknownKey.status).toBe(400);
  });

  it('retries a cancelled run: the action stopped while running is cancelled, then runs again with the same key', async () => {
    const prefix = `/c-${randomUUID().slice(0, 8)}`;
    const id = await createWorkflow(call, { name: 'cancel me', actions: [serviceCall('slow', '/slow'), serviceCall('after', `${prefix}/after`, { depends_on: ['slow'] })] });
    slowMs = 1500;
    const executionId = await execute(call, id);
    await waitFor(call, executionId, (execution) => execution.actions[0]?.status === 'running');
    expect((await call('POST', `/workflows/executions/${executionId}/cancel`)).status).toBe(200);
    await runtime.engine.idle();
    const cancelled = await waitFor(call, executionId, ended);
    expect(cancelled.status).toBe('cancelled');
    expect(statuses(cancelled)).toEqual([
      ['slow', 'cancelled'],
      ['after', 'not_run'],
    ]);
    expect(cancelled.actions[0]?.reason).toContain('stopped while running');

    slowMs = 10;
    expect((await call('POST', `/workflows/executions/${executionId}/retry`)).status).toBe(202);
    const done = await waitFor(call, executionId, ended);
    expect(done.status).toBe('completed');
    expect(callsTo(`${prefix}/after`)).toBe(1);
    const slowKeys = keys.filter((entry) => entry.path === '/slow' && entry.key?.startsWith(executionId)).map((entry) => entry.key);
    expect(slowKeys).toEqual([`${executionId}:slow`, `${executionId}:slow`]);
  });
});

describe('rerunning from an action', () => {
  it('starts a new run that reuses the outputs of actions not downstream of from_action and runs the rest', async () => {
    const prefix = `/x-${randomUUID().slice(0, 8)}`;
    const id = await createWorkflow(call, {
      name: 'rerun me',
      parameters: [{ name: 'label', type: 'string', default: 'first' }],
      actions: [
        serviceCall('fetch', `${prefix}/fetch`),
        serviceCall('side', `${prefix}/side`),
        { ...serviceCall('analyze', `${prefix}/analyze`, { depends_on: ['fetch'] }), config: { service: 'svc', endpoint: `${prefix}/analyze`, method: 'POST', parameters: { doc: '{{fetch.response.n}}', label: '{{label}}' } } },
        serviceCall('report', `${prefix}/report`, { depends_on: ['analyze'] }),
      ],
    });
    const original = await execute(call, id);
    expect((await waitFor(call, original, ended)).status).toBe('completed');

    const rerun = await call<ExecutionData>('POST', `/workflows/executions/${original}/retry`, { body: { from_action: 'analyze', parameters: { label: 'second' } } });
    expect(rerun.status, JSON.stringify(rerun.body)).toBe(202);
    const rerunId = rerun.body.data.execution_id;
    expect(rerunId).not.toBe(original);
    expect(rerun.body.data.rerun_of).toEqual({ execution_id: original, from_action: 'analyze' });
    const done = await waitFor(call, rerunId, ended);
    expect(done.status).toBe('completed');
    // fetch and side were reused (called once, by the original); analyze and report ran again.
    expect([callsTo(`${prefix}/fetch`), callsTo(`${prefix}/side`), callsTo(`${prefix}/analyze`), callsTo(`${prefix}/report`)]).toEqual([1, 1, 2, 2]);
    expect(done.actions.map((action) => [action.action_id, action.status, action.attempts])).toEqual([
      ['fetch', 'completed', 0],
      ['side', 'completed', 0],
      ['analyze', 'completed', 1],
      ['report', 'completed', 1],
    ]);
    // The rerun's analyze got the reused fetch output and the new parameter; its key names the new run.
    expect(done.actions[2]?.output?.response).toMatchObject({ received: { doc: 1, label: 'second' } });
    expect(keys.filter((entry) => entry.path === `${prefix}/analyze`).map((entry) => entry.key)).toEqual([`${original}:analyze`, `${rerunId}:analyze`]);
    // The original is untouched.
    expect((await call<ExecutionData>('GET', `/workflows/executions/${original}`)).body.data.status).toBe('completed');
  });

  it('names the actions when from_action is not one of them', async () => {
    const id = await createWorkflow(call, { name: 'small', actions: [serviceCall('only', `/small-${randomUUID().slice(0, 8)}`)] });
    const executionId = await execute(call, id);
    await waitFor(call, executionId, ended);
    const reply = await call('POST', `/workflows/executions/${executionId}/retry`, { body: { from_action: 'nope' } });
    expect(reply.status).toBe(400);
    expect(reply.body.details).toEqual([{ field: 'from_action', message: expect.stringContaining('actions: only') }]);
  });
});

describe('pausing and resuming a run', () => {
  it('lets the action in flight finish, starts nothing while paused, and goes on when resumed', async () => {
    const prefix = `/p-${randomUUID().slice(0, 8)}`;
    slowMs = 400;
    const id = await createWorkflow(call, {
      name: 'pause me',
      actions: [serviceCall('one', '/slow'), serviceCall('two', `${prefix}/two`, { depends_on: ['one'] }), serviceCall('three', `${prefix}/three`, { depends_on: ['two'] })],
    });
    const executionId = await execute(call, id);
    await waitFor(call, executionId, (execution) => execution.actions[0]?.status === 'running');
    const paused = await call<ExecutionData>('POST', `/workflows/executions/${executionId}/pause`);
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    expect(paused.body.data.status).toBe('paused');
    expect((await call<ExecutionData>('POST', `/workflows/executions/${executionId}/pause`)).body.data.status).toBe('paused');

    // The call in flight finishes; the next action does not start, however long the pause.
    const held = await waitFor(call, executionId, (execution) => execution.actions[0]?.status === 'completed');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(held.status).toBe('paused');
    expect(callsTo(`${prefix}/two`)).toBe(0);
    expect(statuses((await call<ExecutionData>('GET', `/workflows/executions/${executionId}`)).body.data)).toEqual([
      ['one', 'completed'],
      ['two', 'pending'],
      ['three', 'pending'],
    ]);

    const resumed = await call<ExecutionData>('POST', `/workflows/executions/${executionId}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.data.status).toBe('running');
    const done = await waitFor(call, executionId, ended);
    expect(done.status).toBe('completed');
    expect([callsTo(`${prefix}/two`), callsTo(`${prefix}/three`)]).toEqual([1, 1]);

    expect((await call('POST', `/workflows/executions/${executionId}/pause`)).status).toBe(409);
    expect((await call('POST', `/workflows/executions/${executionId}/resume`)).status).toBe(409);
    // The run's events say so, once each (the refused pause and resume emitted nothing).
    await runtime.events.idle();
    const runEvents = (await runtime.events.history.query({ execution_id: executionId, type: 'orchestrator.run.*', limit: 50 })).items.reverse();
    expect(runEvents.map((event) => event.type)).toEqual(['orchestrator.run.requested', 'orchestrator.run.started', 'orchestrator.run.paused', 'orchestrator.run.resumed', 'orchestrator.run.completed']);
  });

  it('cancels a paused run, settling its actions', async () => {
    slowMs = 200;
    const id = await createWorkflow(call, { name: 'pause then cancel', actions: [serviceCall('one', '/slow'), serviceCall('two', `/pc-${randomUUID().slice(0, 8)}`, { depends_on: ['one'] })] });
    const executionId = await execute(call, id);
    await waitFor(call, executionId, (execution) => execution.actions[0]?.status === 'running');
    await call('POST', `/workflows/executions/${executionId}/pause`);
    await waitFor(call, executionId, (execution) => execution.actions[0]?.status === 'completed');
    expect((await call('POST', `/workflows/executions/${executionId}/cancel`)).status).toBe(200);
    await runtime.engine.idle();
    const cancelled = await waitFor(call, executionId, ended);
    expect(cancelled.status).toBe('cancelled');
    expect(statuses(cancelled)).toEqual([
      ['one', 'completed'],
      ['two', 'not_run'],
    ]);
  });
});

describe('a run cut off by a stop of the local runtime', () => {
  it('continues at the next start: completed actions are not called again, the one in flight is called again with the same key', async () => {
    const tableName = `durable-${randomUUID()}`;
    const prefix = `/d-${randomUUID().slice(0, 8)}`;
    slowMs = 800;
    const first = await startTestApi({ workflowsTableName: tableName, serviceUrls: serviceUrls() });
    const id = await createWorkflow(first.call, {
      name: 'durable',
      actions: [serviceCall('before', `${prefix}/before`), serviceCall('slow', '/slow', { depends_on: ['before'] }), serviceCall('after', `${prefix}/after`, { depends_on: ['slow'] })],
    });
    const executionId = await execute(first.call, id);
    await waitFor(first.call, executionId, (execution) => execution.actions[1]?.status === 'running');
    await first.runtime.close();
    const stopped = (await first.runtime.services.executions.getExecution(executionId).catch(() => undefined))?.status;
    expect(stopped ?? 'running').toBe('running');

    const second = await startTestApi({ workflowsTableName: tableName, serviceUrls: serviceUrls() });
    try {
      const done = await waitFor(second.call, executionId, ended);
      expect(done.status).toBe('completed');
      expect(statuses(done)).toEqual([
        ['before', 'completed'],
        ['slow', 'completed'],
        ['after', 'completed'],
      ]);
      expect([callsTo(`${prefix}/before`), callsTo(`${prefix}/after`)]).toEqual([1, 1]);
      expect(keys.filter((entry) => entry.key === `${executionId}:slow`)).toHaveLength(2);
    } finally {
      await second.runtime.close();
    }
  });
});
