import type { DeadLetterQueueName, ReceivedMessage } from './model.ts';

/**
 * The ports of the dead-letter use cases, beside their model as the event ports are (core/events/history.ts):
 * one queue's inspector (SQS: adapters/aws/sqs/sqs-dead-letter-inspector.ts) and the retry ledger
 * (DynamoDB: adapters/aws/dynamo/dynamo-retry-ledger.ts).
 */

/** A queue's approximate counts (SQS ApproximateNumberOfMessages and ...NotVisible). */
export interface QueueCounts {
  /** Messages waiting to be received. */
  readonly visible: number;
  /** Messages received and not yet deleted or made visible again (held by a retry, or a reader in progress). */
  readonly inFlight: number;
}

/** The most messages one peek or hold reads (receives of 10, a bounded number of them). */
export const MAX_MESSAGES_READ = 100;

/**
 * One dead-letter queue, read without consuming it. A queue hands a message to one receiver at a time and
 * hides it meanwhile; everything here gives it back (visible again at once) unless it is deleted.
 */
export interface DeadLetterInspector {
  counts(): Promise<QueueCounts>;
  /**
   * Up to `max` (at most MAX_MESSAGES_READ) messages, made visible again before this returns: nobody waits
   * for them. Fewer when the queue holds fewer (or will not give more within its bounded receives).
   */
  peek(max: number): Promise<ReceivedMessage[]>;
  /**
   * Up to `max` (at most MAX_MESSAGES_READ) messages, kept hidden for `holdSeconds` so that nobody else
   * receives (or retries) them meanwhile, and so that their receipt handles stay the latest (a delete needs
   * the latest). Receiving stops early once `enough` says so. The caller deletes or releases every one.
   */
  hold(max: number, holdSeconds: number, enough?: (received: readonly ReceivedMessage[]) => boolean): Promise<ReceivedMessage[]>;
  /** Makes held messages visible again at once. */
  release(receiptHandles: readonly string[]): Promise<void>;
  /** Deletes a held message; a handle no longer valid (already deleted) is not an error. */
  delete(receiptHandle: string): Promise<void>;
}

/** Where a retry of one message stands: claimed (in progress), done (accepted), failed (refused or broken: may be retried). */
export type RetryState = 'claimed' | 'done' | 'failed';

export interface RetryRecord {
  readonly queue: DeadLetterQueueName;
  readonly message_id: string;
  readonly state: RetryState;
  /** Who holds (or held) the claim: the claimer's own id, so only it settles its claim. */
  readonly claim_id: string;
  /** The subject of the caller who retried. */
  readonly by: string;
  readonly claimed_at: string;
  /** A claim not settled by then (its retry crashed) may be taken again. ISO-8601. */
  readonly lease_until: string;
  readonly updated_at: string;
  /** Why a retry failed, or what an accepted retry did. */
  readonly reason?: string;
}

export interface RetryClaim {
  readonly queue: DeadLetterQueueName;
  readonly messageId: string;
  readonly claimId: string;
  readonly by: string;
  readonly at: string;
  readonly leaseUntil: string;
}

/**
 * Which dead letters were retried: one record per message, so that retrying a message twice has one effect.
 * Every write is a single conditional write.
 */
export interface RetryLedger {
  /**
   * Claims a message for a retry: applied when there is no record, or a `failed` one, or a `claimed` one
   * whose lease ended before `at`. Otherwise answers the record in the way (undefined if it vanished meanwhile).
   */
  claim(claim: RetryClaim): Promise<{ readonly claimed: true } | { readonly claimed: false; readonly record?: RetryRecord }>;
  /** Moves the caller's own claim to `done` or `failed`; false (nothing written) when the claim is not its own any more. */
  settle(settlement: { readonly queue: DeadLetterQueueName; readonly messageId: string; readonly claimId: string; readonly state: 'done' | 'failed'; readonly at: string; readonly reason?: string }): Promise<boolean>;
  get(queue: DeadLetterQueueName, messageId: string): Promise<RetryRecord | undefined>;
}
