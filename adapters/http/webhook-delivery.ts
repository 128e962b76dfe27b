import { createHmac, timingSafeEqual } from 'node:crypto';
import type { OutboundFailureKind, OutboundHttp } from '../../core/ports.ts';
import { toCloudEvent, type EventEnvelope } from '../../core/events/envelope.ts';

/**
 * Webhook delivery of events (issue 12, ADR 0013): one signed POST per event, as a CloudEvents 1.0 document in
 * structured mode, through the outbound adapter (so a webhook URL is held to the action runner's address
 * rules). The caller (the bus locally, a queue-fed Lambda in AWS) retries what this says is retryable, with
 * back-off, and dead-letters the rest.
 */

export const SIGNATURE_HEADER = 'x-orchestrator-signature';
export const TIMESTAMP_HEADER = 'x-orchestrator-timestamp';
export const EVENT_ID_HEADER = 'x-orchestrator-event-id';
export const SUBSCRIPTION_HEADER = 'x-orchestrator-subscription-id';
/** How far a receiver should accept a signature's timestamp from its own clock: a captured request goes stale. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
const DELIVERY_TIMEOUT_MS = 10_000;

export interface WebhookTarget {
  readonly subscription_id: string;
  readonly url: string;
  /** Signs each delivery when set (HMAC-SHA256); never sent, logged or returned by the API. */
  readonly secret?: string;
}

export type DeliveryOutcome =
  | { readonly delivered: true; readonly status: number }
  | { readonly delivered: false; readonly retryable: boolean; readonly reason: string; readonly status?: number };

/**
 * `sha256=<hex>` of HMAC-SHA256(secret, `<timestamp>.<body>`): the timestamp is signed with the body, so a
 * receiver that checks it against its clock refuses a captured request sent again later.
 */
export function webhookSignature(body: string, secret: string, timestamp: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: the signature matches (in constant time) and the timestamp is recent. */
export function verifyWebhookSignature(request: { body: string; signature: string | undefined; timestamp: string | undefined }, secret: string, nowSeconds: number): boolean {
  if (request.signature === undefined || request.timestamp === undefined || !/^\d{1,12}$/.test(request.timestamp)) return false;
  if (Math.abs(nowSeconds - Number(request.timestamp)) > SIGNATURE_TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(webhookSignature(request.body, secret, request.timestamp));
  const given = Buffer.from(request.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Failures that may pass: the receiver or the network may recover. A refused address or a redirect will not. */
const RETRYABLE_FAILURES: ReadonlySet<OutboundFailureKind> = new Set(['dns', 'connection', 'timeout']);

/** Delivers one event to one webhook; never throws: the outcome says whether to retry. */
export async function deliverEvent(http: OutboundHttp, target: WebhookTarget, event: EventEnvelope, nowSeconds: number, timeoutMs = DELIVERY_TIMEOUT_MS): Promise<DeliveryOutcome> {
  const body = JSON.stringify(toCloudEvent(event));
  const timestamp = String(Math.floor(nowSeconds));
  const headers: Record<string, string> = {
    'content-type': 'application/cloudevents+json; charset=utf-8',
    [EVENT_ID_HEADER]: event.event_id,
    [SUBSCRIPTION_HEADER]: target.subscription_id,
    [TIMESTAMP_HEADER]: timestamp,
    ...(target.secret === undefined ? {} : { [SIGNATURE_HEADER]: webhookSignature(body, target.secret, timestamp) }),
  };
  try {
    // No redirects: a signed delivery goes to the URL that was registered, nowhere else.
    const response = await http.send({ method: 'POST', url: target.url, headers, body, maxBodyBytes: 4096, maxRedirects: 0, signal: AbortSignal.timeout(timeoutMs) });
    if (response.status >= 200 && response.status < 300) return { delivered: true, status: response.status };
    const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
    return { delivered: false, retryable, status: response.status, reason: `the receiver answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}` };
  } catch (error) {
    const kind = (error as { kind?: OutboundFailureKind }).kind;
    const message = error instanceof Error ? error.message : String(error);
    // The caller's own timeout aborts the request: as retryable as a slow receiver.
    const retryable = kind === undefined ? error instanceof Error && error.name === 'TimeoutError' : RETRYABLE_FAILURES.has(kind) || kind === 'aborted';
    return { delivered: false, retryable, reason: kind === 'refused' ? `the webhook URL is not allowed: ${message}` : `delivery failed (${kind ?? 'error'}): ${message}` };
  }
}

/** Seconds before the next attempt: 2, 4, 8... with full jitter, at most 15 minutes (SQS's longest delay). */
export function redeliveryDelaySeconds(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(900, 2 ** Math.max(1, attempt));
  return Math.max(1, Math.round(random() * ceiling));
}
