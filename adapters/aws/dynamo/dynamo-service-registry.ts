import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { ServiceRegistry } from '../../../core/ports.ts';
import type { CircuitState, InstanceHealth, ServiceInstance } from '../../../core/registry/model.ts';
import type { ApiSnapshot } from '../../../core/registry/drift.ts';
import { conditionalWrite, dynamoCall } from './operations.ts';
import { ItemKey, parseItem } from './items.ts';
import { ApiSnapshotItemSchema, InstanceItemSchema } from './registry-items.ts';
import { RegistryIndex } from './registry-table.ts';

const INSTANCE_PREFIX = 'INST#';
const LIST_PARTITION = 'INSTANCE';
/** BatchWriteItem's limit. */
const BATCH_SIZE = 25;

const partitionKey = (name: string) => `SVC#${name}`;
/** `name`, `url` and `auth` are DynamoDB reserved words (every instance update sets or removes all three). */
const RESERVED_NAMES = { '#name': 'name', '#url': 'url', '#auth': 'auth' };
const key = (name: string, instanceId: string) => ({ pk: partitionKey(name), sk: `${INSTANCE_PREFIX}${instanceId}` });
/** A service's last OpenAPI snapshot, in its collection; not `INST#`, so instancesOf never reads it. */
const snapshotKey = (name: string) => ({ pk: partitionKey(name), sk: 'OPENAPI' });

type Item = Record<string, unknown>;

/**
 * ServiceRegistry on its own DynamoDB table (see registry-table.ts). An instance is one item; registering is
 * a single UpdateItem, so concurrent registrations of one instance never interleave, and the first
 * `registered_at`, the health and the circuit survive replacements without a read.
 */
export class DynamoServiceRegistry implements ServiceRegistry {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.client = client;
    this.tableName = tableName;
  }

  async register(instance: ServiceInstance): Promise<{ instance: ServiceInstance; created: boolean }> {
    // A registration keeps the first registered_at; a replica (replicate) carries its own.
    const { expression, values } = instanceUpdate(instance, 'keep first registered_at');
    const { Attributes } = await this.call(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(instance.name, instance.instance_id),
          UpdateExpression: expression,
          ExpressionAttributeNames: RESERVED_NAMES,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    if (Attributes === undefined) return { instance, created: true };
    const kept = fromItem(Attributes);
    return { instance: { ...instance, registered_at: kept.registered_at, health: kept.health, circuit: kept.circuit }, created: false };
  }

  /** Strongly consistent: a call made right after a registration goes where it says. */
  async instancesOf(name: string): Promise<ServiceInstance[]> {
    return this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': partitionKey(name), ':prefix': INSTANCE_PREFIX },
      ConsistentRead: true,
    });
  }

  async list(): Promise<ServiceInstance[]> {
    const index = RegistryIndex.all;
    return this.queryAll({
      IndexName: index.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': index.partitionKey },
      ExpressionAttributeValues: { ':pk': LIST_PARTITION },
    });
  }

  async remove(name: string, instanceId?: string): Promise<number> {
    if (instanceId !== undefined) {
      const { Attributes } = await this.call(() => this.client.send(new DeleteCommand({ TableName: this.tableName, Key: key(name, instanceId), ReturnValues: 'ALL_OLD' })));
      return Attributes ? 1 : 0;
    }
    // Keys only: an instance whose item is corrupt can still be removed.
    const keys = await this.instanceKeys(name);
    for (let start = 0; start < keys.length; start += BATCH_SIZE) {
      let requests: BatchWriteCommandInput['RequestItems'] = {
        [this.tableName]: keys.slice(start, start + BATCH_SIZE).map((Key) => ({ DeleteRequest: { Key } })),
      };
      // BatchWriteItem may leave some requests unprocessed (throttling); send those again.
      for (let attempt = 0; requests && Object.keys(requests).length > 0; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
        const { UnprocessedItems } = await this.call(() => this.client.send(new BatchWriteCommand({ RequestItems: requests })));
        requests = UnprocessedItems;
      }
    }
    return keys.length;
  }

  recordHealth(name: string, instanceId: string, health: InstanceHealth): Promise<boolean> {
    return conditionalWrite(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(name, instanceId),
          UpdateExpression: 'SET health = :health',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':health': health },
        }),
      ),
    );
  }

  updateCircuit(name: string, instanceId: string, next: CircuitState, expectedRevision: number): Promise<boolean> {
    return conditionalWrite(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(name, instanceId),
          UpdateExpression: 'SET circuit = :next',
          ConditionExpression: 'attribute_exists(pk) AND circuit.revision = :expected',
          ExpressionAttributeValues: { ':next': next, ':expected': expectedRevision },
        }),
      ),
    );
  }

  /**
   * One UpdateItem conditional on the stored `updated_at` being older (or no item): the copy's registration
   * and times replace the stored ones as they are; health and circuit are set only on a new item.
   */
  async replicate(instance: ServiceInstance): Promise<'applied' | 'stale'> {
    const { expression, values } = instanceUpdate(instance, 'as given');
    const applied = await conditionalWrite(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(instance.name, instance.instance_id),
          UpdateExpression: expression,
          ConditionExpression: 'attribute_not_exists(pk) OR updated_at < :updated_at',
          ExpressionAttributeNames: RESERVED_NAMES,
          ExpressionAttributeValues: values,
        }),
      ),
    );
    return applied ? 'applied' : 'stale';
  }

  async getApiSnapshot(name: string): Promise<ApiSnapshot | undefined> {
    const { Item } = await this.call(() => this.client.send(new GetCommand({ TableName: this.tableName, Key: snapshotKey(name), ConsistentRead: true })));
    return Item === undefined ? undefined : parseItem(ApiSnapshotItemSchema, Item, 'OpenAPI snapshot');
  }

  /** A PutItem conditional on the stored snapshot's capture time and digest (or on there being none). */
  saveApiSnapshot(snapshot: ApiSnapshot, expected: ApiSnapshot | undefined): Promise<boolean> {
    return conditionalWrite(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          // No gsi_all_* attributes: the snapshot stays out of the instance listing.
          Item: { ...snapshotKey(snapshot.name), captured_at: snapshot.captured_at, digest: snapshot.digest, snapshot },
          ...(expected === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'captured_at = :captured_at AND digest = :digest', ExpressionAttributeValues: { ':captured_at': expected.captured_at, ':digest': expected.digest } }),
        }),
      ),
    );
  }

  /** The keys of a service's instance items, strongly consistent. */
  private async instanceKeys(name: string): Promise<Array<{ pk: string; sk: string }>> {
    const keys: Array<{ pk: string; sk: string }> = [];
    let startKey: Item | undefined;
    do {
      const page = await this.call(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': partitionKey(name), ':prefix': INSTANCE_PREFIX },
            ProjectionExpression: 'pk, sk',
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) keys.push(parseItem(ItemKey, item, 'service instance'));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return keys;
  }

  private async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<ServiceInstance[]> {
    const instances: ServiceInstance[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.call(() => this.client.send(new QueryCommand({ TableName: this.tableName, ...input, ExclusiveStartKey: startKey })));
      instances.push(...(page.Items ?? []).map(fromItem));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return instances;
  }

  private call<Output>(operation: () => Promise<Output>): Promise<Output> {
    return dynamoCall(operation, 'conflicting change to the service registry');
  }
}

/** The instance an item holds; CorruptItemError, naming the item and attribute, when it is not one. */
function fromItem(item: Item): ServiceInstance {
  return parseItem(InstanceItemSchema, item, 'service instance');
}

/**
 * The UpdateItem that stores an instance: every registration field, optional ones removed when absent (they
 * must not survive from the replaced registration), health and circuit only when new (they are this
 * orchestrator's own observations). `registered_at` is kept from the first registration, or taken as given
 * for a replica from a peer.
 */
function instanceUpdate(instance: ServiceInstance, registeredAt: 'keep first registered_at' | 'as given'): { expression: string; values: Item } {
  const values: Item = {
    ':name': instance.name,
    ':instance_id': instance.instance_id,
    ':url': instance.url,
    ':health_path': instance.health_path,
    ':tags': instance.tags,
    // As text: any JSON the API accepts is storable (registry-items.ts).
    ':metadata': JSON.stringify(instance.metadata),
    ':registered_at': instance.registered_at,
    ':updated_at': instance.updated_at,
    ':health': instance.health,
    ':circuit': instance.circuit,
    ':list_pk': LIST_PARTITION,
    ':list_sk': `${instance.name}#${instance.instance_id}`,
  };
  const set = [
    '#name = :name',
    'instance_id = :instance_id',
    '#url = :url',
    'health_path = :health_path',
    'tags = :tags',
    'metadata = :metadata',
    registeredAt === 'as given' ? 'registered_at = :registered_at' : 'registered_at = if_not_exists(registered_at, :registered_at)',
    'updated_at = :updated_at',
    'health = if_not_exists(health, :health)',
    'circuit = if_not_exists(circuit, :circuit)',
    'gsi_all_pk = :list_pk',
    'gsi_all_sk = :list_sk',
  ];
  const remove: string[] = [];
  const optional: Record<string, unknown> = {
    openapi_path: instance.openapi_path,
    // The secret's reference only; a replica never carries one, so a newer copy from a peer removes it.
    auth: instance.auth,
    version: instance.version,
    ttl_seconds: instance.ttl_seconds,
    expires_at: instance.expires_at,
    expires_at_epoch: instance.expires_at === undefined ? undefined : Math.ceil(Date.parse(instance.expires_at) / 1000),
  };
  for (const [field, value] of Object.entries(optional)) {
    const attribute = field === 'auth' ? '#auth' : field;
    if (value === undefined) {
      remove.push(attribute);
    } else {
      set.push(`${attribute} = :${field}`);
      values[`:${field}`] = value;
    }
  }
  return { expression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`, values };
}
