import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { ActionProgress, Execution, ExecutionStatus, Redrive } from '../../../core/execution/model.ts';
import { EXECUTION_STATUSES, isTerminal } from '../../../core/execution/model.ts';
import type { AttemptOutcome, ExecutionListQuery, ExecutionStore } from '../../../core/ports.ts';
import { actionsOf, inParallel, putNewActionItems, readActionItems, rewriteActionItems, storable, storableOutput } from './action-items.ts';
import { translateDynamoError } from './errors.ts';
import { conditionalWrite, dynamoCall, invalidCursor, isConditionFailure, isRecord, queryItems, startKeyOf } from './operations.ts';
import { requiredCursors, type CursorCodec, type CursorOptions } from './cursor-codec.ts';
import { actionKey, ExecutionIndex, executionKey, RUN_SORT_KEY } from './execution-table.ts';
import type { IndexDesign } from './workflow-table.ts';
import { ExecutionItemSchema } from './execution-items.ts';
import { jsonText, parseItem } from './items.ts';
import * as z from 'zod';

export { MAX_STORED_RESPONSE_BYTES } from './action-items.ts';

const ALL = 'EXECUTION';
const ACTIVE = 'ACTIVE';

/**
 * On a run's item, how many action items it has: written with the run, its presence says the run's progress
 * lives in action items. Runs written before have none (and an `actions` map instead).
 */
const ACTION_ITEMS = 'action_items';

/** Statuses in which a run still takes reports of attempts. */
const UNFINISHED: readonly ExecutionStatus[] = ['pending', 'running', 'paused'];

/** Runs of a listing page whose action items are read at once. */
const LISTING_CONCURRENCY = 8;

/** What an attempt's report reads of the run first: its status, and where its progress lives. */
const RunStateSchema = z.object({ status: z.enum(EXECUTION_STATUSES), [ACTION_ITEMS]: z.number().int().min(0).optional() });

type Item = Record<string, unknown>;

/**
 * Changes to one action's progress: field -> value expression (placeholders in `values`; `@field` names that
 * field of the progress being updated), fields to remove.
 */
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

  /**
   * The action items first, then the run's item, conditional on its absence: the run's item decides whether
   * the run exists (a crash in between leaves action items nothing reads), and who created it.
   */
  async create(execution: Execution): Promise<{ execution: Execution; created: boolean }> {
    // A repeated create (the same idempotency key) finds the run at the cost of one read, writing nothing.
    const found = await this.existing(execution.execution_id);
    if (found) return { execution: found, created: false };
    await putNewActionItems(this.client, this.tableName, execution.execution_id, execution.actions);
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

  /** One Query of the run's item and its action items (the only sort keys beginning with `EXECUTION`). */
  async get(executionId: string): Promise<Execution | undefined> {
    const items = queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :run)',
      ExpressionAttributeValues: { ':pk': executionKey(executionId).pk, ':run': RUN_SORT_KEY },
      ConsistentRead: true,
    });
    let run: Item | undefined;
    const actionItems: Item[] = [];
    for await (const item of items) {
      if (item.sk === RUN_SORT_KEY) run = item;
      else actionItems.push(item);
    }
    // Action items without their run's item are a create that did not finish: no run.
    if (!run) return undefined;
    return hasActionMap(run) ? fromItem(run) : { ...fromItem(run), actions: actionsOf(actionItems) };
  }

  /**
   * Replaces the action's item's progress; a run written before action items existed has no such item, so
   * its map entry is replaced instead (one failed conditional write more for those runs only).
   */
  async updateAction(executionId: string, progress: ActionProgress): Promise<void> {
    const written = await conditionalWrite(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: actionKey(executionId, progress.action_id),
          UpdateExpression: 'SET progress = :progress',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':progress': storable(progress) },
        }),
      ),
    );
    if (written) return;
    await this.call(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: executionKey(executionId),
          UpdateExpression: 'SET actions.#action = :progress',
          ConditionExpression: 'attribute_exists(pk) AND attribute_exists(actions)',
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
        attempts: 'if_not_exists(@attempts, :zero) + :one',
        started_at: 'if_not_exists(@started_at, :at)',
      },
      remove: ['error', 'ended_at'],
      values: { ':running': 'running', ':zero': 0, ':one': 1, ':at': at },
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

  /**
   * A page of run items from an index, then each listed run's action items: one Query per run (a few at once,
   * eventually consistent like the index), since the API's listings show every run's actions and progress.
   * The index used to project every run's whole `actions` map, so that is as much data as before, in at most
   * one more request per listed run; what grows is the page (at most 100 runs), never the table.
   */
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
    return { items: await this.withActions(items, false), ...(nextCursor ? { nextCursor } : {}) };
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
      for (const execution of await this.withActions(page.Items ?? [], true)) yield execution;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /**
   * The run's item moves first, conditionally: the one caller that moves it rewrites the action items (a
   * concurrent retry from the same read changes nothing). A run written before action items existed is
   * reopened in its own layout, its actions in its item's map, as before.
   */
  async reopen(execution: Execution, redrive: Redrive, actions: readonly ActionProgress[]): Promise<boolean> {
    const sortKey = `${execution.created_at}#${execution.execution_id}`;
    const reopenWith = (layout: { set: string; condition: string; values: Record<string, unknown> }) =>
      conditionalWrite(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: executionKey(execution.execution_id),
            UpdateExpression: `SET #status = :running, redrive_count = if_not_exists(redrive_count, :zero) + :one, redrives = list_append(if_not_exists(redrives, :none), :redrive), ${layout.set}, gsi_active_pk = :active, gsi_active_sk = :activeSk REMOVE ended_at, #error, #output`,
            ConditionExpression: `attribute_exists(pk) AND #status = :was AND ${layout.condition}`,
            ExpressionAttributeNames: { '#status': 'status', '#error': 'error', '#output': 'output', '#items': ACTION_ITEMS },
            ExpressionAttributeValues: { ':running': 'running', ':was': execution.status, ':zero': 0, ':one': 1, ':none': [], ':redrive': [redrive], ':active': ACTIVE, ':activeSk': sortKey, ...layout.values },
          }),
        ),
      );
    if (await reopenWith({ set: '#items = :count', condition: 'attribute_exists(#items)', values: { ':count': new Set(actions.map((action) => action.action_id)).size } })) {
      const dropped = execution.actions.map((action) => action.action_id);
      await rewriteActionItems(this.client, this.tableName, execution.execution_id, actions, dropped);
      return true;
    }
    return reopenWith({
      set: 'actions = :actions, action_order = :order',
      condition: 'attribute_not_exists(#items)',
      values: { ':actions': Object.fromEntries(actions.map((action) => [action.action_id, storable(action)])), ':order': actions.map((action) => action.action_id) },
    });
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

  /** The run, read only when its item exists (one GetItem of its key first: the common answer is no). */
  private async existing(executionId: string): Promise<Execution | undefined> {
    const { Item } = await this.call(() => this.client.send(new GetCommand({ TableName: this.tableName, Key: executionKey(executionId), ProjectionExpression: 'pk', ConsistentRead: true })));
    return Item ? this.get(executionId) : undefined;
  }

  /**
   * Executions from run items of an index (a listing's page, the unfinished ones), each with its actions: from
   * the item's map for runs written before action items, else one Query of its action items (a few runs at once).
   */
  private async withActions(items: readonly Item[], consistent: boolean): Promise<Execution[]> {
    return inParallel(items, LISTING_CONCURRENCY, async (item) => {
      const execution = fromItem(item);
      if (hasActionMap(item)) return execution;
      return { ...execution, actions: actionsOf(await readActionItems(this.client, this.tableName, execution.execution_id, consistent)) };
    });
  }

  /**
   * One atomic UpdateItem of the action's progress, applied only while the execution exists, is unfinished and
   * has that action. A failed condition, or a run finished or missing, is the expected fate of a late report
   * (the run already settled) or of an unknown id, so it resolves quietly.
   *
   * The run's status is on the run's item and the progress on the action's, and transactions are not used
   * (ADR 0001): the status is read first (consistently), then the action item is updated on condition that it
   * exists (create writes every action's). A report racing its run's end by less than that read's latency can
   * still land, like one landing between the end's settlement of the actions and its status change, which the
   * settlement has always allowed. Runs written before action items existed are updated in their item's map,
   * with every condition in the one write, as before.
   */
  private async updateUnfinishedAction(executionId: string, actionId: string, update: ActionUpdate): Promise<void> {
    const { Item } = await this.call(() =>
      this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: executionKey(executionId),
          ProjectionExpression: '#status, #items',
          ExpressionAttributeNames: { '#status': 'status', '#items': ACTION_ITEMS },
          ConsistentRead: true,
        }),
      ),
    );
    if (!Item) return;
    const run = parseItem(RunStateSchema, Item, 'execution');
    if (!UNFINISHED.includes(run.status)) return;
    const inItems = run[ACTION_ITEMS] !== undefined;
    // `@field` in a value expression (if_not_exists) names the same field of the action's progress.
    const entry = (field: string) => `${inItems ? 'progress' : 'actions.#action'}.#${field}`;
    const expression = (value: string) => value.replace(/@(\w+)/g, (_, field: string) => entry(field));
    const set = Object.entries(update.set).map(([field, value]) => `${entry(field)} = ${expression(value)}`);
    const remove = update.remove.map(entry);
    const fields = [...Object.keys(update.set), ...update.remove];
    // Every field name goes through a placeholder: `status` is a reserved word, others may become one.
    const names = { '#status': 'status', ...Object.fromEntries(fields.map((field) => [`#${field}`, field])) };
    const updateExpression = `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`;
    await conditionalWrite(() =>
      this.client.send(
        inItems
          ? new UpdateCommand({
              TableName: this.tableName,
              Key: actionKey(executionId, actionId),
              UpdateExpression: updateExpression,
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: update.values,
            })
          : new UpdateCommand({
              TableName: this.tableName,
              Key: executionKey(executionId),
              UpdateExpression: updateExpression,
              ConditionExpression: 'attribute_exists(pk) AND attribute_exists(actions.#action) AND #status IN (:pending, :running, :paused)',
              ExpressionAttributeNames: { ...names, '#action': actionId },
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

/** The run's own item; its actions are items of their own (action-items.ts), which it counts. */
function toItem({ actions, ...execution }: Execution): Item {
  const sortKey = `${execution.created_at}#${execution.execution_id}`;
  return {
    ...executionKey(execution.execution_id),
    ...execution,
    // Parameters and outputs are JSON text: DynamoDB refuses numbers past 38 digits or below 1e-130 and maps
    // nested deeper than 32 levels, all of which are valid JSON a caller or a service may send.
    parameters: JSON.stringify(execution.parameters),
    output: execution.output === undefined ? undefined : JSON.stringify(execution.output),
    [ACTION_ITEMS]: new Set(actions.map((action) => action.action_id)).size,
    gsi_wf_pk: `WF#${execution.workflow_id}`,
    gsi_wf_sk: sortKey,
    gsi_all_pk: ALL,
    gsi_all_sk: sortKey,
    gsi_tenant_pk: `T#${execution.tenant}`,
    gsi_tenant_sk: sortKey,
    ...(isTerminal(execution.status) ? {} : { gsi_active_pk: ACTIVE, gsi_active_sk: sortKey }),
  };
}

/**
 * The execution a run's item holds, without its actions unless the item has them (written before action
 * items existed); CorruptItemError, naming the item and attribute, when it is not one.
 */
function fromItem(item: Item): Execution {
  return parseItem(ExecutionItemSchema, item, 'execution');
}

/** True for a run written before action items existed: its progress is its item's `actions` map. */
function hasActionMap(item: Item): boolean {
  return item.actions !== undefined;
}
