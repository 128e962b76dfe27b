import type { DeadLetterQueueName, ReceivedMessage } from '../../../../core/dead-letters/model.ts';
import type { DeadLetterInspector, QueueCounts, RetryClaim, RetryLedger, RetryRecord } from '../../../../core/dead-letters/ports.ts';

/**
 * In-memory fakes of the dead-letter ports, for the use cases' unit tests (the SQS and DynamoDB adapters are
 * tested against the emulators in test/integration/dead-letters.test.ts). The queue keeps SQS's rules that
 * matter here: a received message is hidden until released or deleted, and only its latest handle works.
 */

interface StoredMessage {
  readonly id: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly sentAt: string;
  receiveCount: number;
  /** The latest receive's handle while hidden; undefined while visible. */
  handle?: string;
}

export class FakeQueue implements DeadLetterInspector {
  readonly messages: StoredMessage[] = [];
  failDelete = false;
  private handles = 0;

  /** What happened, in order (`hold m-1`, `release m-1`, `delete m-1`); tests may share one with their fakes. */
  readonly log: string[];

  constructor(log: string[] = []) {
    this.log = log;
  }

  add(id: string, body: unknown, attributes: Record<string, string> = {}, sentAt = '2026-03-01T10:00:00.000Z'): void {
    this.messages.push({ id, body: typeof body === 'string' ? body : JSON.stringify(body), attributes, sentAt, receiveCount: 0 });
  }

  ids(): string[] {
    return this.messages.map((message) => message.id);
  }

  /** Messages hidden by a receive that nobody released. */
  hidden(): string[] {
    return this.messages.filter((message) => message.handle !== undefined).map((message) => message.id);
  }

  async counts(): Promise<QueueCounts> {
    return { visible: this.messages.length - this.hidden().length, inFlight: this.hidden().length };
  }

  async peek(max: number): Promise<ReceivedMessage[]> {
    const received = await this.hold(max, 30);
    await this.release(received.map((message) => message.receiptHandle));
    return received;
  }

  async hold(max: number, _holdSeconds: number, enough?: (received: readonly ReceivedMessage[]) => boolean): Promise<ReceivedMessage[]> {
    const received: ReceivedMessage[] = [];
    for (const message of this.messages) {
      if (received.length >= Math.min(max, 100)) break;
      if (message.handle !== undefined) continue;
      this.handles += 1;
      message.handle = `handle-${this.handles}`;
      message.receiveCount += 1;
      this.log.push(`hold ${message.id}`);
      received.push({ messageId: message.id, receiptHandle: message.handle, body: message.body, sentAt: message.sentAt, receiveCount: message.receiveCount, attributes: message.attributes });
      // As the adapter does, per batch of 10.
      if (received.length % 10 === 0 && enough?.(received)) break;
    }
    return received;
  }

  async release(receiptHandles: readonly string[]): Promise<void> {
    for (const message of this.messages) {
      if (message.handle === undefined || !receiptHandles.includes(message.handle)) continue;
      message.handle = undefined;
      this.log.push(`release ${message.id}`);
    }
  }

  async delete(receiptHandle: string): Promise<void> {
    if (this.failDelete) throw new Error('the queue is down');
    const index = this.messages.findIndex((message) => message.handle === receiptHandle);
    if (index < 0) return;
    this.log.push(`delete ${this.messages[index]!.id}`);
    this.messages.splice(index, 1);
  }
}

/** The ledger with the DynamoDB adapter's conditions. */
export class MemoryLedger implements RetryLedger {
  readonly records = new Map<string, RetryRecord>();
  failClaims = false;

  async claim(claim: RetryClaim): Promise<{ readonly claimed: true } | { readonly claimed: false; readonly record?: RetryRecord }> {
    if (this.failClaims) throw new Error('the table is down');
    const key = `${claim.queue}#${claim.messageId}`;
    const record = this.records.get(key);
    const free = record === undefined || record.state === 'failed' || (record.state === 'claimed' && Date.parse(record.lease_until) < Date.parse(claim.at));
    if (!free) return { claimed: false, record };
    this.records.set(key, { queue: claim.queue, message_id: claim.messageId, state: 'claimed', claim_id: claim.claimId, by: claim.by, claimed_at: claim.at, lease_until: claim.leaseUntil, updated_at: claim.at });
    return { claimed: true };
  }

  async settle(settlement: Parameters<RetryLedger['settle']>[0]): Promise<boolean> {
    const key = `${settlement.queue}#${settlement.messageId}`;
    const record = this.records.get(key);
    if (record?.state !== 'claimed' || record.claim_id !== settlement.claimId) return false;
    this.records.set(key, { ...record, state: settlement.state, updated_at: settlement.at, ...(settlement.reason === undefined ? {} : { reason: settlement.reason }) });
    return true;
  }

  async get(queue: DeadLetterQueueName, messageId: string): Promise<RetryRecord | undefined> {
    return this.records.get(`${queue}#${messageId}`);
  }

  stateOf(queue: DeadLetterQueueName, messageId: string): string | undefined {
    return this.records.get(`${queue}#${messageId}`)?.state;
  }
}

/** A failed action's dead letter, as a compiled state machine sends it. */
export function actionFailedBody(executionId: string, actionId = 'charge', workflowId = 'orders'): Record<string, unknown> {
  return { kind: 'action_failed', execution_id: executionId, action_id: actionId, workflow_id: workflowId, workflow_version: 1, error: 'ServiceUnavailableError', cause: 'HTTP 503' };
}
