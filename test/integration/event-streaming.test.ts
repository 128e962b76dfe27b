import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromCloudEvent, type EventEnvelope } from '../../core/events/envelope.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../../adapters/http/webhook-delivery.ts';
import { createSqsClient } from '../../adapters/aws/sqs/sqs-dead-letter-queue.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply } from '../support/api.ts';
import { until } from '../support/poll.ts';

/**
 * Events end to end on the local runtime (issue 12): a webhook subscribed over HTTP receives a real run's
 * events in order, signed; a replay delivers them again, marked, and starts nothing; a receiver that keeps
 * failing ends in the failed-deliveries queue; the SSE stream shows a run as it happens and resumes from
 * Last-Event-ID.
 */

interface Received {
  readonly path: string;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

let runtime: LocalRuntime;
let call: <T = Record<string, unknown>>(method: string, path: string, options?: { body?: unknown; headers?: Record<string, string> }) => Promise<ApiReply<T>>;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body: Buffer.concat(chunks).toString('utf8'), headers: request.headers });
      response.writeHead(request.url?.startsWith('/broken') ? 500 : 204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  ({ runtime, call } = await startTestApi({ deliveryRetry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } }));
});
afterAll(async () => {
  await runtime?.close();
  await new Promise((resolve) => receiver.close(resolve));
});

async function createWorkflow(name: string): Promise<string> {
  const reply = await call('POST', '/workflows', {
    body: {
      name,
      actions: [
        { action_id: 'tell', action_type: 'notification', config: { message: 'hello' } },
        { action_id: 'shape', action_type: 'transform', depends_on: ['tell'], config: { output: { done: true } } },
      ],
    },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.data.workflow_id as string;
}

async function runToEnd(workflowId: string): Promise<string> {
  const started = await call('POST', `/workflows/${workflowId}/execute`, { body: { parameters: {} } });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const id = started.body.data.execution_id as string;
  await until(async () => !['pending', 'running'].includes((await call('GET', `/workflows/executions/${id}`)).body.data.status as string), `run ${id} ends`, 20_000, 20);
  return id;
}

async function subscribe(path: string, pattern: unknown): Promise<{ id: string; secret: string }> {
  const reply = await call<{ subscription_id: string; secret: string }>('POST', '/infrastructure/events/subscriptions', { body: { url: `${receiverUrl}${path}`, pattern } });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return { id: reply.body.data.subscription_id, secret: reply.body.data.secret };
}

const deliveredAt = (path: string): EventEnvelope[] =>
  received.filter((request) => request.path === path).map((request) => {
    const read = fromCloudEvent(JSON.parse(request.body));
    if (!('event' in read)) throw new Error(read.issues.join('; '));
    return read.event;
  });

async function recordedOf(executionId: string): Promise<EventEnvelope[]> {
  await runtime.events.idle();
  return (await runtime.events.history.query({ execution_id: executionId, limit: 100 })).items.reverse();
}

describe('webhook subscriptions on the local runtime', () => {
  let workflowId: string;
  let executionId: string;
  let subscription: { id: string; secret: string };

  it("delivers every event of a run to a subscriber, in the order they happened, each signed", async () => {
    workflowId = await createWorkflow('webhook-run');
    subscription = await subscribe('/runs', { data: { workflow_id: [workflowId] }, type: [{ prefix: 'orchestrator.run.' }, { prefix: 'orchestrator.action.' }] });
    executionId = await runToEnd(workflowId);
    const recorded = await recordedOf(executionId);
    await runtime.events.deliveries.idle();
    expect(deliveredAt('/runs').map((event) => event.event_id)).toEqual(recorded.map((event) => event.event_id));
    expect(recorded.map((event) => event.type)).toEqual([
      'orchestrator.run.requested',
      'orchestrator.run.started',
      'orchestrator.action.started',
      'orchestrator.action.completed',
      'orchestrator.action.started',
      'orchestrator.action.completed',
      'orchestrator.run.completed',
    ]);
    for (const request of received.filter((entry) => entry.path === '/runs')) {
      const signed = { body: request.body, signature: request.headers[SIGNATURE_HEADER] as string, timestamp: request.headers[TIMESTAMP_HEADER] as string };
      expect(verifyWebhookSignature(signed, subscription.secret, Math.floor(Date.now() / 1000))).toBe(true);
    }
  });

  it('replays the recorded events to the subscription: the same ids, in order, marked replayed, and no run starts', async () => {
    const before = received.filter((request) => request.path === '/runs').length;
    const runsBefore = (await call<{ executions: unknown[] }>('GET', `/workflows/${workflowId}/executions`)).body.data.executions.length;
    const since = (await recordedOf(executionId))[0]!.time;
    const replay = await call<{ replay_id: string; replayed: number; status: string }>('POST', '/infrastructure/events/replay', { body: { since, execution_id: executionId, subscription_id: subscription.id } });
    expect(replay.status, JSON.stringify(replay.body)).toBe(200);
    expect(replay.body.data).toMatchObject({ replayed: 7, status: 'completed', replay_id: expect.any(String) });
    await runtime.events.deliveries.idle();
    const again = deliveredAt('/runs').slice(before);
    expect(again.map((event) => event.event_id)).toEqual((await recordedOf(executionId)).map((event) => event.event_id));
    expect(again.every((event) => event.replayed === true)).toBe(true);
    // Replaying `run.requested` started nothing, and put nothing on the bus (the history did not grow).
    expect((await call<{ executions: unknown[] }>('GET', `/workflows/${workflowId}/executions`)).body.data.executions.length).toBe(runsBefore);
    expect(await recordedOf(executionId)).toHaveLength(7);
  });

  it('replays only the types asked for, and refuses an unknown subscription with a 404 naming it', async () => {
    const before = received.length;
    const since = (await recordedOf(executionId))[0]!.time;
    const replay = await call<{ replayed: number }>('POST', '/infrastructure/events/replay', { body: { since, execution_id: executionId, types: ['orchestrator.run.completed'], subscription_id: subscription.id } });
    expect(replay.body.data.replayed).toBe(1);
    await runtime.events.deliveries.idle();
    expect(received.slice(before).map((request) => (JSON.parse(request.body) as { type: string }).type)).toEqual(['orchestrator.run.completed']);
    const unknown = await call('POST', '/infrastructure/events/replay', { body: { since, subscription_id: 'nope' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.details).toEqual([expect.objectContaining({ field: 'subscription_id' })]);
  });

  it("puts a failing receiver's deliveries in the failed-deliveries queue after its retries", async () => {
    const workflow = await createWorkflow('webhook-broken');
    await subscribe('/broken', { type: ['orchestrator.run.completed'], data: { workflow_id: [workflow] } });
    const run = await runToEnd(workflow);
    await runtime.events.idle();
    await runtime.events.deliveries.idle();
    expect(received.filter((request) => request.path === '/broken')).toHaveLength(3);
    const sqs = createSqsClient({ endpoint: runtime.sqsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: runtime.events.failedDeliveriesQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      const bodies = Messages.map((message) => JSON.parse(message.Body ?? '{}') as { event: EventEnvelope; attempts: number });
      expect(bodies).toEqual([expect.objectContaining({ attempts: 3, event: expect.objectContaining({ type: 'orchestrator.run.completed', data: expect.objectContaining({ execution_id: run }) }) })]);
      // ...and the dead letter is announced on the bus, in the event's tenant.
      await runtime.events.idle();
      const added = (await runtime.events.history.query({ type: 'orchestrator.dlq.added', limit: 10 })).items;
      expect(added.map((event) => event.data)).toEqual([expect.objectContaining({ queue: 'deliveries', kind: 'delivery_failed', event_type: 'orchestrator.run.completed', attempts: 3 })]);
    } finally {
      sqs.destroy();
    }
  });
});

describe('the live event stream', () => {
  it('shows a run as it happens, then resumes after the Last-Event-ID it was given', async () => {
    const workflowId = await createWorkflow('streamed');
    const pattern = encodeURIComponent(JSON.stringify({ data: { workflow_id: [workflowId] } }));
    const controller = new AbortController();
    const response = await fetch(`${runtime.url}/infrastructure/events/stream?type=orchestrator.run.*&pattern=${pattern}`, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    let text = '';
    const executionId = await runToEnd(workflowId);
    const decoder = new TextDecoder();
    const deadline = Date.now() + 10_000;
    while (!text.includes('event: orchestrator.run.completed') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    controller.abort();
    const messages = text.split('\n\n').filter((block) => block.startsWith('id: '));
    const streamed = messages.map((block) => JSON.parse(block.split('\n').find((line) => line.startsWith('data: '))!.slice(6)) as EventEnvelope);
    expect(text.startsWith('retry: ')).toBe(true);
    expect(streamed.map((event) => event.type)).toEqual(['orchestrator.run.requested', 'orchestrator.run.started', 'orchestrator.run.completed']);
    expect(streamed.every((event) => event.data['execution_id'] === executionId)).toBe(true);

    // The catch-up from the first event's id: the two after it (what a reconnecting EventSource gets, and all AWS answers).
    const firstId = messages[0]!.split('\n')[0]!.slice('id: '.length);
    await runtime.events.idle();
    const resumed = await fetch(`${runtime.url}/infrastructure/events/stream?type=orchestrator.run.*&pattern=${pattern}`, { headers: { 'last-event-id': firstId } });
    const body = await resumed.text();
    expect(body.match(/^event: .*$/gm)).toEqual(['event: orchestrator.run.started', 'event: orchestrator.run.completed']);
  });

  it('refuses a bad pattern with a 400 naming where in it the problem is', async () => {
    const bad = await call('GET', `/infrastructure/events/stream?pattern=${encodeURIComponent(JSON.stringify({ type: 'orchestrator.run.started' }))}`);
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([expect.objectContaining({ field: expect.stringMatching(/^pattern\.type/) })]);
    const notJson = await call('GET', '/infrastructure/events/stream?pattern=%7Bnope');
    expect(notJson.body.details).toEqual([expect.objectContaining({ field: 'pattern', message: expect.stringMatching(/JSON/) })]);
  });
});
