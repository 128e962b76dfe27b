import type { Secured } from './services.ts';
import type { MetricsExposition } from './observability-services.ts';
import { handlerFactory, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';

/**
 * `GET /metrics`: the Prometheus text exposition (format 0.0.4) of what this process measures, its gauges
 * (registry, dead letters, workflows) read at the request. Sent as it is, with the route's media type.
 */
export function createMetricsHandlers({ metrics, security }: { metrics: MetricsExposition } & Secured) {
  const handle = handlerFactory(security);
  return {
    getMetrics: handle(routes.getMetrics, async () => ({
      message: 'metrics',
      data: await metrics.render(),
      raw: true,
      contentType: routes.getMetrics.mediaType,
    })),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}
