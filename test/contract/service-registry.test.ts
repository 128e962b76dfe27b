import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoServiceRegistry } from '../../adapters/aws/dynamo/dynamo-service-registry.ts';
import { REGISTRY_TABLE } from '../../adapters/aws/dynamo/registry-table.ts';
import type { ServiceRegistry } from '../../core/ports.ts';
import { CLOSED_CIRCUIT, INITIAL_HEALTH, type ServiceInstance } from '../../core/registry/model.ts';
import { freshTable } from '../support/dynamo.ts';

function instance(name: string, overrides: Partial<ServiceInstance> = {}): ServiceInstance {
  return {
    name,
    instance_id: 'i-1',
    url: `http://${name.replace(/[^a-z0-9-]/gi, '-')}.internal:8080`,
    health_path: '/health',
    openapi_path: '/openapi.json',
    version: '1.2.3',
    tags: ['analysis', 'gpu'],
    metadata: { team: 'analysis', tags: ['a', 'b'], limits: { rps: 10 } },
    registered_at: '2026-11-01T00:00:00.000Z',
    updated_at: '2026-11-01T00:00:00.000Z',
    health: INITIAL_HEALTH,
    circuit: CLOSED_CIRCUIT,
    ...overrides,
  };
}

/** The ServiceRegistry contract, run against the DynamoDB adapter on the dynalite emulator. */
describe('DynamoServiceRegistry on the DynamoDB emulator', () => {
  let registry: ServiceRegistry;
  let commands: string[];

  beforeEach(async () => {
    const fresh = await freshTable(REGISTRY_TABLE, 'registry');
    commands = fresh.commands;
    registry = new DynamoServiceRegistry(fresh.client, fresh.tableName);
  });

  it('round-trips an instance exactly, metadata, tags and TTL included', async () => {
    const stored = instance('analysis_service', { ttl_seconds: 60, expires_at: '2026-11-01T00:01:00.000Z' });
    expect(await registry.register(stored)).toEqual({ instance: stored, created: true });
    expect(await registry.instancesOf('analysis_service')).toEqual([stored]);
    expect(await registry.list()).toEqual([stored]);
  });

  it('stores any JSON metadata: numbers DynamoDB cannot hold, nesting deeper than its 32 levels', async () => {
    let deep: unknown = 'bottom';
    for (let level = 0; level < 40; level++) deep = { level: deep };
    const stored = instance('odd_metadata', { metadata: { tiny: -1.0088714151858335e-150, digits: 1.2345678901234567e49, deep } });
    await registry.register(stored);
    expect(await registry.instancesOf('odd_metadata')).toEqual([stored]);
  });

  it("stores an instance's auth as the reference it is, and drops it when a registration or a peer's copy comes without", async () => {
    const auth = { type: 'api_key' as const, secret_ref: 'ssm:/orchestrator/svc/key', header: 'X-Service-Key' };
    const secured = instance('secured', { auth });
    await registry.register(secured);
    expect(await registry.instancesOf('secured')).toEqual([secured]);
    expect(await registry.list()).toEqual([secured]);
    await registry.register(instance('secured', { updated_at: '2026-11-01T00:00:10.000Z' }));
    expect((await registry.instancesOf('secured'))[0]).not.toHaveProperty('auth');
    await registry.register(secured);
    expect(await registry.replicate(instance('secured', { updated_at: '2026-11-02T00:00:00.000Z' }))).toBe('applied');
    expect((await registry.instancesOf('secured'))[0]).not.toHaveProperty('auth');
  });

  it('finds nothing for an unknown name, and names are case-sensitive', async () => {
    await registry.register(instance('known'));
    expect(await registry.instancesOf('unknown')).toEqual([]);
    expect(await registry.instancesOf('KNOWN')).toEqual([]);
  });

  it('keeps several instances under one name, apart from other names', async () => {
    await registry.register(instance('svc', { instance_id: 'b', url: 'http://b:1' }));
    await registry.register(instance('svc', { instance_id: 'a', url: 'http://a:1' }));
    await registry.register(instance('svc-other'));
    expect((await registry.instancesOf('svc')).map((found) => found.instance_id).sort()).toEqual(['a', 'b']);
    expect((await registry.list()).map((found) => `${found.name}/${found.instance_id}`)).toEqual(['svc/a', 'svc/b', 'svc-other/i-1']);
  });

  it('replaces an instance in place: first registered_at, health and circuit kept; optional fields dropped when absent', async () => {
    await registry.register(instance('svc', { ttl_seconds: 30, expires_at: '2026-11-01T00:00:30.000Z' }));
    const health = { ...INITIAL_HEALTH, status: 'healthy' as const, checked_at: '2026-11-01T00:00:05.000Z', latency_ms: 12, history: [{ checked_at: '2026-11-01T00:00:05.000Z', status: 'healthy' as const, latency_ms: 12 }] };
    expect(await registry.recordHealth('svc', 'i-1', health)).toBe(true);
    const circuit = { state: 'open' as const, failures: ['2026-11-01T00:00:06.000Z'], opened_at: '2026-11-01T00:00:06.000Z', revision: 1 };
    expect(await registry.updateCircuit('svc', 'i-1', circuit, 0)).toBe(true);

    const { openapi_path: _openapi, version: _version, ttl_seconds: _ttl, expires_at: _expires, ...bare } = instance('svc', { url: 'http://moved:9090', registered_at: '2026-11-02T00:00:00.000Z', updated_at: '2026-11-02T00:00:00.000Z', tags: [] });
    const outcome = await registry.register(bare);
    const expected = { ...bare, registered_at: '2026-11-01T00:00:00.000Z', health, circuit };
    expect(outcome).toEqual({ instance: expected, created: false });
    expect(await registry.instancesOf('svc')).toEqual([expected]);
  });

  it('moves a circuit only from the revision the caller read: of concurrent movers exactly one wins', async () => {
    await registry.register(instance('svc'));
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, index) => registry.updateCircuit('svc', 'i-1', { state: 'open', failures: [], opened_at: `2026-11-01T00:00:0${index}.000Z`, revision: 1 }, 0)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await registry.instancesOf('svc'))[0]?.circuit.revision).toBe(1);
    expect(await registry.updateCircuit('svc', 'i-1', CLOSED_CIRCUIT, 0)).toBe(false);
    expect(await registry.updateCircuit('svc', 'missing', { ...CLOSED_CIRCUIT, revision: 1 }, 0)).toBe(false);
    expect(await registry.recordHealth('svc', 'missing', INITIAL_HEALTH)).toBe(false);
    expect(await registry.instancesOf('svc')).toHaveLength(1);
  });

  it('removes one instance, or every instance of a service, and reports how many', async () => {
    for (const id of ['a', 'b', 'c']) await registry.register(instance('svc', { instance_id: id }));
    await registry.register(instance('kept'));
    expect(await registry.remove('svc', 'b')).toBe(1);
    expect(await registry.remove('svc', 'b')).toBe(0);
    expect((await registry.instancesOf('svc')).map((found) => found.instance_id)).toEqual(['a', 'c']);
    expect(await registry.remove('svc')).toBe(2);
    expect(await registry.remove('svc')).toBe(0);
    expect((await registry.list()).map((found) => found.name)).toEqual(['kept']);
  });

  it('registers concurrent replacements of one instance as one item', async () => {
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, index) => registry.register(instance('raced', { version: String(index) }))));
    expect(outcomes.filter((outcome) => outcome.created).length).toBeGreaterThanOrEqual(1);
    expect((await registry.list()).map((found) => found.name)).toEqual(['raced']);
  });

  it('lists every instance of many services in name order across pages, without a Scan', async () => {
    const bulky = { blob: 'x'.repeat(12 * 1024) };
    const names = Array.from({ length: 120 }, (_, index) => `svc-${String(index).padStart(3, '0')}`);
    for (let start = 0; start < names.length; start += 10) {
      await Promise.all(names.slice(start, start + 10).map((name) => registry.register(instance(name, { metadata: bulky }))));
    }
    commands.length = 0;
    const listed = await registry.list();
    expect(listed.map((found) => found.name)).toEqual(names);
    expect(commands.filter((command) => command === 'QueryCommand').length).toBeGreaterThan(1);
    expect(commands).not.toContain('ScanCommand');
  });
});
