import { BatchWriteCommand, QueryCommand, type BatchWriteCommandInput, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { InvalidCursorError } from '../../../core/errors.ts';
import { translateDynamoError } from './errors.ts';

/** What every store says about a cursor it cannot read: the caller sent something it was never given. */
export const INVALID_CURSOR_MESSAGE = 'next_token is not a token this API issued';

/**
 * Runs one DynamoDB operation, turning the SDK errors a caller can act on into domain errors; a failed
 * condition becomes a ConflictError with `conflictMessage`.
 */
export async function dynamoCall<Output>(operation: () => Promise<Output>, conflictMessage: string): Promise<Output> {
  try {
    return await operation();
  } catch (error) {
    throw translateDynamoError(error, conflictMessage);
  }
}

/** Every page of a Query's items, one after the other (for reads that need all of them: never a listing's page). */
export async function* queryPages(client: DynamoDBDocumentClient, input: Omit<QueryCommandInput, 'ExclusiveStartKey'>): AsyncIterable<Record<string, unknown>[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamoCall(() => client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey })), '');
    yield page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** Every item a Query matches, page after page (for reads that need all of them: never a listing's page). */
export async function* queryItems(client: DynamoDBDocumentClient, input: Omit<QueryCommandInput, 'ExclusiveStartKey'>): AsyncIterable<Record<string, unknown>> {
  for await (const items of queryPages(client, input)) yield* items;
}

/** One put or delete of a BatchWriteItem. */
export type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

/** BatchWriteItem's limit. */
export const WRITE_BATCH_SIZE = 25;

/**
 * Writes `requests` (at most WRITE_BATCH_SIZE) to one table, sending what DynamoDB leaves unprocessed again with
 * back-off (50 ms doubling, at most 1 s) until all of it is done; after `maxAttempts` an Error naming `what`
 * (`spans`, `events`...) and how many were left.
 */
export async function writeBatch(client: DynamoDBDocumentClient, tableName: string, requests: readonly WriteRequest[], what: string, maxAttempts = 10): Promise<void> {
  let pending = [...requests];
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= maxAttempts) throw new Error(`could not write ${pending.length} ${what} after ${attempt} attempts (DynamoDB left them unprocessed)`);
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
    const batch = pending;
    const { UnprocessedItems } = await dynamoCall(() => client.send(new BatchWriteCommand({ RequestItems: { [tableName]: batch } })), '');
    pending = [...(UnprocessedItems?.[tableName] ?? [])];
  }
}

/** The named attributes of an item: its key (a page's resume point) out of the whole item. */
export function pickAttributes(item: Record<string, unknown>, attributes: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(attributes.map((name) => [name, item[name]]));
}

/** True for the error DynamoDB returns when a write's ConditionExpression does not hold. */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * Runs one conditional write: true when it was applied, false when its condition did not hold. Other
 * errors are translated as by dynamoCall.
 */
export async function conditionalWrite(operation: () => Promise<unknown>): Promise<boolean> {
  try {
    await operation();
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw translateDynamoError(error, '');
  }
}

/** The InvalidCursorError for a cursor the store cannot use, with the reason a client can act on. */
export function invalidCursor(message = INVALID_CURSOR_MESSAGE): InvalidCursorError {
  return new InvalidCursorError(message);
}

/**
 * A cursor's DynamoDB start key, checked before DynamoDB sees it: exactly the table's and the index's key
 * attributes, all strings, in the partition the query reads. Anything else would reach DynamoDB as a
 * ValidationException (a 500) or page another partition.
 */
export function startKeyOf(value: unknown, keyAttributes: readonly string[], partition: { attribute: string; value: string }): Record<string, string> {
  if (!isRecord(value)) throw invalidCursor();
  const expected = [...new Set(keyAttributes)];
  if (Object.keys(value).length !== expected.length) throw invalidCursor();
  const key: Record<string, string> = {};
  for (const name of expected) {
    const part = value[name];
    if (typeof part !== 'string') throw invalidCursor();
    key[name] = part;
  }
  if (key[partition.attribute] !== partition.value) throw invalidCursor('next_token belongs to another listing; repeat the filters of the request that gave it');
  return key;
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
