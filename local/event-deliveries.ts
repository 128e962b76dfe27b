import type { EventEnvelope } from '../core/events/envelope.ts';
import { subscriptionMatches, type Subscription, type SubscriptionRules, type SubscriptionStore } from '../core/events/subscriptions.ts';
import type { Clock, OutboundHttp } from '../core/ports.ts';
import { announceFailedDelivery } from '../core/events/dead-letter-notice.ts';
import type { EmitEvent } from '../core/events/emitter.ts';
import { attemptDelivery, deliveryDeadLetter, type EventDeliveryMessage } from '../functions/workers/event-delivery.ts';

/**
 * Webhook deliveries of the local runtime (ADR 0013, "Subscriptions"): what the delivery queue and its Lambda
 * do in AWS, in process. The in-process bus hands every published event to `onEvent`, which enqueues one
 * delivery per subscription whose effective pattern matches; a replay enqueues its events directly. Each
 * subscription has its own queue, delivered one at a time, in order; a failure that may pass is retried with
 * exponential back-off (the queue waits: later events of that subscription are not delivered before it), and
 * after the last attempt, or at once for a failure that will not pass, the delivery goes to the
 * failed-deliveries dead-letter queue on the SQS emulator. The queues are memory only: a stop drops what is
 * still waiting (logged), as a receiver that was down for longer than the retries would lose it in AWS.
 */

export interface LocalEventDeliveriesOptions {
  readonly subscriptions: SubscriptionStore;
  /** The outbound adapter (its address rules apply to webhook URLs). */
  readonly http: OutboundHttp;
  /** The failed-deliveries dead-letter queue (an SqsDeadLetterQueue on the emulator). */
  readonly deadLetters: { send(body: unknown): Promise<string> };
  readonly clock: Clock;
  readonly log: (line: Record<string, unknown>) => void;
  readonly retry?: {
    /** Attempts in all, the first included; default 5. */
    readonly attempts?: number;
    /** The wait after the first failure, doubling after each; default 1000. */
    readonly baseDelayMs?: number;
    /** The longest wait; default 30000. */
    readonly maxDelayMs?: number;
  };
  /** Announces each dead-lettered delivery (orchestrator.dlq.added); omitted: none. */
  readonly emit?: EmitEvent;
  /** How long the subscription list read for matching is trusted; default 2000 (create and delete drop it at once). */
  readonly cacheTtlMs?: number;
}

export interface LocalEventDeliveries {
  /** Queues one delivery (a replay's, or one onEvent found). */
  enqueue(delivery: EventDeliveryMessage): void;
  /** Enqueues a delivery of `event` to each subscription it matches, in the order events come. Never rejects. */
  onEvent(event: EventEnvelope): Promise<void>;
  /** The `rules` port of the subscription service locally: the bus reads the store, so a change only drops the cache. */
  readonly rules: SubscriptionRules;
  /** Forgets the cached subscription list. */
  invalidate(): void;
  /** Resolves once nothing is queued, waiting or in flight (tests). */
  idle(): Promise<void>;
  /** Stops: waiting retries are cancelled and queued deliveries dropped (logged); resolves when attempts in flight end. */
  close(): Promise<void>;
}

export function createLocalEventDeliveries(options: LocalEventDeliveriesOptions): LocalEventDeliveries {
  const attempts = Math.max(1, options.retry?.attempts ?? 5);
  const baseDelayMs = Math.max(0, options.retry?.baseDelayMs ?? 1000);
  const maxDelayMs = Math.max(baseDelayMs, options.retry?.maxDelayMs ?? 30_000);
  const cacheTtlMs = options.cacheTtlMs ?? 2000;
  const { log } = options;

  const queues = new Map<string, EventDeliveryMessage[]>();
  /** The running drain of each subscription that has one. */
  const drains = new Map<string, Promise<void>>();
  /** Back-off waits, ended early by close(). */
  const waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  let routing: Promise<void> = Promise.resolve();
  let closed = false;
  let cache: { at: number; generation: number; list: Promise<Subscription[]> } | undefined;
  let generation = 0;

  function subscriptions(): Promise<Subscription[]> {
    if (cache && cache.generation === generation && Date.now() - cache.at < cacheTtlMs) return cache.list;
    const list = options.subscriptions.list({});
    const entry = { at: Date.now(), generation, list };
    cache = entry;
    // A failed read is not kept: the next event reads again.
    list.catch(() => {
      if (cache === entry) cache = undefined;
    });
    return list;
  }

  function invalidate(): void {
    generation += 1;
    cache = undefined;
  }

  function sleep(ms: number): Promise<void> {
    // An attempt in flight at close() ends after it: it must not start a wait close() has no more chance to cut.
    if (closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wait = { timer: setTimeout(() => (waits.delete(wait), resolve()), ms), resolve };
      waits.add(wait);
    });
  }

  /** Attempts one delivery until it is delivered, skipped or dead-lettered (or the deliveries close). */
  async function deliver(message: EventDeliveryMessage): Promise<void> {
    const base = { kind: 'event_delivery', subscription_id: message.subscription_id, event_id: message.event.event_id };
    for (let attempt = 1; ; attempt++) {
      const outcome = await attemptDelivery({ subscriptions: options.subscriptions, http: options.http, clock: options.clock }, message, attempt);
      if (outcome.kind === 'delivered' || outcome.kind === 'skipped') {
        log({ ...base, attempt, outcome: outcome.kind, ...(outcome.kind === 'delivered' ? { status: outcome.status } : { reason: outcome.reason }) });
        return;
      }
      if (outcome.kind === 'retry' && attempt < attempts) {
        const delayMs = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
        log({ ...base, attempt, outcome: 'retry', reason: outcome.reason, delay_ms: delayMs });
        await sleep(delayMs);
        if (closed) {
          log({ ...base, attempt, outcome: 'dropped', reason: 'the local runtime stopped while the delivery waited to be retried' });
          return;
        }
        continue;
      }
      try {
        const letter = deliveryDeadLetter(message, outcome.reason, attempt, options.clock.now());
        const messageId = await options.deadLetters.send(letter);
        log({ ...base, attempt, outcome: 'dead_lettered', dead_letter_id: messageId, error: outcome.reason });
        if (options.emit) await announceFailedDelivery(options.emit, letter);
      } catch (error) {
        log({ ...base, attempt, outcome: 'lost', reason: `the dead-letter queue did not take it: ${error instanceof Error ? error.message : String(error)}`, error: outcome.reason });
      }
      return;
    }
  }

  /** Delivers a subscription's queue, head first, one at a time, until it is empty. */
  async function drain(subscriptionId: string): Promise<void> {
    const queue = queues.get(subscriptionId)!;
    while (queue.length > 0 && !closed) {
      await deliver(queue[0]!);
      queue.shift();
    }
    if (closed && queue.length > 0) log({ kind: 'event_delivery', subscription_id: subscriptionId, outcome: 'dropped', count: queue.length, reason: 'the local runtime stopped' });
    queues.delete(subscriptionId);
    drains.delete(subscriptionId);
  }

  function enqueue(delivery: EventDeliveryMessage): void {
    if (closed) {
      log({ kind: 'event_delivery', subscription_id: delivery.subscription_id, event_id: delivery.event.event_id, outcome: 'dropped', reason: 'the local runtime stopped' });
      return;
    }
    const queue = queues.get(delivery.subscription_id);
    if (queue) {
      queue.push(delivery);
      return;
    }
    queues.set(delivery.subscription_id, [delivery]);
    drains.set(delivery.subscription_id, drain(delivery.subscription_id));
  }

  async function route(event: EventEnvelope): Promise<void> {
    try {
      for (const subscription of await subscriptions()) {
        if (subscriptionMatches(subscription, event)) enqueue({ subscription_id: subscription.subscription_id, event });
      }
    } catch (error) {
      log({ kind: 'event_delivery', event_id: event.event_id, outcome: 'not_routed', reason: `the subscriptions could not be read: ${error instanceof Error ? error.message : String(error)}` });
    }
  }

  return {
    enqueue,
    // One chain, so events are enqueued in the order they were published even while the list is being read.
    onEvent(event) {
      routing = routing.then(() => route(event));
      return routing;
    },
    rules: {
      put: async () => invalidate(),
      remove: async () => invalidate(),
    },
    invalidate,
    async idle() {
      for (;;) {
        const pending = routing;
        await pending;
        if (drains.size === 0 && routing === pending) return;
        await Promise.all(drains.values());
      }
    },
    async close() {
      closed = true;
      for (const wait of waits) {
        clearTimeout(wait.timer);
        wait.resolve();
      }
      waits.clear();
      await routing;
      await Promise.all(drains.values());
    },
  };
}
