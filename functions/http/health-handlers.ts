import type { Secured } from './services.ts';
import type { Readiness, SystemHealth } from '../../core/platform/system-health.ts';
import type { HealthSweep } from '../../core/registry/health-sweep.ts';
import { handlerFactory, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';

/**
 * How long `POST /registry/health-check` may sweep: API functions stop at 10 s (infra/constructs/api-function.ts).
 * No probe starts that could outlast it; instances it leaves are counted as `not_checked` and come first in
 * the next sweep.
 */
export const HTTP_SWEEP_BUDGET_MS = 8000;

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** `POST /registry/health-check`: the registry context (its Lambda gets the registry table only). */
export function createHealthCheckHandlers({ healthSweep, security }: { healthSweep: HealthSweep } & Secured) {
  const handle = handlerFactory(security);
  return {
    runHealthCheck: handle(routes.runHealthCheck, async ({ query }) => {
      const summary = await healthSweep({ ...(query.name === undefined ? {} : { name: query.name }), budgetMs: HTTP_SWEEP_BUDGET_MS });
      const { healthy, degraded, unhealthy } = summary.by_status;
      const left = summary.not_checked > 0 ? `; ${summary.not_checked} left for the next sweep` : '';
      return {
        message: `${plural(summary.checked, 'instance')} checked${query.name === undefined ? '' : ` of service '${query.name}'`}: ${healthy} healthy, ${degraded} degraded, ${unhealthy} unhealthy (${summary.changed} changed)${left}`,
        data: summary,
      };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}

/** `GET /ready`: the platform context (every table read, the dead-letter queue and the bus probed). */
export function createReadinessHandlers({ readiness, security }: { readiness: Readiness } & Secured) {
  const handle = handlerFactory(security);
  return {
    ready: handle(routes.ready, async () => {
      const report = await readiness();
      const down = report.dependencies.filter((dependency) => !dependency.ready).map((dependency) => dependency.name);
      return {
        message: down.length === 0 ? 'orchestrator is ready' : `orchestrator is not ready: ${down.join(', ')} not ready`,
        data: { status: report.status, checked_at: report.checked_at, dependencies: report.dependencies.map((dependency) => ({ ...dependency })) },
        status: report.status === 'ready' ? 200 : 503,
      };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}

/** `GET /health/system`: the platform context (every table read, the dead-letter queue and the bus probed). */
export function createSystemHealthHandlers({ systemHealth, serviceVersion, security }: { systemHealth: SystemHealth; serviceVersion: string } & Secured) {
  const handle = handlerFactory(security);
  return {
    systemHealth: handle(routes.systemHealth, async () => {
      const report = await systemHealth();
      const down = report.dependencies.filter((dependency) => dependency.status !== 'healthy').map((dependency) => dependency.name);
      const troubled = report.services.items.filter((service) => service.status === 'degraded' || service.status === 'unhealthy').map((service) => `${service.name} (${service.status})`);
      const why = down.length > 0 ? `: ${down.join(', ')} unreachable` : troubled.length > 0 ? `: ${troubled.join(', ')}` : '';
      return {
        message: `orchestrator is ${report.status}${why}`,
        data: { status: report.status, service: 'orchestrator', version: serviceVersion, checked_at: report.checked_at, dependencies: report.dependencies, services: report.services },
        // 503 only for the orchestrator's own dependencies: a load balancer or monitor reading the status code
        // should not take the orchestrator out because a service it calls is down.
        status: report.status === 'unhealthy' ? 503 : 200,
      };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}

/** What both need, for runtimes that serve every route from one process. */
export interface HealthHttpServices extends Secured {
  readonly healthSweep: HealthSweep;
  readonly systemHealth: SystemHealth;
  readonly readiness: Readiness;
  readonly serviceVersion: string;
}

export function createHealthHandlers(services: HealthHttpServices) {
  return { ...createHealthCheckHandlers(services), ...createSystemHealthHandlers(services), ...createReadinessHandlers(services) };
}
