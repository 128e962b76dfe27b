import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoApiKeyStore } from '../../../../../adapters/aws/dynamo/dynamo-api-key-store.ts';
import { CursorCodec } from '../../../../../adapters/aws/dynamo/cursor-codec.ts';
import { DynamoAuditTrail } from '../../../../../adapters/aws/dynamo/dynamo-audit-trail.ts';
import { DynamoExecutionStore } from '../../../../../adapters/aws/dynamo/dynamo-execution-store.ts';
import { DynamoServiceRegistry } from '../../../../../adapters/aws/dynamo/dynamo-service-registry.ts';
import { EXECUTION_TABLE } from '../../../../../adapters/aws/dynamo/execution-table.ts';
import { REGISTRY_TABLE } from '../../../../../adapters/aws/dynamo/registry-table.ts';
import { API_KEY_TABLE, AUDIT_TABLE } from '../../../../../adapters/aws/dynamo/security-tables.ts';
import type { ApiKeyRecord } from '../../../../../core/auth/api-keys.ts';
import { CorruptItemError, ErrorName } from '../../../../../core/errors.ts';
import type { Execution } from '../../../../../core/execution/model.ts';
import type { AuditRecord } from '../../../../../core/ports.ts';
import { CLOSED_CIRCUIT, INITIAL_HEALTH, type ServiceInstance } from '../../../../../core/registry/model.ts';
import { ERROR_STATUS } from '../../../../../functions/middleware/envelope.ts';
import { freshTable } from '../../../../support/dynamo.ts';

/** The listings below never page: any key of 32 bytes will do. */
const cursors = new CursorCodec('corrupt-items-cursor-key'.padEnd(32, '.'));

/** The error a read raised, for assertions on it (fails the test when the read succeeded). */
async function failureOf(read: () => Promise<unknown>): Promise<CorruptItemError> {
  try {
    await read();
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptItemError);
    return error as CorruptItemError;
  }
  throw new Error('the read succeeded; expected a CorruptItemError');
}

/** Sets (or with `undefined` removes) one top-level attribute of a stored item, behind the store's back. */
async function tamper(client: DynamoDBDocumentClient, tableName: string, key: Record<string, string>, attribute: string, value: unknown): Promise<void> {
  await client.send(
    new UpdateCommand({
      TableName: tableName,
      Key: key,
      UpdateExpression: value === undefined ? 'REMOVE #a' : 'SET #a = :v',
      ExpressionAttributeNames: { '#a': attribute },
      ...(value === undefined ? {} : { ExpressionAttributeValues: { ':v': value } }),
    }),
  );
}

describe('a corrupt execution item', () => {
  let client: DynamoDBDocumentClient;
  let tableName: string;
  let store: DynamoExecutionStore;
  const key = { pk: 'EX#e1', sk: 'EXECUTION' };
  const execution: Execution = {
    execution_id: 'e1',
    workflow_id: 'orders',
    workflow_version: 1,
    status: 'running',
    parameters: { amount: 42 },
    trace_id: 'a'.repeat(32),
    started_by: 'alice',
    tenant: 'acme',
    created_at: '2026-11-25T10:00:00.000Z',
    actions: [{ action_id: 'charge', action_type: 'service_call', status: 'pending', attempts: 0 }],
  };

  beforeEach(async () => {
    ({ client, tableName } = await freshTable(EXECUTION_TABLE, 'corrupt-executions'));
    store = new DynamoExecutionStore(client, tableName, { cursors });
    await store.create(execution);
  });

  it('raises one CorruptItemError naming the item, the attribute and the rule, mapped to 500 CORRUPT_ITEM', async () => {
    await tamper(client, tableName, key, 'status', 'finished');
    const error = await failureOf(() => store.get('e1'));
    expect(error.name).toBe(ErrorName.CorruptItem);
    expect(error.message).toContain('stored execution item (pk "EX#e1", sk "EXECUTION") is corrupt: status: ');
    expect(error.details).toEqual([{ field: 'status', message: expect.stringContaining('pending') as string }]);
    expect(ERROR_STATUS[error.name]).toEqual({ status: 500, code: 'CORRUPT_ITEM' });
  });

  it('names a missing attribute', async () => {
    await tamper(client, tableName, key, 'trace_id', undefined);
    const error = await failureOf(() => store.get('e1'));
    expect(error.details.map((issue) => issue.field)).toEqual(['trace_id']);
    expect(error.message).toMatch(/trace_id: .*required/);
  });

  it('names an attribute of the wrong type deep inside the actions map, and every problem at once', async () => {
    await tamper(client, tableName, key, 'actions', { charge: { action_id: 'charge', action_type: 'service_call', status: 'pending', attempts: 'many' } });
    await tamper(client, tableName, key, 'workflow_version', 'one');
    const error = await failureOf(() => store.get('e1'));
    expect(error.details.map((issue) => issue.field)).toEqual(['workflow_version', 'actions.charge.attempts']);
    expect(error.message).toContain('(and 1 more problem)');
  });

  it('names bad JSON in the serialized output attribute', async () => {
    await tamper(client, tableName, key, 'output', '{"total": 4');
    const error = await failureOf(() => store.get('e1'));
    expect(error.details).toEqual([{ field: 'output', message: expect.stringMatching(/^not valid JSON: /) as string }]);
  });

  it('fails a listing that meets it with the same error, not a TypeError later', async () => {
    await tamper(client, tableName, key, 'parameters', 'amount=42');
    const error = await failureOf(() => store.list({ tenant: 'acme', limit: 10 }));
    expect(error.message).toContain('(pk "EX#e1", sk "EXECUTION")');
    expect(error.details.map((issue) => issue.field)).toEqual(['parameters']);
  });

  it('still reads an item written before tenants, parameters defaults and action order existed', async () => {
    for (const attribute of ['tenant', 'parameters', 'action_order']) await tamper(client, tableName, key, attribute, undefined);
    const stored = await store.get('e1');
    expect(stored).toEqual({ ...execution, tenant: 'default', parameters: {} });
  });
});

describe('a corrupt service registry item', () => {
  let client: DynamoDBDocumentClient;
  let tableName: string;
  let registry: DynamoServiceRegistry;
  const key = { pk: 'SVC#billing', sk: 'INST#one' };
  const instance: ServiceInstance = {
    name: 'billing',
    instance_id: 'one',
    url: 'http://billing.internal:8080',
    health_path: '/health',
    tags: ['eu'],
    metadata: {},
    registered_at: '2026-11-25T10:00:00.000Z',
    updated_at: '2026-11-25T10:00:00.000Z',
    health: INITIAL_HEALTH,
    circuit: CLOSED_CIRCUIT,
  };

  beforeEach(async () => {
    ({ client, tableName } = await freshTable(REGISTRY_TABLE, 'corrupt-registry'));
    registry = new DynamoServiceRegistry(client, tableName);
    await registry.register(instance);
  });

  it('names the instance and the attribute path when a nested attribute is wrong', async () => {
    await tamper(client, tableName, key, 'circuit', { state: 'ajar', failures: [], revision: 0 });
    for (const read of [() => registry.instancesOf('billing'), () => registry.list()]) {
      const error = await failureOf(read);
      expect(error.message).toContain('stored service instance item (pk "SVC#billing", sk "INST#one") is corrupt: circuit.state: ');
    }
  });

  it('still removes a service whose instance item is corrupt', async () => {
    await tamper(client, tableName, key, 'url', undefined);
    await expect(registry.remove('billing')).resolves.toBe(1);
    await expect(registry.instancesOf('billing')).resolves.toEqual([]);
  });

  it('reads an instance never checked or called (no health, circuit, tags or metadata) with the initial ones', async () => {
    for (const attribute of ['health', 'circuit', 'tags', 'metadata']) await tamper(client, tableName, key, attribute, undefined);
    await expect(registry.instancesOf('billing')).resolves.toEqual([{ ...instance, tags: [] }]);
  });

  it('names the attribute of a corrupt OpenAPI snapshot', async () => {
    await client.send(new PutCommand({ TableName: tableName, Item: { pk: 'SVC#billing', sk: 'OPENAPI', captured_at: 'x', digest: 'd', snapshot: { name: 'billing', operations: 'none' } } }));
    const error = await failureOf(() => registry.getApiSnapshot('billing'));
    expect(error.message).toContain('stored OpenAPI snapshot item (pk "SVC#billing", sk "OPENAPI") is corrupt');
    expect(error.details.map((issue) => issue.field)).toContain('snapshot.operations');
  });
});

describe('a corrupt API key item', () => {
  let client: DynamoDBDocumentClient;
  let tableName: string;
  let keys: DynamoApiKeyStore;
  const record: ApiKeyRecord = {
    key_id: 'k1',
    name: 'ci',
    role: 'operator',
    tenant: 'acme',
    secret_hash: 'ab'.repeat(32),
    created_by: 'root',
    created_at: '2026-11-25T10:00:00.000Z',
  };

  beforeEach(async () => {
    ({ client, tableName } = await freshTable(API_KEY_TABLE, 'corrupt-keys'));
    keys = new DynamoApiKeyStore(client, tableName);
    await keys.create(record);
  });

  it('never becomes a credential with another role: the lookup and the listing name the item and the rule', async () => {
    await tamper(client, tableName, { pk: 'KEY#k1', sk: 'KEY' }, 'role', 'root');
    for (const read of [() => keys.get('k1'), () => keys.list()]) {
      const error = await failureOf(read);
      expect(error.message).toContain('stored API key item (pk "KEY#k1", sk "KEY") is corrupt: role: ');
    }
  });

  it('names a hash that is not one', async () => {
    await tamper(client, tableName, { pk: 'KEY#k1', sk: 'KEY' }, 'secret_hash', 'plaintext');
    const error = await failureOf(() => keys.get('k1'));
    expect(error.details).toEqual([{ field: 'secret_hash', message: 'must be the hex SHA-256 of the secret' }]);
  });
});

describe('a corrupt audit record item', () => {
  it('names the record and the attribute in the listing', async () => {
    const { client, tableName } = await freshTable(AUDIT_TABLE, 'corrupt-audit');
    const trail = new DynamoAuditTrail(client, tableName, 30, { cursors });
    const record: AuditRecord = {
      audit_id: 'a1',
      time: '2026-11-25T10:00:00.000Z',
      actor: 'alice',
      method: 'jwt',
      roles: ['operator'],
      tenant: 'acme',
      action: 'createWorkflow',
      route: 'POST /workflows',
      targets: [],
      outcome: null,
      request_id: 'r1',
      source_ip: '127.0.0.1',
    };
    await trail.append(record);
    await expect(trail.list({ limit: 10 })).resolves.toEqual({ items: [record] });
    await tamper(client, tableName, { pk: 'AUDIT#a1', sk: 'A' }, 'targets', 'wf-1');
    const error = await failureOf(() => trail.list({ limit: 10 }));
    expect(error.message).toContain('stored audit record item (pk "AUDIT#a1", sk "A") is corrupt: targets: ');
  });
});

describe('an execution item holding nothing but its key', () => {
  it('reports every missing attribute in one error', async () => {
    const { client, tableName } = await freshTable(EXECUTION_TABLE, 'corrupt-bare');
    await client.send(new PutCommand({ TableName: tableName, Item: { pk: 'EX#x', sk: 'EXECUTION' } }));
    const error = await failureOf(() => new DynamoExecutionStore(client, tableName).get('x'));
    expect(error.details.map((issue) => issue.field)).toEqual(['execution_id', 'workflow_id', 'workflow_version', 'status', 'trace_id', 'started_by', 'created_at']);
    expect(error.message).toContain('(and 6 more problems)');
  });
});
