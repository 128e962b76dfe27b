import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { ActionProgress, Execution, ExecutionStatus, Redrive } from '../../../core/execution/model.ts';
import { isTerminal } from '../../../core/execution/model.ts';
import type { AttemptOutcome, ExecutionListQuery, ExecutionStore } from '../../../core/ports.ts';
import { translateDynamoError } from './errors.ts';
import { conditionalWrite, dynamoCall, invalidCursor, isConditionFailure, isRecord, queryItems, startKeyOf } from './operations.ts';
import { requiredCursors, type CursorCodec, type CursorOptions } from './cursor-codec.ts';
import { ExecutionIndex, executionKey } from './execution-table.ts';
import type { IndexDesign } from './workflow-table.ts';
import { ExecutionItemSchema } from './execution-items.ts';
import { jsonText, parseItem } from './items.ts';
import * as z from 'zod';

const ALL = 'EXECUTION';
const ACTIVE = 'ACTIVE';
/**
 * An action's response is kept in the execution item only up to this size (the item limit is 400 KB for
 * every action together); larger ones are stored as a preview with their size.
 */
export const MAX_STORED_RESPONSE_BYTES = 32 * 1024;

type Item = Record<string, unknown>;

/** Changes to one action's map entry: field -> value expression (placeholders in `values`), fields to remove. */
interface ActionUpdate {
  readonly set: Record<string, string>;
  readonly remove: readonly string[];
  readonly values: Record<string, unknown>;
}

/** Checkpoints live beside their execution item, in its item collection: `CP#<state name>[#<index>]`. */
const CHECKPOINT_PREFIX = 'CP#';
const CheckpointItemSchema = z.object({ sk: z.string().startsWith(CHECKPOINT_PREFIX), result_json: jsonText(z.unknown()) });

/** ExecutionStore on one DynamoDB table (see execution-table.ts). */
export class DynamoExecutionStore implements ExecutionStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly cursors?: CursorCodec;

  /** `options.cursors` signs and checks next_token; without it, list() throws (the workers never list). */
  constructor(client: DynamoDBDocumentClient, tableName: string, options: CursorOptions = {}) {
    this.client = client;
    this.tableName = tableName;
    this.cursors = options.cursors;
  }

  async create(execution: Execution): Promise<{ execution: Execution; created: boolean }> {
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: toItem(execution), ConditionExpression: 'attribute_not_exists(pk)' }));
      return { execution, created: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw translateDynamoError(error, '');
      const existing = await this.get(execution.execution_id);
      if (!existing) throw translateDynamoError(error, `execution ${execution.execution_id} could not be created`);
      return { execution: existing, created: false };
    }
  }

  async get(executionId: string): Promise<Execution | undefined> {
    const { Item } = await this.call(() => this.client.send(new GetCommand({ TableName: this.tableName, Key: executionKey(executionId), ConsistentRead: true })));
    return Item ? fromItem(Item) : undefined;
  }

  async updateAction(executionId: string, progress: ActionProgress): Promise<void> {
    await this.call(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: executionKey(executionId),
          UpdateExpression: 'SET actions.#action = :progress',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#action': progress.action_id },
          ExpressionAttributeValues: { ':progress': storable(progress) },
        }),
      ),
    );
  }

  async startAttempt(executionId: string, actionId: string, at: string): Promise<void> {
    // SET arithmetic rather than ADD: DynamoDB documents ADD for top-level attributes only.
    await this.updateUnfinishedAction(executionId, actionId, {
      set: {
        status: ':running',
        attempts: 'if_not_exists(actions.#action.#attempts, :zero) + :one',
        started_at: 'if_not_exists(actions.#action.#started_at, :at)',
      },
      remove: ['error', 'ended_at'],
      values: { ':zero': 0, ':one': 1, ':at': at },
    });
  }

  async finishAttempt(executionId: string, actionId: string, outcome: AttemptOutcome): Promise<void> {
    // An outcome carries an output or an error; the other one, from an earlier attempt, goes.
    const [field, stale, value] = 'output' in outcome ? (['output', 'error', storableOutput(outcome.output)] as const) : (['error', 'output', outcome.error] as const);
    await this.updateUnfinishedAction(executionId, actionId, {
      set: { status: ':outcome', ended_at: ':ended_at', [field]: ':result' },
      remove: [stale],
      values: { ':outcome': outcome.status, ':ended_at': outcome.ended_at, ':result': value },
    });
  }

  async transition(
    executionId: string,
    from: readonly ExecutionStatus[],
    status: ExecutionStatus,
    fields: Partial<Pick<Execution, 'started_at' | 'ended_at' | 'output' | 'error'>> = {},
  ): Promise<boolean> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':status': status };
    const sets = ['#status = :status'];
    for (const [field, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = field === 'output' ? JSON.stringify(value) : value;
      sets.push(`#${field} = :${field}`);
    }
    from.forEach((candidate, index) => (values[`:from${index}`] = candidate));
    // Finished executions leave the sparse "active" index.
    const remove = isTerminal(status) ? ' REMOVE gsi_active_pk, gsi_active_sk' : '';
    return conditionalWrite(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: executionKey(executionId),
          UpdateExpression: `SET ${sets.join(', ')}${remove}`,
          ConditionExpression: `attribute_exists(pk) AND #status IN (${from.map((_, index) => `:from${index}`).join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  async list(query: ExecutionListQuery): Promise<{ items: Execution[]; nextCursor?: string }> {
    const cursors = requiredCursors(this.cursors, 'DynamoExecutionStore');
    // A workflow belongs to one tenant, so its runs need no tenant key; history is per tenant unless an admin
    // asks for every tenant's.
    const index = query.workflowId ? ExecutionIndex.byWorkflow : query.tenant !== undefined ? ExecutionIndex.byTenant : ExecutionIndex.all;
    const partition = query.workflowId ? `WF#${query.workflowId}` : query.tenant !== undefined ? `T#${query.tenant}` : ALL;
    const input: Omit<QueryCommandInput, 'TableName'> = {
      IndexName: index.indexName,
      KeyConditionExpression: query.since ? '#pk = :pk AND #sk >= :since' : '#pk = :pk',
      ExpressionAttributeNames: { '#pk': index.partitionKey, ...(query.since ? { '#sk': index.sortKey } : {}), ...(query.status ? { '#status': 'status' } : {}) },
      ExpressionAttributeValues: { ':pk': partition, ...(query.since ? { ':since': query.since } : {}), ...(query.status ? { ':status': query.status } : {}) },
      ...(query.status ? { FilterExpression: '#status = :status' } : {}),
      ScanIndexForward: false,
    };
    // A cursor belongs to its partition and to the filters the index does not key: another status or since
    // with it would page a listing it was not made for.
    const listing: Listing = { partition, filters: JSON.stringify([query.status ?? null, query.since ?? null]) };
    const items: Item[] = [];
    let startKey = query.cursor ? readCursor(cursors, query.cursor, listing, index) : undefined;
    // A filter applies after DynamoDB's Limit, so keep reading until the page is full or the index ends; with a
    // status filter each further call reads twice as many items (up to 1,000), so a rare status costs a few
    // calls, not one per page-sized slice of the index.
    let reads = 0;
    do {
      const remaining = query.limit - items.length;
      const slice = query.status === undefined ? remaining : Math.min(1000, Math.max(remaining, remaining * 2 ** reads));
      reads += 1;
      const page = await this.call(() => this.client.send(new QueryCommand({ TableName: this.tableName, ...input, Limit: slice, ExclusiveStartKey: startKey })));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length < query.limit);
    // Read past the page: the next one starts after its last item, not where the read stopped.
    const more = startKey !== undefined || items.length > query.limit;
    items.splice(query.limit);
    const last = items[items.length - 1];
    const nextCursor = more && last ? cursors.encode({ p: listing.partition, f: listing.filters, k: Object.fromEntries(['pk', 'sk', index.partitionKey, index.sortKey].map((name) => [name, last[name]])) }) : undefined;
    return { items: items.map(fromItem), ...(nextCursor ? { nextCursor } : {}) };
  }

  async *unfinished(): AsyncIterable<Execution> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.call(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: ExecutionIndex.active.indexName,
            KeyConditionExpression: 'gsi_active_pk = :active',
            ExpressionAttributeValues: { ':active': ACTIVE },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) yield fromItem(item);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  async reopen(execution: Execution, redrive: Redrive, actions: readonly ActionProgress[]): Promise<boolean> {
    const sortKey = `${execution.created_at}#${execution.execution_id}`;
    return conditionalWrite(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: executionKey(execution.execution_id),
          UpdateExpression:
            'SET #status = :running, redrive_count = if_not_exists(redrive_count, :zero) + :one, redrives = list_append(if_not_exists(redrives, :none), :redrive), actions = :actions, action_order = :order, gsi_active_pk = :active, gsi_active_sk = :activeSk REMOVE ended_at, #error, #output',
          ConditionExpression: 'attribute_exists(pk) AND #status = :was',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error', '#output': 'output' },
          ExpressionAttributeValues: {
            ':running': 'running',
            ':was': execution.status,
            ':zero': 0,
            ':one': 1,
            ':none': [],
            ':redrive': [redrive],
            ':actions': Object.fromEntries(actions.map((action) => [action.action_id, storable(action)])),
            ':order': actions.map((action) => action.action_id),
            ':active': ACTIVE,
            ':activeSk': sortKey,
          },
        }),
      ),
    );
  }

  async saveCheckpoint(executionId: string, checkpointKey: string, result: unknown): Promise<void> {
    const item = { pk: executionKey(executionId).pk, sk: `${CHECKPOINT_PREFIX}${checkpointKey}`, result_json: JSON.stringify(result ?? null) };
    await this.call(() => this.client.send(new PutCommand({ TableName: this.tableName, Item: item })));
  }

  async checkpoints(executionId: string): Promise<Map<string, unknown>> {
    const found = new Map<string, unknown>();
    const items = queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': executionKey(executionId).pk, ':prefix': CHECKPOINT_PREFIX },
      ConsistentRead: true,
    });
    for await (const item of items) {
      const checkpoint = parseItem(CheckpointItemSchema, item, 'checkpoint');
      found.set(checkpoint.sk.slice(CHECKPOINT_PREFIX.length), checkpoint.result_json);
    }
    return found;
  }

  private call<Output>(operation: () => Promise<Output>): Promise<Output> {
    return dynamoCall(operation, 'conflicting change');
  }

  /**
   * One atomic UpdateItem on the map entry `actions.<actionId>`, applied only while the execution exists, is
   * unfinished and has that action. A failed condition is the expected fate of a late report (the run
   * already settled) or of an unknown id, so it resolves quietly.
   */
  private async updateUnfinishedAction(executionId: string, actionId: string, update: ActionUpdate): Promise<void> {
    const entry = (field: string) => `actions.#action.#${field}`;
    const set = Object.entries(update.set).map(([field, value]) => `${entry(field)} = ${value}`);
    const remove = update.remove.map(entry);
    const fields = [...Object.keys(update.set), ...update.remove];
    await conditionalWrite(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: executionKey(executionId),
          UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(pk) AND attribute_exists(actions.#action) AND #status IN (:pending, :running, :paused)',
          // Every field name goes through a placeholder: `status` is a reserved word, others may become one.
          ExpressionAttributeNames: { '#action': actionId, '#status': 'status', ...Object.fromEntries(fields.map((field) => [`#${field}`, field])) },
          ExpressionAttributeValues: { ':pending': 'pending', ':running': 'running', ':paused': 'paused', ...update.values },
        }),
      ),
    );
  }
}

/** What a cursor belongs to: the index partition it pages, and the filters applied to it. */
interface Listing {
  readonly partition: string;
  /** JSON of [status, since], each null when absent. */
  readonly filters: string;
}

/** A cursor pages the listing it came from only: one of another workflow, tenant or filter is refused. */
function readCursor(cursors: CursorCodec, token: string, listing: Listing, index: IndexDesign): Record<string, unknown> {
  const cursor = cursors.decode(token, (value): value is { p: string; f: string; k: unknown } => isRecord(value) && typeof value.p === 'string' && typeof value.f === 'string');
  if (cursor.p !== listing.partition || cursor.f !== listing.filters) throw invalidCursor('next_token belongs to another listing; repeat the filters of the request that gave it');
  return startKeyOf(cursor.k, ['pk', 'sk', index.partitionKey, index.sortKey], { attribute: index.partitionKey, value: listing.partition });
}

function toItem(execution: Execution): Item {
  const sortKey = `${execution.created_at}#${execution.execution_id}`;
  return {
    ...executionKey(execution.execution_id),
    ...execution,
    // Parameters and outputs are JSON text: DynamoDB refuses numbers past 38 digits or below 1e-130 and maps
    // nested deeper than 32 levels, all of which are valid JSON a caller or a service may send.
    parameters: JSON.stringify(execution.parameters),
    output: execution.output === undefined ? undefined : JSON.stringify(execution.output),
    actions: Object.fromEntries(execution.actions.map((action) => [action.action_id, storable(action)])),
    action_order: execution.actions.map((action) => action.action_id),
    gsi_wf_pk: `WF#${execution.workflow_id}`,
    gsi_wf_sk: sortKey,
    gsi_all_pk: ALL,
    gsi_all_sk: sortKey,
    gsi_tenant_pk: `T#${execution.tenant}`,
    gsi_tenant_sk: sortKey,
    ...(isTerminal(execution.status) ? {} : { gsi_active_pk: ACTIVE, gsi_active_sk: sortKey }),
  };
}

/** The execution an item holds; CorruptItemError, naming the item and attribute, when it is not one. */
function fromItem(item: Item): Execution {
  return parseItem(ExecutionItemSchema, item, 'execution');
}

/** An action as stored: its response as JSON text, within MAX_STORED_RESPONSE_BYTES. */
function storable(progress: ActionProgress): Omit<ActionProgress, 'output'> & { output?: StoredOutput } {
  const { output, ...rest } = progress;
  return output ? { ...rest, output: storableOutput(output) } : rest;
}

/** An action's output as stored (execution-items.ts): the response as JSON text, in `response_json`. */
interface StoredOutput {
  readonly status_code: number | null;
  readonly response_json: string;
}

/** A response larger than MAX_STORED_RESPONSE_BYTES becomes a preview with its size. */
function storableOutput(output: NonNullable<ActionProgress['output']>): StoredOutput {
  const text = JSON.stringify(output.response ?? null);
  const size = new TextEncoder().encode(text).length;
  if (size <= MAX_STORED_RESPONSE_BYTES) return { status_code: output.status_code, response_json: text };
  return { status_code: output.status_code, response_json: JSON.stringify({ truncated: true, size_bytes: size, preview: text.slice(0, 1024) }) };
}
