import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createDocumentClient } from '../../adapters/aws/dynamo/client.ts';
import { DynamoServiceRegistry } from '../../adapters/aws/dynamo/dynamo-service-registry.ts';
import { REGISTRY_TABLE } from '../../adapters/aws/dynamo/registry-table.ts';
import type { ServiceRegistry } from '../../core/ports.ts';
import type { ApiSnapshot } from '../../core/registry/drift.ts';
import { CLOSED_CIRCUIT, INITIAL_HEALTH, type ServiceInstance } from '../../core/registry/model.ts';
import { ensureTable } from '../../local/tables.ts';

function instance(overrides: Partial<ServiceInstance> = {}): ServiceInstance {
  return {
    name: 'svc',
    instance_id: 'i-1',
    url: 'http://svc.internal:8080',
    health_path: '/health',
    tags: ['a'],
    metadata: { team: 'x' },
    registered_at: '2026-11-01T00:00:00.000Z',
    updated_at: '2026-11-02T00:00:00.000Z',
    health: INITIAL_HEALTH,
    circuit: CLOSED_CIRCUIT,
    ...overrides,
  };
}

function snapshot(overrides: Partial<ApiSnapshot> = {}): ApiSnapshot {
  return {
    name: 'svc',
    instance_id: 'i-1',
    source_url: 'http://svc.internal:8080/openapi.json',
    captured_at: '2026-11-02T00:00:00.000Z',
    format: 'openapi',
    spec_version: '3.1.0',
    title: 'Svc',
    digest: 'sha256:one',
    operations: [{ method: 'GET', path: '/things', operation_id: 'things', digest: 'sha256:op' }],
    ...overrides,
  };
}

/** ServiceRegistry's replication and API snapshot methods, against the DynamoDB adapter on the emulator. */
describe('DynamoServiceRegistry: replication and API snapshots', () => {
  let registry: ServiceRegistry;

  beforeEach(async () => {
    const client = createDocumentClient({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const tableName = `registry-${randomUUID()}`;
    await ensureTable(client, REGISTRY_TABLE, tableName);
    registry = new DynamoServiceRegistry(client, tableName);
  });

  it('stores a new copy exactly as received, its times included', async () => {
    const copy = instance({ version: '2', openapi_path: '/openapi.json', ttl_seconds: 60, expires_at: '2026-11-02T00:01:00.000Z' });
    expect(await registry.replicate(copy)).toBe('applied');
    expect(await registry.instancesOf('svc')).toEqual([copy]);
    expect(await registry.list()).toEqual([copy]);
  });

  it('applies only a strictly newer copy, keeping the stored health and circuit, and dropping optional fields the copy lacks', async () => {
    await registry.register(instance({ version: '1', registered_at: '2026-10-01T00:00:00.000Z' }));
    const health = { ...INITIAL_HEALTH, status: 'healthy' as const, checked_at: '2026-11-02T00:00:01.000Z', latency_ms: 4 };
    await registry.recordHealth('svc', 'i-1', health);
    const circuit = { state: 'open' as const, failures: [], opened_at: '2026-11-02T00:00:02.000Z', revision: 1 };
    await registry.updateCircuit('svc', 'i-1', circuit, 0);

    expect(await registry.replicate(instance({ url: 'http://same-time.internal' }))).toBe('stale');
    expect(await registry.replicate(instance({ url: 'http://older.internal', updated_at: '2026-11-01T00:00:00.000Z' }))).toBe('stale');
    expect((await registry.instancesOf('svc'))[0]?.url).toBe('http://svc.internal:8080');

    const newer = instance({ url: 'http://newer.internal', updated_at: '2026-11-03T00:00:00.000Z' });
    expect(await registry.replicate(newer)).toBe('applied');
    expect(await registry.instancesOf('svc')).toEqual([{ ...newer, health, circuit }]);
  });

  it('lets exactly one of concurrent copies of the same version apply', async () => {
    const outcomes = await Promise.all(Array.from({ length: 6 }, (_, index) => registry.replicate(instance({ url: `http://racer-${index}.internal` }))));
    expect(outcomes.filter((outcome) => outcome === 'applied')).toHaveLength(1);
  });

  it('keeps the API snapshot out of instance listings, and replaces it only from the one it was compared with', async () => {
    await registry.register(instance());
    expect(await registry.getApiSnapshot('svc')).toBeUndefined();
    const first = snapshot();
    expect(await registry.saveApiSnapshot(first, undefined)).toBe(true);
    expect(await registry.saveApiSnapshot(snapshot({ digest: 'sha256:racer' }), undefined)).toBe(false);
    expect(await registry.getApiSnapshot('svc')).toEqual(first);

    expect(await registry.instancesOf('svc')).toHaveLength(1);
    expect((await registry.list()).map((found) => found.instance_id)).toEqual(['i-1']);

    const second = snapshot({ digest: 'sha256:two', captured_at: '2026-11-03T00:00:00.000Z', operations: [] });
    expect(await registry.saveApiSnapshot(second, snapshot({ digest: 'sha256:stale' }))).toBe(false);
    expect(await registry.saveApiSnapshot(second, first)).toBe(true);
    expect(await registry.getApiSnapshot('svc')).toEqual(second);
    // Removing the service's instances leaves its API history alone.
    expect(await registry.remove('svc')).toBe(1);
    expect(await registry.getApiSnapshot('svc')).toEqual(second);
  });
});
