import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fromCloudEvent, newEvent } from '../../core/events/envelope.ts';
import { deliverEvent, redeliveryDelaySeconds, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../../adapters/http/webhook-delivery.ts';
import { testHttp } from '../support/outbound.ts';

/** Webhook delivery through the real outbound adapter to a receiver on loopback that checks what it gets. */

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

let receiver: Server;
let base = '';
const received: Received[] = [];
/** Status to answer by path; `/slow` never answers within the test's timeout. */
const answers = new Map<string, number>();

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      received.push({ path, headers: request.headers, body });
      if (path === '/slow') return void setTimeout(() => response.end(), 2_000).unref();
      response.statusCode = answers.get(path) ?? 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
beforeEach(() => {
  received.length = 0;
  answers.clear();
});

const ids = (() => {
  let n = 0;
  return { next: () => `evt-${++n}` };
})();
const event = () => newEvent({ type: 'orchestrator.run.completed', tenant: 'acme', subject: 'executions/exec-1', data: { execution_id: 'exec-1', status: 'completed' } }, { now: () => '2026-12-05T10:00:00.000Z' }, ids);
const SECRET = 'test-webhook-secret-not-real';
const NOW = 1_796_000_000;

describe('webhook delivery', () => {
  it('posts the event as a CloudEvents document, signed so that the receiver can verify it and tell a replay', async () => {
    const sent = event();
    const outcome = await deliverEvent(testHttp(), { subscription_id: 'sub-1', url: `${base}/hook`, secret: SECRET }, sent, NOW);
    expect(outcome).toEqual({ delivered: true, status: 204 });
    const [request] = received;
    expect(request?.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect(request?.headers['x-orchestrator-event-id']).toBe(sent.event_id);
    expect(request?.headers['x-orchestrator-subscription-id']).toBe('sub-1');
    expect(fromCloudEvent(JSON.parse(request!.body))).toEqual({ event: sent });
    const signed = { body: request!.body, signature: request!.headers[SIGNATURE_HEADER] as string, timestamp: request!.headers[TIMESTAMP_HEADER] as string };
    expect(verifyWebhookSignature(signed, SECRET, NOW + 10)).toBe(true);
    // Another secret, a changed body, a stale timestamp: refused.
    expect(verifyWebhookSignature(signed, 'another-secret', NOW)).toBe(false);
    expect(verifyWebhookSignature({ ...signed, body: signed.body.replace('completed', 'failed') }, SECRET, NOW)).toBe(false);
    expect(verifyWebhookSignature(signed, SECRET, NOW + 3600)).toBe(false);
    expect(JSON.stringify(request)).not.toContain(SECRET);
  });

  it('sends no signature without a secret', async () => {
    await deliverEvent(testHttp(), { subscription_id: 'sub-2', url: `${base}/plain` }, event(), NOW);
    expect(received[0]?.headers[SIGNATURE_HEADER]).toBeUndefined();
  });

  it('says to retry 5xx, 429 and timeouts, and not 4xx or an address the outbound rules refuse', async () => {
    answers.set('/down', 503).set('/busy', 429).set('/gone', 410);
    const target = (path: string) => ({ subscription_id: 'sub-3', url: `${base}${path}` });
    expect(await deliverEvent(testHttp(), target('/down'), event(), NOW)).toMatchObject({ delivered: false, retryable: true, status: 503 });
    expect(await deliverEvent(testHttp(), target('/busy'), event(), NOW)).toMatchObject({ delivered: false, retryable: true, status: 429 });
    expect(await deliverEvent(testHttp(), target('/gone'), event(), NOW)).toMatchObject({ delivered: false, retryable: false, status: 410 });
    expect(await deliverEvent(testHttp(), target('/slow'), event(), NOW, 300)).toMatchObject({ delivered: false, retryable: true });
    // Loopback is not allowed by the default outbound rules: the request never leaves.
    const before = received.length;
    const refused = await deliverEvent(testHttp({ allow: [] }), target('/hook'), event(), NOW);
    expect(refused).toMatchObject({ delivered: false, retryable: false });
    expect(refused.delivered ? '' : refused.reason).toContain('not allowed');
    expect(received.length).toBe(before);
  });

  it('waits longer after each failed attempt, at most 15 minutes', () => {
    expect([1, 2, 3, 4].map((attempt) => redeliveryDelaySeconds(attempt, () => 1))).toEqual([2, 4, 8, 16]);
    expect(redeliveryDelaySeconds(20, () => 1)).toBe(900);
    expect(redeliveryDelaySeconds(3, () => 0)).toBe(1);
  });
});
