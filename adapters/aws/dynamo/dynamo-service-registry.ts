import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ServiceRegistry } from '../../../core/ports.ts';
import type { ServiceRegistration } from '../../../core/registry/model.ts';
import { dynamoCall } from './operations.ts';
import { REGISTRATION_ATTRIBUTES, RegistryIndex } from './registry-table.ts';

const REGISTRATION = 'SERVICE';
const LIST_PARTITION = 'SERVICE';

const partitionKey = (name: string) => `SVC#${name}`;

type Item = Record<string, unknown>;

/**
 * ServiceRegistry on its own DynamoDB table (see registry-table.ts). A registration is one item; registering
 * is a single UpdateItem, so concurrent registrations of one name never interleave, and the first
 * `registered_at` survives replacements without a read.
 */
export class DynamoServiceRegistry implements ServiceRegistry {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.client = client;
    this.tableName = tableName;
  }

  async register(service: ServiceRegistration): Promise<{ service: ServiceRegistration; created: boolean }> {
    const values: Item = {
      ':name': service.name,
      ':url': service.url,
      ':health_path': service.health_path,
      ':metadata': service.metadata,
      ':registered_at': service.registered_at,
      ':updated_at': service.updated_at,
      ':list_pk': LIST_PARTITION,
    };
    const set = [
      '#name = :name',
      '#url = :url',
      'health_path = :health_path',
      'metadata = :metadata',
      'registered_at = if_not_exists(registered_at, :registered_at)',
      'updated_at = :updated_at',
      'gsi_all_pk = :list_pk',
      'gsi_all_sk = :name',
    ];
    // Optional fields absent from the new registration must not survive from the old one.
    const remove: string[] = [];
    for (const field of ['openapi_path', 'version'] as const) {
      const value = service[field];
      if (value === undefined) {
        remove.push(field);
      } else {
        set.push(`${field} = :${field}`);
        values[`:${field}`] = value;
      }
    }
    const { Attributes } = await this.call(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: partitionKey(service.name), sk: REGISTRATION },
          // `name` and `url` are DynamoDB reserved words.
          UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ExpressionAttributeNames: { '#name': 'name', '#url': 'url' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    const previous = Attributes as Item | undefined;
    const registeredAt = typeof previous?.registered_at === 'string' ? previous.registered_at : service.registered_at;
    return { service: { ...service, registered_at: registeredAt }, created: previous === undefined };
  }

  /** Strongly consistent: a call made right after a registration goes where it says. */
  async get(name: string): Promise<ServiceRegistration | undefined> {
    const { Item } = await this.call(() => this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: partitionKey(name), sk: REGISTRATION }, ConsistentRead: true })));
    return Item ? fromItem(Item) : undefined;
  }

  async list(): Promise<ServiceRegistration[]> {
    const index = RegistryIndex.all;
    const services: ServiceRegistration[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.call(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index.indexName,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': index.partitionKey },
            ExpressionAttributeValues: { ':pk': LIST_PARTITION },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      services.push(...(page.Items ?? []).map(fromItem));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return services;
  }

  private call<Output>(operation: () => Promise<Output>): Promise<Output> {
    return dynamoCall(operation, 'conflicting change to the service registry');
  }
}

function fromItem(item: Item): ServiceRegistration {
  const picked = Object.fromEntries(REGISTRATION_ATTRIBUTES.filter((key) => item[key] !== undefined).map((key) => [key, item[key]]));
  const registration = picked as unknown as ServiceRegistration;
  return { ...registration, metadata: registration.metadata ?? {} };
}
