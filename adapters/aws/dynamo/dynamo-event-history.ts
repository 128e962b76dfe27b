import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../../core/errors.ts';
import type { EventEnvelope } from '../../../core/events/envelope.ts';
import {
  DEFAULT_EVENT_RETENTION_DAYS,
  eventExecutionId,
  eventWorkflowId,
  matchesEventType,
  matchesHistoryQuery,
  type EventHistory,
  type EventHistoryPage,
  type EventHistoryQuery,
} from '../../../core/events/history.ts';
import type { Clock } from '../../../core/ports.ts';
import { decodeIndexCursor, encodeIndexCursor, requiredCursors, type CursorCodec, type IndexListing } from './cursor-codec.ts';
import { ALL_EVENTS_PARTITION, EventIndex, EventItemSchema } from './event-table.ts';
import { ItemKey, parseItem } from './items.ts';
import { conditionalWrite, dynamoCall, pickAttributes, queryItems, startKeyOf, writeBatch, WRITE_BATCH_SIZE } from './operations.ts';
import type { IndexDesign } from './workflow-table.ts';

/** How many index pages one request may read to fill a page when filters that are not keys drop items. */
const MAX_QUERIES_PER_PAGE = 10;
/** The most items one of those reads asks for (DynamoDB stops at 1 MB anyway). */
const MAX_SLICE = 1000;
/** BatchWriteItem's limit, and how often unprocessed deletes are sent again before giving up. */
const MAX_BATCH_ATTEMPTS = 10;
const DAY_SECONDS = 86_400;

type Item = Record<string, unknown>;

export interface DynamoEventHistoryOptions {
  /** Signs and checks cursors; without it (the recorder, which only writes), query() throws. */
  readonly cursors?: CursorCodec;
  /** ORCHESTRATOR_EVENT_RETENTION_DAYS; DEFAULT_EVENT_RETENTION_DAYS when absent. */
  readonly retentionDays?: number;
  /** What "now" is for expiry; the system clock when absent. */
  readonly clock?: Clock;
}

/** The event history on its own table (event-table.ts). */
export class DynamoEventHistory implements EventHistory {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly cursors?: CursorCodec;
  private readonly retentionSeconds: number;
  private readonly clock: Clock;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoEventHistoryOptions = {}) {
    const days = options.retentionDays ?? DEFAULT_EVENT_RETENTION_DAYS;
    if (!(days > 0)) throw new Error(`event retention must be a positive number of days; got ${days}`);
    this.client = client;
    this.tableName = tableName;
    this.cursors = options.cursors;
    this.retentionSeconds = Math.round(days * DAY_SECONDS);
    this.clock = options.clock ?? { now: () => new Date().toISOString() };
  }

  /** One conditional PutItem; a second recording of the same event_id fails its condition, quietly. */
  async record(event: EventEnvelope): Promise<void> {
    await conditionalWrite(() => this.client.send(new PutCommand({ TableName: this.tableName, Item: this.toItem(event), ConditionExpression: 'attribute_not_exists(pk)' })));
  }

  async query(query: EventHistoryQuery): Promise<EventHistoryPage> {
    const cursors = requiredCursors(this.cursors, 'DynamoEventHistory');
    const { index, partition } = chooseIndex(query);
    const lower = query.since === undefined ? undefined : timeKey(query.since, 'since');
    // `~` sorts after every character of `<time>#<id>`, so `until` includes events of that very millisecond.
    const upper = query.until === undefined ? undefined : `${timeKey(query.until, 'until')}~`;
    // Everything the query selects by is part of what its cursor belongs to; the limit may change between pages.
    const { limit: _limit, cursor: token, ...filters } = query;
    const bound = JSON.stringify(['events', Object.entries(filters).filter(([, value]) => value !== undefined).sort(([a], [b]) => a.localeCompare(b))]);
    const listing: IndexListing = { indexName: index.indexName, partition, filters: bound };
    const continueAfter = token === undefined ? undefined : decodeIndexCursor(cursors, token, listing);
    const keyAttributes = ['pk', 'sk', index.partitionKey, index.sortKey];
    let startKey: Record<string, unknown> | undefined = continueAfter ? startKeyOf(continueAfter, keyAttributes, { attribute: index.partitionKey, value: partition }) : undefined;

    const { condition, names, values } = keyCondition(index, partition, lower, upper);
    const now = this.nowEpoch();
    const items: EventEnvelope[] = [];
    let resumeAt: Record<string, unknown> | undefined;
    for (let reads = 0; reads < MAX_QUERIES_PER_PAGE && items.length < query.limit; reads++) {
      const remaining = query.limit - items.length;
      // Reads that follow one whose items a filter dropped ask for more each time, so a rare match costs a
      // few calls rather than one per page-sized slice of the partition.
      const slice = Math.min(MAX_SLICE, Math.max(remaining, remaining * 2 ** reads));
      const page = await dynamoCall(
        () =>
          this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: index.indexName,
              KeyConditionExpression: condition,
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
              ScanIndexForward: false,
              Limit: slice,
              ExclusiveStartKey: startKey,
            }),
          ),
        '',
      );
      const read = page.Items ?? [];
      // Filtered here rather than by a FilterExpression: DynamoDB bills a Query for what it reads either way,
      // and the ids of a run and a workflow live inside the JSON of `data`, which only the helper can see.
      let filledAt: number | undefined;
      for (const [position, item] of read.entries()) {
        const { event, expiresAtEpoch } = parseItem(EventItemSchema, item, 'event');
        if (expiresAtEpoch <= now || !matchesHistoryQuery(event, filters)) continue;
        items.push(event);
        if (items.length === query.limit) {
          filledAt = position;
          break;
        }
      }
      if (filledAt !== undefined) {
        // A full page continues right after its last event, whether or not this read went further.
        const more = filledAt < read.length - 1 || page.LastEvaluatedKey !== undefined;
        resumeAt = more ? pickAttributes(read[filledAt]!, keyAttributes) : undefined;
        break;
      }
      // Not full yet: the next read, or else the next request, goes on where this read stopped.
      startKey = resumeAt = page.LastEvaluatedKey;
      if (!startKey) break;
    }
    return { items, ...(resumeAt ? { nextCursor: encodeIndexCursor(cursors, listing, resumeAt) } : {}) };
  }

  /**
   * Reads the tenant's partition, or every tenant's, up to `before` (never the whole table), and deletes what
   * matches 25 at a time. Expired events are left to TTL: deleting them would cost a write for nothing a
   * reader can see. Concurrent clears may both count an event they both deleted.
   */
  async clear(options: { before: string; types?: readonly string[]; tenant?: string }): Promise<number> {
    const index = options.tenant === undefined ? EventIndex.all : EventIndex.byTenant;
    const partition = options.tenant === undefined ? ALL_EVENTS_PARTITION : `T#${options.tenant}`;
    const before = timeKey(options.before, 'before');
    const now = this.nowEpoch();
    const items = queryItems(this.client, {
      TableName: this.tableName,
      IndexName: index.indexName,
      KeyConditionExpression: '#pk = :pk AND #sk < :before',
      ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
      ExpressionAttributeValues: { ':pk': partition, ':before': before },
    });
    let deleted = 0;
    let batch: Item[] = [];
    for await (const item of items) {
      const { event, expiresAtEpoch } = parseItem(EventItemSchema, item, 'event');
      if (expiresAtEpoch <= now || (options.types !== undefined && !options.types.some((type) => matchesEventType(event.type, type)))) continue;
      batch.push(parseItem(ItemKey, item, 'event'));
      if (batch.length === WRITE_BATCH_SIZE) {
        deleted += await this.deleteAll(batch);
        batch = [];
      }
    }
    if (batch.length > 0) deleted += await this.deleteAll(batch);
    return deleted;
  }

  private toItem(event: EventEnvelope): Item {
    const { data, ...rest } = event;
    const executionId = eventExecutionId(event);
    const workflowId = eventWorkflowId(event);
    return {
      pk: `EV#${event.event_id}`,
      sk: 'EVENT',
      ...rest,
      data_json: JSON.stringify(data),
      gsi_sk: `${timeKey(event.time, 'time')}#${event.event_id}`,
      gsi_tenant_pk: `T#${event.tenant}`,
      gsi_all_pk: ALL_EVENTS_PARTITION,
      ...(executionId === undefined ? {} : { gsi_ex_pk: `EX#${executionId}` }),
      ...(workflowId === undefined ? {} : { gsi_wf_pk: `WF#${workflowId}` }),
      ...(event.correlation_id === undefined ? {} : { gsi_co_pk: `CO#${event.correlation_id}` }),
      // Retention runs from when the event happened, not from when it was recorded.
      expires_at_epoch: Math.floor(Date.parse(event.time) / 1000) + this.retentionSeconds,
    };
  }

  /** Deletes `keys` (at most 25), sending unprocessed ones again with back-off; answers how many it deleted. */
  private async deleteAll(keys: readonly Item[]): Promise<number> {
    await writeBatch(this.client, this.tableName, keys.map((Key) => ({ DeleteRequest: { Key } })), 'event deletions', MAX_BATCH_ATTEMPTS);
    return keys.length;
  }

  private nowEpoch(): number {
    return Math.floor(Date.parse(this.clock.now()) / 1000);
  }
}

/** The narrowest index the query's filters name: a run's, a workflow's, a transaction's, a tenant's, then all. */
function chooseIndex(query: EventHistoryQuery): { index: IndexDesign; partition: string } {
  if (query.execution_id !== undefined) return { index: EventIndex.byExecution, partition: `EX#${query.execution_id}` };
  if (query.workflow_id !== undefined) return { index: EventIndex.byWorkflow, partition: `WF#${query.workflow_id}` };
  if (query.correlation_id !== undefined) return { index: EventIndex.byCorrelation, partition: `CO#${query.correlation_id}` };
  if (query.tenant !== undefined) return { index: EventIndex.byTenant, partition: `T#${query.tenant}` };
  return { index: EventIndex.all, partition: ALL_EVENTS_PARTITION };
}

function keyCondition(index: IndexDesign, partition: string, lower: string | undefined, upper: string | undefined): { condition: string; names: Record<string, string>; values: Record<string, unknown> } {
  const names: Record<string, string> = { '#pk': index.partitionKey };
  const values: Record<string, unknown> = { ':pk': partition };
  if (lower === undefined && upper === undefined) return { condition: '#pk = :pk', names, values };
  names['#sk'] = index.sortKey;
  if (lower !== undefined) values[':lower'] = lower;
  if (upper !== undefined) values[':upper'] = upper;
  const range = lower !== undefined && upper !== undefined ? '#sk BETWEEN :lower AND :upper' : lower !== undefined ? '#sk >= :lower' : '#sk <= :upper';
  return { condition: `#pk = :pk AND ${range}`, names, values };
}

/**
 * A time as the sort keys spell it: UTC, milliseconds, so strings order as instants whatever offset or
 * precision the caller wrote. ValidationError, naming `field`, when it is no time at all.
 */
function timeKey(time: string, field: string): string {
  const at = Date.parse(time);
  if (Number.isNaN(at)) throw new ValidationError([{ field, message: 'must be an ISO-8601 date-time' }]);
  return new Date(at).toISOString();
}
