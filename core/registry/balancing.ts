import { admit, type CircuitPolicy, type CircuitRefusal } from './circuit.ts';
import { isExpired, type CircuitState, type HealthStatus, type ServiceInstance } from './model.ts';

/**
 * Which instance of a service takes a call. Instances that are expired, unhealthy, or whose circuit refuses
 * the call are skipped; the rest are ranked by health (healthy, then unknown, then degraded), and among
 * instances of equal health the caller's turn counter rotates the order: round robin.
 *
 * Round robin rather than "least recent failures": failures are already the circuit's business (an instance
 * failing in a row is cut off at the threshold), and ranking by them would send every call of every Lambda to
 * the same one instance whenever the others had a failure in their window, which piles the load onto it.
 * Round robin spreads calls evenly with nothing but a counter, and needs no shared state: each caller keeps its
 * own counter (starting anywhere), so across many Lambdas the load evens out too.
 */

/** An instance that may take the call. */
export interface Candidate {
  readonly instance: ServiceInstance;
  /** Set when the call would be the half-open trial: the circuit state to store before calling (the write must win). */
  readonly trial?: CircuitState;
}

/** An instance that may not take the call, and why. */
export interface Refusal {
  readonly instance_id: string;
  readonly cause: 'unhealthy' | CircuitRefusal;
  /** When its circuit may let a call through again (circuit refusals only). */
  readonly retry_after_seconds?: number;
}

export type CallPlan =
  /** No live instance: the service is not registered (or every registration expired). */
  | { readonly kind: 'unregistered' }
  /** Best first; never empty. */
  | { readonly kind: 'candidates'; readonly candidates: readonly Candidate[]; readonly refused: readonly Refusal[] }
  | ({ readonly kind: 'unavailable'; readonly refused: readonly Refusal[] } & Unavailability);

export interface Unavailability {
  /** e.g. "no instance of service 'x' can take a call: 2 unhealthy, 1 circuit open (retry in 12 s)". */
  readonly reason: string;
  /** Every refused instance was refused by its circuit: the call fails as CircuitOpen. */
  readonly circuit_open: boolean;
  /** The soonest a circuit may let a call through, when a circuit refused one. */
  readonly retry_after_seconds?: number;
}

export interface PlanOptions {
  readonly now: string;
  readonly policy: CircuitPolicy;
  /** The caller's counter for this service, one more on each call: rotates instances of equal health. */
  readonly turn: number;
}

const HEALTH_RANK: Readonly<Record<Exclude<HealthStatus, 'unhealthy'>, number>> = { healthy: 0, unknown: 1, degraded: 2 };

/** Ranks `instances` (every instance of `service`, as the registry has them) for one call. */
export function planCall(service: string, instances: readonly ServiceInstance[], { now, policy, turn }: PlanOptions): CallPlan {
  const live = instances.filter((instance) => !isExpired(instance, now));
  if (live.length === 0) return { kind: 'unregistered' };

  const tiers: Candidate[][] = [[], [], []];
  const refused: Refusal[] = [];
  for (const instance of [...live].sort((a, b) => (a.instance_id < b.instance_id ? -1 : a.instance_id > b.instance_id ? 1 : 0))) {
    if (instance.health.status === 'unhealthy') {
      refused.push({ instance_id: instance.instance_id, cause: 'unhealthy' });
      continue;
    }
    const admission = admit(instance.circuit, now, policy);
    if (!admission.allowed) {
      refused.push({ instance_id: instance.instance_id, cause: admission.refusal, retry_after_seconds: admission.retry_after_seconds });
      continue;
    }
    tiers[HEALTH_RANK[instance.health.status]]!.push(admission.next ? { instance, trial: admission.next } : { instance });
  }
  const candidates = tiers.flatMap((tier) => rotate(tier, turn));
  if (candidates.length > 0) return { kind: 'candidates', candidates, refused };
  return { kind: 'unavailable', refused, ...unavailability(service, refused) };
}

/** Why no instance of `service` can take a call, from the refusals of all of them. */
export function unavailability(service: string, refused: readonly Refusal[]): Unavailability {
  const count = (cause: Refusal['cause']) => refused.filter((refusal) => refusal.cause === cause).length;
  const parts = [
    [count('unhealthy'), 'unhealthy'],
    [count('open'), 'circuit open'],
    [count('trial_in_progress'), 'circuit half-open with its trial call in progress'],
  ]
    .filter(([howMany]) => howMany !== 0)
    .map(([howMany, what]) => `${howMany} ${what}`);
  const waits = refused.flatMap((refusal) => (refusal.retry_after_seconds === undefined ? [] : [refusal.retry_after_seconds]));
  const retryAfter = waits.length > 0 ? Math.min(...waits) : undefined;
  const circuitOpen = refused.length > 0 && refused.every((refusal) => refusal.cause !== 'unhealthy');
  return {
    reason: `no instance of service '${service}' can take a call: ${parts.join(', ') || 'none registered'}${retryAfter === undefined ? '' : ` (retry in ${retryAfter} s)`}`,
    circuit_open: circuitOpen,
    ...(retryAfter === undefined ? {} : { retry_after_seconds: retryAfter }),
  };
}

/** `items` starting at position `turn` (modulo its length), wrapping around. */
function rotate<T>(items: readonly T[], turn: number): T[] {
  if (items.length === 0) return [];
  const start = ((turn % items.length) + items.length) % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}
