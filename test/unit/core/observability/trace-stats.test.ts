import { describe, expect, it } from 'vitest';
import type { Span } from '../../../../core/observability/spans.ts';
import { errorRate, isFailedRun, latencySummary, nearestRank, summarizeSpans } from '../../../../core/observability/trace-stats.ts';

let next = 0;
function span(overrides: Partial<Span>): Span {
  next += 1;
  return {
    trace_id: 'a'.repeat(32),
    span_id: next.toString(16).padStart(16, '0'),
    name: 'call',
    kind: 'client',
    category: 'service_call',
    service: 'pay',
    start: '2026-11-25T12:00:00.000Z',
    end: '2026-11-25T12:00:00.010Z',
    duration_ms: 10,
    status: 'ok',
    attributes: {},
    ...overrides,
  };
}

describe('nearest-rank percentiles', () => {
  const oneToHundred = Array.from({ length: 100 }, (_, index) => index + 1);

  it('of 1..100 ms are 50, 95 and 99, with mean 50.5 and max 100', () => {
    expect(latencySummary(oneToHundred)).toEqual({ p50: 50, p95: 95, p99: 99, mean: 50.5, max: 100 });
  });

  it('do not depend on the order of the durations', () => {
    const shuffled = [...oneToHundred].sort((a, b) => ((a * 7919) % 101) - ((b * 7919) % 101));
    expect(shuffled).not.toEqual(oneToHundred);
    expect(latencySummary(shuffled)).toEqual(latencySummary(oneToHundred));
  });

  it('are a value of the list, the smallest with at least p% at or below it', () => {
    expect(nearestRank([10, 20, 30, 40], 50)).toBe(20);
    expect(nearestRank([10, 20, 30, 40], 51)).toBe(30);
    expect(nearestRank([10, 20, 30, 40], 99)).toBe(40);
    expect(nearestRank([10, 20, 30, 40], 0)).toBe(10);
    expect(nearestRank([7], 99)).toBe(7);
    expect(nearestRank([], 50)).toBe(0);
  });

  it('of one slow call among fast ones show it at p99 and max only', () => {
    const durations = [...Array.from({ length: 99 }, () => 5), 2000];
    expect(latencySummary(durations)).toEqual({ p50: 5, p95: 5, p99: 5, mean: 24.95, max: 2000 });
    expect(latencySummary([...durations, 2000])).toMatchObject({ p99: 2000 });
  });

  it('are all zero without calls', () => {
    expect(latencySummary([])).toEqual({ p50: 0, p95: 0, p99: 0, mean: 0, max: 0 });
  });
});

describe('error rate', () => {
  it('is errors over calls, to four decimals, and 0 without calls', () => {
    expect(errorRate(1, 4)).toBe(0.25);
    expect(errorRate(1, 3)).toBe(0.3333);
    expect(errorRate(0, 0)).toBe(0);
    expect(errorRate(5, 5)).toBe(1);
  });
});

describe('summarizeSpans', () => {
  it('counts calls, errors and latency per service, service calls and proxied requests alike', () => {
    const spans = [
      span({ service: 'pay', duration_ms: 10 }),
      span({ service: 'pay', duration_ms: 30, status: 'error' }),
      span({ service: 'pay', duration_ms: 20, category: 'proxy', kind: 'server' }),
      span({ service: 'pay', duration_ms: 40, status: 'error' }),
      span({ service: 'ship', duration_ms: 7 }),
      // Not calls: the orchestrator's own work.
      span({ service: 'pay', category: 'action', kind: 'internal', duration_ms: 999, status: 'error' }),
      span({ service: 'orchestrator', category: 'request', kind: 'server', duration_ms: 999 }),
    ];
    expect(summarizeSpans(spans).services).toEqual([
      { service: 'pay', calls: 4, errors: 2, error_rate: 0.5, latency_ms: { p50: 20, p95: 40, p99: 40, mean: 25, max: 40 } },
      { service: 'ship', calls: 1, errors: 0, error_rate: 0, latency_ms: { p50: 7, p95: 7, p99: 7, mean: 7, max: 7 } },
    ]);
  });

  it('counts runs, failed runs and the mean duration per workflow', () => {
    const run = (workflow_id: string | undefined, duration_ms: number, status?: string, spanStatus: Span['status'] = 'ok') =>
      span({ category: 'run', kind: 'internal', service: 'orchestrator', workflow_id, duration_ms, status: spanStatus, attributes: status === undefined ? {} : { status } });
    const spans = [
      run('orders', 100, 'completed'),
      run('orders', 200, 'failed', 'error'),
      run('orders', 301, 'timed_out', 'error'),
      run('orders', 400, 'cancelled'),
      run('billing', 50, undefined, 'error'),
      run('billing', 25, undefined),
      run(undefined, 1000, 'failed'),
    ];
    expect(summarizeSpans(spans).workflows).toEqual([
      { workflow_id: 'billing', runs: 2, failed: 1, mean_duration_ms: 37.5 },
      { workflow_id: 'orders', runs: 4, failed: 2, mean_duration_ms: 250.25 },
    ]);
    expect(summarizeSpans(spans).services).toEqual([]);
  });

  it('reads a run as failed from its status attribute first, its span status otherwise', () => {
    expect(isFailedRun(span({ category: 'run', attributes: { status: 'failed' } }))).toBe(true);
    expect(isFailedRun(span({ category: 'run', status: 'error', attributes: { status: 'cancelled' } }))).toBe(false);
    expect(isFailedRun(span({ category: 'run', status: 'error' }))).toBe(true);
    expect(isFailedRun(span({ category: 'run', status: 'ok' }))).toBe(false);
  });
});
