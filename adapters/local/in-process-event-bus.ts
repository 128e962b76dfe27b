import { EventEnvelopeSchema, type EventEnvelope } from '../../core/events/envelope.ts';
import { matchesEventPattern, type EventPattern } from '../../core/events/pattern.ts';
import type { EventPublisher } from '../../core/ports.ts';

/**
 * The workflow event bus on one machine, in place of EventBridge (ADR 0013): publish() accepts an envelope
 * and returns at once, as PutEvents does; each subscriber (the recorder, the webhook deliveries, live
 * streams) gets the events its pattern matches, in the order they were published, one at a time, on its
 * own queue, so a slow subscriber delays nobody else. A delivery that throws is tried again with back-off,
 * as EventBridge retries a target, then reported and dropped.
 */

export interface BusSubscription {
  /** Names the subscriber in failure reports. */
  readonly name: string;
  /** The events it wants, an EventBridge pattern over the envelope; omitted: every event. */
  readonly pattern?: EventPattern;
  readonly deliver: (event: EventEnvelope) => Promise<void> | void;
  /** Tries per event before it is dropped (default 3). */
  readonly attempts?: number;
}

export interface InProcessEventBusOptions {
  /** A subscriber failed an event on every try. */
  readonly onDeliveryFailure?: (subscriber: string, event: EventEnvelope, error: unknown) => void;
  /** The first retry's pause, doubled at each further one (default 100 ms). */
  readonly retryDelayMs?: number;
}

interface Subscriber extends BusSubscription {
  tail: Promise<void>;
  active: boolean;
}

export class InProcessEventBus implements EventPublisher {
  private readonly subscribers = new Set<Subscriber>();
  private readonly options: InProcessEventBusOptions;
  private pending = 0;
  private readonly drained: Array<() => void> = [];

  constructor(options: InProcessEventBusOptions = {}) {
    this.options = options;
  }

  /** Accepts an event (checked like PutEvents checks an entry) and hands it to every matching subscriber. */
  async publish(event: EventEnvelope): Promise<void> {
    const accepted = EventEnvelopeSchema.parse(event);
    for (const subscriber of this.subscribers) {
      if (subscriber.pattern !== undefined && !matchesEventPattern(subscriber.pattern, accepted)) continue;
      this.pending += 1;
      subscriber.tail = subscriber.tail.then(() => this.deliver(subscriber, accepted)).finally(() => this.settle());
    }
  }

  /** Adds a subscriber for the events published from now on; the returned function removes it. */
  subscribe(subscription: BusSubscription): () => void {
    const subscriber: Subscriber = { ...subscription, tail: Promise.resolve(), active: true };
    this.subscribers.add(subscriber);
    return () => {
      subscriber.active = false;
      this.subscribers.delete(subscriber);
    };
  }

  /** Resolves once every event published so far has been handled by every subscriber (tests, shutdown). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private async deliver(subscriber: Subscriber, event: EventEnvelope): Promise<void> {
    const attempts = subscriber.attempts ?? 3;
    for (let attempt = 1; subscriber.active; attempt += 1) {
      try {
        await subscriber.deliver(event);
        return;
      } catch (error) {
        if (attempt >= attempts) {
          this.options.onDeliveryFailure?.(subscriber.name, event, error);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, (this.options.retryDelayMs ?? 100) * 2 ** (attempt - 1)));
      }
    }
  }

  private settle(): void {
    this.pending -= 1;
    if (this.pending === 0) for (const resolve of this.drained.splice(0)) resolve();
  }
}
