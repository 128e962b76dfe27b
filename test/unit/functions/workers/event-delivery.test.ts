import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../../../../adapters/http/webhook-delivery.ts';
import { EVENT_SOURCES, type EventEnvelope } from '../../../../core/events/envelope.ts';
import type { StoredSubscription } from '../../../../core/events/subscriptions.ts';
import type { OutboundRequest, OutboundResponse } from '../../../../core/ports.ts';
import { createEventDeliveryWorker, type EventDeliveryWorkerDeps } from '../../../../functions/workers/event-delivery.ts';
import { MemorySubscriptionStore } from '../../../support/subscriptions.ts';

/** The delivery queue's consumer, with the store and the receivers faked: what it answers SQS and what it sends. */

const NOW = '2026-12-01T10:00:00.000Z';
const SECRET = 'subscription-secret-0123456789';

function subscription(id: string, path: string): StoredSubscription {
  return { subscription_id: id, url: `https://hooks.example.com${path}`, pattern: { type: [{ prefix: 'orchestrator.run.' }] }, tenant: 'acme', created_by: 'alice', created_at: NOW, secret: SECRET };
}

function event(id: string, overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return { event_id: id, type: 'orchestrator.run.completed', source: EVENT_SOURCES.runs, time: NOW, tenant: 'acme', data: { execution_id: 'exec-1' }, ...overrides };
}

function record(messageId: string, body: unknown, receiveCount = 1): SQSRecord {
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'events', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:deliveries',
    awsRegion: 'us-east-1',
  };
}

const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

describe('the event delivery worker', () => {
  let store: MemorySubscriptionStore;
  let sent: OutboundRequest[];
  let deadLetters: unknown[];
  let delays: [string, number][];
  /** Status each path answers; default 204. */
  let answers: Map<string, number>;
  let deadLettersDown: boolean;

  const worker = (overrides: Partial<EventDeliveryWorkerDeps> = {}) =>
    createEventDeliveryWorker({
      subscriptions: store,
      http: {
        send: async (request): Promise<OutboundResponse> => {
          sent.push(request);
          const status = answers.get(new URL(request.url).pathname) ?? 204;
          return { status, statusText: '', headers: {}, url: request.url, method: request.method, body: { kind: 'complete', text: '' } };
        },
      },
      clock: { now: () => NOW },
      random: () => 0.5,
      deadLetters: {
        send: async (body) => {
          if (deadLettersDown) throw new Error('SQS is down');
          deadLetters.push(body);
          return `dl-${deadLetters.length}`;
        },
      },
      delay: async (receipt, seconds) => void delays.push([receipt, seconds]),
      log: () => undefined,
      ...overrides,
    });

  beforeEach(async () => {
    store = new MemorySubscriptionStore();
    sent = [];
    deadLetters = [];
    delays = [];
    answers = new Map();
    deadLettersDown = false;
    await store.create(subscription('sub-ok', '/ok'));
    await store.create(subscription('sub-down', '/down'));
    await store.create(subscription('sub-gone', '/gone'));
  });

  it('posts each delivery signed with the subscription secret and acknowledges it', async () => {
    const reply = await worker()(batch(record('m1', { subscription_id: 'sub-ok', event: event('ev-1') })));
    expect(reply).toEqual({ batchItemFailures: [] });
    expect(sent).toHaveLength(1);
    const headers = sent[0]!.headers!;
    expect(verifyWebhookSignature({ body: sent[0]!.body!, signature: headers[SIGNATURE_HEADER], timestamp: headers[TIMESTAMP_HEADER] }, SECRET, Date.parse(NOW) / 1000)).toBe(true);
  });

  it('hands back a failure that may pass, with its back-off, and the rest of that subscription untried; other subscriptions go on', async () => {
    answers.set('/down', 503);
    const reply = await worker()(
      batch(
        record('m1', { subscription_id: 'sub-down', event: event('ev-1') }, 2),
        record('m2', { subscription_id: 'sub-ok', event: event('ev-2') }),
        record('m3', { subscription_id: 'sub-down', event: event('ev-3') }),
      ),
    );
    expect(reply.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(['m1', 'm3']);
    expect(sent.map((request) => new URL(request.url).pathname).sort()).toEqual(['/down', '/ok']);
    // The second receive waits 2 s or so (redeliveryDelaySeconds: full jitter up to 4 s).
    expect(delays).toEqual([['receipt-m1', 2]]);
    expect(deadLetters).toEqual([]);
  });

  it('dead-letters at once a failure that will not pass, with what the dead-letter routes read back', async () => {
    answers.set('/gone', 410);
    const delivery = { subscription_id: 'sub-gone', event: event('ev-1') };
    const reply = await worker()(batch(record('m1', delivery)));
    expect(reply).toEqual({ batchItemFailures: [] });
    expect(deadLetters).toEqual([{ ...delivery, error: 'the receiver answered 410', attempts: 1, failed_at: NOW }]);
  });

  it('dead-letters a failure at the last receive itself, with its error, instead of handing it back', async () => {
    answers.set('/down', 503);
    const reply = await worker({ maxAttempts: 5 })(batch(record('m1', { subscription_id: 'sub-down', event: event('ev-1') }, 5)));
    expect(reply).toEqual({ batchItemFailures: [] });
    expect(deadLetters).toEqual([expect.objectContaining({ subscription_id: 'sub-down', error: 'the receiver answered 503', attempts: 5 })]);
    expect(delays).toEqual([]);
  });

  it("skips a deleted subscription's delivery and an event of another tenant, calling no one", async () => {
    const reply = await worker()(
      batch(record('m1', { subscription_id: 'sub-deleted', event: event('ev-1') }), record('m2', { subscription_id: 'sub-ok', event: event('ev-2', { tenant: 'globex' }) })),
    );
    expect(reply).toEqual({ batchItemFailures: [] });
    expect(sent).toEqual([]);
    expect(deadLetters).toEqual([]);
  });

  it('dead-letters a message that is not a delivery, naming what is wrong', async () => {
    const reply = await worker()(batch(record('m1', '{"subscription_id":"sub-ok"}'), record('m2', 'not json')));
    expect(reply).toEqual({ batchItemFailures: [] });
    expect(deadLetters).toEqual([
      { error: expect.stringMatching(/^not a delivery message: event: /), body: '{"subscription_id":"sub-ok"}', failed_at: NOW },
      { error: expect.stringMatching(/^not a delivery message: not JSON/), body: 'not json', failed_at: NOW },
    ]);
  });

  it('keeps a message whose dead letter could not be sent, so nothing is lost', async () => {
    answers.set('/gone', 410);
    deadLettersDown = true;
    const reply = await worker()(batch(record('m1', { subscription_id: 'sub-gone', event: event('ev-1') })));
    expect(reply).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  });
});
