import * as z from 'zod';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEAD_LETTER_QUEUES, type DeadLetterQueueName } from '../../../core/dead-letters/model.ts';
import type { RetryClaim, RetryLedger, RetryRecord } from '../../../core/dead-letters/ports.ts';
import { parseItem } from './items.ts';
import { conditionalWrite, dynamoCall } from './operations.ts';

/*
 * The dead-letter retry ledger in the events table (event-table.ts): one item per retried message,
 * pk = `DLQRETRY#<queue>#<message_id>`, sk = `RETRY`. It has none of the index attributes (`gsi_*`), so it
 * never appears in an event listing, and `expires_at_epoch` (the table's TTL attribute) removes it
 * RETRY_RECORD_RETENTION_DAYS after its claim: SQS keeps a message 14 days at most, so the record outlives the message
 * it guards. Every write is one conditional PutItem or UpdateItem.
 *
 * IAM: dynamodb:PutItem, UpdateItem and GetItem on the events table.
 */

/** How long a record is kept: SQS's longest message retention. */
export const RETRY_RECORD_RETENTION_DAYS = 14;
const SORT_KEY = 'RETRY';

const RetryItemSchema = z.object({
  queue: z.enum(DEAD_LETTER_QUEUES),
  message_id: z.string(),
  state: z.enum(['claimed', 'done', 'failed']),
  claim_id: z.string(),
  by: z.string(),
  claimed_at: z.string(),
  lease_until: z.string(),
  updated_at: z.string(),
  reason: z.string().optional(),
});

/** The key of a message's record. */
export function retryRecordKey(queue: DeadLetterQueueName, messageId: string): { pk: string; sk: string } {
  return { pk: `DLQRETRY#${queue}#${messageId}`, sk: SORT_KEY };
}

/** The RetryLedger on the events table: the design above, single conditional writes, consistent reads. */
export class DynamoRetryLedger implements RetryLedger {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.client = client;
    this.tableName = tableName;
  }

  async claim(claim: RetryClaim): Promise<{ readonly claimed: true } | { readonly claimed: false; readonly record?: RetryRecord }> {
    const leaseUntilMs = Date.parse(claim.leaseUntil);
    const item = {
      ...retryRecordKey(claim.queue, claim.messageId),
      queue: claim.queue,
      message_id: claim.messageId,
      state: 'claimed',
      claim_id: claim.claimId,
      by: claim.by,
      claimed_at: claim.at,
      lease_until: claim.leaseUntil,
      lease_until_ms: leaseUntilMs,
      updated_at: claim.at,
      expires_at_epoch: Math.floor(Date.parse(claim.at) / 1000) + RETRY_RECORD_RETENTION_DAYS * 86_400,
    };
    const applied = await conditionalWrite(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          // New, or failed before (may be retried), or claimed by a retry whose lease has ended (it crashed).
          ConditionExpression: 'attribute_not_exists(pk) OR #state = :failed OR (#state = :claimed AND lease_until_ms < :now)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':failed': 'failed', ':claimed': 'claimed', ':now': Date.parse(claim.at) },
        }),
      ),
    );
    if (applied) return { claimed: true };
    // What stood in the way: read, not returned by the write (ReturnValuesOnConditionCheckFailure is not in every emulator).
    const record = await this.get(claim.queue, claim.messageId);
    return record === undefined ? { claimed: false } : { claimed: false, record };
  }

  async settle(settlement: Parameters<RetryLedger['settle']>[0]): Promise<boolean> {
    const reason = settlement.reason === undefined ? {} : { ':reason': settlement.reason };
    return conditionalWrite(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: retryRecordKey(settlement.queue, settlement.messageId),
          UpdateExpression: `SET #state = :state, updated_at = :at${settlement.reason === undefined ? ' REMOVE reason' : ', reason = :reason'}`,
          // Only the claimer settles, and only once: a claim taken over after its lease is the new claimer's.
          ConditionExpression: 'claim_id = :claim AND #state = :claimed',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':state': settlement.state, ':at': settlement.at, ':claim': settlement.claimId, ':claimed': 'claimed', ...reason },
        }),
      ),
    );
  }

  async get(queue: DeadLetterQueueName, messageId: string): Promise<RetryRecord | undefined> {
    const { Item } = await dynamoCall(() => this.client.send(new GetCommand({ TableName: this.tableName, Key: retryRecordKey(queue, messageId), ConsistentRead: true })), '');
    return Item ? parseItem(RetryItemSchema, Item, 'dead-letter retry') : undefined;
  }
}
