import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApiKeyRecord } from '../../../core/auth/api-keys.ts';
import type { ApiKeyStore } from '../../../core/ports.ts';
import { conditionalWrite, dynamoCall, queryItems } from './operations.ts';
import { parseItem } from './items.ts';
import { ApiKeyItemSchema, ListedApiKeyItemSchema } from './security-items.ts';
import { ApiKeyIndex } from './security-tables.ts';

const LIST_PARTITION = 'APIKEY';
const key = (keyId: string) => ({ pk: `KEY#${keyId}`, sk: 'KEY' });

/** Managed API keys on their own table (security-tables.ts): one GetItem per lookup. */
export class DynamoApiKeyStore implements ApiKeyStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.client = client;
    this.tableName = tableName;
  }

  async create(record: ApiKeyRecord): Promise<void> {
    const item = {
      ...key(record.key_id),
      ...record,
      gsi_all_pk: LIST_PARTITION,
      gsi_all_sk: `${record.created_at}#${record.key_id}`,
      ...(record.expires_at === undefined ? {} : { expires_at_epoch: Math.floor(Date.parse(record.expires_at) / 1000) }),
    };
    await dynamoCall(() => this.client.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })), `API key ${record.key_id} exists`);
  }

  async get(keyId: string): Promise<ApiKeyRecord | undefined> {
    const { Item } = await dynamoCall(() => this.client.send(new GetCommand({ TableName: this.tableName, Key: key(keyId), ConsistentRead: true })), '');
    // Parsed, never cast: a hand-edited item must not become a credential with another role.
    return Item ? parseItem(ApiKeyItemSchema, Item, 'API key') : undefined;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const records: ApiKeyRecord[] = [];
    const index = ApiKeyIndex.all;
    for await (const item of queryItems(this.client, {
      TableName: this.tableName,
      IndexName: index.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': index.partitionKey },
      ExpressionAttributeValues: { ':pk': LIST_PARTITION },
      ScanIndexForward: false,
    })) {
      // The index projects no hash; listings never need it.
      records.push({ ...parseItem(ListedApiKeyItemSchema, item, 'API key'), secret_hash: '' });
    }
    return records;
  }

  async remove(keyId: string): Promise<boolean> {
    return conditionalWrite(() => this.client.send(new DeleteCommand({ TableName: this.tableName, Key: key(keyId), ConditionExpression: 'attribute_exists(pk)' })));
  }

  async touch(keyId: string, at: string): Promise<void> {
    await conditionalWrite(() =>
      this.client.send(
        new UpdateCommand({ TableName: this.tableName, Key: key(keyId), UpdateExpression: 'SET last_used_at = :at', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':at': at } }),
      ),
    );
  }
}
