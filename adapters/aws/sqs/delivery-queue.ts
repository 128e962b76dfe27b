import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DependencyUnavailableError } from '../../../core/errors.ts';
import type { DeliveryRequest } from '../../../core/events/replay-target.ts';

/**
 * Puts a delivery on the webhook delivery queue as a subscription's rule would (`{subscription_id, event}`),
 * for the delivery worker to sign and post: a replay, or a failed delivery retried from its dead-letter
 * queue. On a FIFO queue each subscription is its own message group, as the rules make it.
 */
export function sqsDeliveryQueue(client: SQSClient, queueUrl: string, newId: () => string): (delivery: DeliveryRequest) => Promise<void> {
  const fifo = queueUrl.endsWith('.fifo');
  return async ({ subscription_id: subscriptionId, event }) => {
    try {
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify({ subscription_id: subscriptionId, event }),
          ...(fifo ? { MessageGroupId: subscriptionId, MessageDeduplicationId: newId() } : {}),
        }),
      );
    } catch (error) {
      throw new DependencyUnavailableError(`the delivery queue did not take the delivery: ${error instanceof Error ? error.message : String(error)}`, [], { cause: error });
    }
  };
}
