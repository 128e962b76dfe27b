import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { WorkflowCounts, WorkflowListQuery, WorkflowPage, WorkflowStore } from '../../../core/ports.ts';
import type { DefinitionBody } from '../../../core/workflow/definition.ts';
import { DEFAULT_PAGE_SIZE, summarize, versionOf, type Workflow, type WorkflowSummary, type WorkflowVersion } from '../../../core/workflow/model.ts';
import { translateDynamoError } from './errors.ts';
import { dynamoCall, invalidCursor, isConditionFailure, isRecord, startKeyOf } from './operations.ts';
import { requiredCursors, type CursorCodec, type CursorOptions } from './cursor-codec.ts';
import { SUMMARY_ATTRIBUTES, WorkflowIndex, type IndexDesign } from './workflow-table.ts';
import { DynamoWordIndex } from './dynamo-word-index.ts';
import { DynamoWorkflowCounts } from './dynamo-workflow-counts.ts';
import { counterDelta, listingCounter, type Counted } from './workflow-counters.ts';
import { HeadItemSchema, parseItem, SummaryItemSchema, VersionItemSchema } from './workflow-items.ts';

const HEAD = 'HEAD';
/** Present once a table's search words and counts are established (see `ready`). */
const INDEXED_MARKER = { pk: 'MIGRATION', sk: 'SEARCH_AND_COUNTS' };
const VERSION_PREFIX = 'V#';
const LIST_PARTITION = 'WORKFLOW';
/** DynamoDB's BatchWriteItem limit. */
const BATCH_SIZE = 25;

type Item = Record<string, unknown>;

interface HeadItem extends WorkflowSummary {
  pk: string;
  sk: string;
  definition: string;
  version_created_by: string;
  version_created_at: string;
}

interface VersionItem {
  pk: string;
  sk: string;
  workflow_id: string;
  version: number;
  name: string;
  definition: string;
  created_by: string;
  created_at: string;
}

interface Cursor {
  /** Index and partition the cursor belongs to: a cursor from one filter cannot page another. */
  i: string;
  p: string;
  /** DynamoDB's LastEvaluatedKey. */
  k: Record<string, string>;
  /** Items before the next page. */
  o: number;
  /** The listing's page size. */
  l: number;
}

const partitionKey = (workflowId: string) => `WF#${workflowId}`;
const versionKey = (version: number) => `${VERSION_PREFIX}${String(version).padStart(10, '0')}`;

/**
 * WorkflowStore on one DynamoDB table (see workflow-table.ts). Without transactions (the emulator has
 * none), the writes are ordered so that a crash between them loses nothing: version items exist for every
 * version older than HEAD's and are written *before* HEAD moves past them; HEAD holds the current version.
 */
export class DynamoWorkflowStore implements WorkflowStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  private readonly words: DynamoWordIndex;
  private readonly counters: DynamoWorkflowCounts;
  private established?: Promise<void>;
  private readonly cursors?: CursorCodec;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: CursorOptions = {}) {
    this.client = client;
    this.tableName = tableName;
    this.cursors = options.cursors;
    this.words = new DynamoWordIndex(client, tableName);
    this.counters = new DynamoWorkflowCounts(client, tableName);
  }

  async create(workflow: Workflow): Promise<void> {
    const summary = summarize(workflow);
    await this.words.addWords(summary);
    await this.call(() => this.client.send(new PutCommand({ TableName: this.tableName, Item: toHeadItem(workflow), ConditionExpression: 'attribute_not_exists(pk)' })), `workflow ${workflow.workflow_id} already exists`);
    await this.counters.apply(workflow.tenant, counterDelta(undefined, summary), `${workflow.workflow_id}#${workflow.revision}`);
  }

  async get(workflowId: string): Promise<Workflow | undefined> {
    const { Item } = await this.call(() => this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: partitionKey(workflowId), sk: HEAD }, ConsistentRead: true })));
    return Item ? parseItem(HeadItemSchema, Item, 'workflow') : undefined;
  }

  async update(next: Workflow, previous: Workflow): Promise<void> {
    const [nextSummary, previousSummary] = [summarize(next), summarize(previous)];
    await this.words.addWords(nextSummary, previousSummary);
    if (next.version > previous.version) {
      // Snapshot the version being superseded before HEAD moves past it. Rewriting it is harmless: every
      // writer that read HEAD at this version writes the same definition.
      await this.call(() => this.client.send(new PutCommand({ TableName: this.tableName, Item: toVersionItem(versionOf(previous)) })));
    }
    await this.call(() => this.client.send(new PutCommand({
        TableName: this.tableName,
        Item: toHeadItem(next),
        ConditionExpression: 'attribute_exists(pk) AND revision = :expected',
        ExpressionAttributeValues: { ':expected': previous.revision },
      })), conflictMessage(next.workflow_id, previous.revision));
    await Promise.all([
      this.words.removeWords(nextSummary, previousSummary),
      this.counters.apply(next.tenant, counterDelta(previousSummary, nextSummary), `${next.workflow_id}#${next.revision}`),
    ]);
  }

  async delete(workflowId: string, expectedRevision?: number): Promise<boolean> {
    const pk = partitionKey(workflowId);
    let deletedVersion: number;
    let deleted: Counted;
    try {
      const { Attributes } = await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk, sk: HEAD },
          ConditionExpression: expectedRevision === undefined ? 'attribute_exists(pk)' : 'attribute_exists(pk) AND revision = :expected',
          ExpressionAttributeValues: expectedRevision === undefined ? undefined : { ':expected': expectedRevision },
          ReturnValues: 'ALL_OLD',
        }),
      );
      if (!Attributes) return false;
      const summary = toSummary(Attributes);
      deleted = summary;
      deletedVersion = summary.version;
    } catch (error) {
      if (!isConditionFailure(error)) throw translateDynamoError(error, '');
      // Only the failure path pays a read, to tell "gone" from "changed".
      if (expectedRevision === undefined || !(await this.get(workflowId))) return false;
      throw translateDynamoError(error, conflictMessage(workflowId, expectedRevision));
    }
    // HEAD is gone, so the workflow is invisible; its superseded versions are exactly V#1 .. V#(version - 1),
    // so they can be deleted by key without a Query. A crash here leaves unreachable items only.
    const keys = Array.from({ length: deletedVersion - 1 }, (_, index) => ({ pk, sk: versionKey(index + 1) }));
    for (let start = 0; start < keys.length; start += BATCH_SIZE) {
      await this.batchDelete(keys.slice(start, start + BATCH_SIZE));
    }
    await Promise.all([this.words.removeAll(workflowId), this.counters.apply(deleted.tenant, counterDelta(deleted, undefined), `${workflowId}#deleted`)]);
    return true;
  }

  async getVersion(workflowId: string, version: number): Promise<WorkflowVersion | undefined> {
    const { Item } = await this.call(() => this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: partitionKey(workflowId), sk: versionKey(version) } })));
    return Item ? parseItem(VersionItemSchema, Item, 'workflow version') : undefined;
  }

  async listVersions(workflowId: string): Promise<WorkflowVersion[] | undefined> {
    let workflow: Workflow | undefined;
    const versions: WorkflowVersion[] = [];
    // HEAD sorts before V#... and the search words (W#...) after them, so one Query reads HEAD and the versions in order.
    for await (const item of this.queryAll({ KeyConditionExpression: 'pk = :pk AND sk < :words', ExpressionAttributeValues: { ':pk': partitionKey(workflowId), ':words': 'W#' }, ConsistentRead: true })) {
      if (item.sk === HEAD) workflow = parseItem(HeadItemSchema, item, 'workflow');
      else versions.push(parseItem(VersionItemSchema, item, 'workflow version'));
    }
    if (!workflow) return undefined;
    return [...versions.filter((version) => version.version < workflow.version), versionOf(workflow)];
  }

  async list(query: WorkflowListQuery): Promise<WorkflowPage> {
    const { index, partition, filters } = listingIndex(query);
    // The filters are part of what a cursor belongs to: the all-tenants index serves several of them.
    const listing = filters.length === 0 ? partition : `${partition}?${filters.map(([attribute, value]) => `${attribute}=${value}`).join('&')}`;
    const cursors = requiredCursors(this.cursors, 'DynamoWorkflowStore');
    const cursor = query.cursor === undefined ? undefined : readCursor(cursors, query.cursor, index.indexName, listing);
    const base: Omit<QueryCommandInput, 'TableName'> = {
      IndexName: index.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': index.partitionKey, ...Object.fromEntries(filters.map(([attribute], position) => [`#f${position}`, attribute])) },
      ExpressionAttributeValues: { ':pk': partition, ...Object.fromEntries(filters.map(([, value], position) => [`:f${position}`, value])) },
      ...(filters.length > 0 ? { FilterExpression: filters.map((_, position) => `#f${position} = :f${position}`).join(' AND ') } : {}),
    };
    // The total is a maintained count (one GetItem), read while the page is: never a count of the partition.
    const counted = this.ready().then(() => this.counters.count(query.tenant, listingCounter(query)));

    const limit = query.limit ?? cursor?.l ?? DEFAULT_PAGE_SIZE;
    const skip = cursor ? 0 : (query.offset ?? 0);
    // One item more than the page tells whether another page follows, without counting.
    const wanted = skip + limit + 1;
    const collected: Item[] = [];
    let startKey: Record<string, unknown> | undefined = cursor ? startKeyOf(cursor.k, ['pk', 'sk', index.partitionKey, index.sortKey], { attribute: index.partitionKey, value: partition }) : undefined;
    // A filtered listing (an admin's across tenants) reads past what the filter drops, and DynamoDB applies
    // Limit before the filter: each further call reads twice as many items (up to 1,000), so a sparse filter
    // costs a few calls, not one per page-sized slice of the index.
    // With nothing to find, a filtered listing would read the whole index to learn it: the count says so first.
    if (filters.length > 0 && (await counted) === 0) return { items: [], total: 0, offset: cursor?.o ?? skip, limit, nextCursor: undefined };
    let reads = 0;
    do {
      const slice = filters.length === 0 ? wanted - collected.length : Math.min(1000, Math.max(wanted - collected.length, (wanted - collected.length) * 2 ** reads));
      reads += 1;
      const page = await this.call(() => this.client.send(new QueryCommand({ TableName: this.tableName, ...base, ScanIndexForward: false, Limit: slice, ExclusiveStartKey: startKey })));
      collected.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey && collected.length < wanted);

    const items = collected.slice(skip, skip + limit);
    const offset = cursor?.o ?? skip;
    const position = offset + items.length;
    const more = collected.length > skip + limit;
    const last = items[items.length - 1];
    const nextCursor = last && more ? cursors.encode({ i: index.indexName, p: listing, o: position, l: limit, k: pickKeys(last, index) }) : undefined;
    // A count that lags a concurrent write never contradicts the page: a listing read to its end knows its exact total.
    const count = await counted;
    const total = more ? Math.max(count, position + 1) : (cursor?.o ?? 0) + collected.length;
    return { items: items.map((item) => toSummary(item)), total, offset, limit, nextCursor };
  }

  async *searchCandidates(word: string, tenant?: string): AsyncIterable<WorkflowSummary> {
    await this.ready();
    const ids = await this.words.candidates(word, tenant);
    for await (const item of this.words.heads(ids, SUMMARY_ATTRIBUTES, HEAD)) yield toSummary(item);
  }

  async counts(tenant?: string): Promise<WorkflowCounts> {
    await this.ready();
    return this.counters.read(tenant);
  }

  /**
   * The search words and counts of a table are established once, on the first read that needs them: a new
   * table has nothing to index; a table from before they existed has every workflow indexed and counted
   * once (ADR 0011). A marker records it, so later processes pay one GetItem.
   */
  ready(): Promise<void> {
    this.established ??= this.establish().catch((error: unknown) => {
      this.established = undefined;
      throw error;
    });
    return this.established;
  }

  private async establish(): Promise<void> {
    const { Item } = await this.call(() => this.client.send(new GetCommand({ TableName: this.tableName, Key: INDEXED_MARKER, ConsistentRead: true })));
    if (Item) return;
    const workflows: WorkflowSummary[] = [];
    for await (const summary of this.allSummaries()) workflows.push(summary);
    for (const workflow of workflows) await this.words.addWords(workflow);
    await this.counters.recount(workflows);
    await this.call(() => this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...INDEXED_MARKER, workflows: workflows.length } })));
  }

  private async *allSummaries(): AsyncIterable<WorkflowSummary> {
    const index = WorkflowIndex.all;
    for await (const item of this.queryAll({
      IndexName: index.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': index.partitionKey },
      ExpressionAttributeValues: { ':pk': LIST_PARTITION },
    })) {
      yield toSummary(item);
    }
  }

  async ping(): Promise<void> {
    await this.call(() => this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: 'HEALTH', sk: 'PROBE' } })));
  }

  private async *queryPages(input: Omit<QueryCommandInput, 'TableName'>) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.call(() => this.client.send(new QueryCommand({ TableName: this.tableName, ...input, ExclusiveStartKey: startKey })));
      yield page;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  private async *queryAll(input: Omit<QueryCommandInput, 'TableName'>): AsyncIterable<Item> {
    for await (const page of this.queryPages(input)) yield* page.Items ?? [];
  }

  private async batchDelete(keys: Item[]): Promise<void> {
    let pending: Item[] = keys;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
      const { UnprocessedItems } = await this.call(() => this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending.map((Key) => ({ DeleteRequest: { Key } })) } })));
      pending = (UnprocessedItems?.[this.tableName] ?? []).map((request) => request.DeleteRequest?.Key as Item).filter(Boolean);
      if (attempt > 8 && pending.length > 0) throw new Error(`could not delete ${pending.length} version items after ${attempt} attempts`);
    }
  }

  private call<Output>(operation: () => Promise<Output>, conflict = 'conflicting change'): Promise<Output> {
    return dynamoCall(operation, conflict);
  }
}

/**
 * The index and partition of a listing, and what is left to filter. A tenant's listing is always a key
 * condition; an admin's listing across tenants reads the `all` index and filters status and creator.
 */
function listingIndex(query: WorkflowListQuery): { index: IndexDesign; partition: string; filters: Array<[string, string]> } {
  if (query.tenant === undefined) {
    const filters: Array<[string, string]> = [];
    if (query.status !== undefined) filters.push(['status', query.status]);
    if (query.createdBy !== undefined) filters.push(['created_by', query.createdBy]);
    return { index: WorkflowIndex.all, partition: LIST_PARTITION, filters };
  }
  const tenant = `T#${query.tenant}`;
  if (query.createdBy !== undefined && query.status !== undefined) {
    return { index: WorkflowIndex.byCreatorStatus, partition: `${tenant}#CREATOR#${query.createdBy}#STATUS#${query.status}`, filters: [] };
  }
  if (query.createdBy !== undefined) return { index: WorkflowIndex.byCreator, partition: `${tenant}#CREATOR#${query.createdBy}`, filters: [] };
  if (query.status !== undefined) return { index: WorkflowIndex.byStatus, partition: `${tenant}#STATUS#${query.status}`, filters: [] };
  return { index: WorkflowIndex.byTenant, partition: tenant, filters: [] };
}

function toHeadItem(workflow: Workflow): HeadItem & Item {
  const sortKey = `${workflow.created_at}#${workflow.workflow_id}`;
  return {
    pk: partitionKey(workflow.workflow_id),
    sk: HEAD,
    ...summarize(workflow),
    definition: serializeDefinition(workflow),
    version_created_by: workflow.version_created_by,
    version_created_at: workflow.version_created_at,
    gsi_all_pk: LIST_PARTITION,
    gsi_all_sk: sortKey,
    gsi_tenant_pk: `T#${workflow.tenant}`,
    gsi_tenant_sk: sortKey,
    gsi_status_pk: `T#${workflow.tenant}#STATUS#${workflow.status}`,
    gsi_status_sk: sortKey,
    gsi_creator_pk: `T#${workflow.tenant}#CREATOR#${workflow.created_by}`,
    gsi_creator_sk: sortKey,
    gsi_creator_status_pk: `T#${workflow.tenant}#CREATOR#${workflow.created_by}#STATUS#${workflow.status}`,
    gsi_creator_status_sk: sortKey,
  };
}

function toSummary(item: Item): WorkflowSummary {
  return parseItem(SummaryItemSchema, item, 'workflow summary');
}

function toVersionItem(version: WorkflowVersion): VersionItem {
  return {
    pk: partitionKey(version.workflow_id),
    sk: versionKey(version.version),
    workflow_id: version.workflow_id,
    version: version.version,
    name: version.name,
    definition: serializeDefinition(version),
    created_by: version.created_by,
    created_at: version.created_at,
  };
}

function serializeDefinition(definition: DefinitionBody): string {
  return JSON.stringify({ execution_mode: definition.execution_mode, parameters: definition.parameters, strict_parameters: definition.strict_parameters ?? false, actions: definition.actions } satisfies DefinitionBody);
}

function pickKeys(item: Item, index: IndexDesign): Record<string, string> {
  return Object.fromEntries(['pk', 'sk', index.partitionKey, index.sortKey].map((key) => [key, String(item[key])]));
}

function isCursor(value: unknown): value is Cursor {
  return isRecord(value) && typeof value.i === 'string' && typeof value.p === 'string' && Number.isSafeInteger(value.o) && Number.isSafeInteger(value.l) && (value.l as number) >= 1 && (value.l as number) <= 100 && isRecord(value.k) && Object.values(value.k).every((key) => typeof key === 'string');
}

/** A cursor from one filter cannot page another: its index and partition are part of the token. */
function readCursor(cursors: CursorCodec, token: string, indexName: string, partition: string): Cursor {
  const cursor = cursors.decode(token, isCursor);
  if (cursor.i !== indexName || cursor.p !== partition) throw invalidCursor('next_token belongs to a different filter; repeat the status and created_by of the first request');
  return cursor;
}

function conflictMessage(workflowId: string, expectedRevision: number): string {
  return `workflow ${workflowId} was changed concurrently (expected revision ${expectedRevision}); read it again and retry`;
}
