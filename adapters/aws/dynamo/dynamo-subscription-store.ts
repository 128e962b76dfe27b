import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StoredSubscription, Subscription, SubscriptionStore } from '../../../core/events/subscriptions.ts';
import { parseItem } from './items.ts';
import { conditionalWrite, dynamoCall, queryItems } from './operations.ts';
import { ALL_SUBSCRIPTIONS_PARTITION, ListedSubscriptionItemSchema, subscriptionItem, subscriptionKey, SubscriptionIndex, SubscriptionItemSchema } from './subscription-table.ts';

/**
 * Webhook subscriptions on their own table (subscription-table.ts): one conditional PutItem per create, one
 * GetItem per delivery, listings and the count one Query of a partition that holds at most a few hundred
 * items (never a Scan).
 */
export class DynamoSubscriptionStore implements SubscriptionStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.client = client;
    this.tableName = tableName;
  }

  async create(subscription: StoredSubscription): Promise<void> {
    await dynamoCall(
      () => this.client.send(new PutCommand({ TableName: this.tableName, Item: subscriptionItem(subscription), ConditionExpression: 'attribute_not_exists(pk)' })),
      `subscription ${subscription.subscription_id} exists`,
    );
  }

  async get(subscriptionId: string): Promise<StoredSubscription | undefined> {
    // Consistent: a delivery right after a delete must see it gone.
    const { Item } = await dynamoCall(() => this.client.send(new GetCommand({ TableName: this.tableName, Key: subscriptionKey(subscriptionId), ConsistentRead: true })), '');
    return Item ? parseItem(SubscriptionItemSchema, Item, 'subscription') : undefined;
  }

  async list(query: { readonly tenant?: string }): Promise<Subscription[]> {
    const index = query.tenant === undefined ? SubscriptionIndex.all : SubscriptionIndex.byTenant;
    const partition = query.tenant === undefined ? ALL_SUBSCRIPTIONS_PARTITION : `T#${query.tenant}`;
    const subscriptions: Subscription[] = [];
    for await (const item of queryItems(this.client, {
      TableName: this.tableName,
      IndexName: index.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': index.partitionKey },
      ExpressionAttributeValues: { ':pk': partition },
      ScanIndexForward: false,
    })) {
      subscriptions.push(parseItem(ListedSubscriptionItemSchema, item, 'subscription'));
    }
    return subscriptions;
  }

  async remove(subscriptionId: string): Promise<boolean> {
    return conditionalWrite(() => this.client.send(new DeleteCommand({ TableName: this.tableName, Key: subscriptionKey(subscriptionId), ConditionExpression: 'attribute_exists(pk)' })));
  }

  async count(): Promise<number> {
    const index = SubscriptionIndex.all;
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await dynamoCall(
        () =>
          this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: index.indexName,
              KeyConditionExpression: '#pk = :pk',
              ExpressionAttributeNames: { '#pk': index.partitionKey },
              ExpressionAttributeValues: { ':pk': ALL_SUBSCRIPTIONS_PARTITION },
              Select: 'COUNT',
              ExclusiveStartKey: startKey,
            }),
          ),
        '',
      );
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return count;
  }
}
