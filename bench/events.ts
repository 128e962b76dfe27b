import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { CursorCodec } from '../adapters/aws/dynamo/cursor-codec.ts';
import { DynamoEventHistory } from '../adapters/aws/dynamo/dynamo-event-history.ts';
import { EVENT_TABLE } from '../adapters/aws/dynamo/event-table.ts';
import { createOutboundHttp } from '../adapters/http/outbound-http.ts';
import { createOutboundPolicy } from '../adapters/http/outbound-policy.ts';
import { deliverEvent } from '../adapters/http/webhook-delivery.ts';
import { newEvent, type EventEnvelope } from '../core/events/envelope.ts';
import { startDynalite } from '../local/dynalite.ts';
import { ensureTable } from '../local/tables.ts';
import { instrument } from './dynamo-calls.ts';
import { AWS_TEST_ENVIRONMENT } from './environment.ts';
import { round, since, table } from './stats.ts';

/**
 * Issue 12's figures for the pieces built so far: events recorded per second by the history store on the
 * in-process dynalite (one at a time, and 16 at a time), the DynamoDB calls each recorded event costs (target
 * 1), and the latency of a signed webhook delivery to a loopback receiver through the outbound adapter.
 */

export const CALLS_PER_RECORDED_EVENT_TARGET = 1;
const EVENTS = 2_000;
const DELIVERIES = 500;

export interface EventsSection {
  readonly events: number;
  readonly recordedPerSecondSequential: number;
  readonly recordedPerSecondConcurrent16: number;
  readonly callsPerRecordedEvent: number;
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

    receiver = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.statusCode = 204;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const latencies: number[] = [];
    let failed = 0;
    for (let index = 0; index < DELIVERIES; index += 1) {
      const event = make();
      const sent = performance.now();
      const outcome = await deliverEvent(http, { subscription_id: 'bench', url, secret: 'bench-secret-not-real' }, event, Date.now() / 1000);
      latencies.push(since(sent));
      if (!outcome.delivered) failed += 1;
    }
    latencies.sort((a, b) => a - b);
    const at = (quantile: number) => latencies[Math.min(latencies.length - 1, Math.floor(quantile * latencies.length))]!;
    return {
      events: EVENTS,
      recordedPerSecondSequential: round(EVENTS / sequentialSeconds, 0),
      recordedPerSecondConcurrent16: round(EVENTS / concurrentSeconds, 0),
      callsPerRecordedEvent: round(sequentialCalls.length / EVENTS, 2),
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
    `Events (issue 12, the pieces built so far): the history store on in-process dynalite, and signed webhook deliveries to a loopback receiver through the outbound adapter`,
    table(
      ['measure', 'value'],
      [
        ['events recorded per second, one at a time', section.recordedPerSecondSequential],
        ['events recorded per second, 16 at a time', section.recordedPerSecondConcurrent16],
        [`DynamoDB calls per recorded event (target ${CALLS_PER_RECORDED_EVENT_TARGET})`, section.callsPerRecordedEvent],
        ['webhook delivery p50 (ms)', section.deliveryP50Ms],
        ['webhook delivery p99 (ms)', section.deliveryP99Ms],
        [`deliveries failed (of ${section.deliveries})`, section.deliveriesFailed],
      ],
    ),
  ].join('\n');
}
