import { describe, expect, it } from 'vitest';
import type { PeerClient, ServiceRegistry } from '../../../core/ports.ts';
import { CLOSED_CIRCUIT, INITIAL_HEALTH, type ServiceInstance } from '../../../core/registry/model.ts';
import {
  copyWins,
  createPeerService,
  futureVersionProblem,
  MAX_REPLICATED_INSTANCES,
  MAX_REPLICATION_CLOCK_SKEW_MS,
  parsePeerUrls,
  ReplicatedInstanceSchema,
  toCopy,
  toReplica,
} from '../../../core/registry/peers.ts';
import { instanceAt } from '../../support/fixed-registry.ts';

function instance(name: string, overrides: Partial<ServiceInstance> = {}): ServiceInstance {
  return instanceAt(name, `http://${name}.internal:8080`, { instance_id: 'i-1', ...overrides });
}

/** The store's side of the rule, in memory: what DynamoServiceRegistry.replicate does with one conditional write. */
function memoryRegistry(initial: ServiceInstance[] = []): Pick<ServiceRegistry, 'list' | 'replicate'> & { items: Map<string, ServiceInstance> } {
  const items = new Map(initial.map((item) => [`${item.name}/${item.instance_id}`, item]));
  return {
    items,
    list: async () => [...items.values()],
    replicate: async (copy) => {
      const key = `${copy.name}/${copy.instance_id}`;
      const stored = items.get(key);
      if (!copyWins(stored, copy)) return 'stale';
      items.set(key, { ...copy, health: stored?.health ?? copy.health, circuit: stored?.circuit ?? copy.circuit });
      return 'applied';
    },
  };
}

const clock = { now: () => '2026-11-25T00:00:00.000Z' };

describe('the merge rule', () => {
  it('lets a copy win only when it is strictly newer', () => {
    expect(copyWins(undefined, { updated_at: '2026-11-01T00:00:00.000Z' })).toBe(true);
    expect(copyWins({ updated_at: '2026-11-01T00:00:00.000Z' }, { updated_at: '2026-11-01T00:00:00.001Z' })).toBe(true);
    expect(copyWins({ updated_at: '2026-11-01T00:00:00.000Z' }, { updated_at: '2026-11-01T00:00:00.000Z' })).toBe(false);
    expect(copyWins({ updated_at: '2026-11-02T00:00:00.000Z' }, { updated_at: '2026-11-01T23:59:59.999Z' })).toBe(false);
  });

  it('round-trips an instance through a copy, dropping health and circuit', () => {
    const original = instance('svc', { version: '1', openapi_path: '/openapi.json', ttl_seconds: 60, expires_at: '2026-11-01T00:01:00.000Z', health: { ...INITIAL_HEALTH, status: 'healthy' } });
    const copy = toCopy(original);
    expect(copy).not.toHaveProperty('health');
    expect(copy).not.toHaveProperty('circuit');
    const parsed = ReplicatedInstanceSchema.parse(JSON.parse(JSON.stringify(copy)));
    expect(toReplica(parsed)).toEqual({ ...original, health: INITIAL_HEALTH, circuit: CLOSED_CIRCUIT });
  });

  it('accepts only instants in the one spelling that compares as text, and registration URLs', () => {
    const copy = toCopy(instance('svc'));
    expect(ReplicatedInstanceSchema.safeParse({ ...copy, updated_at: '2026-11-01T00:00:00Z' }).success).toBe(false);
    expect(ReplicatedInstanceSchema.safeParse({ ...copy, updated_at: '2026-11-01T00:00:00.000+01:00' }).success).toBe(false);
    expect(ReplicatedInstanceSchema.safeParse({ ...copy, updated_at: '2026-13-45T00:00:00.000Z' }).success).toBe(false);
    expect(ReplicatedInstanceSchema.safeParse({ ...copy, registered_at: '2026-12-01T00:00:00.000Z' }).success).toBe(false);
    expect(ReplicatedInstanceSchema.safeParse({ ...copy, url: 'http://[fd00:ec2::254]/' }).success).toBe(false);
    expect(ReplicatedInstanceSchema.safeParse({ ...copy, ttl_seconds: 60 }).success).toBe(false);
    // Fields a newer peer may add are dropped, not refused.
    expect(ReplicatedInstanceSchema.parse({ ...copy, zone: 'b' })).not.toHaveProperty('zone');
  });
});

describe('copies from the future', () => {
  const now = clock.now();
  const at = (offsetMs: number) => new Date(Date.parse(now) + offsetMs).toISOString();
  const copyAt = (updated_at: string, overrides: Partial<ServiceInstance> = {}) => JSON.parse(JSON.stringify(toCopy(instance('svc', { updated_at, ...overrides })))) as unknown;

  it('allows an updated_at up to the skew ahead of the clock, and no further', () => {
    expect(MAX_REPLICATION_CLOCK_SKEW_MS).toBe(5 * 60 * 1000);
    expect(futureVersionProblem({ updated_at: now }, now)).toBeUndefined();
    expect(futureVersionProblem({ updated_at: at(MAX_REPLICATION_CLOCK_SKEW_MS) }, now)).toBeUndefined();
    expect(futureVersionProblem({ updated_at: at(MAX_REPLICATION_CLOCK_SKEW_MS + 1) }, now)).toMatch(/^updated_at: .* is more than 5 minutes ahead of this orchestrator's clock \(2026-11-25T00:00:00.000Z\)/);
    expect(futureVersionProblem({ updated_at: '9999-01-01T00:00:00.000Z' }, now)).toMatch(/9999-01-01T00:00:00.000Z is more than 5 minutes ahead/);
  });

  it('rejects a replicated copy from the future with the reason, stores nothing of it, and stores the others', async () => {
    const registry = memoryRegistry([instance('svc')]);
    const service = createPeerService({ registry, client: {} as PeerClient, peerUrls: [], clock });
    const counts = await service.replicate({ instances: [copyAt('9999-01-01T00:00:00.000Z', { url: 'http://forged.internal' }), copyAt(at(1000), { name: 'fine' })] });
    expect(counts).toEqual({ applied: 1, stale: 0, rejected: 1, problems: [expect.stringMatching(/^instance 0: svc\/i-1: updated_at: 9999-01-01T00:00:00.000Z is more than 5 minutes ahead/)] });
    expect(registry.items.get('svc/i-1')?.url).toBe('http://svc.internal:8080');
    expect(registry.items.has('fine/i-1')).toBe(true);
  });

  it('stores a copy within the skew, so peers whose clocks differ a little still converge', async () => {
    const registry = memoryRegistry();
    const service = createPeerService({ registry, client: {} as PeerClient, peerUrls: [], clock });
    expect(await service.replicate({ instances: [copyAt(at(MAX_REPLICATION_CLOCK_SKEW_MS - 1000))] })).toEqual({ applied: 1, stale: 0, rejected: 0 });
  });

  it('reports what a peer rejected of the copies pushed to it, summed over batches', async () => {
    const local = memoryRegistry();
    for (let index = 0; index < 250; index++) await local.replicate(toReplica(ReplicatedInstanceSchema.parse(copyAt(now, { instance_id: `i-${index}` }))));
    const client: PeerClient = {
      health: async () => ({ status_code: 200, latency_ms: 1 }),
      instances: async () => [],
      replicate: async (_url, copies) => ({ applied: copies.length - 1, stale: 0, rejected: 1 }),
    };
    const [result] = await createPeerService({ registry: local, client, peerUrls: ['http://b'], clock }).sync();
    expect(result?.pushed).toEqual({ applied: 248, stale: 0, rejected: 2 });
  });

  it("rejects pulled copies from the future too, reported with the peer's invalid entries in listing order", async () => {
    const local = memoryRegistry();
    const client: PeerClient = {
      health: async () => ({ status_code: 200, latency_ms: 1 }),
      instances: async () => [copyAt(at(10 * 60 * 1000)), { name: 'broken' }, copyAt(now, { name: 'ok' })],
      replicate: async () => ({ applied: 0, stale: 0, rejected: 0 }),
    };
    const [result] = await createPeerService({ registry: local, client, peerUrls: ['http://b'], clock }).sync();
    expect(result?.pulled).toEqual({
      applied: 1,
      stale: 0,
      rejected: 2,
      problems: [expect.stringMatching(/^instance 0: svc\/i-1: updated_at: .* ahead/), expect.stringMatching(/^instance 1: /)],
    });
    expect([...local.items.keys()]).toEqual(['ok/i-1']);
  });

  it('refuses a registered_at later than updated_at, and an expiry beyond updated_at plus the TTL', () => {
    const copy = toCopy(instance('svc', { updated_at: now }));
    expect(ReplicatedInstanceSchema.safeParse({ ...copy, registered_at: '9999-01-01T00:00:00.000Z' }).error?.issues[0]?.message).toBe('updated_at must not be before registered_at');
    const pinned = ReplicatedInstanceSchema.safeParse({ ...copy, ttl_seconds: 60, expires_at: '9999-01-01T00:00:00.000Z' });
    expect(pinned.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([['expires_at', 'expires_at must not be later than updated_at plus ttl_seconds']]);
    expect(ReplicatedInstanceSchema.safeParse({ ...copy, ttl_seconds: 60, expires_at: at(60_000) }).success).toBe(true);
    expect(ReplicatedInstanceSchema.safeParse({ ...copy, ttl_seconds: 60, expires_at: at(60_001) }).success).toBe(false);
  });
});

describe('syncing with peers', () => {
  /** A peer in memory: its registry, and every call made to it. */
  function peer(instances: ServiceInstance[] = []) {
    const registry = memoryRegistry(instances);
    const calls: string[] = [];
    const batches: number[] = [];
    return { registry, calls, batches };
  }

  function clientFor(peers: Record<string, ReturnType<typeof peer> | 'down'>): PeerClient {
    const get = (url: string) => {
      const found = peers[url];
      if (found === undefined || found === 'down') throw new Error(`connect ECONNREFUSED ${url}`);
      return found;
    };
    return {
      health: async (url) => {
        get(url);
        return { status_code: 200, latency_ms: 1, status: 'healthy', version: '9' };
      },
      instances: async (url) => {
        const found = get(url);
        found.calls.push('instances');
        return JSON.parse(JSON.stringify(await found.registry.list())) as unknown[];
      },
      replicate: async (url, copies) => {
        const found = get(url);
        found.calls.push('replicate');
        found.batches.push(copies.length);
        let applied = 0;
        for (const copy of copies) if ((await found.registry.replicate(toReplica(ReplicatedInstanceSchema.parse(copy)))) === 'applied') applied++;
        return { applied, stale: copies.length - applied, rejected: 0 };
      },
    };
  }

  it('pulls from every peer before pushing, so one sync gives every peer the union', async () => {
    const local = memoryRegistry([instance('mine')]);
    const b = peer([instance('from_b')]);
    const c = peer([instance('from_c')]);
    const service = createPeerService({ registry: local, client: clientFor({ 'http://b': b, 'http://c': c }), peerUrls: ['http://b', 'http://c'], clock });
    const results = await service.sync();
    expect(results).toEqual([
      { url: 'http://b', status: 'synced', pulled: { applied: 1, stale: 0, rejected: 0 }, pushed: { applied: 2, stale: 1, rejected: 0 } },
      { url: 'http://c', status: 'synced', pulled: { applied: 1, stale: 0, rejected: 0 }, pushed: { applied: 2, stale: 1, rejected: 0 } },
    ]);
    for (const registry of [local, b.registry, c.registry]) expect([...registry.items.keys()].sort()).toEqual(['from_b/i-1', 'from_c/i-1', 'mine/i-1']);
    expect(b.calls).toEqual(['instances', 'replicate']);
  });

  it('reports a peer that is down and still syncs with the others', async () => {
    const b = peer([instance('from_b')]);
    const service = createPeerService({ registry: memoryRegistry(), client: clientFor({ 'http://b': b, 'http://down': 'down' }), peerUrls: ['http://down', 'http://b'], clock });
    const [down, up] = await service.sync();
    expect(down).toEqual({ url: 'http://down', status: 'failed', error: 'pull: connect ECONNREFUSED http://down; push: connect ECONNREFUSED http://down' });
    expect(up?.status).toBe('synced');
    expect(await service.peers()).toEqual([
      { url: 'http://down', reachable: false, latency_ms: 0, error: 'connect ECONNREFUSED http://down' },
      { url: 'http://b', reachable: true, latency_ms: 1, status_code: 200, status: 'healthy', version: '9' },
    ]);
  });

  it("counts a peer's entries that are not valid instances as rejected, with the reason", async () => {
    const b = peer();
    const client = clientFor({ 'http://b': b });
    const service = createPeerService({ registry: memoryRegistry(), client: { ...client, instances: async () => [toCopy(instance('fine')), { name: 'broken' }] }, peerUrls: ['http://b'], clock });
    const [result] = await service.sync();
    expect(result?.pulled).toMatchObject({ applied: 1, stale: 0, rejected: 1, problems: [expect.stringMatching(/^instance 1: .*url/)] });
  });

  it('pushes a large registry in batches a replicate request accepts', async () => {
    const many = Array.from({ length: 450 }, (_, index) => instance(`svc-${index}`, { metadata: { blob: 'x'.repeat(index < 100 ? 8 * 1024 : 10) } }));
    const b = peer();
    const service = createPeerService({ registry: memoryRegistry(many), client: clientFor({ 'http://b': b }), peerUrls: ['http://b'], clock });
    const [result] = await service.sync();
    expect(result?.pushed).toEqual({ applied: 450, stale: 0, rejected: 0 });
    expect(b.batches.every((size) => size <= MAX_REPLICATED_INSTANCES)).toBe(true);
    // The first hundred carry 8 KiB each: they cannot all go in one 512 KiB request.
    expect(b.batches[0]).toBeLessThan(100);
    expect(b.batches.reduce((sum, size) => sum + size, 0)).toBe(450);
  });

  it('does not push expired instances, and stores expired copies as stale', async () => {
    const lapsed = { updated_at: '2026-11-23T23:59:50.000Z', ttl_seconds: 10, expires_at: '2026-11-24T00:00:00.000Z' };
    const expired = instance('gone', lapsed);
    const b = peer([instance('gone_too', lapsed)]);
    const local = memoryRegistry([expired]);
    const [result] = await createPeerService({ registry: local, client: clientFor({ 'http://b': b }), peerUrls: ['http://b'], clock }).sync();
    expect(result).toMatchObject({ pulled: { applied: 0, stale: 1 }, pushed: { applied: 0, stale: 0 } });
    expect(b.batches).toEqual([]);
  });
});

describe('ORCHESTRATOR_PEERS', () => {
  it('keeps http(s) base URLs in one spelling, without duplicates or trailing slashes', () => {
    expect(parsePeerUrls(' http://A.example:8080/ , https://b.example/api/,http://a.example:8080,, ')).toEqual({ urls: ['http://a.example:8080', 'https://b.example/api'], problems: [] });
    expect(parsePeerUrls(undefined)).toEqual({ urls: [], problems: [] });
  });

  it('names each bad entry', () => {
    expect(parsePeerUrls('ftp://x, not a url, http://u:p@h, http://h/?q=1').problems).toEqual([
      'ftp://x must use http or https',
      '"not a url" is not an absolute URL',
      'http://u:p@h must not contain credentials',
      'http://h/?q=1 must not have a query string or fragment',
    ]);
  });
});
