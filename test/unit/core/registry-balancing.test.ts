import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planCall, type CallPlan } from '../../../core/registry/balancing.ts';
import { DEFAULT_CIRCUIT_POLICY } from '../../../core/registry/circuit.ts';
import { CLOSED_CIRCUIT, INITIAL_HEALTH, type HealthStatus, type ServiceInstance } from '../../../core/registry/model.ts';

const NOW = '2026-11-01T00:10:00.000Z';
const options = (turn = 0) => ({ now: NOW, policy: DEFAULT_CIRCUIT_POLICY, turn });

function instance(id: string, status: HealthStatus = 'healthy', overrides: Partial<ServiceInstance> = {}): ServiceInstance {
  return {
    name: 'svc',
    instance_id: id,
    url: `http://${id}.internal`,
    health_path: '/health',
    tags: [],
    metadata: {},
    registered_at: '2026-11-01T00:00:00.000Z',
    updated_at: '2026-11-01T00:00:00.000Z',
    health: { ...INITIAL_HEALTH, status },
    circuit: CLOSED_CIRCUIT,
    ...overrides,
  };
}

/** Open since `secondsAgo` seconds before NOW. */
const openFor = (secondsAgo: number) => ({ state: 'open' as const, failures: [], opened_at: new Date(Date.parse(NOW) - secondsAgo * 1000).toISOString(), revision: 3 });

const order = (plan: CallPlan) => (plan.kind === 'candidates' ? plan.candidates.map((candidate) => candidate.instance.instance_id) : plan.kind);

describe('choosing an instance', () => {
  it('rotates among instances of equal health with the turn: round robin', () => {
    const instances = [instance('b'), instance('a'), instance('c')];
    expect([0, 1, 2, 3].map((turn) => order(planCall('svc', instances, options(turn)))[0])).toEqual(['a', 'b', 'c', 'a']);
  });

  it('prefers healthy over unknown over degraded, and never calls an unhealthy one', () => {
    const instances = [instance('d', 'degraded'), instance('u', 'unknown'), instance('h', 'healthy'), instance('x', 'unhealthy')];
    for (const turn of [0, 1, 2, 7]) expect(order(planCall('svc', instances, options(turn)))).toEqual(['h', 'u', 'd']);
  });

  it('skips expired instances, and calls a service with only expired ones unregistered', () => {
    const expired = instance('old', 'healthy', { expires_at: '2026-11-01T00:09:59.000Z' });
    expect(order(planCall('svc', [expired, instance('new')], options()))).toEqual(['new']);
    expect(planCall('svc', [expired], options())).toEqual({ kind: 'unregistered' });
    expect(planCall('svc', [], options())).toEqual({ kind: 'unregistered' });
  });

  it('skips instances whose circuit is open, and offers one whose cool-down passed as a trial', () => {
    const plan = planCall('svc', [instance('cooling', 'healthy', { circuit: openFor(10) }), instance('cooled', 'healthy', { circuit: openFor(31) })], options());
    expect(plan.kind).toBe('candidates');
    if (plan.kind !== 'candidates') return;
    expect(plan.candidates).toHaveLength(1);
    expect(plan.candidates[0]).toMatchObject({ instance: { instance_id: 'cooled' }, trial: { state: 'half_open', trial_started_at: NOW, revision: 4 } });
    expect(plan.refused).toEqual([{ instance_id: 'cooling', cause: 'open', retry_after_seconds: 20 }]);
  });
});

describe('when no instance can take the call', () => {
  it('says why, instance by instance, and when to retry', () => {
    const plan = planCall('x', [instance('a', 'unhealthy'), instance('b', 'unhealthy'), instance('c', 'healthy', { circuit: openFor(18) })], options());
    expect(plan).toMatchObject({ kind: 'unavailable', reason: "no instance of service 'x' can take a call: 2 unhealthy, 1 circuit open (retry in 12 s)", circuit_open: false, retry_after_seconds: 12 });
  });

  it('is a circuit-open refusal when every instance was refused by its circuit, with the soonest retry', () => {
    const trial = { state: 'half_open' as const, failures: [], opened_at: NOW, trial_started_at: new Date(Date.parse(NOW) - 5000).toISOString(), revision: 4 };
    const plan = planCall('x', [instance('a', 'healthy', { circuit: openFor(0) }), instance('b', 'degraded', { circuit: trial })], options());
    expect(plan).toMatchObject({
      kind: 'unavailable',
      reason: "no instance of service 'x' can take a call: 1 circuit open, 1 circuit half-open with its trial call in progress (retry in 30 s)",
      circuit_open: true,
      retry_after_seconds: 30,
    });
  });

  it('is not a circuit refusal when every instance is unhealthy', () => {
    expect(planCall('x', [instance('a', 'unhealthy')], options())).toMatchObject({ kind: 'unavailable', circuit_open: false, reason: "no instance of service 'x' can take a call: 1 unhealthy" });
  });
});

describe('over many calls (property)', () => {
  it('gives each usable instance of the best health an equal share, and nothing to any other', () => {
    const statusArb = fc.constantFrom<HealthStatus>('healthy', 'unknown', 'degraded', 'unhealthy');
    fc.assert(
      fc.property(fc.array(fc.tuple(statusArb, fc.boolean()), { minLength: 1, maxLength: 8 }), fc.nat(1000), (specs, start) => {
        const instances = specs.map(([status, open], index) => instance(`i${index}`, status, open ? { circuit: openFor(1) } : {}));
        const usable = instances.filter((candidate) => candidate.health.status !== 'unhealthy' && candidate.circuit.state === 'closed');
        const rank = (status: HealthStatus) => ['healthy', 'unknown', 'degraded'].indexOf(status);
        const best = Math.min(...usable.map((candidate) => rank(candidate.health.status)));
        const chosen = usable.filter((candidate) => rank(candidate.health.status) === best).map((candidate) => candidate.instance_id);
        const counts = new Map<string, number>();
        const rounds = 3;
        for (let turn = start; turn < start + Math.max(1, chosen.length) * rounds; turn++) {
          const plan = planCall('svc', instances, options(turn));
          if (usable.length === 0) {
            expect(plan.kind).toBe('unavailable');
            return;
          }
          const first = order(plan)[0]!;
          counts.set(first, (counts.get(first) ?? 0) + 1);
        }
        expect([...counts.keys()].sort()).toEqual([...chosen].sort());
        for (const count of counts.values()) expect(count).toBe(rounds);
      }),
      { numRuns: 300 },
    );
  });
});
