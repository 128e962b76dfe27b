import { NotFoundError } from '../errors.ts';
import type { Clock, HealthProbe, ServiceRegistry } from '../ports.ts';
import { classifyProbe, foldHealth, type ClassifyOptions, type FoldOptions } from './health.ts';
import { isExpired, type CheckedStatus, type HealthCheck, type HealthStatus, type ServiceInstance } from './model.ts';

/** Probes in flight at once. Enough to sweep 200 instances in a few round trips, few enough not to flood a VPC. */
export const DEFAULT_SWEEP_CONCURRENCY = 16;
/** One probe's limit: connection, answer and body. */
export const DEFAULT_PROBE_TIMEOUT_MS = 3000;

export interface HealthSweepSettings extends ClassifyOptions, FoldOptions {
  /** Default DEFAULT_SWEEP_CONCURRENCY. */
  readonly concurrency?: number;
  /** Default DEFAULT_PROBE_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

export interface HealthSweepDeps {
  readonly registry: Pick<ServiceRegistry, 'list' | 'instancesOf' | 'recordHealth'>;
  readonly probe: HealthProbe;
  readonly clock: Clock;
}

export interface SweepRequest {
  /** Check this service's instances only; NotFoundError when it has no live instance. */
  readonly name?: string;
  /**
   * Milliseconds the sweep may take: a probe starts only if its timeout ends within them, so a sweep run by
   * a Lambda ends before the Lambda's own timeout. Instances not reached are counted in `not_checked`; the
   * least recently checked go first, so the next sweep reaches them.
   */
  readonly budgetMs?: number;
}

/** One instance's check in a sweep. */
export interface InstanceCheckOutcome {
  readonly name: string;
  readonly instance_id: string;
  readonly health_url: string;
  readonly previous_status: HealthStatus;
  /** The instance's status after this check (foldHealth: with hysteresis). */
  readonly status: CheckedStatus;
  readonly check: HealthCheck;
  /** False when the instance was deregistered during the sweep (nothing written) or the write failed. */
  readonly recorded: boolean;
  /** Why the write failed (a deregistered instance is no failure: it has no error). */
  readonly error?: string;
}

export interface SweepSummary {
  readonly started_at: string;
  readonly finished_at: string;
  readonly duration_ms: number;
  /** Instances probed. */
  readonly checked: number;
  /** Their statuses after the sweep. */
  readonly by_status: Readonly<Record<CheckedStatus, number>>;
  /** Instances whose status changed. */
  readonly changed: number;
  /** Registrations past their TTL: neither probed nor written (DynamoDB's TTL deletes them in AWS). */
  readonly skipped_expired: number;
  /** Live instances the deadline left unprobed. */
  readonly not_checked: number;
  /** Instances deregistered while they were probed: nothing was written for them. */
  readonly gone: number;
  /** Checks whose write failed (the registry table unreachable...). */
  readonly write_failures: number;
  readonly instances: readonly InstanceCheckOutcome[];
}

/** Runs one health sweep: every live instance (or one service's) probed, classified and recorded. */
export type HealthSweep = (request?: SweepRequest) => Promise<SweepSummary>;

/**
 * The health sweep use case. Reads every instance (one listing query), skips those past their TTL, probes
 * the others' `url + health_path` at most `concurrency` at a time (least recently checked first), and
 * records each result (one write per instance): DynamoDB work is 1 + N calls for N live instances.
 *
 * Expired instances are not removed here: in AWS DynamoDB's TTL deletes them, every read already filters
 * them out, and a delete here could race a renewal (the port's `remove` is unconditional). Locally they stay
 * stored but invisible, as the emulator has no TTL.
 *
 * Two sweeps at once (the schedule and `POST /registry/health-check`) may each fold into the same stored
 * health; the later write wins and the other check is missing from the history. Harmless: both saw the
 * same instance within moments.
 */
export function createHealthSweep(deps: HealthSweepDeps, settings: HealthSweepSettings = {}): HealthSweep {
  const concurrency = positiveInteger(settings.concurrency ?? DEFAULT_SWEEP_CONCURRENCY, 'concurrency');
  const timeoutMs = positiveInteger(settings.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS, 'timeoutMs');
  const { clock, probe, registry } = deps;

  const checkOne = async (instance: ServiceInstance): Promise<InstanceCheckOutcome> => {
    const healthUrl = `${instance.url}${instance.health_path}`;
    // With the instance, the probe can send its credential (to its own origin and base path only).
    const result = await probe.probe(healthUrl, timeoutMs, instance.auth === undefined ? { url: instance.url } : { url: instance.url, auth: instance.auth });
    const check = classifyProbe(result, clock.now(), settings);
    const health = foldHealth(instance.health, check, settings);
    const outcome = { name: instance.name, instance_id: instance.instance_id, health_url: healthUrl, previous_status: instance.health.status, status: health.status, check };
    try {
      const recorded = await registry.recordHealth(instance.name, instance.instance_id, health);
      return { ...outcome, recorded };
    } catch (error) {
      return { ...outcome, recorded: false, error: error instanceof Error ? error.message : String(error) };
    }
  };

  return async (request = {}) => {
    const startedAt = clock.now();
    const stored = request.name === undefined ? await registry.list() : await registry.instancesOf(request.name);
    const live = stored.filter((instance) => !isExpired(instance, startedAt));
    if (request.name !== undefined && live.length === 0) throw new NotFoundError(`service '${request.name}' is not registered`);
    // Never-checked instances first, then the stalest: a sweep cut short by its deadline leaves the freshest.
    const queue = [...live].sort((a, b) => compare(a.health.checked_at ?? '', b.health.checked_at ?? '') || compare(a.name, b.name) || compare(a.instance_id, b.instance_id));
    const latestStart = request.budgetMs === undefined ? undefined : new Date(Date.parse(startedAt) + request.budgetMs - timeoutMs).toISOString();

    const outcomes: InstanceCheckOutcome[] = [];
    let next = 0;
    let notChecked = 0;
    const worker = async () => {
      while (next < queue.length) {
        if (latestStart !== undefined && clock.now() > latestStart) {
          notChecked += queue.length - next;
          next = queue.length;
          return;
        }
        const instance = queue[next++]!;
        outcomes.push(await checkOne(instance));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));

    const finishedAt = clock.now();
    const byStatus: Record<CheckedStatus, number> = { healthy: 0, degraded: 0, unhealthy: 0 };
    for (const outcome of outcomes) byStatus[outcome.status]++;
    outcomes.sort((a, b) => compare(a.name, b.name) || compare(a.instance_id, b.instance_id));
    return {
      started_at: startedAt,
      finished_at: finishedAt,
      duration_ms: Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt)),
      checked: outcomes.length,
      by_status: byStatus,
      changed: outcomes.filter((outcome) => outcome.status !== outcome.previous_status).length,
      skipped_expired: stored.length - live.length,
      not_checked: notChecked,
      gone: outcomes.filter((outcome) => !outcome.recorded && outcome.error === undefined).length,
      write_failures: outcomes.filter((outcome) => outcome.error !== undefined).length,
      instances: outcomes,
    };
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`invalid health sweep setting: ${name} must be a positive integer, got ${value}`);
  return value;
}
