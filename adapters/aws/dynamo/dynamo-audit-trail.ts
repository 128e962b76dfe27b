import { PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditQuery, AuditRecord, AuditTrail } from '../../../core/ports.ts';
import { conditionalWrite, dynamoCall, startKeyOf } from './operations.ts';
import { decodeIndexCursor, encodeIndexCursor, requiredCursors, type CursorCodec, type CursorOptions, type IndexListing } from './cursor-codec.ts';
import { parseItem } from './items.ts';
import { AuditItemSchema } from './security-items.ts';
import { AuditIndex } from './security-tables.ts';
import type { IndexDesign } from './workflow-table.ts';

const ALL_PARTITION = 'AUDIT';
/** How many index pages one listing may read to fill a page when some filters are not keys. */
const MAX_QUERIES_PER_PAGE = 10;

type Item = Record<string, unknown>;

/**
 * The audit trail on its own table (security-tables.ts). Records are only ever created (conditional on a new
 * id) and given their outcome once (conditional on having none): the code has no path that deletes or
 * rewrites one, and in AWS the route functions' IAM allows PutItem and UpdateItem only.
 */
export class DynamoAuditTrail implements AuditTrail {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly retentionDays: number;
  private readonly cursors?: CursorCodec;

  /** `options.cursors` signs and checks next_token; without it (the authorizer, which only appends), list() throws. */
  constructor(client: DynamoDBDocumentClient, tableName: string, retentionDays: number, options: CursorOptions = {}) {
    this.client = client;
    this.tableName = tableName;
    this.retentionDays = retentionDays;
    this.cursors = options.cursors;
  }

  async append(record: AuditRecord): Promise<void> {
    const sortKey = `${record.time}#${record.audit_id}`;
    const item: Item = {
      pk: `AUDIT#${record.audit_id}`,
      sk: 'A',
      ...record,
      gsi_all: ALL_PARTITION,
      gsi_actor: record.actor,
      gsi_action: record.action,
      gsi_tenant: record.tenant,
      ...(record.targets[0] === undefined ? {} : { gsi_target: record.targets[0] }),
      gsi_sk: sortKey,
      expires_at_epoch: Math.floor(Date.parse(record.time) / 1000) + this.retentionDays * 86_400,
    };
    await dynamoCall(() => this.client.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })), `audit record ${record.audit_id} exists`);
  }

  async settle(auditId: string, outcome: number, targets: readonly string[] = []): Promise<void> {
    await conditionalWrite(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `AUDIT#${auditId}`, sk: 'A' },
          // A creation's first target is the id it created: index it when the request named none.
          UpdateExpression: targets.length > 0 ? 'SET outcome = :outcome, targets = list_append(targets, :targets), gsi_target = if_not_exists(gsi_target, :first)' : 'SET outcome = :outcome',
          ConditionExpression: 'attribute_exists(pk) AND outcome = :none',
          ExpressionAttributeValues: { ':outcome': outcome, ':none': null, ...(targets.length > 0 ? { ':targets': [...targets], ':first': targets[0] } : {}) },
        }),
      ),
    );
  }

  async list(query: AuditQuery): Promise<{ items: AuditRecord[]; nextCursor?: string }> {
    const cursors = requiredCursors(this.cursors, 'DynamoAuditTrail');
    const { index, partition, filters } = chooseIndex(query);
    const names: Record<string, string> = { '#pk': index.partitionKey };
    const values: Record<string, unknown> = { ':pk': partition };
    let keyCondition = '#pk = :pk';
    if (query.since !== undefined || query.until !== undefined) names['#sk'] = index.sortKey;
    const lower = query.since === undefined ? undefined : new Date(query.since).toISOString();
    // `~` sorts after every character of `<time>#<id>`, so `until` includes records of that very millisecond.
    const upper = query.until === undefined ? undefined : `${new Date(query.until).toISOString()}~`;
    if (lower !== undefined && upper !== undefined) {
      keyCondition += ' AND #sk BETWEEN :lower AND :upper';
      Object.assign(values, { ':lower': lower, ':upper': upper });
    } else if (lower !== undefined) {
      keyCondition += ' AND #sk >= :lower';
      values[':lower'] = lower;
    } else if (upper !== undefined) {
      keyCondition += ' AND #sk <= :upper';
      values[':upper'] = upper;
    }
    // The filters the index does not key, and the time bounds, are part of what a cursor belongs to.
    const bound = JSON.stringify([filters, lower ?? null, upper ?? null]);
    const listing: IndexListing = { indexName: index.indexName, partition, filters: bound };
    const continueAfter = query.cursor === undefined ? undefined : decodeIndexCursor(cursors, query.cursor, listing);
    const filterParts: string[] = [];
    filters.forEach(([attribute, value], position) => {
      names[`#f${position}`] = attribute;
      values[`:f${position}`] = value;
      filterParts.push(`#f${position} = :f${position}`);
    });

    const items: AuditRecord[] = [];
    let startKey: Record<string, unknown> | undefined = continueAfter ? startKeyOf(continueAfter, ['pk', 'sk', index.partitionKey, index.sortKey], { attribute: index.partitionKey, value: partition }) : undefined;
    let lastKey: Record<string, unknown> | undefined;
    for (let queries = 0; queries < MAX_QUERIES_PER_PAGE && items.length < query.limit; queries++) {
      const page = await dynamoCall(
        () =>
          this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: index.indexName,
              KeyConditionExpression: keyCondition,
              ...(filterParts.length > 0 ? { FilterExpression: filterParts.join(' AND ') } : {}),
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
              ScanIndexForward: false,
              Limit: query.limit - items.length,
              ExclusiveStartKey: startKey,
            }),
          ),
        '',
      );
      for (const item of page.Items ?? []) {
        items.push(toRecord(item));
        lastKey = keysOf(item, index);
      }
      startKey = page.LastEvaluatedKey;
      if (!startKey) break;
      lastKey = startKey;
    }
    const more = startKey !== undefined;
    return { items, ...(more && lastKey ? { nextCursor: encodeIndexCursor(cursors, listing, lastKey) } : {}) };
  }
}

/**
 * The most selective filter becomes the index; the rest filter its pages. A target is the first id a request
 * named: the path's id, or for a creation the id it created.
 */
function chooseIndex(query: AuditQuery): { index: IndexDesign; partition: string; filters: Array<[string, string]> } {
  const keyed: Array<[IndexDesign, string | undefined, string]> = [
    [AuditIndex.target, query.target, 'gsi_target'],
    [AuditIndex.actor, query.actor, 'actor'],
    [AuditIndex.action, query.action, 'action'],
    [AuditIndex.tenant, query.tenant, 'tenant'],
  ];
  const given = keyed.filter((entry): entry is [IndexDesign, string, string] => entry[1] !== undefined);
  const [first, ...rest] = given;
  if (first === undefined) return { index: AuditIndex.all, partition: ALL_PARTITION, filters: [] };
  return { index: first[0], partition: first[1], filters: rest.map(([, value, attribute]) => [attribute, value]) };
}

function keysOf(item: Item, index: IndexDesign): Record<string, string> {
  return { pk: String(item.pk), sk: String(item.sk), [index.partitionKey]: String(item[index.partitionKey]), [index.sortKey]: String(item[index.sortKey]) };
}

/** The record an item holds; CorruptItemError, naming the item and attribute, when it is not one. */
function toRecord(item: Item): AuditRecord {
  return parseItem(AuditItemSchema, item, 'audit record');
}
