import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoSubscriptionStore } from '../adapters/aws/dynamo/dynamo-subscription-store.ts';
import { sqsDeliveryQueue } from '../adapters/aws/sqs/delivery-queue.ts';
import { createSqsClient } from '../adapters/aws/sqs/sqs-dead-letter-queue.ts';
import { subscriptionReplayTarget } from '../core/events/replay-target.ts';
import { createEventService, type ReplayTarget } from '../core/events/service.ts';
import { randomIds, systemClock } from '../core/system.ts';
import { awsEventHistory } from './aws-events.ts';
import { awsHandlerSecurity } from './aws-security.ts';
import { readLambdaConfig, required, type LambdaConfig } from './config.ts';
import type { EventHttpServices } from './http/event-handlers.ts';

/*
 * Apart from aws-events.ts (the emitter and the history, which the workers use) so that a worker's bundle does
 * not carry the HTTP stack: the route table and every route's schemas, built at each cold start.
 */

/**
 * The events context's routes: history, stream, clear, and replay, whose function alone has the delivery
 * queue (EVENT_DELIVERY_QUEUE_URL, `deliveries: 'enqueue'`) and reads subscriptions (SUBSCRIPTIONS_TABLE_NAME).
 */
export function awsEventServices(): EventHttpServices {
  const config = readLambdaConfig();
  const queueUrl = config.EVENT_DELIVERY_QUEUE_URL;
  return {
    security: awsHandlerSecurity(),
    events: createEventService({ history: awsEventHistory(config), clock: systemClock, ids: randomIds, ...(queueUrl === undefined ? {} : { replayTarget: sqsReplayTarget(config, queueUrl) }) }),
  };
}

/** Replays as messages on the delivery queue, shaped as the subscriptions' rules shape them. */
function sqsReplayTarget(config: LambdaConfig, queueUrl: string): ReplayTarget {
  const sqs = createSqsClient();
  const store = new DynamoSubscriptionStore(sharedDocumentClient(), required(config.SUBSCRIPTIONS_TABLE_NAME, 'SUBSCRIPTIONS_TABLE_NAME'));
  return subscriptionReplayTarget(store, sqsDeliveryQueue(sqs, queueUrl, () => randomIds.next()), systemClock);
}
