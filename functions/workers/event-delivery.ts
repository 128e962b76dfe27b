import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { deliverEvent, redeliveryDelaySeconds } from '../../adapters/http/webhook-delivery.ts';
import { EventEnvelopeSchema } from '../../core/events/envelope.ts';
import { announceFailedDelivery } from '../../core/events/dead-letter-notice.ts';
import type { EmitEvent } from '../../core/events/emitter.ts';
import { subscriptionMatches, type SubscriptionStore } from '../../core/events/subscriptions.ts';
import type { Clock, OutboundHttp } from '../../core/ports.ts';
import { zodIssues } from '../../core/workflow/validate.ts';
import type { Logger } from '../middleware/http-handler.ts';

/**
 * Webhook deliveries (issue 12, ADR 0013 "Subscriptions"): one delivery message, `{subscription_id, event}`,
 * becomes one signed POST. In AWS a subscription's EventBridge rule puts the message on the delivery queue and
 * the SQS consumer below handles a batch; locally local/event-deliveries.ts runs the same attempt in process.
 */

/** What the delivery queue carries (the rule's input transformer writes it; a replay enqueues it too). */
export const EventDeliveryMessageSchema = z.object({ subscription_id: z.string().min(1), event: EventEnvelopeSchema });
export type EventDeliveryMessage = z.infer<typeof EventDeliveryMessageSchema>;

/**
 * A failed delivery's dead letter. The dead-letter routes read `subscription_id` and `event` back from it (to
 * deliver again); the rest says why and when.
 */
export interface DeliveryDeadLetter extends EventDeliveryMessage {
  readonly error: string;
  readonly attempts: number;
  readonly failed_at: string;
}

export type DeliveryAttempt =
  | { readonly kind: 'delivered'; readonly status: number }
  /** Nothing to do: the subscription is gone, or the event is not (or no longer) for it. */
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'retry'; readonly reason: string; readonly delaySeconds: number }
  | { readonly kind: 'give_up'; readonly reason: string };

export interface EventDeliveryDeps {
  readonly subscriptions: SubscriptionStore;
  /** The outbound adapter: its address rules apply to webhook URLs as to service calls. */
  readonly http: OutboundHttp;
  readonly clock: Clock;
  /** Jitter of the back-off (tests fix it). */
  readonly random?: () => number;
  /** Announces each dead-lettered delivery (orchestrator.dlq.added); omitted: none. */
  readonly emit?: EmitEvent;
}

/**
 * One attempt (the `attempt`-th, from 1) to deliver a message: the subscription is read again (a deleted one
 * is skipped), the event must still be for it (its tenant's, matching its pattern: a replay may name any
 * subscription), then it is signed and posted. Never throws: the outcome says what to do next.
 */
export async function attemptDelivery(deps: EventDeliveryDeps, message: EventDeliveryMessage, attempt: number): Promise<DeliveryAttempt> {
  const retry = (reason: string): DeliveryAttempt => ({ kind: 'retry', reason, delaySeconds: redeliveryDelaySeconds(attempt, deps.random) });
  let subscription;
  try {
    subscription = await deps.subscriptions.get(message.subscription_id);
  } catch (error) {
    return retry(`the subscription could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!subscription) return { kind: 'skipped', reason: 'the subscription was deleted' };
  if (!subscriptionMatches(subscription, message.event)) return { kind: 'skipped', reason: "the event does not match the subscription's pattern or tenant" };
  const outcome = await deliverEvent(deps.http, subscription, message.event, Date.parse(deps.clock.now()) / 1000);
  if (outcome.delivered) return { kind: 'delivered', status: outcome.status };
  return outcome.retryable ? retry(outcome.reason) : { kind: 'give_up', reason: outcome.reason };
}

/** The dead letter of a message whose delivery failed for good. */
export function deliveryDeadLetter(message: EventDeliveryMessage, error: string, attempts: number, failedAt: string): DeliveryDeadLetter {
  return { subscription_id: message.subscription_id, event: message.event, error, attempts, failed_at: failedAt };
}

export interface EventDeliveryWorkerDeps extends EventDeliveryDeps {
  /** The failed-deliveries dead-letter queue. */
  readonly deadLetters: { send(body: unknown): Promise<string> };
  /**
   * The delivery queue's maxReceiveCount. At that receive a retryable failure is dead-lettered here, with its
   * error, rather than moved bare by SQS. Without it SQS moves the message (still `{subscription_id, event}`).
   */
  readonly maxAttempts?: number;
  /** Makes a message visible again in `seconds` (ChangeMessageVisibility): back-off. Without it, the queue's visibility timeout. */
  readonly delay?: (receiptHandle: string, seconds: number) => Promise<void>;
  readonly log: Logger;
}

/**
 * The delivery queue's Lambda consumer (ReportBatchItemFailures): each message is attempted once; a retryable
 * failure is reported in `batchItemFailures`, so SQS keeps it and delivers it again after its back-off, and
 * after maxReceiveCount moves it to the failed-deliveries queue. A failure that will not pass (a 4xx, a
 * refused address) and a message that is not a delivery are dead-lettered at once. Messages of one
 * subscription are attempted in their batch order, and once one of them fails the rest of that subscription's
 * are handed back untried (on a FIFO queue grouped by subscription, this keeps its deliveries in order).
 */
export function createEventDeliveryWorker(deps: EventDeliveryWorkerDeps): (event: SQSEvent) => Promise<SQSBatchResponse> {
  async function handle(record: SQSRecord, message: EventDeliveryMessage): Promise<boolean> {
    const attempt = Math.max(1, Number(record.attributes.ApproximateReceiveCount) || 1);
    const outcome = await attemptDelivery(deps, message, attempt);
    const base = { kind: 'event_delivery', subscription_id: message.subscription_id, event_id: message.event.event_id, attempt };
    if (outcome.kind === 'delivered' || outcome.kind === 'skipped') {
      deps.log({ ...base, outcome: outcome.kind, ...(outcome.kind === 'delivered' ? { status: outcome.status } : { reason: outcome.reason }) });
      return true;
    }
    const last = outcome.kind === 'give_up' || (deps.maxAttempts !== undefined && attempt >= deps.maxAttempts);
    if (!last && outcome.kind === 'retry') {
      deps.log({ ...base, outcome: 'retry', reason: outcome.reason, delay_seconds: outcome.delaySeconds });
      if (deps.delay) await deps.delay(record.receiptHandle, outcome.delaySeconds).catch((error: unknown) => deps.log({ ...base, outcome: 'delay_not_set', error: String(error) }));
      return false;
    }
    const letter = deliveryDeadLetter(message, outcome.reason, attempt, deps.clock.now());
    const sent = await deadLetter(letter, base);
    if (sent && deps.emit) await announceFailedDelivery(deps.emit, letter);
    return sent;
  }

  /** True when the dead letter is sent (the message may go); false keeps the message, so nothing is lost. */
  async function deadLetter(body: unknown, base: Record<string, unknown>): Promise<boolean> {
    try {
      const messageId = await deps.deadLetters.send(body);
      deps.log({ ...base, outcome: 'dead_lettered', dead_letter_id: messageId, error: (body as { error?: string }).error });
      return true;
    } catch (error) {
      deps.log({ ...base, outcome: 'dead_letter_failed', error: String(error) });
      return false;
    }
  }

  return async (event) => {
    const failures: string[] = [];
    const bySubscription = new Map<string, { record: SQSRecord; message: EventDeliveryMessage }[]>();
    for (const record of event.Records) {
      const parsed = parseMessage(record.body);
      if ('issues' in parsed) {
        const ok = await deadLetter({ error: `not a delivery message: ${parsed.issues}`, body: record.body, failed_at: deps.clock.now() }, { kind: 'event_delivery', message_id: record.messageId });
        if (!ok) failures.push(record.messageId);
        continue;
      }
      const queue = bySubscription.get(parsed.message.subscription_id) ?? [];
      queue.push({ record, message: parsed.message });
      bySubscription.set(parsed.message.subscription_id, queue);
    }
    await Promise.all(
      [...bySubscription.values()].map(async (queue) => {
        for (const [index, { record, message }] of queue.entries()) {
          if (await handle(record, message)) continue;
          failures.push(...queue.slice(index).map((entry) => entry.record.messageId));
          return;
        }
      }),
    );
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

function parseMessage(body: string): { message: EventDeliveryMessage } | { issues: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { issues: `not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const parsed = EventDeliveryMessageSchema.safeParse(json);
  return parsed.success ? { message: parsed.data } : { issues: zodIssues(parsed.error, '').map((issue) => `${issue.field}: ${issue.message}`).join('; ') };
}
