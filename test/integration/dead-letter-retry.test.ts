import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply } from '../support/api.ts';
import { until } from '../support/poll.ts';

/**
 * Dead letters end to end on the local runtime (issue 12): runs whose service keeps failing leave their
 * failed calls in the actions dead-letter queue (SQS emulator); the stats break them down by workflow, action
 * and error; once the service recovers, a retry of one run's messages resumes that run from its failed step,
 * calling again only what had not completed, and retrying the same message again changes nothing.
 */

let runtime: LocalRuntime;
let call: <T = Record<string, unknown>>(method: string, path: string, options?: { body?: unknown }) => Promise<ApiReply<T>>;
let service: Server;
let down = true;
const calls: string[] = [];

interface QueueStats {
  queue: string;
  visible: number;
  by_workflow: { workflow_id: string; count: number }[];
  by_action: { workflow_id: string; action_id: string; count: number }[];
  by_error_type: { error_type: string; count: number }[];
}
interface RetryAnswer {
  results: { message_id: string; outcome: string; execution_id?: string }[];
}

beforeAll(async () => {
  service = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      calls.push(request.url ?? '');
      const failing = request.url === '/ship' && down;
      response.writeHead(failing ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(failing ? { error: 'warehouse offline' } : { ok: request.url }));
    });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  ({ runtime, call } = await startTestApi({ serviceUrls: { WAREHOUSE_URL: `http://127.0.0.1:${(service.address() as AddressInfo).port}` } }));
});
afterAll(async () => {
  await runtime?.close();
  await new Promise((resolve) => service.close(resolve));
});

async function runUntilEnd(workflowId: string): Promise<{ id: string; status: string }> {
  const started = await call('POST', `/workflows/${workflowId}/execute`, { body: {} });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const id = started.body.data.execution_id as string;
  let status = 'pending';
  await until(async () => !['pending', 'running'].includes((status = (await call('GET', `/workflows/executions/${id}`)).body.data.status as string)), `run ${id} ends`, 20_000, 20);
  return { id, status };
}

describe('dead letters of failed runs', () => {
  let workflowId: string;
  let first: string;
  let second: string;

  it('counts the failed calls of several runs by workflow, action and error type', async () => {
    const created = await call('POST', '/workflows', {
      body: {
        name: 'orders',
        actions: [
          { action_id: 'reserve', action_type: 'service_call', config: { service: 'warehouse', endpoint: '/reserve', method: 'POST' } },
          { action_id: 'ship', action_type: 'service_call', depends_on: ['reserve'], config: { service: 'warehouse', endpoint: '/ship', method: 'POST' } },
        ],
      },
    });
    workflowId = created.body.data.workflow_id as string;
    const runs = [await runUntilEnd(workflowId), await runUntilEnd(workflowId)];
    expect(runs.map((run) => run.status)).toEqual(['failed', 'failed']);
    [first, second] = runs.map((run) => run.id) as [string, string];
    const stats = await call<{ queues: QueueStats[] }>('GET', '/infrastructure/dlq/stats');
    expect(stats.status, JSON.stringify(stats.body)).toBe(200);
    const actions = stats.body.data.queues.find((queue) => queue.queue === 'actions')!;
    expect(actions.visible).toBe(2);
    expect(actions.by_workflow).toEqual([{ workflow_id: workflowId, count: 2 }]);
    expect(actions.by_action).toEqual([{ workflow_id: workflowId, action_id: 'ship', count: 2 }]);
    expect(actions.by_error_type).toEqual([{ error_type: 'ServiceUnavailableError', count: 2 }]);
    // Each dead letter was announced on the bus by the state machine itself, after it was in the queue.
    await runtime.events.idle();
    const added = (await runtime.events.history.query({ type: 'orchestrator.dlq.added', limit: 10 })).items;
    expect(added.map((event) => event.data['execution_id']).sort()).toEqual([...runs.map((run) => run.id)].sort());
    expect(added[0]).toMatchObject({ source: '/orchestrator/dead-letters', tenant: 'default', subject: expect.stringMatching(/^executions\/.+\/actions\/ship$/), data: { queue: 'actions', action_id: 'ship', workflow_id: workflowId, error: 'ServiceUnavailableError' } });
    // Reading the stats took nothing away: the messages are all there.
    expect((await call<{ queues: QueueStats[] }>('GET', '/infrastructure/dlq/stats')).body.data.queues.find((queue) => queue.queue === 'actions')!.visible).toBe(2);
  });

  it('resumes a run from its failed step once the service is back, calling only what had not completed, and once only', async () => {
    down = false;
    const reservesBefore = calls.filter((url) => url === '/reserve').length;
    const retried = await call<RetryAnswer>('POST', '/infrastructure/dlq/retry', { body: { queue: 'actions', execution_id: first } });
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body.data.results).toEqual([expect.objectContaining({ outcome: 'retried', execution_id: first })]);
    await until(async () => (await call('GET', `/workflows/executions/${first}`)).body.data.status === 'completed', 'the retried run completes', 20_000, 20);
    // `reserve` had completed: reused, not called again.
    expect(calls.filter((url) => url === '/reserve').length).toBe(reservesBefore);
    const messageId = retried.body.data.results[0]!.message_id;

    const again = await call<RetryAnswer>('POST', '/infrastructure/dlq/retry', { body: { queue: 'actions', message_ids: [messageId] } });
    expect(again.status).toBe(200);
    expect(['already_retried', 'not_found']).toContain(again.body.data.results[0]!.outcome);
    const run = await call<{ redrive_count: number; status: string }>('GET', `/workflows/executions/${first}`);
    expect(run.body.data).toMatchObject({ status: 'completed', redrive_count: 1 });

    // The other run's message is still there, and still retryable.
    const left = await call<{ queues: QueueStats[] }>('GET', '/infrastructure/dlq/stats');
    expect(left.body.data.queues.find((queue) => queue.queue === 'actions')!.visible).toBe(1);
    await runtime.events.idle();
    const retriedEvents = await runtime.events.history.query({ type: 'orchestrator.dlq.retried', limit: 10 });
    expect(retriedEvents.items.map((event) => event.data['execution_id'])).toEqual([first]);
    expect((await runtime.events.history.query({ execution_id: first, type: 'orchestrator.run.retried', limit: 10 })).items).toHaveLength(1);
    expect(second).toBeDefined();
  });
});
