import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../../../core/errors.ts';
import type { ScheduleStore } from '../../../core/ports.ts';
import type { ScheduleFiring, WorkflowSchedule } from '../../../core/schedules/model.ts';
import { translateDynamoError } from './errors.ts';
import { dynamoCall, isConditionFailure, queryItems, queryPages } from './operations.ts';
import {
  definitionAttributes,
  ItemKey,
  OPTIONAL_DEFINITION_ATTRIBUTES,
  parseItem,
  scheduleItem,
  ScheduleItemSchema,
  scheduleKey,
  SCHEDULE_PREFIX,
  SCHEDULES_PARTITION,
  workflowSchedulesQuery,
} from './schedule-items.ts';
import { WorkflowIndex } from './workflow-table.ts';

/** DynamoDB's BatchGetItem limit, and so the largest page `all()` reads by key at once. */
const READ_BATCH = 100;

export interface DynamoScheduleStoreOptions {
  /** How many schedules `all()` reads per page of the `schedules` index (1 to 100, default 100). */
  readonly pageSize?: number;
  /**
   * The table has no `schedules` index: a local table kept from a version before schedules, which dynalite
   * cannot add an index to. `all()` then scans the table for schedule items (the local scheduler's start only;
   * nothing else lists every schedule).
   */
  readonly withoutIndex?: boolean;
}

/**
 * ScheduleStore on the workflows table (schedule-items.ts): one item per schedule in its workflow's collection,
 * every write a single-item conditional write. A definition change is an UpdateItem conditional on the
 * revision the caller read that never touches `last_firing`, and a firing an UpdateItem of `last_firing`
 * alone, so neither overwrites the other. A workflow's schedules are one Query of its collection; every
 * workflow's are pages of the sparse `schedules` index, read whole by key.
 */
export class DynamoScheduleStore implements ScheduleStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly pageSize: number;
  private readonly withoutIndex: boolean;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoScheduleStoreOptions = {}) {
    const pageSize = options.pageSize ?? READ_BATCH;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > READ_BATCH) throw new Error(`the schedules page size must be an integer from 1 to ${READ_BATCH}; got ${pageSize}`);
    this.client = client;
    this.tableName = tableName;
    this.pageSize = pageSize;
    this.withoutIndex = options.withoutIndex ?? false;
  }

  async create(schedule: WorkflowSchedule): Promise<void> {
    await dynamoCall(
      () => this.client.send(new PutCommand({ TableName: this.tableName, Item: scheduleItem(schedule), ConditionExpression: 'attribute_not_exists(pk)' })),
      `schedule ${schedule.schedule_id} of workflow ${schedule.workflow_id} already exists`,
    );
  }

  async get(workflowId: string, scheduleId: string): Promise<WorkflowSchedule | undefined> {
    // Consistent: a firing right after an edit (or a delete) must see it.
    const { Item } = await dynamoCall(() => this.client.send(new GetCommand({ TableName: this.tableName, Key: scheduleKey(workflowId, scheduleId), ConsistentRead: true })), '');
    return Item ? parseItem(ScheduleItemSchema, Item, 'schedule') : undefined;
  }

  async listByWorkflow(workflowId: string): Promise<WorkflowSchedule[]> {
    const schedules: WorkflowSchedule[] = [];
    for await (const item of queryItems(this.client, { TableName: this.tableName, ...workflowSchedulesQuery(workflowId), ConsistentRead: true })) {
      schedules.push(parseItem(ScheduleItemSchema, item, 'schedule'));
    }
    // The sort key orders by id; at most MAX_SCHEDULES_PER_WORKFLOW exist, so oldest first is a sort in memory.
    return schedules.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.schedule_id.localeCompare(b.schedule_id));
  }

  async *all(): AsyncIterable<WorkflowSchedule> {
    if (this.withoutIndex) {
      yield* this.scanAll();
      return;
    }
    const index = WorkflowIndex.schedules;
    const pages = queryPages(this.client, {
      TableName: this.tableName,
      IndexName: index.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': index.partitionKey },
      ExpressionAttributeValues: { ':pk': SCHEDULES_PARTITION },
      Limit: this.pageSize,
    });
    for await (const items of pages) {
      // The index copies no more than the keys (workflow-table.ts): each page is read whole by key.
      const keys = items.map((item) => parseItem(ItemKey, item, 'schedule index'));
      const found = await this.readByKey(keys);
      // In the index's order; a schedule deleted since the index listed it is simply not there.
      for (const { pk, sk } of keys) {
        const item = found.get(`${pk}\n${sk}`);
        if (item) yield parseItem(ScheduleItemSchema, item, 'schedule');
      }
    }
  }

  /** Every schedule item, by a filtered Scan: for tables without the index (DynamoScheduleStoreOptions.withoutIndex). */
  private async *scanAll(): AsyncIterable<WorkflowSchedule> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await dynamoCall(
        () =>
          this.client.send(
            new ScanCommand({
              TableName: this.tableName,
              FilterExpression: 'begins_with(sk, :prefix)',
              ExpressionAttributeValues: { ':prefix': SCHEDULE_PREFIX },
              ExclusiveStartKey: startKey,
            }),
          ),
        '',
      );
      for (const item of page.Items ?? []) yield parseItem(ScheduleItemSchema, item, 'schedule');
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  async replace(next: WorkflowSchedule, expectedRevision: number): Promise<void> {
    const attributes = Object.entries(definitionAttributes(next)).filter(([name, value]) => value !== undefined && name !== 'schedule_id' && name !== 'workflow_id');
    const removed = OPTIONAL_DEFINITION_ATTRIBUTES.filter((name) => next[name] === undefined);
    const names = Object.fromEntries([...attributes.map(([name]) => name), ...removed].map((name) => [`#${name}`, name]));
    const update = `SET ${attributes.map(([name]) => `#${name} = :${name}`).join(', ')}${removed.length > 0 ? ` REMOVE ${removed.map((name) => `#${name}`).join(', ')}` : ''}`;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: scheduleKey(next.workflow_id, next.schedule_id),
          UpdateExpression: update,
          // `attribute_exists` keeps a missing schedule from being created by an update; `#revision` is in `names`.
          ConditionExpression: 'attribute_exists(pk) AND #revision = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...Object.fromEntries(attributes.map(([name, value]) => [`:${name}`, value])), ':expected': expectedRevision },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw translateDynamoError(error, '');
      // Only the failure path pays a read, to tell "gone" from "changed".
      const current = await this.get(next.workflow_id, next.schedule_id);
      if (!current) throw new NotFoundError(`schedule ${next.schedule_id} of workflow ${next.workflow_id} not found`, [], { cause: error });
      throw translateDynamoError(
        error,
        `schedule ${next.schedule_id} was changed concurrently (expected revision ${expectedRevision}, stored revision ${current.revision}); read it again and retry`,
      );
    }
  }

  async recordFiring(workflowId: string, scheduleId: string, firing: ScheduleFiring): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: scheduleKey(workflowId, scheduleId),
          UpdateExpression: 'SET last_firing = :firing',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':firing': firing },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw translateDynamoError(error, '');
    }
  }

  async delete(workflowId: string, scheduleId: string): Promise<boolean> {
    const { Attributes } = await dynamoCall(() => this.client.send(new DeleteCommand({ TableName: this.tableName, Key: scheduleKey(workflowId, scheduleId), ReturnValues: 'ALL_OLD' })), '');
    return Attributes !== undefined;
  }

  /** The items at `keys` (at most READ_BATCH), by `pk\nsk`; keys DynamoDB leaves unprocessed are asked again with back-off. */
  private async readByKey(keys: ReadonlyArray<{ pk: string; sk: string }>): Promise<Map<string, Record<string, unknown>>> {
    const found = new Map<string, Record<string, unknown>>();
    let pending: Array<Record<string, unknown>> = [...keys];
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= 10) throw new Error(`could not read ${pending.length} schedules after ${attempt} attempts (DynamoDB left them unprocessed)`);
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
      const batch = pending;
      const { Responses, UnprocessedKeys } = await dynamoCall(() => this.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: batch, ConsistentRead: true } } })), '');
      for (const item of Responses?.[this.tableName] ?? []) found.set(`${String(item.pk)}\n${String(item.sk)}`, item);
      pending = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return found;
  }
}
