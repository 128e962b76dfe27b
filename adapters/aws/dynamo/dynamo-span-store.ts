import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CorruptItemError, ValidationError } from '../../../core/errors.ts';
import type { Span } from '../../../core/observability/spans.ts';
import type { Clock, Log, SpanPage, SpanScope, SpanStore, SpanWindow } from '../../../core/ports.ts';
import { decodeIndexCursor, encodeIndexCursor, requiredCursors, type CursorCodec, type IndexListing } from './cursor-codec.ts';
import { parseItem } from './items.ts';
import { dynamoCall, pickAttributes, startKeyOf, writeBatch, WRITE_BATCH_SIZE } from './operations.ts';
import { mapConcurrently } from '../../../core/registry/concurrency.ts';
import { SpanItemSchema, spanItem, timeKey } from './span-items.ts';
import { DEFAULT_SPAN_RETENTION_DAYS, hourOf, serviceCallPartition, SpanIndex, tracePartition, windowPartition } from './span-table.ts';
import type { IndexDesign } from './workflow-table.ts';

/** Batches in flight at once: a recorder's flush of 500 spans is 20 batches, not 20 round trips in a row. */
const WRITE_CONCURRENCY = 4;
/** How often a batch's unprocessed items are sent again (with back-off, 50 ms doubling to 1 s) before giving up. */
const MAX_BATCH_ATTEMPTS = 8;
/** The most items one Query asks for (DynamoDB stops at 1 MB anyway). */
const MAX_SLICE = 1000;
/** How many index pages one serviceCalls page may read when expired or corrupt items leave it short. */
const MAX_QUERIES_PER_PAGE = 10;
const DEFAULT_TRACE_LIMIT = 1000;
const DAY_SECONDS = 86_400;
const HOUR_MS = 3_600_000;

type Item = Record<string, unknown>;

export interface DynamoSpanStoreOptions {
  /** ORCHESTRATOR_SPAN_RETENTION_DAYS; DEFAULT_SPAN_RETENTION_DAYS (7) when absent. */
  readonly retentionDays?: number;
  /** What "now" is for expiry and the window's end; the system clock when absent. */
  readonly clock?: Clock;
  /** Signs and checks serviceCalls cursors; without it (a function that only records), serviceCalls throws. */
  readonly cursors?: CursorCodec;
  /** Where a stored span that does not parse (skipped) or a span that cannot be stored (dropped) is reported; stderr when absent. */
  readonly log?: Log;
}

/** The span store on its own table (span-table.ts): batched writes, reads by Query only. */
export class DynamoSpanStore implements SpanStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly retentionSeconds: number;
  private readonly clock: Clock;
  private readonly cursors?: CursorCodec;
  private readonly log: Log;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoSpanStoreOptions = {}) {
    const days = options.retentionDays ?? DEFAULT_SPAN_RETENTION_DAYS;
    if (!(days > 0)) throw new Error(`span retention must be a positive number of days; got ${days}`);
    this.client = client;
    this.tableName = tableName;
    this.retentionSeconds = Math.round(days * DAY_SECONDS);
    this.clock = options.clock ?? { now: () => new Date().toISOString() };
    this.cursors = options.cursors;
    this.log = options.log ?? ((entry) => console.error(JSON.stringify({ time: new Date().toISOString(), ...entry })));
  }

  /**
   * BatchWriteItem, 25 puts a batch, a few batches at a time; the items DynamoDB leaves unprocessed are sent
   * again with back-off. A span recorded twice has the same key and overwrites itself (kept once); twice in
   * one call it is written once (BatchWriteItem refuses a batch naming one key twice). A span that cannot be
   * stored (a start that is no time) is logged and dropped rather than failing the others.
   */
  async record(spans: readonly Span[]): Promise<void> {
    const items = new Map<string, Item>();
    for (const span of spans) {
      const item = spanItem(span, this.retentionSeconds);
      if (typeof item === 'string') {
        this.log({ level: 'warn', message: 'span not stored', trace_id: span.trace_id, span_id: span.span_id, reason: item });
        continue;
      }
      items.set(`${String(item['pk'])}\n${String(item['sk'])}`, item);
    }
    const batches: Item[][] = [];
    const all = [...items.values()];
    for (let at = 0; at < all.length; at += WRITE_BATCH_SIZE) batches.push(all.slice(at, at + WRITE_BATCH_SIZE));
    await mapConcurrently(batches, WRITE_CONCURRENCY, (batch) => writeBatch(this.client, this.tableName, batch.map((Item) => ({ PutRequest: { Item } })), 'spans', MAX_BATCH_ATTEMPTS));
  }

  /** The trace's item collection in start order, Query page after page, until `limit` visible spans. */
  async trace(traceId: string, scope: SpanScope, limit = DEFAULT_TRACE_LIMIT): Promise<Span[]> {
    if (limit < 1) return [];
    const now = this.nowEpoch();
    const spans: Span[] = [];
    let startKey: Item | undefined;
    do {
      const page = await dynamoCall(
        () =>
          this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': tracePartition(traceId) },
              ScanIndexForward: true,
              Limit: Math.min(MAX_SLICE, limit - spans.length),
              ExclusiveStartKey: startKey,
            }),
          ),
        '',
      );
      for (const item of page.Items ?? []) {
        const span = this.spanOf(item, now);
        // A trace is small and mostly one tenant's: the spans another tenant (or the platform) recorded in it
        // are dropped here rather than by key.
        if (span !== undefined && visible(span, scope)) spans.push(span);
        if (spans.length === limit) return spans;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return spans;
  }

  /**
   * One Query of the service's partition (the tenant's, or the platform-wide one for admins) of the
   * service-call index, newest first, ending at or after `since` (never before the retention). A page that
   * expired or corrupt items leave short reads on, up to 10 index pages. The cursor is signed and bound to
   * the index, the partition and `since`.
   */
  async serviceCalls(service: string, query: SpanScope & { readonly since?: string; readonly limit: number; readonly cursor?: string }): Promise<SpanPage> {
    const cursors = requiredCursors(this.cursors, 'DynamoSpanStore');
    const index = query.tenant === undefined ? SpanIndex.serviceCalls : SpanIndex.tenantServiceCalls;
    const partition = serviceCallPartition(service, query.tenant);
    const listing: IndexListing = { indexName: index.indexName, partition, filters: JSON.stringify(['spans.serviceCalls', query.since ?? null]) };
    const keyAttributes = ['pk', 'sk', index.partitionKey, index.sortKey];
    let startKey: Item | undefined = query.cursor === undefined ? undefined : startKeyOf(decodeIndexCursor(cursors, query.cursor, listing), keyAttributes, { attribute: index.partitionKey, value: partition });
    const lower = this.lowerBound(query.since);
    const now = this.nowEpoch();
    const items: Span[] = [];
    let resumeAt: Item | undefined;
    for (let reads = 0; reads < MAX_QUERIES_PER_PAGE && items.length < query.limit; reads++) {
      const page = await this.queryIndex(index, partition, lower, Math.min(MAX_SLICE, query.limit - items.length), startKey);
      const read = page.Items ?? [];
      let filledAt: number | undefined;
      for (const [position, item] of read.entries()) {
        const span = this.spanOf(item, now);
        if (span === undefined) continue;
        items.push(span);
        if (items.length === query.limit) {
          filledAt = position;
          break;
        }
      }
      if (filledAt !== undefined) {
        // A full page continues right after its last span, whether or not this read went further.
        const more = filledAt < read.length - 1 || page.LastEvaluatedKey !== undefined;
        resumeAt = more ? pickAttributes(read[filledAt]!, keyAttributes) : undefined;
        break;
      }
      startKey = resumeAt = page.LastEvaluatedKey;
      if (startKey === undefined) break;
    }
    return { items, ...(resumeAt === undefined ? {} : { nextCursor: encodeIndexCursor(cursors, listing, resumeAt) }) };
  }

  /**
   * The hour buckets of the window index from now's back to `since`'s (never before the retention), newest
   * first, one Query (or a few pages) per hour, stopping once `limit` spans are read and one more proves the
   * window holds more (truncated). Its cost follows what it reads: at most limit + 1 spans and one Query per
   * hour of the window.
   */
  async window(query: SpanScope & { readonly since: string; readonly limit: number }): Promise<SpanWindow> {
    if (query.limit < 1) throw new Error(`a window's limit must be at least 1; got ${query.limit}`);
    const lower = this.lowerBound(query.since);
    const index = query.tenant === undefined ? SpanIndex.window : SpanIndex.tenantWindow;
    const now = this.nowEpoch();
    const spans: Span[] = [];
    const oldestHour = Date.parse(`${hourOf(lower)}:00:00.000Z`);
    const newestHour = Date.parse(`${hourOf(new Date(Date.parse(this.clock.now())).toISOString())}:00:00.000Z`);
    for (let hour = newestHour; hour >= oldestHour; hour -= HOUR_MS) {
      const partition = windowPartition(hourOf(new Date(hour).toISOString()), query.tenant);
      let startKey: Item | undefined;
      do {
        const page = await this.queryIndex(index, partition, lower, Math.min(MAX_SLICE, query.limit + 1 - spans.length), startKey);
        for (const item of page.Items ?? []) {
          const span = this.spanOf(item, now);
          if (span === undefined) continue;
          if (spans.length === query.limit) return { spans, truncated: true };
          spans.push(span);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
    }
    return { spans, truncated: false };
  }

  private queryIndex(index: IndexDesign, partition: string, lower: string, limit: number, startKey: Item | undefined) {
    return dynamoCall(
      () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index.indexName,
            KeyConditionExpression: '#pk = :pk AND #sk >= :lower',
            ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
            ExpressionAttributeValues: { ':pk': partition, ':lower': lower },
            ScanIndexForward: false,
            Limit: limit,
            ExclusiveStartKey: startKey,
          }),
        ),
      '',
    );
  }

  /** The span of a stored item; undefined (and logged) when it does not parse, undefined when it has expired. */
  private spanOf(item: Item, nowEpoch: number): Span | undefined {
    try {
      const { span, expiresAt } = parseItem(SpanItemSchema, item, 'span');
      return expiresAt <= nowEpoch ? undefined : span;
    } catch (error) {
      if (!(error instanceof CorruptItemError)) throw error;
      // One bad span must not fail a whole trace or statistics page: skipped, and said.
      this.log({ level: 'warn', message: 'stored span skipped', error: error.name, reason: error.message });
      return undefined;
    }
  }

  /** `since` as a key, never further back than the retention (older spans have expired). */
  private lowerBound(since: string | undefined): string {
    const oldest = new Date(Date.parse(this.clock.now()) - this.retentionSeconds * 1000).toISOString();
    if (since === undefined) return oldest;
    const key = timeKey(since);
    if (key === undefined) throw new ValidationError([{ field: 'since', message: 'must be an ISO-8601 date-time' }]);
    return key > oldest ? key : oldest;
  }

  private nowEpoch(): number {
    return Math.floor(Date.parse(this.clock.now()) / 1000);
  }
}

/** Whether a span is in the scope: admins (no tenant) see every span, a tenant's members its own only. */
function visible(span: Span, scope: SpanScope): boolean {
  return scope.tenant === undefined || span.tenant === scope.tenant;
}
