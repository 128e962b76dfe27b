import { NotFoundError } from '../errors.ts';
import type { Clock, SpanStore } from '../ports.ts';
import { durationBetween, type Span, type SpanAttributeValue } from './spans.ts';
import { summarizeSpans } from './trace-stats.ts';
import { traceTree } from './trace-tree.ts';

/**
 * The use cases behind `/infrastructure/tracing/*`: a trace's span tree, one service's recent calls, and the
 * statistics over a window. Reads the SpanStore port only.
 */

export interface TraceView {
  readonly trace_id: string;
  readonly span_count: number;
  readonly root_span_ids: readonly string[];
  readonly start: string;
  readonly end: string;
  readonly duration_ms: number;
  /** Depth first: each span followed by its children, oldest first. */
  readonly spans: readonly (Span & { readonly depth: number })[];
  readonly truncated: boolean;
}

export interface ServiceCallView {
  readonly trace_id: string;
  readonly span_id: string;
  readonly execution_id?: string;
  readonly workflow_id?: string;
  readonly action_id?: string;
  readonly name: string;
  readonly start: string;
  readonly duration_ms: number;
  readonly outcome: 'ok' | 'error';
  readonly status_code?: number;
  readonly error?: string;
  readonly attempt?: number;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly mean: number;
  readonly max: number;
}

export interface TracingStats {
  readonly since: string;
  readonly until: string;
  readonly spans_read: number;
  readonly truncated: boolean;
  readonly services: readonly { readonly service: string; readonly calls: number; readonly errors: number; readonly error_rate: number; readonly latency_ms: LatencySummary }[];
  readonly workflows: readonly { readonly workflow_id: string; readonly runs: number; readonly failed: number; readonly mean_duration_ms: number }[];
}

/** Who asks: a tenant's members read its spans only; admins (tenant undefined) read every tenant's. */
export interface TracingScope {
  readonly tenant?: string;
}

export interface TracingService {
  /** Throws NotFoundError when no span of the trace is visible to the caller. */
  trace(traceId: string, scope: TracingScope): Promise<TraceView>;
  serviceCalls(service: string, query: TracingScope & { readonly since?: string; readonly limit: number; readonly cursor?: string }): Promise<{ readonly calls: readonly ServiceCallView[]; readonly nextCursor?: string }>;
  /** `since` defaults to one hour before now. */
  stats(query: TracingScope & { readonly since?: string }): Promise<TracingStats>;
}

export type { SpanAttributeValue };

/** The most spans a trace view holds; a trace with more says `truncated`. */
export const TRACE_SPAN_LIMIT = 1000;
/** The most spans the statistics read; a window with more says `truncated` and covers the newest. */
export const STATS_SPAN_LIMIT = 10_000;
/** The statistics window when no `since` is given. */
export const DEFAULT_STATS_WINDOW_MS = 3_600_000;

export interface TracingServiceDeps {
  readonly spans: SpanStore;
  readonly clock: Clock;
}

/** The tracing use cases over a span store. */
export function createTracingService(deps: TracingServiceDeps): TracingService {
  return {
    async trace(traceId, scope) {
      // One more than is shown: whether the trace holds more is known without a second read.
      const read = await deps.spans.trace(traceId, scope, TRACE_SPAN_LIMIT + 1);
      if (read.length === 0) throw new NotFoundError(`trace ${traceId} not found: no span of it is recorded${scope.tenant === undefined ? '' : ` for tenant ${scope.tenant}`} (spans are kept for a limited time)`);
      const truncated = read.length > TRACE_SPAN_LIMIT;
      const tree = traceTree(truncated ? read.slice(0, TRACE_SPAN_LIMIT) : read);
      const start = tree.spans.reduce((earliest, span) => (Date.parse(span.start) < Date.parse(earliest) ? span.start : earliest), tree.spans[0]!.start);
      const end = tree.spans.reduce((latest, span) => (Date.parse(span.end) > Date.parse(latest) ? span.end : latest), tree.spans[0]!.end);
      return { trace_id: traceId, span_count: tree.spans.length, root_span_ids: tree.roots, start, end, duration_ms: durationBetween(start, end), spans: tree.spans, truncated };
    },

    async serviceCalls(service, query) {
      const page = await deps.spans.serviceCalls(service, query);
      return { calls: page.items.map(serviceCallView), ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) };
    },

    async stats(query) {
      const until = deps.clock.now();
      const since = query.since ?? new Date(Date.parse(until) - DEFAULT_STATS_WINDOW_MS).toISOString();
      const window = await deps.spans.window({ ...(query.tenant === undefined ? {} : { tenant: query.tenant }), since, limit: STATS_SPAN_LIMIT });
      return { since, until, spans_read: window.spans.length, truncated: window.truncated, ...summarizeSpans(window.spans) };
    },
  };
}

/**
 * What one service-call span says of the call. The recorder's attribute keys: `action_id`, `attempt`,
 * `http.status_code` (or `status_code`), `error.name` (or `error`), `http.method`, `url`.
 */
export function serviceCallView(span: Span): ServiceCallView {
  const attributes = span.attributes;
  const statusCode = integerOf(attributes['http.status_code']) ?? integerOf(attributes['status_code']);
  const attempt = integerOf(attributes['attempt']);
  const actionId = stringOf(attributes['action_id']);
  const error = stringOf(attributes['error.name']) ?? stringOf(attributes['error']);
  return {
    trace_id: span.trace_id,
    span_id: span.span_id,
    ...(span.execution_id === undefined ? {} : { execution_id: span.execution_id }),
    ...(span.workflow_id === undefined ? {} : { workflow_id: span.workflow_id }),
    ...(actionId === undefined ? {} : { action_id: actionId }),
    name: span.name,
    start: span.start,
    duration_ms: span.duration_ms,
    outcome: span.status === 'error' ? 'error' : 'ok',
    ...(statusCode === undefined ? {} : { status_code: statusCode }),
    ...(error === undefined ? {} : { error }),
    ...(attempt === undefined ? {} : { attempt }),
  };
}

/** An integer attribute, also when it was recorded as digits. */
function integerOf(value: SpanAttributeValue | undefined): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : undefined;
  return number !== undefined && Number.isSafeInteger(number) ? number : undefined;
}

function stringOf(value: SpanAttributeValue | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
