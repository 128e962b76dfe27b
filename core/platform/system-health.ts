import type { Clock, DependencyProbe, ServiceRegistry } from '../ports.ts';
import { groupServices, isExpired, type CircuitStateName, type HealthStatus } from '../registry/model.ts';

/**
 * The orchestrator's health as a whole (`GET /health/system`): its own dependencies, probed now, and every
 * registered service's health as the last sweep stored it (not probed now: that is the sweep's job, and a
 * status page must stay cheap to call).
 */

export type OverallStatus = 'healthy' | 'degraded' | 'unhealthy';

/** A dependency probe's limit: a table, queue or bus that takes longer is as good as down for the API. */
export const DEFAULT_DEPENDENCY_TIMEOUT_MS = 2000;

export interface DependencyReport {
  readonly name: string;
  readonly kind: DependencyProbe['kind'];
  readonly status: 'healthy' | 'unhealthy';
  readonly latency_ms: number;
  readonly error?: string;
}

export interface InstanceHealthSummary {
  readonly instance_id: string;
  readonly url: string;
  readonly status: HealthStatus;
  readonly checked_at?: string;
  readonly latency_ms?: number | null;
  readonly detail?: string;
  readonly consecutive_failures: number;
  readonly circuit: CircuitStateName;
}

export interface ServiceHealthSummary {
  readonly name: string;
  readonly status: HealthStatus;
  readonly instances: readonly InstanceHealthSummary[];
}

export interface SystemHealthReport {
  /**
   * unhealthy: one of the orchestrator's own dependencies is unreachable; degraded: they all answer, but a
   * registered service is degraded or unhealthy; healthy otherwise (services never checked yet count as
   * neither).
   */
  readonly status: OverallStatus;
  readonly checked_at: string;
  readonly dependencies: readonly DependencyReport[];
  readonly services: {
    readonly total: number;
    readonly by_status: Readonly<Record<HealthStatus, number>>;
    readonly items: readonly ServiceHealthSummary[];
    /** Why services could not be listed (the registry table is unreachable). */
    readonly error?: string;
  };
}

export interface SystemHealthDeps {
  readonly dependencies: readonly DependencyProbe[];
  readonly registry: Pick<ServiceRegistry, 'list'>;
  readonly clock: Clock;
  /** Default DEFAULT_DEPENDENCY_TIMEOUT_MS. */
  readonly dependencyTimeoutMs?: number;
}

export type SystemHealth = () => Promise<SystemHealthReport>;

/** Probes every dependency and reads every service's stored health, all at once. */
export function createSystemHealth({ dependencies, registry, clock, dependencyTimeoutMs = DEFAULT_DEPENDENCY_TIMEOUT_MS }: SystemHealthDeps): SystemHealth {
  return async () => {
    const checkedAt = clock.now();
    const [reports, listing] = await Promise.all([
      probeDependencies(dependencies, dependencyTimeoutMs),
      registry.list().then(
        (instances) => ({ instances: instances.filter((instance) => !isExpired(instance, checkedAt)) }),
        (error: unknown) => ({ instances: [], error: error instanceof Error ? error.message : String(error) }),
      ),
    ]);
    const services = groupServices(listing.instances).map(
      (service): ServiceHealthSummary => ({
        name: service.name,
        status: service.status,
        instances: service.instances.map((instance) => ({
          instance_id: instance.instance_id,
          url: instance.url,
          status: instance.health.status,
          ...(instance.health.checked_at === undefined ? {} : { checked_at: instance.health.checked_at }),
          ...(instance.health.latency_ms === undefined ? {} : { latency_ms: instance.health.latency_ms }),
          ...(instance.health.detail === undefined ? {} : { detail: instance.health.detail }),
          consecutive_failures: instance.health.consecutive_failures,
          circuit: instance.circuit.state,
        })),
      }),
    );
    const byStatus: Record<HealthStatus, number> = { healthy: 0, degraded: 0, unhealthy: 0, unknown: 0 };
    for (const service of services) byStatus[service.status]++;
    return {
      status: overallStatus(reports, services),
      checked_at: checkedAt,
      dependencies: reports,
      services: { total: services.length, by_status: byStatus, items: services, ...('error' in listing ? { error: listing.error } : {}) },
    };
  };
}

/** Probes every dependency at once, each within `timeoutMs`; never throws (an unreachable one is a report). */
export function probeDependencies(dependencies: readonly DependencyProbe[], timeoutMs: number = DEFAULT_DEPENDENCY_TIMEOUT_MS): Promise<DependencyReport[]> {
  return Promise.all(
    dependencies.map(async (dependency): Promise<DependencyReport> => {
      const check = await dependency.check(timeoutMs);
      return {
        name: dependency.name,
        kind: dependency.kind,
        status: check.reachable ? 'healthy' : 'unhealthy',
        latency_ms: check.latency_ms,
        ...(check.error === undefined ? {} : { error: check.error }),
      };
    }),
  );
}

/**
 * Readiness (`GET /ready`): whether every dependency answers now, for load balancers and orchestrators that
 * route traffic by it. Public, so it names what is not ready but never says why (GET /health/system does).
 */
export interface ReadinessReport {
  readonly status: 'ready' | 'not_ready';
  readonly checked_at: string;
  readonly dependencies: readonly { readonly name: string; readonly kind: DependencyProbe['kind']; readonly ready: boolean; readonly latency_ms: number }[];
}

export type Readiness = () => Promise<ReadinessReport>;

export function createReadiness({ dependencies, clock, dependencyTimeoutMs = DEFAULT_DEPENDENCY_TIMEOUT_MS }: Omit<SystemHealthDeps, 'registry'>): Readiness {
  return async () => {
    const checkedAt = clock.now();
    const reports = await probeDependencies(dependencies, dependencyTimeoutMs);
    return {
      status: reports.every((report) => report.status === 'healthy') ? 'ready' : 'not_ready',
      checked_at: checkedAt,
      dependencies: reports.map((report) => ({ name: report.name, kind: report.kind, ready: report.status === 'healthy', latency_ms: report.latency_ms })),
    };
  };
}

/** See SystemHealthReport.status. */
export function overallStatus(dependencies: readonly Pick<DependencyReport, 'status'>[], services: readonly Pick<ServiceHealthSummary, 'status'>[]): OverallStatus {
  if (dependencies.some((dependency) => dependency.status !== 'healthy')) return 'unhealthy';
  if (services.some((service) => service.status === 'degraded' || service.status === 'unhealthy')) return 'degraded';
  return 'healthy';
}
