import type { Clock, EventPublisher, IdGenerator } from '../ports.ts';
import { newEvent, type EventEnvelope, type NewEvent } from './envelope.ts';

/** Emits domain events after the change they describe is stored: stamped, published, never failing the change. */
export type EmitEvent = (event: NewEvent) => Promise<void>;

export interface EventEmitterDeps {
  /** The workflow event bus; omitted: events are dropped (tests and tools that need none). */
  readonly publisher?: EventPublisher;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /**
   * A publish that failed: the change is stored by then and must not be undone or reported as failed, so the
   * composition root logs it. (A Lambda awaits the publish before answering: it freezes once it answers.)
   */
  readonly onFailure?: (event: EventEnvelope, error: unknown) => void;
}

/** The one way use cases emit events (issue 12): envelopes built by newEvent, publish failures reported, never thrown. */
export function createEventEmitter({ publisher, clock, ids, onFailure }: EventEmitterDeps): EmitEvent {
  return async (event) => {
    if (!publisher) return;
    const envelope = newEvent(event, clock, ids);
    try {
      await publisher.publish(envelope);
    } catch (error) {
      onFailure?.(envelope, error);
    }
  };
}
