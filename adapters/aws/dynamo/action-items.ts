import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ActionProgress } from '../../../core/execution/model.ts';
import { translateDynamoError } from './errors.ts';
import { ActionItemSchema } from './execution-items.ts';
import { actionKey, ACTION_SORT_KEY_PREFIX, executionKey } from './execution-table.ts';
import { parseItem, type StoredItem } from './items.ts';
import { isConditionFailure, queryItems, WRITE_BATCH_SIZE, writeBatch, type WriteRequest } from './operations.ts';

/**
 * A run's action items (execution-table.ts): one item per action in the run's collection, sk
 * `EXECUTION#ACT#<action_id>`, holding `position` (its place in the workflow's order) and `progress` (the
 * action's progress as the old layout kept it in the run's `actions` map, so that updates address
 * `progress.<field>` as they addressed `actions.<id>.<field>`). No index key is ever written on them.
 */

/**
 * An action's response is kept in its progress only up to this size (an item holds at most 400 KB, and a read
 * of a whole run reads every action's); larger ones are stored as a preview with their size.
 */
export const MAX_STORED_RESPONSE_BYTES = 32 * 1024;

/**
 * Conditional puts of one run's new action items in flight at once: enough to write 1,000 in a few round
 * trips, few enough to stay within the SDK's connection pool (50 sockets).
 */
const PUT_CONCURRENCY = 25;

/** BatchWriteItem calls of one run's action items in flight at once (25 items each). */
const BATCH_CONCURRENCY = 4;

/** The item of `action`, the `position`-th action of its run. */
export function actionItem(executionId: string, action: ActionProgress, position: number): StoredItem {
  return { ...actionKey(executionId, action.action_id), position, progress: storable(action) };
}

/**
 * Writes the action items of a run being created, each only if it does not exist: the run's item is written
 * after them (it is what makes the run exist, and a create that finds it returns it), so a create that crashed
 * half-way leaves items no read shows, and the repeated create keeps them; a concurrent create of the same run
 * (one idempotency key, two requests) never resets the progress of the one that won. Not BatchWriteItem, which
 * has no conditions: same write units, more round trips.
 */
export async function putNewActionItems(client: DynamoDBDocumentClient, tableName: string, executionId: string, actions: readonly ActionProgress[]): Promise<void> {
  await inParallel(uniqueItems(executionId, actions), PUT_CONCURRENCY, async (item) => {
    try {
      await client.send(new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (error) {
      if (!isConditionFailure(error)) throw translateDynamoError(error, '');
    }
  });
}

/**
 * Replaces a run's action items with `actions` (a reopened run's), deleting those of `dropped` ids: BatchWriteItem,
 * unconditional, for a run whose item the caller has just claimed with a conditional write.
 */
export async function rewriteActionItems(client: DynamoDBDocumentClient, tableName: string, executionId: string, actions: readonly ActionProgress[], dropped: readonly string[]): Promise<void> {
  const kept = new Set(actions.map((action) => action.action_id));
  const requests: WriteRequest[] = [
    ...uniqueItems(executionId, actions).map((item) => ({ PutRequest: { Item: item } })),
    ...[...new Set(dropped)].filter((id) => !kept.has(id)).map((id) => ({ DeleteRequest: { Key: actionKey(executionId, id) } })),
  ];
  const batches: WriteRequest[][] = [];
  for (let index = 0; index < requests.length; index += WRITE_BATCH_SIZE) batches.push(requests.slice(index, index + WRITE_BATCH_SIZE));
  await inParallel(batches, BATCH_CONCURRENCY, (batch) => writeBatch(client, tableName, batch, 'action items'));
}

/** Every action item of a run, page after page (eventually consistent for listings, where the index is too). */
export async function readActionItems(client: DynamoDBDocumentClient, tableName: string, executionId: string, consistent: boolean): Promise<StoredItem[]> {
  const items: StoredItem[] = [];
  const query = queryItems(client, {
    TableName: tableName,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :actions)',
    ExpressionAttributeValues: { ':pk': executionKey(executionId).pk, ':actions': ACTION_SORT_KEY_PREFIX },
    ConsistentRead: consistent,
  });
  for await (const item of query) items.push(item);
  return items;
}

/** The actions that action items hold, in their run's order (by position; the sort key breaks a tie). */
export function actionsOf(items: readonly StoredItem[]): ActionProgress[] {
  return items
    .map((item) => parseItem(ActionItemSchema, item, 'execution action'))
    .sort((a, b) => a.position - b.position || (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0))
    .map((item) => item.progress);
}

/** `work` on every item, at most `limit` at a time; results in the items' order. */
export async function inParallel<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** An action as stored: its response as JSON text, within MAX_STORED_RESPONSE_BYTES. */
export function storable(progress: ActionProgress): Omit<ActionProgress, 'output'> & { output?: StoredOutput } {
  const { output, ...rest } = progress;
  return output ? { ...rest, output: storableOutput(output) } : rest;
}

/** An action's output as stored (execution-items.ts): the response as JSON text, in `response_json`. */
export interface StoredOutput {
  readonly status_code: number | null;
  readonly response_json: string;
}

/** A response larger than MAX_STORED_RESPONSE_BYTES becomes a preview with its size. */
export function storableOutput(output: NonNullable<ActionProgress['output']>): StoredOutput {
  const text = JSON.stringify(output.response ?? null);
  const size = new TextEncoder().encode(text).length;
  if (size <= MAX_STORED_RESPONSE_BYTES) return { status_code: output.status_code, response_json: text };
  return { status_code: output.status_code, response_json: JSON.stringify({ truncated: true, size_bytes: size, preview: text.slice(0, 1024) }) };
}

/**
 * One item per action id, at the position of its first declaration (workflow validation keeps ids unique;
 * a batch with one key twice would be refused whole).
 */
function uniqueItems(executionId: string, actions: readonly ActionProgress[]): StoredItem[] {
  const positions = new Map<string, number>();
  const latest = new Map<string, ActionProgress>();
  actions.forEach((action, index) => {
    if (!positions.has(action.action_id)) positions.set(action.action_id, index);
    latest.set(action.action_id, action);
  });
  return [...latest.entries()].map(([id, action]) => actionItem(executionId, action, positions.get(id) ?? 0));
}
