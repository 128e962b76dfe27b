import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../core/errors.ts';
import type { Clock, HealthProbe, ServiceRegistry } from '../../../core/ports.ts';
import type { ProbeResult } from '../../../core/registry/health.ts';
import { createHealthSweep } from '../../../core/registry/health-sweep.ts';
import { CLOSED_CIRCUIT, INITIAL_HEALTH, type InstanceHealth, type ServiceInstance } from '../../../core/registry/model.ts';

const START = Date.parse('2026-11-25T10:00:00.000Z');

/** A clock tests move by hand. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = START;
  return { now: () => new Date(now).toISOString(), advance: (ms) => (now += ms) };
}

function instance(name: string, id: string, extra: Partial<ServiceInstance> = {}): ServiceInstance {
  return {
    name,
    instance_id: id,
    url: `http://${id}.internal:8080`,
    health_path: '/health',
    tags: [],
    metadata: {},
    registered_at: new Date(START - 60_000).toISOString(),
    updated_at: new Date(START - 60_000).toISOString(),
    health: INITIAL_HEALTH,
    circuit: CLOSED_CIRCUIT,
    ...extra,
  };
}

/** The registry's three calls the sweep makes, over a list; `recordHealth` keeps what it was given. */
function listRegistry(instances: ServiceInstance[], options: { failWrites?: boolean; gone?: string[] } = {}) {
  const recorded = new Map<string, InstanceHealth>();
  const calls = { list: 0, instancesOf: 0, recordHealth: 0 };
  const registry: Pick<ServiceRegistry, 'list' | 'instancesOf' | 'recordHealth'> = {
    list: async () => (calls.list++, instances),
    instancesOf: async (name) => (calls.instancesOf++, instances.filter((candidate) => candidate.name === name)),
    recordHealth: async (name, instanceId, health) => {
      calls.recordHealth++;
      if (options.failWrites) throw new Error('the table is unreachable');
      if (options.gone?.includes(instanceId)) return false;
      recorded.set(`${name}/${instanceId}`, health);
      return true;
    },
  };
  return { registry, recorded, calls };
}

/** Answers each URL after `delayMs` of the manual clock... and of real time, to let probes overlap. */
function countingProbe(answer: (url: string) => ProbeResult, clock?: ReturnType<typeof manualClock>, delayMs = 5) {
  let inFlight = 0;
  const seen: string[] = [];
  const stats = { maxInFlight: 0, seen };
  const probe: HealthProbe = {
    async probe(url) {
      seen.push(url);
      inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      clock?.advance(delayMs);
      inFlight--;
      return answer(url);
    },
  };
  return { probe, stats };
}

const healthy = (): ProbeResult => ({ status_code: 200, latency_ms: 5 });

describe('the health sweep', () => {
  it('probes every live instance at url + health_path, records each, and sums them up', async () => {
    const clock = manualClock();
    const instances = [instance('billing', 'b1'), instance('inventory', 'i1', { url: 'http://i1.internal/api', health_path: '/healthz' })];
    const { registry, recorded, calls } = listRegistry(instances);
    const { probe, stats } = countingProbe((url) => (url.includes('i1') ? { status_code: 503, latency_ms: 4 } : healthy()), clock);
    const summary = await createHealthSweep({ registry, probe, clock })();
    expect(stats.seen.sort()).toEqual(['http://b1.internal:8080/health', 'http://i1.internal/api/healthz']);
    expect(summary).toMatchObject({ checked: 2, by_status: { healthy: 1, degraded: 0, unhealthy: 1 }, changed: 2, skipped_expired: 0, not_checked: 0, gone: 0, write_failures: 0 });
    expect(summary.instances.map((outcome) => [outcome.name, outcome.previous_status, outcome.status, outcome.recorded])).toEqual([
      ['billing', 'unknown', 'healthy', true],
      ['inventory', 'unknown', 'unhealthy', true],
    ]);
    expect(recorded.get('inventory/i1')).toMatchObject({ status: 'unhealthy', detail: 'answered 503', history: [expect.objectContaining({ status_code: 503 })] });
    expect(summary.duration_ms).toBeGreaterThan(0);
    // One listing, one write per instance.
    expect(calls).toEqual({ list: 1, instancesOf: 0, recordHealth: 2 });
  });

  it('never has more than `concurrency` probes in flight', async () => {
    const instances = Array.from({ length: 40 }, (_, index) => instance('svc', `i${index}`));
    const { registry } = listRegistry(instances);
    const { probe, stats } = countingProbe(healthy);
    const summary = await createHealthSweep({ registry, probe, clock: manualClock() }, { concurrency: 4 })();
    expect(summary.checked).toBe(40);
    expect(stats.maxInFlight).toBe(4);
  });

  it('skips registrations past their TTL: neither probed nor written', async () => {
    const clock = manualClock();
    const expired = instance('svc', 'old', { ttl_seconds: 10, expires_at: new Date(START - 1).toISOString() });
    const live = instance('svc', 'new', { ttl_seconds: 10, expires_at: new Date(START + 10_000).toISOString() });
    const { registry, recorded } = listRegistry([expired, live]);
    const { probe, stats } = countingProbe(healthy, clock);
    const summary = await createHealthSweep({ registry, probe, clock })();
    expect(summary).toMatchObject({ checked: 1, skipped_expired: 1 });
    expect(stats.seen).toEqual(['http://new.internal:8080/health']);
    expect([...recorded.keys()]).toEqual(['svc/new']);
  });

  it("checks one service's instances when named, and refuses a name with no live instance", async () => {
    const { registry, calls } = listRegistry([instance('a', 'a1'), instance('b', 'b1')]);
    const sweep = createHealthSweep({ registry, probe: countingProbe(healthy).probe, clock: manualClock() });
    expect((await sweep({ name: 'b' })).instances.map((outcome) => outcome.instance_id)).toEqual(['b1']);
    expect(calls).toMatchObject({ list: 0, instancesOf: 1 });
    await expect(sweep({ name: 'nobody' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('within a budget, starts no probe that could outlast it, leaving the most recently checked for the next sweep', async () => {
    const clock = manualClock();
    const checkedAt = (second: number) => ({ ...INITIAL_HEALTH, status: 'healthy' as const, checked_at: new Date(START - 100_000 + second * 1000).toISOString() });
    const instances = [instance('svc', 'fresh', { health: checkedAt(50) }), instance('svc', 'never'), instance('svc', 'stale', { health: checkedAt(1) })];
    const { registry } = listRegistry(instances);
    // Each probe takes 100 ms of the clock; the timeout is 100 ms: within 250 ms, two can start (at 0 and 100).
    const { probe, stats } = countingProbe(healthy, clock, 100);
    const summary = await createHealthSweep({ registry, probe, clock }, { concurrency: 1, timeoutMs: 100 })({ budgetMs: 250 });
    expect(stats.seen).toEqual(['http://never.internal:8080/health', 'http://stale.internal:8080/health']);
    expect(summary).toMatchObject({ checked: 2, not_checked: 1 });
  });

  it('counts instances deregistered meanwhile as gone, and failed writes as failures, without stopping the sweep', async () => {
    const gone = listRegistry([instance('svc', 'a'), instance('svc', 'b')], { gone: ['a'] });
    const summary = await createHealthSweep({ registry: gone.registry, probe: countingProbe(healthy).probe, clock: manualClock() })();
    expect(summary).toMatchObject({ checked: 2, gone: 1, write_failures: 0 });
    const failing = listRegistry([instance('svc', 'a'), instance('svc', 'b')], { failWrites: true });
    const failed = await createHealthSweep({ registry: failing.registry, probe: countingProbe(healthy).probe, clock: manualClock() })();
    expect(failed).toMatchObject({ checked: 2, gone: 0, write_failures: 2 });
    expect(failed.instances[0]!.error).toBe('the table is unreachable');
  });

  it('refuses settings that cannot work', () => {
    const { registry } = listRegistry([]);
    const deps = { registry, probe: countingProbe(healthy).probe, clock: manualClock() };
    expect(() => createHealthSweep(deps, { concurrency: 0 })).toThrow(/concurrency/);
    expect(() => createHealthSweep(deps, { timeoutMs: 1.5 })).toThrow(/timeoutMs/);
  });
});

