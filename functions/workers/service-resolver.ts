import { randomInt } from 'node:crypto';
import type { Clock, ServiceRegistry } from '../../core/ports.ts';
import { planCall, unavailability, type Refusal } from '../../core/registry/balancing.ts';
import { afterFailure, afterSuccess, circuitPolicyProblems, DEFAULT_CIRCUIT_POLICY, releaseTrial, type CircuitPolicy } from '../../core/registry/circuit.ts';
import type { CircuitState, ServiceAuth, ServiceInstance } from '../../core/registry/model.ts';
import { sharedLog } from '../observability/logger.ts';

/**
 * How long the resolver trusts what it read of a service. Two seconds: a runner serving a steady stream of
 * calls reads the registry about once every two seconds per service instead of once per call, and a circuit
 * another Lambda opened (or a health change) reaches it within that time. Its own circuit writes update the
 * cache at once.
 */
export const DEFAULT_REGISTRY_CACHE_TTL_MS = 2000;

export type ResolverRegistry = Pick<ServiceRegistry, 'instancesOf' | 'updateCircuit'>;

export interface ServiceResolverOptions {
  readonly registry: ResolverRegistry;
  /** Circuit decisions and the cache's age are both measured on it (tests move it past a cool-down). */
  readonly clock: Clock;
  /** Defaults: DEFAULT_CIRCUIT_POLICY. */
  readonly policy?: Partial<CircuitPolicy>;
  /** 0 reads the registry on every call. Default DEFAULT_REGISTRY_CACHE_TTL_MS. */
  readonly cacheTtlMs?: number;
  /**
   * The first round-robin turn for a service. Default random: Lambdas that all started at 0 would send their
   * first calls to the same instance.
   */
  readonly firstTurn?: (service: string) => number;
  /** Where circuit writes that failed are reported (they never fail the call). Default: a JSON line on stderr. */
  readonly warn?: (line: Record<string, unknown>) => void;
}

/** A registered instance chosen for one call. */
export interface ChosenInstance {
  readonly kind: 'registered';
  readonly service: string;
  readonly instance_id: string;
  readonly url: string;
  /** How to authenticate to it (a secret reference), when it was registered with one. */
  readonly auth?: ServiceAuth;
  /** Set when this call is the circuit's half-open trial (the time this caller stored as trial_started_at). */
  readonly trial_started_at?: string;
}

export type Resolution =
  | ChosenInstance
  /** No live instance: the caller falls back to its configured URL. */
  | { readonly kind: 'unregistered' }
  | { readonly kind: 'unavailable'; readonly reason: string; readonly circuit_open: boolean; readonly retry_after_seconds?: number };

/**
 * How a call to a chosen instance went, for its circuit. `answered`: any HTTP answer but a 5xx (a 4xx or a 429
 * is the service working and refusing this request, not being down). `failed`: a 5xx, a timeout, no
 * connection. `abandoned`: the call never got an answer for reasons not the instance's (cancelled, refused by
 * the outbound policy, parameters that could not be read).
 */
export type CallOutcome = 'answered' | 'failed' | 'abandoned';

export interface ServiceResolver {
  /** Chooses an instance of `service` and admits the call through its circuit. Throws when the registry cannot be read or written. */
  resolve(service: string): Promise<Resolution>;
  /** Records a call's outcome in the instance's circuit. Never throws: the call's own result stands. */
  record(chosen: ChosenInstance, outcome: CallOutcome): Promise<void>;
}

interface CacheEntry {
  instances: ServiceInstance[];
  readAtMs: number;
}

/**
 * Service resolution for the action runner: the registry read through a short per-service cache (at most one
 * DynamoDB read per call, usually none), balancing and circuit admission (core/registry/balancing.ts and
 * circuit.ts), and the circuit writes after each call. Circuit state lives in the registry table and every
 * move is a conditional write, so every Lambda shares one circuit per instance; within one process, writes to
 * one instance's circuit are queued, so concurrent calls of the same runner do not race each other.
 */
export function createServiceResolver(options: ServiceResolverOptions): ServiceResolver {
  const { registry, clock } = options;
  const policy: CircuitPolicy = { ...DEFAULT_CIRCUIT_POLICY, ...options.policy };
  const problems = circuitPolicyProblems(policy);
  if (problems.length > 0) throw new Error(`invalid configuration: circuit policy: ${problems.join('; ')}`);
  const ttlMs = options.cacheTtlMs ?? DEFAULT_REGISTRY_CACHE_TTL_MS;
  if (!Number.isFinite(ttlMs) || ttlMs < 0) throw new Error(`invalid configuration: registry cache TTL must be 0 or more milliseconds, got ${ttlMs}`);
  const firstTurn = options.firstTurn ?? (() => randomInt(0, 2 ** 31));
  const warn = options.warn ?? ((line) => sharedLog({ level: 'warn', ...line }));

  /** Kept past their TTL: a stale entry is never used to choose, but is the best known base for a circuit write. */
  const cache = new Map<string, CacheEntry>();
  /** Reads in flight, shared by concurrent calls for the same service. */
  const reading = new Map<string, Promise<ServiceInstance[]>>();
  const turns = new Map<string, number>();
  /** The last circuit write queued for each instance (`service\u0000instance`). */
  const writes = new Map<string, Promise<void>>();

  const nowMs = () => Date.parse(clock.now());

  /**
   * One Query of the service's instances, into the cache. Concurrent calls share a read in flight, except after
   * a lost conditional write (`shared: false`): a read that started before the winning write could miss it.
   */
  const read = (service: string, shared = true): Promise<ServiceInstance[]> => {
    const pending = reading.get(service);
    if (pending && shared) return pending;
    const started = nowMs();
    const promise = registry.instancesOf(service).then((instances) => {
      const entry = cache.get(service);
      if (entry === undefined || entry.readAtMs <= started) cache.set(service, { instances, readAtMs: started });
      return instances;
    });
    if (shared) {
      reading.set(service, promise);
      void promise.finally(() => {
        if (reading.get(service) === promise) reading.delete(service);
      }).catch(() => undefined);
    }
    return promise;
  };

  const fresh = (service: string): ServiceInstance[] | undefined => {
    const entry = cache.get(service);
    return entry !== undefined && ttlMs > 0 && nowMs() - entry.readAtMs < ttlMs ? entry.instances : undefined;
  };

  const known = (service: string, instanceId: string): ServiceInstance | undefined => cache.get(service)?.instances.find((instance) => instance.instance_id === instanceId);

  /** What this process wrote replaces what it read (unless something newer was read since). */
  const remember = (service: string, instanceId: string, circuit: CircuitState) => {
    const entry = cache.get(service);
    if (!entry) return;
    entry.instances = entry.instances.map((instance) => (instance.instance_id === instanceId && instance.circuit.revision < circuit.revision ? { ...instance, circuit } : instance));
  };

  const nextTurn = (service: string): number => {
    const turn = turns.get(service) ?? firstTurn(service);
    turns.set(service, turn + 1);
    return turn;
  };

  /** Runs `write` after the writes already queued for the same instance. */
  const queued = (key: string, write: () => Promise<void>): Promise<void> => {
    const previous = writes.get(key) ?? Promise.resolve();
    const next = previous.then(write);
    writes.set(key, next);
    return next.finally(() => {
      if (writes.get(key) === next) writes.delete(key);
    });
  };

  return {
    async resolve(service) {
      let instances = fresh(service);
      let readThisCall = false;
      if (instances === undefined) {
        instances = await read(service);
        readThisCall = true;
      }
      for (;;) {
        const now = clock.now();
        const plan = planCall(service, instances, { now, policy, turn: nextTurn(service) });
        if (plan.kind === 'unregistered') return plan;
        if (plan.kind === 'unavailable') return { kind: 'unavailable', reason: plan.reason, circuit_open: plan.circuit_open, ...(plan.retry_after_seconds === undefined ? {} : { retry_after_seconds: plan.retry_after_seconds }) };

        const lost: Refusal[] = [];
        for (const { instance, trial } of plan.candidates) {
          const chosen: ChosenInstance = { kind: 'registered', service, instance_id: instance.instance_id, url: instance.url, ...(instance.auth ? { auth: instance.auth } : {}) };
          if (!trial) return chosen;
          // The half-open trial: only the caller whose write wins may send it.
          if (await registry.updateCircuit(service, instance.instance_id, trial, instance.circuit.revision)) {
            remember(service, instance.instance_id, trial);
            return { ...chosen, trial_started_at: now };
          }
          lost.push({ instance_id: instance.instance_id, cause: 'trial_in_progress', retry_after_seconds: policy.trialTimeoutSeconds });
        }
        // Every candidate was a trial another caller took first: what we knew was stale. Read again, once per call.
        if (!readThisCall) {
          instances = await read(service, false);
          readThisCall = true;
          continue;
        }
        const why = unavailability(service, [...plan.refused, ...lost]);
        return { kind: 'unavailable', reason: why.reason, circuit_open: why.circuit_open, ...(why.retry_after_seconds === undefined ? {} : { retry_after_seconds: why.retry_after_seconds }) };
      }
    },

    record(chosen, outcome) {
      const { service, instance_id: instanceId } = chosen;
      const next = (circuit: CircuitState): CircuitState | undefined => {
        if (outcome === 'answered') return afterSuccess(circuit);
        if (outcome === 'failed') return afterFailure(circuit, clock.now(), policy);
        return chosen.trial_started_at === undefined ? undefined : releaseTrial(circuit, chosen.trial_started_at);
      };
      // The common case (an answer on a closed circuit without failures) writes nothing and waits for nothing.
      const base = known(service, instanceId);
      if (base !== undefined && next(base.circuit) === undefined && !writes.has(`${service}\u0000${instanceId}`)) return Promise.resolve();

      return queued(`${service}\u0000${instanceId}`, async () => {
        try {
          // Another caller may have moved the circuit since it was read: then read it again and retry, once.
          for (let attempt = 0; attempt < 2; attempt++) {
            const current = attempt === 0 ? known(service, instanceId) : (await read(service, false)).find((instance) => instance.instance_id === instanceId);
            if (current === undefined) {
              if (attempt === 0) continue;
              return; // Deregistered meanwhile.
            }
            const target = next(current.circuit);
            if (target === undefined) return;
            if (await registry.updateCircuit(service, instanceId, target, current.circuit.revision)) {
              remember(service, instanceId, target);
              return;
            }
          }
          warn({ message: 'gave up recording a call outcome in a circuit: it kept changing', service, instance_id: instanceId, outcome });
        } catch (error) {
          warn({ message: 'could not record a call outcome in a circuit', service, instance_id: instanceId, outcome, error: error instanceof Error ? error.message : String(error) });
        }
      });
    },
  };
}
