import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqsClient } from '../../adapters/aws/sqs/sqs-dead-letter-queue.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';

/**
 * Sagas on the local runtime (GET /infrastructure/saga/{id} and /stats), with the real action runner calling
 * loopback services: a failing step compensates the completed ones, newest first; a compensation that keeps
 * failing is retried, dead-lettered, and makes the saga compensation_failed, never compensated.
 */

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
interface Saga {
  saga_id: string;
  state: string;
  execution_status: string;
  completed_steps: { action_id: string }[];
  failed_step: { action_id: string; error?: { error: string } } | null;
  compensations: { action_id: string; status: string; attempts: number; started_at?: string; ended_at?: string; error?: { error: string } }[];
  compensation_ms: number | null;
}

let services: Server;
let servicesUrl: string;
const calls: string[] = [];
const broken = new Set<string>();
let runtime: LocalRuntime;
let call: Call;

beforeAll(async () => {
  services = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      calls.push(path);
      response.setHeader('content-type', 'application/json');
      if ([...broken].some((prefix) => path.startsWith(prefix))) {
        response.statusCode = 503;
        response.end(JSON.stringify({ error: 'down' }));
      } else response.end(JSON.stringify({ id: `${path}-id` }));
    });
  });
  await new Promise<void>((resolve) => services.listen(0, '127.0.0.1', resolve));
  servicesUrl = `http://127.0.0.1:${(services.address() as AddressInfo).port}`;
  ({ runtime, call } = await startTestApi({ serviceUrls: { SVC_URL: servicesUrl } }));
});
afterAll(async () => {
  await runtime.engine.idle();
  await runtime.close();
  services.closeAllConnections();
  await new Promise<void>((resolve) => services.close(() => resolve()));
});

const svc = (endpoint: string) => ({ service: 'svc', endpoint, method: 'POST', parameters: {} });
const once = { max_attempts: 1, interval_seconds: 1 };

function orderSaga(prefix: string) {
  return {
    name: `order saga ${prefix}`,
    actions: [
      { action_id: 'reserve', action_type: 'service_call', config: svc(`${prefix}/reserve`), retry: once, compensation: { action_type: 'service_call', config: svc(`${prefix}/release`) } },
      { action_id: 'charge', action_type: 'service_call', depends_on: ['reserve'], config: svc(`${prefix}/charge`), retry: once, compensation: { action_type: 'service_call', config: svc(`${prefix}/refund`) } },
      { action_id: 'ship', action_type: 'service_call', depends_on: ['charge'], config: svc(`${prefix}/ship`), retry: once, on_failure: 'compensate' },
    ],
  };
}

async function runToEnd(workflow: unknown): Promise<{ workflowId: string; executionId: string }> {
  const created = await call('POST', '/workflows', { body: workflow });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const workflowId = created.body.data.workflow_id as string;
  const started = await call('POST', `/workflows/${workflowId}/execute`, { body: {} });
  const executionId = started.body.data.execution_id as string;
  for (let i = 0; i < 400; i++) {
    const status = (await call('GET', `/workflows/executions/${executionId}`)).body.data.status as string;
    if (!['pending', 'running'].includes(status)) return { workflowId, executionId };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the saga did not end');
}

describe('sagas', () => {
  it('compensates the completed steps newest first when a step fails: state compensated', async () => {
    const prefix = `/s-${randomUUID().slice(0, 8)}`;
    broken.add(`${prefix}/ship`);
    const { executionId } = await runToEnd(orderSaga(prefix));
    const saga = await call<Saga>('GET', `/infrastructure/saga/${executionId}`);
    expect(saga.status, JSON.stringify(saga.body)).toBe(200);
    expect(saga.body.data).toMatchObject({ saga_id: executionId, state: 'compensated', execution_status: 'failed' });
    expect(saga.body.data.completed_steps.map((step) => step.action_id)).toEqual(['reserve', 'charge']);
    expect(saga.body.data.failed_step?.action_id).toBe('ship');
    expect(saga.body.data.compensations.map((compensation) => [compensation.action_id, compensation.status])).toEqual([
      ['charge', 'completed'],
      ['reserve', 'completed'],
    ]);
    expect(calls.filter((path) => path.startsWith(prefix))).toEqual([`${prefix}/reserve`, `${prefix}/charge`, `${prefix}/ship`, `${prefix}/refund`, `${prefix}/release`]);
    expect(saga.body.data.compensation_ms).toEqual(expect.any(Number));
    // Each compensation is an event, newest step first, after the failure that caused it.
    await runtime.events.idle();
    const actionEvents = (await runtime.events.history.query({ execution_id: executionId, type: 'orchestrator.action.*', limit: 50 })).items.reverse();
    const compensated = actionEvents.filter((event) => event.type === 'orchestrator.action.compensated').map((event) => event.data['action_id']);
    expect(compensated).toEqual(['charge', 'reserve']);
    const failedAt = actionEvents.findIndex((event) => event.type === 'orchestrator.action.failed' && event.data['action_id'] === 'ship');
    expect(failedAt).toBeGreaterThan(-1);
    expect(actionEvents.findIndex((event) => event.type === 'orchestrator.action.compensated')).toBeGreaterThan(failedAt);
  });

  it('a compensation that keeps failing is retried, dead-lettered, and the saga says compensation_failed', async () => {
    const prefix = `/f-${randomUUID().slice(0, 8)}`;
    broken.add(`${prefix}/ship`);
    broken.add(`${prefix}/refund`);
    const { executionId } = await runToEnd(orderSaga(prefix));
    const saga = (await call<Saga>('GET', `/infrastructure/saga/${executionId}`)).body.data;
    expect(saga.state).toBe('compensation_failed');
    const refund = saga.compensations.find((compensation) => compensation.action_id === 'charge');
    expect(refund).toMatchObject({ status: 'failed', error: { error: 'ServiceUnavailableError' } });
    // Its own retry policy (the default: 3 attempts) before giving up; the other compensation still ran.
    expect(calls.filter((path) => path === `${prefix}/refund`)).toHaveLength(refund!.attempts);
    expect(refund!.attempts).toBeGreaterThan(1);
    expect(saga.compensations.find((compensation) => compensation.action_id === 'reserve')?.status).toBe('completed');
    const run = (await call('GET', `/workflows/executions/${executionId}`)).body.data as { error: { error: string; cause: string } };
    expect(run.error.error).toBe('CompensationFailed');
    expect(run.error.cause).toContain('charge');

    const sqs = createSqsClient({ endpoint: runtime.sqsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const bodies: Record<string, unknown>[] = [];
    for (let i = 0; i < 5; i++) {
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: runtime.deadLetterQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      bodies.push(...(received.Messages ?? []).map((message) => JSON.parse(message.Body ?? '{}') as Record<string, unknown>));
    }
    sqs.destroy();
    expect(bodies).toContainEqual(expect.objectContaining({ kind: 'compensation_failed', action_id: 'charge', execution_id: executionId, error: 'ServiceUnavailableError' }));
  });

  it('a saga that completes needs no compensation; a run without compensations is not a saga', async () => {
    const prefix = `/ok-${randomUUID().slice(0, 8)}`;
    const { executionId } = await runToEnd(orderSaga(prefix));
    const saga = (await call<Saga>('GET', `/infrastructure/saga/${executionId}`)).body.data;
    expect(saga.state).toBe('completed');
    expect(saga.compensations.map((compensation) => compensation.status)).toEqual(['skipped', 'skipped']);

    const plain = await runToEnd({ name: 'plain', actions: [{ action_id: 'one', action_type: 'service_call', config: svc(`${prefix}/one`) }] });
    const notSaga = await call('GET', `/infrastructure/saga/${plain.executionId}`);
    expect(notSaga.status).toBe(404);
    expect(notSaga.body.message).toContain('not a saga');
    expect((await call('GET', '/infrastructure/saga/no-such-run')).status).toBe(404);
  });

  it('counts sagas by state and workflow, with the compensation success rate and mean time to compensate', async () => {
    const prefix = `/st-${randomUUID().slice(0, 8)}`;
    const since = new Date(Date.now() - 1000).toISOString();
    broken.add(`${prefix}/ship`);
    const first = await runToEnd(orderSaga(prefix));
    broken.add(`${prefix}/release`);
    const created = await call('POST', `/workflows/${first.workflowId}/execute`, { body: {} });
    const secondId = created.body.data.execution_id as string;
    for (let i = 0; i < 400 && ['pending', 'running'].includes((await call('GET', `/workflows/executions/${secondId}`)).body.data.status as string); i++) await new Promise((resolve) => setTimeout(resolve, 25));

    const stats = await call<{ sagas: number; by_state: Record<string, number>; by_workflow: Record<string, Record<string, number>>; compensation_success_rate: number; compensations_run: number; mean_time_to_compensate_ms: number; truncated: boolean }>(
      'GET',
      `/infrastructure/saga/stats?since=${encodeURIComponent(since)}&workflow_id=${first.workflowId}`,
    );
    expect(stats.status, JSON.stringify(stats.body)).toBe(200);
    expect(stats.body.data).toMatchObject({ sagas: 2, truncated: false, compensations_run: 4 });
    expect(stats.body.data.by_state).toMatchObject({ compensated: 1, compensation_failed: 1 });
    expect(stats.body.data.by_workflow[first.workflowId]).toEqual({ total: 2, compensated: 1, compensation_failed: 1 });
    expect(stats.body.data.compensation_success_rate).toBe(0.75);
    expect(stats.body.data.mean_time_to_compensate_ms).toEqual(expect.any(Number));
    expect((await call('GET', '/infrastructure/saga/stats?since=yesterday')).status).toBe(400);
  });
});
