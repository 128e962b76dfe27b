import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoEventHistory } from '../adapters/aws/dynamo/dynamo-event-history.ts';
import { EVENT_TABLE } from '../adapters/aws/dynamo/event-table.ts';
import type { CursorCodec } from '../adapters/aws/dynamo/cursor-codec.ts';
import { DynamoSubscriptionStore } from '../adapters/aws/dynamo/dynamo-subscription-store.ts';
import { SUBSCRIPTION_TABLE } from '../adapters/aws/dynamo/subscription-table.ts';
import { SqsDeadLetterQueue } from '../adapters/aws/sqs/sqs-dead-letter-queue.ts';
import type { OutboundPolicy } from '../adapters/http/outbound-policy.ts';
import { createDestinationCheck, mintWebhookSecret } from '../adapters/http/webhook-subscriptions.ts';
import { InProcessEventBus } from '../adapters/local/in-process-event-bus.ts';
import type { EventEnvelope } from '../core/events/envelope.ts';
import { createEventEmitter, type EmitEvent } from '../core/events/emitter.ts';
import { createEventService, type EventService } from '../core/events/service.ts';
import { subscriptionReplayTarget } from '../core/events/replay-target.ts';
import { createSubscriptionService, type SubscriptionService } from '../core/events/subscriptions.ts';
import type { Clock, IdGenerator, OutboundHttp } from '../core/ports.ts';
import { createLocalEventDeliveries, type LocalEventDeliveries, type LocalEventDeliveriesOptions } from './event-deliveries.ts';
import { ensureQueue } from './fauxqs.ts';
import { ensureTable } from './tables.ts';

/**
 * The event plumbing of the local runtime (ADR 0013): the in-process bus in place of EventBridge, the
 * recorder subscribed to every event (as the recorder Lambda is to the bus's rule in AWS), the history on its
 * DynamoDB table, webhook subscriptions on theirs with their deliveries (retried, then dead-lettered to a queue
 * on the SQS emulator), and the use cases the `/infrastructure/events/*` routes call.
 */
export interface LocalEvents {
  readonly bus: InProcessEventBus;
  readonly history: DynamoEventHistory;
  /** The history's table (the dead-letter retry ledger shares it), and the subscriptions' table. */
  readonly tableName: string;
  readonly subscriptionsTableName: string;
  readonly service: EventService;
  readonly subscriptions: SubscriptionService;
  readonly deliveries: LocalEventDeliveries;
  /** The failed webhook deliveries' dead-letter queue. */
  readonly failedDeliveriesQueueUrl: string;
  /** Emits events built by the use cases (run and action events, registry events). */
  readonly emit: EmitEvent;
  /** Resolves once every event published so far is recorded and handed to every subscriber (deliveries.idle() waits for webhooks too). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface LocalEventsOptions {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly subscriptionsTableName: string;
  readonly sqsClient: SQSClient;
  /** The embedded emulator's endpoint (queue URLs are rewritten to its current port), or undefined for a given one. */
  readonly sqsServedAt?: string;
  readonly failedDeliveriesQueueName: string;
  /** Outbound HTTP and its policy: webhook URLs obey the action runner's address rules. */
  readonly http: OutboundHttp;
  readonly policy: OutboundPolicy;
  readonly cursors: CursorCodec;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** ORCHESTRATOR_EVENT_RETENTION_DAYS (default 7). */
  readonly retentionDays?: number;
  /** Delivery retries (tests shorten them). */
  readonly deliveryRetry?: LocalEventDeliveriesOptions['retry'];
  readonly log: (line: Record<string, unknown>) => void;
}

export async function startLocalEvents(options: LocalEventsOptions): Promise<LocalEvents> {
  await Promise.all([ensureTable(options.documentClient, EVENT_TABLE, options.tableName), ensureTable(options.documentClient, SUBSCRIPTION_TABLE, options.subscriptionsTableName)]);
  const failedDeliveriesQueueUrl = await ensureQueue(options.sqsClient, options.failedDeliveriesQueueName, options.sqsServedAt);
  const history = new DynamoEventHistory(options.documentClient, options.tableName, { cursors: options.cursors, clock: options.clock, ...(options.retentionDays === undefined ? {} : { retentionDays: options.retentionDays }) });
  const store = new DynamoSubscriptionStore(options.documentClient, options.subscriptionsTableName);
  const bus = new InProcessEventBus({
    onDeliveryFailure: (subscriber, event, error) => options.log({ kind: 'event_not_delivered', subscriber, event_id: event.event_id, event_type: event.type, error: String(error) }),
  });
  const emit = createEventEmitter({
    publisher: bus,
    clock: options.clock,
    ids: options.ids,
    onFailure: (event: EventEnvelope, error) => options.log({ kind: 'event_not_published', event_type: event.type, event_id: event.event_id, error: String(error) }),
  });
  const deliveries = createLocalEventDeliveries({
    subscriptions: store,
    http: options.http,
    deadLetters: new SqsDeadLetterQueue(options.sqsClient, failedDeliveriesQueueUrl),
    clock: options.clock,
    log: options.log,
    // A delivery dead-lettered is announced (orchestrator.dlq.added).
    emit,
    ...(options.deliveryRetry ? { retry: options.deliveryRetry } : {}),
  });
  const subscriptions = createSubscriptionService({
    store,
    rules: deliveries.rules,
    clock: options.clock,
    ids: options.ids,
    generateSecret: mintWebhookSecret,
    checkDestination: createDestinationCheck(options.policy),
  });
  // The recorder: every event, once (a redelivered id is kept once by the history).
  bus.subscribe({ name: 'recorder', deliver: (event) => history.record(event), attempts: 5 });
  // Webhooks: each event to the subscriptions it matches (their own retries and dead letters follow).
  bus.subscribe({ name: 'webhook deliveries', deliver: (event) => deliveries.onEvent(event) });
  // Replays go to the deliveries only, never to the bus: nothing inside the orchestrator sees them again.
  const replayTarget = subscriptionReplayTarget(store, async (delivery) => deliveries.enqueue(delivery), options.clock);
  return {
    bus,
    history,
    tableName: options.tableName,
    subscriptionsTableName: options.subscriptionsTableName,
    subscriptions,
    deliveries,
    failedDeliveriesQueueUrl,
    emit,
    service: createEventService({ history, replayTarget, clock: options.clock, ids: options.ids }),
    idle: () => bus.idle(),
    close: async () => {
      await bus.idle();
      await deliveries.close();
    },
  };
}
