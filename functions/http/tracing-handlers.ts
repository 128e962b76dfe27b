import { scopeOf } from '../../core/auth/model.ts';
import type { TracingService } from '../../core/observability/tracing-service.ts';
import { handlerFactory, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import type { Secured } from './services.ts';

export interface TracingHttpServices extends Secured {
  /** The tracing use cases over the span store (core/observability/tracing-service.ts). */
  readonly tracing: TracingService;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/**
 * `/infrastructure/tracing/*`: a trace's span tree, one service's recent calls, the statistics. A tenant's
 * members read their tenant's spans only; admins every tenant's, or one tenant's with `tenant=`.
 */
export function createTracingHandlers(services: TracingHttpServices) {
  const handle = handlerFactory(services.security);
  return {
    getTrace: handle(routes.getTrace, async ({ params, caller }) => {
      const trace = await services.tracing.trace(params.trace_id, scopeOf(caller));
      return { message: `trace ${trace.trace_id}: ${plural(trace.span_count, 'span')}${trace.truncated ? ' (truncated)' : ''}`, data: trace };
    }),

    getServiceTraces: handle(routes.getServiceTraces, async ({ params, query, caller }) => {
      const { tenant, next_token: cursor, since, limit } = query;
      const page = await services.tracing.serviceCalls(params.service_name, {
        ...scopeOf(caller, tenant),
        limit,
        ...(since === undefined ? {} : { since }),
        ...(cursor === undefined ? {} : { cursor }),
      });
      return {
        message: `${plural(page.calls.length, 'call')} to ${params.service_name}`,
        data: { service: params.service_name, calls: page.calls, count: page.calls.length, next_token: page.nextCursor ?? null },
      };
    }),

    getTracingStats: handle(routes.getTracingStats, async ({ query, caller }) => {
      const { tenant, since } = query;
      const stats = await services.tracing.stats({ ...scopeOf(caller, tenant), ...(since === undefined ? {} : { since }) });
      return { message: `${plural(stats.spans_read, 'span')} since ${stats.since}${stats.truncated ? ' (truncated: the newest only)' : ''}`, data: stats };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}
