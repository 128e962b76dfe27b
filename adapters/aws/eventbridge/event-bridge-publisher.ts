import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DependencyUnavailableError } from '../../../core/errors.ts';
import type { EventEnvelope } from '../../../core/events/envelope.ts';
import type { EventPublisher } from '../../../core/ports.ts';

/**
 * EventPublisher on an EventBridge bus (the runtime stack's workflow event bus): one PutEvents entry per
 * event, the envelope as its `detail`, its type as the detail type and its source as the source (ADR 0013),
 * so rules match `detail-type` for one kind of event and `detail.<field>` for users' patterns. PutEvents
 * answers 200 even when it rejects an entry, so a failed entry is an error here.
 */
export class EventBridgePublisher implements EventPublisher {
  private readonly client: EventBridgeClient;
  private readonly busName: string;

  constructor(client: EventBridgeClient, busName: string) {
    this.client = client;
    this.busName = busName;
  }

  async publish(event: EventEnvelope): Promise<void> {
    let output;
    try {
      output = await this.client.send(
        new PutEventsCommand({ Entries: [{ EventBusName: this.busName, Source: event.source, DetailType: event.type, Detail: JSON.stringify(event), Time: new Date(event.time) }] }),
      );
    } catch (error) {
      throw new DependencyUnavailableError(`the event bus ${this.busName} did not take the event: ${error instanceof Error ? error.message : String(error)}`, [], { cause: error });
    }
    const [entry] = output.Entries ?? [];
    if ((output.FailedEntryCount ?? 0) > 0 || entry?.EventId === undefined) {
      throw new DependencyUnavailableError(`the event bus ${this.busName} refused the event: ${entry?.ErrorCode ?? 'no event id'}${entry?.ErrorMessage ? ` (${entry.ErrorMessage})` : ''}`);
    }
  }
}

/** A publisher on `busName` whose client is built on the first event (functions that may publish none pay nothing at init). */
export function lazyEventBridgePublisher(busName: string): EventPublisher {
  let publisher: EventBridgePublisher | undefined;
  return { publish: (event) => (publisher ??= new EventBridgePublisher(new EventBridgeClient({}), busName)).publish(event) };
}
