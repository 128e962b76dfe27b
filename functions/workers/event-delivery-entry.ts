import { configureAwsLog } from '../aws-observability.ts';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import { sharedDocumentClient } from '../../adapters/aws/dynamo/client.ts';
import { DynamoSubscriptionStore } from '../../adapters/aws/dynamo/dynamo-subscription-store.ts';
import { createSqsClient, SqsDeadLetterQueue } from '../../adapters/aws/sqs/sqs-dead-letter-queue.ts';
import { systemClock } from '../../core/system.ts';
import { awsOutboundHttp } from '../aws-outbound.ts';
import { readLambdaConfig, required } from '../config.ts';
import { sharedLog } from '../observability/logger.ts';
import { awsEventEmitter } from '../aws-events.ts';
import { createEventDeliveryWorker } from './event-delivery.ts';

/**
 * Lambda entry of the event delivery worker (ADR 0013): the delivery queue's event source mapping (with
 * ReportBatchItemFailures) invokes it with batches of `{subscription_id, event}` messages that the
 * subscriptions' EventBridge rules put there. CDK sets SUBSCRIPTIONS_TABLE_NAME (GetItem only) and
 * EVENT_DELIVERY_DEAD_LETTER_QUEUE_URL (SendMessage), and EVENT_DELIVERY_QUEUE_URL (ChangeMessageVisibility,
 * for back-off) and EVENT_DELIVERY_MAX_ATTEMPTS (the queue's maxReceiveCount) when it wants them;
 * ORCHESTRATOR_OUTBOUND_ALLOW lists what webhooks may be besides public addresses.
 */
const config = readLambdaConfig();
configureAwsLog(config);
const sqs = createSqsClient();
const queueUrl = config.EVENT_DELIVERY_QUEUE_URL;

export const handler = createEventDeliveryWorker({
  subscriptions: new DynamoSubscriptionStore(sharedDocumentClient(), required(config.SUBSCRIPTIONS_TABLE_NAME, 'SUBSCRIPTIONS_TABLE_NAME')),
  // Checked at each connection, as the action runner's calls are: a webhook URL is held to the same rules.
  http: awsOutboundHttp(config),
  clock: systemClock,
  deadLetters: new SqsDeadLetterQueue(sqs, required(config.EVENT_DELIVERY_DEAD_LETTER_QUEUE_URL, 'EVENT_DELIVERY_DEAD_LETTER_QUEUE_URL')),
  ...(config.EVENT_DELIVERY_MAX_ATTEMPTS === undefined ? {} : { maxAttempts: config.EVENT_DELIVERY_MAX_ATTEMPTS }),
  ...(queueUrl === undefined
    ? {}
    : { delay: async (receiptHandle: string, seconds: number) => void (await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }))) }),
  log: sharedLog,
  // A delivery dead-lettered is announced on the bus (orchestrator.dlq.added), when the worker has it.
  emit: awsEventEmitter(config),
});
