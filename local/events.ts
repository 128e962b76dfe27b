import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoEventHistory } from '../adapters/aws/dynamo/dynamo-event-history.ts';
import { EVENT_TABLE } from '../adapters/aws/dynamo/event-table.ts';
import type { CursorCodec } from '../adapters/aws/dynamo/cursor-codec.ts';
import { InProcessEventBus } from '../adapters/local/in-process-event-bus.ts';
import type { EventEnvelope } from '../core/events/envelope.ts';
import { createEventEmitter, type EmitEvent } from '../core/events/emitter.ts';
import { createEventService, type EventService, type ReplayTarget } from '../core/events/service.ts';
import type { Clock, IdGenerator } from '../core/ports.ts';
import { ensureTable } from './tables.ts';

/**
 * The event plumbing of the local runtime (ADR 0013): the in-process bus in place of EventBridge, the
 * recorder subscribed to every event (as the recorder Lambda is to the bus's rule in AWS), the history on
 * its DynamoDB table, and the use cases the `/infrastructure/events/*` routes call.
 */
export interface LocalEvents {
  readonly bus: InProcessEventBus;
  readonly history: DynamoEventHistory;
  readonly service: EventService;
  /** Emits events built by the use cases (run and action events, registry events). */
  readonly emit: EmitEvent;
  /** Resolves once every event published so far is recorded and handed to every subscriber. */
  idle(): Promise<void>;
}

export interface LocalEventsOptions {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly cursors: CursorCodec;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** ORCHESTRATOR_EVENT_RETENTION_DAYS (default 7). */
  readonly retentionDays?: number;
  readonly log: (line: Record<string, unknown>) => void;
  /** Where replays go (the subscriptions' deliveries); omitted: replay answers 409. */
  readonly replayTarget?: ReplayTarget;
}

export async function startLocalEvents(options: LocalEventsOptions): Promise<LocalEvents> {
  await ensureTable(options.documentClient, EVENT_TABLE, options.tableName);
  const history = new DynamoEventHistory(options.documentClient, options.tableName, { cursors: options.cursors, clock: options.clock, ...(options.retentionDays === undefined ? {} : { retentionDays: options.retentionDays }) });
  const bus = new InProcessEventBus({
    onDeliveryFailure: (subscriber, event, error) => options.log({ kind: 'event_not_delivered', subscriber, event_id: event.event_id, event_type: event.type, error: String(error) }),
  });
  // The recorder: every event, once (a redelivered id is kept once by the history), before anyone reads it.
  bus.subscribe({ name: 'recorder', deliver: (event) => history.record(event), attempts: 5 });
  const emit = createEventEmitter({
    publisher: bus,
    clock: options.clock,
    ids: options.ids,
    onFailure: (event: EventEnvelope, error) => options.log({ kind: 'event_not_published', event_type: event.type, event_id: event.event_id, error: String(error) }),
  });
  return {
    bus,
    history,
    emit,
    service: createEventService({ history, clock: options.clock, ids: options.ids, ...(options.replayTarget ? { replayTarget: options.replayTarget } : {}) }),
    idle: () => bus.idle(),
  };
}
