import type { Span } from './spans.ts';
import type { LatencySummary, TracingStats } from './tracing-service.ts';

/** The arithmetic of `/infrastructure/tracing/stats`: pure functions over spans. */

/** Categories counted as calls to a service (the called service's name is the span's `service`). */
const CALL_CATEGORIES: ReadonlySet<string> = new Set(['service_call', 'proxy']);

/** Run statuses (a run span's `status` attribute) counted as failed; a run without one counts as failed when its span is an error. */
export const FAILED_RUN_STATUSES: ReadonlySet<string> = new Set(['failed', 'timed_out']);

/**
 * The nearest-rank percentile (`p` from 0 to 100) of values sorted ascending: the smallest value with at least
 * p% of the values at or below it (rank ceil(p/100 x n), 1-based; the first value for p = 0). 0 for no values.
 */
export function nearestRank(sortedAscending: readonly number[], p: number): number {
  if (sortedAscending.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sortedAscending.length));
  return sortedAscending[Math.min(rank, sortedAscending.length) - 1]!;
}

/** p50, p95, p99 (nearest rank), mean (to 0.01) and max of durations in milliseconds; all 0 for none. */
export function latencySummary(durations: readonly number[]): LatencySummary {
  if (durations.length === 0) return { p50: 0, p95: 0, p99: 0, mean: 0, max: 0 };
  const sorted = [...durations].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    p50: nearestRank(sorted, 50),
    p95: nearestRank(sorted, 95),
    p99: nearestRank(sorted, 99),
    mean: round(sum / sorted.length, 2),
    max: sorted[sorted.length - 1]!,
  };
}

/** errors / calls, 0 to 1 to four decimals; 0 when there were no calls. */
export function errorRate(errors: number, calls: number): number {
  return calls === 0 ? 0 : round(errors / calls, 4);
}

/** Whether a run span is of a failed run: its `status` attribute, else its span status. */
export function isFailedRun(span: Span): boolean {
  const status = span.attributes['status'];
  return typeof status === 'string' ? FAILED_RUN_STATUSES.has(status) : span.status === 'error';
}

/**
 * Per service (calls of category service_call and proxy): calls, errors (spans ending in `error`), error
 * rate and latency; per workflow (spans of category run with a workflow_id): runs, failed runs and mean
 * duration. Each list is sorted by name. Other spans are ignored.
 */
export function summarizeSpans(spans: readonly Span[]): Pick<TracingStats, 'services' | 'workflows'> {
  const services = new Map<string, { errors: number; durations: number[] }>();
  const workflows = new Map<string, { runs: number; failed: number; total: number }>();
  for (const span of spans) {
    if (CALL_CATEGORIES.has(span.category)) {
      const entry = services.get(span.service) ?? { errors: 0, durations: [] };
      entry.durations.push(span.duration_ms);
      if (span.status === 'error') entry.errors += 1;
      services.set(span.service, entry);
    } else if (span.category === 'run' && span.workflow_id !== undefined) {
      const entry = workflows.get(span.workflow_id) ?? { runs: 0, failed: 0, total: 0 };
      entry.runs += 1;
      entry.total += span.duration_ms;
      if (isFailedRun(span)) entry.failed += 1;
      workflows.set(span.workflow_id, entry);
    }
  }
  const byName = <T>(entries: Map<string, T>) => [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    services: byName(services).map(([service, { errors, durations }]) => ({
      service,
      calls: durations.length,
      errors,
      error_rate: errorRate(errors, durations.length),
      latency_ms: latencySummary(durations),
    })),
    workflows: byName(workflows).map(([workflow_id, { runs, failed, total }]) => ({ workflow_id, runs, failed, mean_duration_ms: round(total / runs, 2) })),
  };
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
