import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { sqsDeliveryQueue } from '../../../../adapters/aws/sqs/delivery-queue.ts';
import { newEvent } from '../../../../core/events/envelope.ts';

/** The one way deliveries are put on the delivery queue (replays, dead-letter retries): checked against a mocked SQS. */
describe('sqsDeliveryQueue', () => {
  const sqs = mockClient(SQSClient);
  const client = new SQSClient({ region: 'us-east-1' });
  const event = newEvent({ type: 'orchestrator.run.completed', tenant: 'acme', data: { execution_id: 'run-1' } }, { now: () => '2026-12-06T10:00:00.000Z' }, { next: () => 'e' });

  beforeEach(() => sqs.reset());

  it('sends the message a subscription rule would send, and on a FIFO queue groups it by subscription', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    await sqsDeliveryQueue(client, 'https://sqs.example/q', () => 'dedup')({ subscription_id: 'sub-1', event });
    await sqsDeliveryQueue(client, 'https://sqs.example/q.fifo', () => 'dedup')({ subscription_id: 'sub-1', event });
    const inputs = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(inputs[0]).toEqual({ QueueUrl: 'https://sqs.example/q', MessageBody: JSON.stringify({ subscription_id: 'sub-1', event }) });
    expect(inputs[1]).toMatchObject({ QueueUrl: 'https://sqs.example/q.fifo', MessageGroupId: 'sub-1', MessageDeduplicationId: 'dedup' });
  });

  it('fails as a retryable dependency error when the queue does not take it', async () => {
    sqs.on(SendMessageCommand).rejects(new Error('socket hang up'));
    await expect(sqsDeliveryQueue(client, 'https://sqs.example/q', () => 'x')({ subscription_id: 'sub-1', event })).rejects.toMatchObject({ name: 'DependencyUnavailableError', message: expect.stringMatching(/did not take the delivery: socket hang up/) });
  });
});
