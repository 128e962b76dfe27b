import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DependencyUnavailableError } from '../../../core/errors.ts';
import type { ReceivedMessage } from '../../../core/dead-letters/model.ts';
import { MAX_MESSAGES_READ, type DeadLetterInspector, type QueueCounts } from '../../../core/dead-letters/ports.ts';

/** ReceiveMessage and ChangeMessageVisibilityBatch take at most 10 messages. */
const SQS_BATCH = 10;

export interface SqsDeadLetterInspectorOptions {
  /**
   * The most ReceiveMessage calls one peek or hold makes (10 by default: with 10 messages each, MAX_MESSAGES_READ).
   * It bounds the time a read takes whatever the queue holds.
   */
  readonly maxReceives?: number;
  /**
   * Long polling per receive, in seconds (default 1). A short poll asks a sample of SQS's servers and may
   * answer nothing from a small queue that holds messages, which dead-letter queues are; a long poll asks
   * them all. The last receive, which finds nothing more, waits this long.
   */
  readonly waitSeconds?: number;
  /** How long a peek hides what it receives until it releases it: should the release be lost, they reappear then. Default 30. */
  readonly peekHideSeconds?: number;
  /**
   * False for a queue whose ChangeMessageVisibility loses the message instead of showing it again: fauxqs
   * 2.4.1 with a data directory (the local runtime's persisted emulator; in memory it is right, as SQS is).
   * Then a peek receives with a visibility of 0 (the messages stay visible; it sees the first 10 only), a hold
   * hides for at most `fallbackHoldSeconds`, and a release does nothing: held messages reappear when the
   * hold ends. Default true.
   */
  readonly changesVisibility?: boolean;
  /** With changesVisibility false: the longest hold (default 5 s), so that messages a retry did not pick come back soon. */
  readonly fallbackHoldSeconds?: number;
}

/**
 * The DeadLetterInspector of one SQS queue. Reading a message means receiving it, so a peek receives (in
 * batches of 10, up to `maxReceives` times, each batch hidden so the next receive gets other messages) then
 * makes everything it received visible again at once with ChangeMessageVisibilityBatch: nothing is lost,
 * nothing waits. Every read raises each message's receive count (ApproximateReceiveCount): harmless here
 * because these queues have no redrive policy of their own, but an inspector must never be pointed at a
 * queue that has one (enough peeks would move its messages on).
 *
 * IAM: sqs:GetQueueAttributes, sqs:ReceiveMessage and sqs:ChangeMessageVisibility (peek, hold, release);
 * sqs:DeleteMessage too for retries. On an encrypted queue with a customer key, kms:Decrypt on it.
 */
export class SqsDeadLetterInspector implements DeadLetterInspector {
  readonly queueUrl: string;
  private readonly client: SQSClient;
  private readonly maxReceives: number;
  private readonly waitSeconds: number;
  private readonly peekHideSeconds: number;
  private readonly changesVisibility: boolean;
  private readonly fallbackHoldSeconds: number;

  constructor(client: SQSClient, queueUrl: string, options: SqsDeadLetterInspectorOptions = {}) {
    this.client = client;
    this.queueUrl = queueUrl;
    this.maxReceives = options.maxReceives ?? MAX_MESSAGES_READ / SQS_BATCH;
    this.waitSeconds = options.waitSeconds ?? 1;
    this.peekHideSeconds = options.peekHideSeconds ?? 30;
    this.changesVisibility = options.changesVisibility ?? true;
    this.fallbackHoldSeconds = options.fallbackHoldSeconds ?? 5;
  }

  async counts(): Promise<QueueCounts> {
    const output = await this.call('GetQueueAttributes', () =>
      this.client.send(new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] })),
    );
    const count = (name: string) => {
      const value = Number(output.Attributes?.[name as keyof typeof output.Attributes] ?? 0);
      return Number.isFinite(value) && value >= 0 ? value : 0;
    };
    return { visible: count('ApproximateNumberOfMessages'), inFlight: count('ApproximateNumberOfMessagesNotVisible') };
  }

  async peek(max: number): Promise<ReceivedMessage[]> {
    if (!this.changesVisibility) return this.receive(max, 0);
    const received = await this.receive(max, this.peekHideSeconds);
    await this.release(received.map((message) => message.receiptHandle));
    return received;
  }

  hold(max: number, holdSeconds: number, enough?: (received: readonly ReceivedMessage[]) => boolean): Promise<ReceivedMessage[]> {
    return this.receive(max, this.changesVisibility ? holdSeconds : Math.min(holdSeconds, this.fallbackHoldSeconds), enough);
  }

  async release(receiptHandles: readonly string[]): Promise<void> {
    // Without visibility changes, held messages come back when their (short) hold ends.
    if (!this.changesVisibility) return;
    for (let start = 0; start < receiptHandles.length; start += SQS_BATCH) {
      const batch = receiptHandles.slice(start, start + SQS_BATCH);
      const output = await this.call('ChangeMessageVisibilityBatch', () =>
        this.client.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: batch.map((receiptHandle, index) => ({ Id: String(index), ReceiptHandle: receiptHandle, VisibilityTimeout: 0 })),
          }),
        ),
      );
      // A message deleted meanwhile has nothing to release; any other failure leaves a message hidden.
      const failed = (output.Failed ?? []).filter((entry) => !isGoneCode(entry.Code));
      if (failed.length > 0) {
        throw new DependencyUnavailableError(`the dead-letter queue did not release ${failed.length} message(s): ${failed.map((entry) => entry.Code ?? 'unknown').join(', ')}`);
      }
    }
  }

  async delete(receiptHandle: string): Promise<void> {
    try {
      await this.call('DeleteMessage', () => this.client.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle })));
    } catch (error) {
      // Deleted already, or a handle that expired (the message came back: its retry ledger entry says what
      // became of it, and the next retry deletes it): nothing for the caller to do.
      if (isGoneCode(errorName(error))) return;
      throw error;
    }
  }

  /** Receives up to `max` distinct messages, hidden for `hideSeconds`, within maxReceives calls. */
  private async receive(max: number, hideSeconds: number, enough?: (received: readonly ReceivedMessage[]) => boolean): Promise<ReceivedMessage[]> {
    const limit = Math.max(0, Math.min(max, MAX_MESSAGES_READ));
    const received = new Map<string, ReceivedMessage>();
    try {
      for (let call = 0; call < this.maxReceives && received.size < limit; call += 1) {
        const output = await this.call('ReceiveMessage', () =>
          this.client.send(
            new ReceiveMessageCommand({
              QueueUrl: this.queueUrl,
              MaxNumberOfMessages: Math.min(SQS_BATCH, limit - received.size),
              VisibilityTimeout: hideSeconds,
              WaitTimeSeconds: this.waitSeconds,
              MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
              MessageAttributeNames: ['All'],
            }),
          ),
        );
        const batch = (output.Messages ?? []).map(toReceived).filter((message): message is ReceivedMessage => message !== undefined);
        const fresh = batch.some((message) => !received.has(message.messageId));
        // Received again (its hiding ended during a long read): the newest handle is the one that works.
        for (const message of batch) received.set(message.messageId, message);
        // Nothing new: the queue is read (or, with a visibility of 0, the same messages come back).
        if (!fresh) break;
        if (enough?.([...received.values()])) break;
      }
    } catch (error) {
      // Give back what this read hid before failing, so a failed read delays nothing either.
      await this.release([...received.values()].map((message) => message.receiptHandle)).catch(() => undefined);
      throw error;
    }
    return [...received.values()];
  }

  /** One SQS call; an unreachable or throttling queue (or one that does not exist) is DependencyUnavailableError. */
  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (isUnavailable(error)) {
        throw new DependencyUnavailableError(`the dead-letter queue ${this.queueUrl} is unavailable (${operation}): ${error instanceof Error ? error.message : String(error)}`, [], { cause: error });
      }
      throw error;
    }
  }
}

function toReceived(message: Message): ReceivedMessage | undefined {
  if (message.MessageId === undefined || message.ReceiptHandle === undefined) return undefined;
  const sent = Number(message.Attributes?.SentTimestamp);
  const count = Number(message.Attributes?.ApproximateReceiveCount);
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body ?? '',
    ...(Number.isFinite(sent) && sent > 0 ? { sentAt: new Date(sent).toISOString() } : {}),
    ...(Number.isInteger(count) && count > 0 ? { receiveCount: count } : {}),
    attributes,
  };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

/** SQS's codes for a receipt handle of a message that is gone (deleted, or its handle superseded). */
function isGoneCode(code: string | undefined): boolean {
  return code === 'ReceiptHandleIsInvalid' || code === 'AWS.SimpleQueueService.ReceiptHandleIsInvalid' || code === 'InvalidParameterValue' || code === 'MessageNotInflight' || code === 'AWS.SimpleQueueService.MessageNotInflight';
}

function isUnavailable(error: unknown): boolean {
  const name = errorName(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode ?? 0;
  const code = (error as { code?: unknown } | undefined)?.code;
  return (
    status >= 500 ||
    name === 'ThrottlingException' ||
    name === 'RequestThrottled' ||
    name === 'QueueDoesNotExist' ||
    name === 'AWS.SimpleQueueService.NonExistentQueue' ||
    (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code))
  );
}
