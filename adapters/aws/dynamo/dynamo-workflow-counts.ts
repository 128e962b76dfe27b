import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { WorkflowCounts } from '../../../core/ports.ts';
import { conditionalWrite, dynamoCall, queryItems } from './operations.ts';
import * as z from 'zod';
import { ItemKey, parseItem } from './items.ts';
import { ACTIONS_SUFFIX, ALL_TENANTS_COUNTS, byCounterItem, counterItemOf, countersOfItem, countsFrom, countsPartition, sumContributions, WORKFLOWS_SUFFIX, type Counted, type Counter } from './workflow-counters.ts';

/**
 * The maintained counts of the workflows table (workflow-counters.ts has the layout): adds deltas after each
 * workflow write, reads a partition's counts in one Query and one listing's total in one GetItem.
 *
 * Each delta is applied as `ADD` with the operation's token (`<workflow>#<revision>`): the write is
 * conditional on the item's last token differing, so the SDK retrying a request whose answer was lost does
 * not count it twice. What this cannot cover, a process dying between a workflow's write and its counts',
 * is what `recount` repairs (ADR 0011).
 */
export class DynamoWorkflowCounts {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.client = client;
    this.tableName = tableName;
  }

  /** Adds `delta` to the tenant's counts and to every tenant's: one UpdateItem per counter item touched. */
  async apply(tenant: string, delta: ReadonlyMap<string, Counter>, operation: string): Promise<void> {
    const writes: Promise<boolean>[] = [];
    for (const pk of [countsPartition(tenant), ALL_TENANTS_COUNTS]) {
      for (const [sk, counters] of byCounterItem(delta)) {
        const names: Record<string, string> = {};
        const values: Record<string, unknown> = { ':operation': operation };
        const additions: string[] = [];
        [...counters].forEach(([dimension, { n, a }], position) => {
          names[`#n${position}`] = `${dimension}${WORKFLOWS_SUFFIX}`;
          names[`#a${position}`] = `${dimension}${ACTIONS_SUFFIX}`;
          values[`:n${position}`] = n;
          values[`:a${position}`] = a;
          additions.push(`#n${position} :n${position}`, `#a${position} :a${position}`);
        });
        writes.push(
          conditionalWrite(() =>
            this.client.send(
              new UpdateCommand({
                TableName: this.tableName,
                Key: { pk, sk },
                UpdateExpression: `ADD ${additions.join(', ')} SET last_operation = :operation`,
                ConditionExpression: 'attribute_not_exists(last_operation) OR last_operation <> :operation',
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: values,
              }),
            ),
          ),
        );
      }
    }
    await Promise.all(writes);
  }

  /** One tenant's counts, or every tenant's: one Query of a partition (its summary item and one item per creator). */
  async read(tenant: string | undefined): Promise<WorkflowCounts> {
    const counters: [string, Counter][] = [];
    for await (const item of this.items(countsPartition(tenant))) counters.push(...countersOfItem(item));
    return countsFrom(counters);
  }

  /** One dimension's count of workflows (a listing's total): one GetItem of the attribute. */
  async count(tenant: string | undefined, dimension: string): Promise<number> {
    const attribute = `${dimension}${WORKFLOWS_SUFFIX}`;
    const { Item } = await dynamoCall(
      () =>
        this.client.send(
          new GetCommand({ TableName: this.tableName, Key: { pk: countsPartition(tenant), sk: counterItemOf(dimension) }, ProjectionExpression: '#n', ExpressionAttributeNames: { '#n': attribute }, ConsistentRead: true }),
        ),
      '',
    );
    if (Item === undefined) return 0;
    const counted = parseItem(z.object({ [attribute]: z.number().int().default(0) }), Item, 'workflow counter')[attribute] ?? 0;
    // A count below zero is a delta applied twice (ADR 0011): a listing's total is never negative.
    return Math.max(0, counted);
  }

  /**
   * Sets every count to what `workflows` add up to: each counter item is replaced whole, and items no workflow
   * counts any more are emptied. Run it while nothing writes workflows: a write between the read of the
   * workflows and this would be counted twice, or not at all.
   */
  async recount(workflows: readonly Counted[]): Promise<void> {
    const byTenant = new Map<string | undefined, Counted[]>([[undefined, [...workflows]]]);
    for (const workflow of workflows) {
      const list = byTenant.get(workflow.tenant) ?? [];
      list.push(workflow);
      byTenant.set(workflow.tenant, list);
    }
    for (const [tenant, list] of byTenant) {
      const pk = countsPartition(tenant);
      const items = byCounterItem(sumContributions(list));
      for await (const item of this.items(pk)) {
        const { sk } = parseItem(ItemKey, item, 'workflow counter');
        if (!items.has(sk)) items.set(sk, new Map());
      }
      for (const [sk, counters] of items) {
        const attributes = Object.fromEntries([...counters].flatMap(([dimension, { n, a }]) => [[`${dimension}${WORKFLOWS_SUFFIX}`, n], [`${dimension}${ACTIONS_SUFFIX}`, a]]));
        await dynamoCall(() => this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...attributes, pk, sk } })), '');
      }
    }
  }

  private items(pk: string): AsyncIterable<Record<string, unknown>> {
    return queryItems(this.client, { TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true });
  }

}
