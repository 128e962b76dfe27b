import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DependencyProbe } from '../../../core/ports.ts';
import { timedCheck } from '../dependency-check.ts';

/** A queue's reachability: GetQueueAttributes of its ARN only (no message is read or sent). */
export function sqsQueueProbe(client: SQSClient, queueUrl: string, name: string): DependencyProbe {
  return {
    name,
    kind: 'queue',
    check: (timeoutMs) => timedCheck(timeoutMs, (abortSignal) => client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }), { abortSignal })),
  };
}
