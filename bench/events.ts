import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { CursorCodec } from '../adapters/aws/dynamo/cursor-codec.ts';
import { DynamoEventHistory } from '../adapters/aws/dynamo/dynamo-event-history.ts';
import { EVENT_TABLE } from '../adapters/aws/dynamo/event-table.ts';
import { createOutboundHttp } from '../adapters/http/outbound-http.ts';
import { createOutboundPolicy } from '../adapters/http/outbound-policy.ts';
import { EVENT_ID_HEADER } from '../adapters/http/webhook-delivery.ts';
import { DynamoSubscriptionStore } from '../adapters/aws/dynamo/dynamo-subscription-store.ts';
import { SUBSCRIPTION_TABLE } from '../adapters/aws/dynamo/subscription-table.ts';
import { InProcessEventBus } from '../adapters/local/in-process-event-bus.ts';
import { newEvent, type EventEnvelope } from '../core/events/envelope.ts';
import { createLocalEventDeliveries } from '../local/event-deliveries.ts';
import { startDynalite } from '../local/dynalite.ts';
import { ensureTable } from '../local/tables.ts';
import { instrument } from './dynamo-calls.ts';
import { AWS_TEST_ENVIRONMENT } from './environment.ts';
import { round, since, table } from './stats.ts';

/**
 * Issue 12's figures, on the local runtime's own parts (in-process dynalite, the in-process bus, the local
 * deliveries, the outbound adapter): events recorded per second by the history store (one at a time, 16 at a
 * time) and through the bus's recorder (published back to back), the DynamoDB calls each recorded event costs
 * (target 1), and the latency from publishing an event on the bus to its signed webhook delivery reaching a
 * loopback receiver (through the subscription lookup, the pattern match and the signing).
 */

export const CALLS_PER_RECORDED_EVENT_TARGET = 1;
const EVENTS = 2_000;
const DELIVERIES = 500;

export interface EventsSection {
  readonly events: number;
  readonly recordedPerSecondSequential: number;
  readonly recordedPerSecondConcurrent16: number;
  readonly callsPerRecordedEvent: number;
  readonly recordedPerSecondThroughBus: number;
  readonly deliveries: number;
  readonly deliveryP50Ms: number;
  readonly deliveryP99Ms: number;
  readonly deliveriesFailed: number;
}

export async function measureEvents(): Promise<EventsSection> {
  const dynalite = await startDynalite({});
  const client = createDocumentClient({ endpoint: dynalite.endpoint, region: AWS_TEST_ENVIRONMENT.AWS_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  let receiver: Server | undefined;
  const http = createOutboundHttp({ policy: createOutboundPolicy({ allow: ['127.0.0.1/8'] }) });
  try {
    await ensureTable(client, EVENT_TABLE, 'bench-events');
    const history = new DynamoEventHistory(client, 'bench-events', { cursors: new CursorCodec(randomBytes(32)) });
    let n = 0;
    const ids = { next: () => `bench-event-${n++}` };
    const clock = { now: () => new Date().toISOString() };
    const make = (): EventEnvelope => newEvent({ type: 'orchestrator.action.completed', tenant: 'bench', subject: `executions/exec-${n % 50}`, correlation_id: `exec-${n % 50}`, data: { execution_id: `exec-${n % 50}`, action_id: 'charge', status_code: 200 } }, clock, ids);

    const calls = instrument(client);
    let started = performance.now();
    const { calls: sequentialCalls } = await calls.record(async () => {
      for (let index = 0; index < EVENTS; index += 1) await history.record(make());
    });
    const sequentialSeconds = since(started) / 1000;

    started = performance.now();
    const queue = Array.from({ length: EVENTS }, make);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let event = queue.pop(); event; event = queue.pop()) await history.record(event);
      }),
    );
    const concurrentSeconds = since(started) / 1000;

    // Through the bus: the recorder subscribed as in the local runtime, events published back to back.
    const bus = new InProcessEventBus();
    bus.subscribe({ name: 'recorder', deliver: (event) => history.record(event) });
    started = performance.now();
    for (let index = 0; index < EVENTS; index += 1) await bus.publish(make());
    await bus.idle();
    const busSeconds = since(started) / 1000;

    // Publish to webhook: a subscription in its table, the local deliveries on the bus, a loopback receiver.
    const arrivals = new Map<string, () => void>();
    receiver = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        arrivals.get(String(request.headers[EVENT_ID_HEADER]))?.();
        response.statusCode = 204;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    await ensureTable(client, SUBSCRIPTION_TABLE, 'bench-subscriptions');
    const store = new DynamoSubscriptionStore(client, 'bench-subscriptions');
    await store.create({ subscription_id: 'bench', url, pattern: { type: ['orchestrator.action.completed'] }, tenant: 'bench', created_by: 'bench', created_at: clock.now(), secret: 'bench-secret-not-real-0123456789' });
    let failed = 0;
    const deliveries = createLocalEventDeliveries({ subscriptions: store, http, deadLetters: { send: async () => String((failed += 1)) }, clock, log: () => undefined });
    const webhooks = new InProcessEventBus();
    webhooks.subscribe({ name: 'webhook deliveries', deliver: (event) => deliveries.onEvent(event) });
    const latencies: number[] = [];
    for (let index = 0; index < DELIVERIES; index += 1) {
      const event = make();
      const arrived = new Promise<void>((resolve) => arrivals.set(event.event_id, resolve));
      const sent = performance.now();
      await webhooks.publish(event);
      await arrived;
      latencies.push(since(sent));
      arrivals.delete(event.event_id);
    }
    await deliveries.close();
    latencies.sort((a, b) => a - b);
    const at = (quantile: number) => latencies[Math.min(latencies.length - 1, Math.floor(quantile * latencies.length))]!;
    return {
      events: EVENTS,
      recordedPerSecondSequential: round(EVENTS / sequentialSeconds, 0),
      recordedPerSecondConcurrent16: round(EVENTS / concurrentSeconds, 0),
      callsPerRecordedEvent: round(sequentialCalls.length / EVENTS, 2),
      recordedPerSecondThroughBus: round(EVENTS / busSeconds, 0),
      deliveries: DELIVERIES,
      deliveryP50Ms: round(at(0.5), 2),
      deliveryP99Ms: round(at(0.99), 2),
      deliveriesFailed: failed,
    };
  } finally {
    await http.close();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
    await dynalite.close();
  }
}

export function renderEventsSection(section: EventsSection): string {
  return [
    `Events (issue 12): the history on in-process dynalite, the in-process bus, and signed webhook deliveries to a loopback receiver (publish to arrival)`,
    table(
      ['measure', 'value'],
      [
        ['events recorded per second, one at a time', section.recordedPerSecondSequential],
        ['events recorded per second, 16 at a time', section.recordedPerSecondConcurrent16],
        ['events recorded per second through the bus (published back to back)', section.recordedPerSecondThroughBus],
        [`DynamoDB calls per recorded event (target ${CALLS_PER_RECORDED_EVENT_TARGET})`, section.callsPerRecordedEvent],
        ['publish to webhook delivery p50 (ms)', section.deliveryP50Ms],
        ['publish to webhook delivery p99 (ms)', section.deliveryP99Ms],
        [`deliveries failed (of ${section.deliveries})`, section.deliveriesFailed],
      ],
    ),
  ].join('\n');
}
