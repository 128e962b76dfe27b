import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { ORCHESTRATOR_SERVICE, parseTraceparent } from '../../core/observability/spans.ts';
import type { Log } from '../../core/ports.ts';
import type { HttpResponse } from '../middleware/envelope.ts';
import { withLogContext } from './log-context.ts';
import { NO_SPANS, openSpan, type SpanRecorder } from './span-recorder.ts';
import { newSpanId, newTraceId } from './trace-ids.ts';

/** What the request observation feeds: the spans, and the HTTP metrics. */
export interface RequestObserver {
  readonly spans: SpanRecorder;
  readonly httpRequest?: (route: string, method: string, status: number, seconds: number) => void;
  /**
   * Export the spans before answering: a Lambda is frozen as soon as it has answered, so what it buffered
   * would wait for its next request (or be lost with it). The local server exports on a timer.
   */
  readonly flushBeforeAnswer?: boolean;
  /**
   * The access log: one line per answered request (method, route, status, duration), `error` for a 5xx, `debug`
   * for the probes load balancers send (`/health`, `/ready`), `info` for the rest.
   */
  readonly log?: Log;
}

const PROBE_ROUTES: ReadonlySet<string> = new Set(['health', 'ready']);

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<HttpResponse>;

/**
 * Wraps a route's whole handler (every middleware included, so refusals and errors count with the status the
 * caller got): a server span named `<METHOD> <path template>` that continues the caller's `traceparent` (a
 * new trace when it sent none or an invalid one), the log context (request, trace and span ids, the route)
 * around everything the request does, and the request's metrics. The trace and span ids are what handlers
 * read from the log context to pass on (a run started by the request continues its trace).
 */
export function observeRequests(routeName: string, route: { readonly method: string; readonly path: string }, handler: Handler, observer: RequestObserver | undefined): Handler {
  if (observer === undefined) return handler;
  const spans = observer.spans;
  const routeLabel = `${route.method} ${route.path}`;
  return async (event, context) => {
    const caller = parseTraceparent(headerOf(event, 'traceparent'));
    const traceId = caller?.trace_id ?? newTraceId();
    const requestId = event.requestContext?.requestId || context.awsRequestId;
    const started = performance.now();
    const span = spans.enabled
      ? openSpan(spans, {
          name: routeLabel,
          kind: 'server',
          category: 'request',
          service: ORCHESTRATOR_SERVICE,
          trace_id: traceId,
          ...(caller ? { parent_span_id: caller.span_id } : {}),
          ...tenantOf(event),
          attributes: { 'http.method': route.method, 'http.route': route.path, route: routeName, request_id: requestId },
        })
      : undefined;
    // Tracing off: the caller's span stays the parent of what the request starts.
    const spanId = span?.span_id ?? caller?.span_id ?? newSpanId();
    let status = 500;
    try {
      const response = await withLogContext({ request_id: requestId, trace_id: traceId, span_id: spanId, route: routeLabel }, () => handler(event, context));
      status = response.statusCode;
      return response;
    } finally {
      span?.end(status >= 500 ? 'error' : 'ok', { 'http.status_code': status });
      recordAnswer(observer, { routeName, method: route.method, route: routeLabel, status, seconds: (performance.now() - started) / 1000, request_id: requestId, trace_id: traceId, ...tenantOf(event) });
      if (observer.flushBeforeAnswer && spans !== NO_SPANS) await spans.flush();
    }
  };
}

/** One answered request as the metrics and the access log see it. */
export interface AnsweredRequest {
  /** The route table's name, or `unmatched`: the metric label. */
  readonly routeName: string;
  readonly method: string;
  /** `<METHOD> <path template>`, or the path itself when no route matched: the access line's `route`. */
  readonly route: string;
  readonly status: number;
  readonly seconds: number;
  readonly request_id: string;
  readonly trace_id?: string;
  readonly tenant?: string;
}

/**
 * Counts and logs one answered request: the observer's for handlers' answers, and the local server's for the
 * answers it gives itself (unknown paths, refusals), so that both are measured and logged alike.
 */
export function recordAnswer(observer: Pick<RequestObserver, 'httpRequest' | 'log'>, answer: AnsweredRequest): void {
  const { routeName, method, seconds, ...line } = answer;
  observer.httpRequest?.(routeName, method, answer.status, seconds);
  observer.log?.({ level: answer.status >= 500 ? 'error' : PROBE_ROUTES.has(routeName) ? 'debug' : 'info', message: 'request answered', ...line, duration_ms: Math.round(seconds * 10_000) / 10 });
}

function headerOf(event: APIGatewayProxyEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const direct = headers[name];
  if (direct !== undefined) return direct;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** The tenant the authorizer (or the local gate) verified; a public route's caller has none (the platform's span). */
function tenantOf(event: APIGatewayProxyEvent): { tenant?: string } {
  const tenant: unknown = (event.requestContext?.authorizer as Record<string, unknown> | null | undefined)?.['tenant'];
  return typeof tenant === 'string' && tenant !== '' ? { tenant } : {};
}
