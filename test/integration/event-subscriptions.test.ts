import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { DynamoSubscriptionStore } from '../../adapters/aws/dynamo/dynamo-subscription-store.ts';
import { SUBSCRIPTION_TABLE } from '../../adapters/aws/dynamo/subscription-table.ts';
import { createSqsClient, SqsDeadLetterQueue } from '../../adapters/aws/sqs/sqs-dead-letter-queue.ts';
import { createOutboundPolicy, LOCAL_DEFAULT_OUTBOUND_ALLOW } from '../../adapters/http/outbound-policy.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../../adapters/http/webhook-delivery.ts';
import { createDestinationCheck, mintWebhookSecret } from '../../adapters/http/webhook-subscriptions.ts';
import type { Principal } from '../../core/auth/model.ts';
import { fromCloudEvent, newEvent, type EventEnvelope, type NewEvent } from '../../core/events/envelope.ts';
import { createSubscriptionService } from '../../core/events/subscriptions.ts';
import { randomIds, systemClock } from '../../core/system.ts';
import { toAuthorizerContext } from '../../functions/auth/principal-context.ts';
import { createSubscriptionHandlers } from '../../functions/http/subscription-handlers.ts';
import { createLocalEventDeliveries, type LocalEventDeliveries } from '../../local/event-deliveries.ts';
import { ensureQueue } from '../../local/fauxqs.ts';
import { createLocalOutbound, type LocalOutbound } from '../../local/outbound.ts';
import { freshTable } from '../support/dynamo.ts';
import { MemoryAuditTrail } from '../support/security.ts';

/**
 * Webhook subscriptions end to end on one machine: created through the HTTP handlers, kept on the DynamoDB
 * emulator, delivered by the local deliveries through the real outbound adapter to receivers on loopback,
 * dead-lettered to the failed-deliveries queue on the SQS emulator.
 */

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

let receiver: Server;
let base = '';
const received: Received[] = [];
/** Failures left to answer (500) by path; -1 fails for ever. */
const failures = new Map<string, number>();
/** Requests being answered by path, and the most there ever were at once. */
const inFlight = new Map<string, number>();
const mostInFlight = new Map<string, number>();

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      received.push({ path, headers: request.headers, body, at: Date.now() });
      inFlight.set(path, (inFlight.get(path) ?? 0) + 1);
      mostInFlight.set(path, Math.max(mostInFlight.get(path) ?? 0, inFlight.get(path)!));
      const left = failures.get(path) ?? 0;
      if (left !== 0) failures.set(path, left - 1);
      // A random pause: deliveries made side by side would overlap, and could overtake each other.
      setTimeout(() => {
        inFlight.set(path, inFlight.get(path)! - 1);
        response.statusCode = left !== 0 ? 500 : 204;
        response.end();
      }, Math.random() * 8);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

const alice: Principal = { subject: 'alice', roles: ['operator'], tenant: 'acme', method: 'jwt' };
const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const ids = (() => {
  let n = 0;
  return { next: () => `ev-${++n}-${randomUUID().slice(0, 8)}` };
})();
const emit = (event: NewEvent): EventEnvelope => newEvent(event, systemClock, ids);
const run = (type: NewEvent['type'], tenant = 'acme') => emit({ type, tenant, subject: 'executions/exec-1', data: { execution_id: 'exec-1' } });

describe('webhook subscriptions', () => {
  let outbound: LocalOutbound;
  let sqs: SQSClient;
  let queueUrl: string;
  let deliveries: LocalEventDeliveries;
  let handlers: ReturnType<typeof createSubscriptionHandlers>;
  let store: DynamoSubscriptionStore;
  let logs: Record<string, unknown>[];

  beforeEach(async () => {
    const table = await freshTable(SUBSCRIPTION_TABLE, 'subscriptions');
    store = new DynamoSubscriptionStore(table.client, table.tableName);
    outbound = createLocalOutbound({ ownEndpoints: [inject('dynamoEndpoint'), inject('fauxqsEndpoint')], peers: [], secretEnvironment: {} });
    sqs = createSqsClient({ endpoint: inject('fauxqsEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    queueUrl = await ensureQueue(sqs, `failed-deliveries-${randomUUID()}`);
    logs = [];
    deliveries = createLocalEventDeliveries({
      subscriptions: store,
      http: outbound.http,
      deadLetters: new SqsDeadLetterQueue(sqs, queueUrl),
      clock: systemClock,
      log: (line) => logs.push(line),
      retry: { attempts: 4, baseDelayMs: 40, maxDelayMs: 1000 },
      // Long: only create and delete dropping the cache lets a new subscription see the next event.
      cacheTtlMs: 60_000,
    });
    const subscriptions = createSubscriptionService({
      store,
      rules: deliveries.rules,
      clock: systemClock,
      ids: randomIds,
      generateSecret: mintWebhookSecret,
      checkDestination: createDestinationCheck(createOutboundPolicy({ allow: LOCAL_DEFAULT_OUTBOUND_ALLOW })),
    });
    const security = { audit: new MemoryAuditTrail(), authMode: 'required' as const, clock: systemClock, ids: randomIds, log: () => undefined };
    handlers = createSubscriptionHandlers({ security, subscriptions });
    received.length = 0;
    failures.clear();
    mostInFlight.clear();
  });

  afterEach(async () => {
    await deliveries.close();
    await outbound.close();
    sqs.destroy();
  });

  async function post(body: unknown, caller: Principal = alice) {
    const reply = await handlers.createEventSubscription(apiEvent('POST', '/infrastructure/events/subscriptions', { body: JSON.stringify(body), caller }), context);
    return { status: reply.statusCode, headers: reply.headers, body: JSON.parse(reply.body) as { data: { subscription_id: string; secret?: string }; details?: { field: string; message: string }[] } };
  }

  async function subscribe(path: string, pattern: Record<string, unknown> = { type: [{ prefix: 'orchestrator.run.' }] }, caller: Principal = alice) {
    const reply = await post({ url: `${base}${path}`, pattern }, caller);
    expect(reply.status).toBe(201);
    return { id: reply.body.data.subscription_id, secret: reply.body.data.secret! };
  }

  async function deadLetters(expected: number): Promise<Record<string, unknown>[]> {
    const bodies: Record<string, unknown>[] = [];
    for (let round = 0; round < 10 && bodies.length < expected; round++) {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      bodies.push(...(Messages ?? []).map((message) => JSON.parse(message.Body ?? 'null') as Record<string, unknown>));
    }
    return bodies;
  }

  const at = (path: string) => received.filter((request) => request.path === path);
  const eventIds = (requests: readonly Received[]) => requests.map((request) => (JSON.parse(request.body) as { id: string }).id);

  it("gives a receiver every event of its tenant that its pattern matches, in order, each signed with the secret shown at create", async () => {
    // Events flowing before it exists: the subscription list is read (and cached) already.
    await deliveries.onEvent(run('orchestrator.run.started'));
    const { id, secret } = await subscribe('/orders');
    const events = [
      run('orchestrator.run.started'),
      emit({ type: 'orchestrator.workflow.updated', tenant: 'acme', data: { workflow_id: 'wf-1' } }),
      ...Array.from({ length: 12 }, () => run('orchestrator.run.retried')),
      run('orchestrator.run.completed'),
    ];
    // Published back to back, as the bus does, without waiting for deliveries.
    for (const event of events) void deliveries.onEvent(event);
    await deliveries.idle();
    const wanted = events.filter((event) => event.type.startsWith('orchestrator.run.'));
    expect(eventIds(at('/orders'))).toEqual(wanted.map((event) => event.event_id));
    // One at a time: each delivery waited for the one before it to be answered.
    expect(mostInFlight.get('/orders')).toBe(1);
    for (const [index, request] of at('/orders').entries()) {
      const signed = { body: request.body, signature: request.headers[SIGNATURE_HEADER] as string | undefined, timestamp: request.headers[TIMESTAMP_HEADER] as string | undefined };
      expect(verifyWebhookSignature(signed, secret, Math.floor(Date.now() / 1000))).toBe(true);
      expect(verifyWebhookSignature(signed, `${secret}x`, Math.floor(Date.now() / 1000))).toBe(false);
      expect(fromCloudEvent(JSON.parse(request.body))).toEqual({ event: wanted[index] });
      expect(request.headers['x-orchestrator-subscription-id']).toBe(id);
    }
    expect(JSON.stringify(logs)).not.toContain(secret);
  });

  it('retries a failing receiver with growing waits, then puts the delivery in the failed-deliveries queue, the next event waiting its turn', async () => {
    failures.set('/broken', -1);
    const { id } = await subscribe('/broken');
    const event = run('orchestrator.run.failed');
    const next = run('orchestrator.run.retried');
    void deliveries.onEvent(event);
    void deliveries.onEvent(next);
    await deliveries.idle();
    expect(eventIds(at('/broken'))).toEqual([...Array(4).fill(event.event_id), ...Array(4).fill(next.event_id)]);
    const attempts = at('/broken').slice(0, 4);
    const waits = attempts.slice(1).map((attempt, index) => attempt.at - attempts[index]!.at);
    // 40, 80, 160 ms (the timer may fire a millisecond early).
    expect(waits[0]).toBeGreaterThanOrEqual(39);
    expect(waits[1]).toBeGreaterThanOrEqual(79);
    expect(waits[2]).toBeGreaterThanOrEqual(159);
    const dead = (await deadLetters(2)).sort((a, b) => String(a['failed_at']).localeCompare(String(b['failed_at'])));
    expect(dead).toEqual([
      { subscription_id: id, event, error: 'the receiver answered 500 Internal Server Error', attempts: 4, failed_at: expect.any(String) },
      { subscription_id: id, event: next, error: 'the receiver answered 500 Internal Server Error', attempts: 4, failed_at: expect.any(String) },
    ]);
  });

  it('delivers once an event whose receiver failed twice and then recovered, and dead-letters nothing', async () => {
    failures.set('/flaky', 2);
    await subscribe('/flaky');
    const event = run('orchestrator.run.completed');
    await deliveries.onEvent(event);
    await deliveries.idle();
    expect(eventIds(at('/flaky'))).toEqual([event.event_id, event.event_id, event.event_id]);
    expect(logs.filter((line) => line['outcome'] === 'delivered').map((line) => line['event_id'])).toEqual([event.event_id]);
    expect(await deadLetters(0)).toEqual([]);
  });

  it("never delivers another tenant's events, whether published or handed to the subscription directly", async () => {
    const { id } = await subscribe('/acme-only', { source: [{ prefix: '/orchestrator' }] });
    const foreign = run('orchestrator.run.completed', 'globex');
    await deliveries.onEvent(foreign);
    // A replay naming the subscription: the delivery checks the tenant again.
    deliveries.enqueue({ subscription_id: id, event: { ...foreign, replayed: true } });
    const own = run('orchestrator.run.completed');
    await deliveries.onEvent(own);
    await deliveries.idle();
    expect(eventIds(at('/acme-only'))).toEqual([own.event_id]);
  });

  it('refuses at create, naming url, a webhook URL the outbound rules refuse, and stores nothing that could call it', async () => {
    const metadata = await post({ url: 'http://169.254.169.254/latest/meta-data/', pattern: { type: ['orchestrator.run.failed'] } });
    expect(metadata.status).toBe(400);
    expect(metadata.body.details).toEqual([{ field: 'url', message: expect.stringMatching(/metadata address/) }]);
    // A private address outside ORCHESTRATOR_OUTBOUND_ALLOW (127.0.0.1/8 by default here).
    const privateAddress = await post({ url: 'http://10.255.255.1:8080/hook', pattern: { type: ['orchestrator.run.failed'] } });
    expect(privateAddress.status).toBe(400);
    expect(privateAddress.body.details).toEqual([{ field: 'url', message: expect.stringMatching(/outbound rules refuse it: 10\.255\.255\.1, a private address/) }]);
    expect(await store.count()).toBe(0);
  });

  it('refuses at delivery, without retrying, a subscription whose URL the outbound rules refuse, and dead-letters it', async () => {
    // Stored behind the API's back (an older version, a hand edit): the outbound adapter still refuses.
    await store.create({ subscription_id: 'sub-metadata', url: 'http://169.254.169.254/hook', pattern: {}, tenant: 'acme', created_by: 'alice', created_at: systemClock.now(), secret: 'x'.repeat(32) });
    const event = run('orchestrator.run.failed');
    deliveries.enqueue({ subscription_id: 'sub-metadata', event });
    await deliveries.idle();
    expect(await deadLetters(1)).toEqual([expect.objectContaining({ subscription_id: 'sub-metadata', attempts: 1, error: expect.stringMatching(/not allowed/) })]);
  });

  it('stops at close without waiting out a retry, and delivers nothing after', async () => {
    failures.set('/slow-to-recover', -1);
    await subscribe('/slow-to-recover');
    const patient = createLocalEventDeliveries({ subscriptions: store, http: outbound.http, deadLetters: new SqsDeadLetterQueue(sqs, queueUrl), clock: systemClock, log: (line) => logs.push(line), retry: { baseDelayMs: 60_000 } });
    await patient.onEvent(run('orchestrator.run.failed'));
    while (at('/slow-to-recover').length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    await patient.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    patient.enqueue({ subscription_id: 'any', event: run('orchestrator.run.failed') });
    expect(at('/slow-to-recover')).toHaveLength(1);
    expect(logs.filter((line) => line['outcome'] === 'dropped')).toHaveLength(2);
  });

  it('answers 201 with a Location, and stops delivering to a subscription once it is deleted', async () => {
    const created = await post({ url: `${base}/short-lived`, pattern: { type: ['orchestrator.run.started'] }, description: 'for a while' });
    expect(created.status).toBe(201);
    const id = created.body.data.subscription_id;
    expect(created.headers['location']).toBe(`/infrastructure/events/subscriptions/${id}`);
    expect(created.headers['cache-control']).toBe('no-store');
    const first = run('orchestrator.run.started');
    await deliveries.onEvent(first);
    await deliveries.idle();
    const deleted = await handlers.deleteEventSubscription(apiEvent('DELETE', `/infrastructure/events/subscriptions/${id}`, { pathParameters: { subscription_id: id }, caller: alice }), context);
    expect(deleted.statusCode).toBe(200);
    await deliveries.onEvent(run('orchestrator.run.started'));
    await deliveries.idle();
    expect(eventIds(at('/short-lived'))).toEqual([first.event_id]);
    const listed = await handlers.listEventSubscriptions(apiEvent('GET', '/infrastructure/events/subscriptions', { caller: alice }), context);
    expect(JSON.parse(listed.body)).toMatchObject({ data: { subscriptions: [], count: 0 } });
  });
});

function apiEvent(method: string, path: string, options: { body?: string; pathParameters?: Record<string, string>; caller: Principal }): APIGatewayProxyEvent {
  return {
    resource: path,
    path,
    httpMethod: method,
    headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    body: options.body ?? null,
    isBase64Encoded: false,
    requestContext: { requestId: `req-${randomUUID()}`, authorizer: { ...toAuthorizerContext(options.caller) }, identity: { sourceIp: '127.0.0.1' } } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}
