import { SendMessageCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { DependencyUnavailableError } from '../../../core/errors.ts';

/**
 * An SQS client. Endpoint and credentials come from the standard SDK configuration (AWS_ENDPOINT_URL_SQS)
 * unless given here (the emulator).
 */
export function createSqsClient(config: SQSClientConfig = {}): SQSClient {
  return new SQSClient(config);
}

/**
 * The dead-letter queue of failed service calls, for senders other than a state machine (in AWS, compiled
 * machines send with the native `sqs:sendMessage` integration; the local engine sends through this).
 */
export class SqsDeadLetterQueue {
  readonly queueUrl: string;
  private readonly client: SQSClient;

  constructor(client: SQSClient, queueUrl: string) {
    this.client = client;
    this.queueUrl = queueUrl;
  }

  /**
   * Sends one dead letter and returns its message id. The body goes as JSON, as Step Functions serialises a
   * `MessageBody` object; a string is sent as it is.
   */
  async send(body: unknown): Promise<string> {
    const text = typeof body === 'string' ? body : JSON.stringify(body ?? null);
    try {
      const sent = await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: text }));
      return sent.MessageId ?? '';
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode ?? 0;
      const code = (error as { code?: unknown } | undefined)?.code;
      if (status >= 500 || name === 'ThrottlingException' || name === 'RequestThrottled' || (typeof code === 'string' && code.startsWith('E'))) {
        throw new DependencyUnavailableError(`the dead-letter queue is unavailable: ${error instanceof Error ? error.message : String(error)}`, [], { cause: error });
      }
      throw error;
    }
  }
}
