import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../../core/errors.ts';
import type { Span } from '../../../../core/observability/spans.ts';
import { createTracingService, serviceCallView } from '../../../../core/observability/tracing-service.ts';
import type { SpanPage, SpanScope, SpanStore, SpanWindow } from '../../../../core/ports.ts';

const NOW = '2026-11-25T12:30:00.000Z';
const TRACE = 'a1'.repeat(16);
const sid = (n: number) => (n + 1).toString(16).padStart(16, '0');
const at = (second: number) => new Date(Date.parse('2026-11-25T12:00:00.000Z') + second * 1000).toISOString();

function span(n: number, startSecond: number, endSecond: number, overrides: Partial<Span> = {}): Span {
  return {
    trace_id: TRACE,
    span_id: sid(n),
    name: `span ${n}`,
    kind: 'internal',
    category: 'action',
    service: 'orchestrator',
    start: at(startSecond),
    end: at(endSecond),
    duration_ms: (endSecond - startSecond) * 1000,
    status: 'ok',
    attributes: {},
    ...overrides,
  };
}

/** A span store answering from fixed data, remembering what it was asked. */
class FixedSpanStore implements SpanStore {
  readonly asked: unknown[] = [];
  private readonly spans: readonly Span[];
  private readonly windowAnswer: SpanWindow;
  private readonly page: SpanPage;
  constructor(spans: readonly Span[], windowAnswer: SpanWindow = { spans: [], truncated: false }, page: SpanPage = { items: [] }) {
    this.spans = spans;
    this.windowAnswer = windowAnswer;
    this.page = page;
  }
  record(): Promise<void> {
    return Promise.reject(new Error('read only'));
  }
  trace(traceId: string, scope: SpanScope, limit?: number): Promise<Span[]> {
    this.asked.push({ trace: traceId, scope, limit });
    return Promise.resolve(this.spans.filter((item) => item.trace_id === traceId && (scope.tenant === undefined || item.tenant === scope.tenant)).slice(0, limit));
  }
  serviceCalls(service: string, query: SpanScope & { since?: string; limit: number; cursor?: string }): Promise<SpanPage> {
    this.asked.push({ serviceCalls: service, ...query });
    return Promise.resolve(this.page);
  }
  window(query: SpanScope & { since: string; limit: number }): Promise<SpanWindow> {
    this.asked.push({ window: query });
    return Promise.resolve(this.windowAnswer);
  }
}

const clock = { now: () => NOW };
const order = (view: { spans: readonly (Span & { depth: number })[] }) => view.spans.map((item) => [item.span_id, item.depth]);

describe('TracingService.trace', () => {
  it('lists the tree depth first, children oldest first, with each span one deeper than its parent', async () => {
    // request(0) > run(1) > [action b(3) at 20s, action a(2) at 10s > call(4)]; given in no particular order.
    const spans = [
      span(3, 20, 25, { parent_span_id: sid(1) }),
      span(4, 11, 12, { parent_span_id: sid(2), category: 'service_call', service: 'pay' }),
      span(0, 0, 30, { category: 'request', kind: 'server' }),
      span(2, 10, 15, { parent_span_id: sid(1) }),
      span(1, 1, 29, { parent_span_id: sid(0), category: 'run' }),
    ];
    const view = await createTracingService({ spans: new FixedSpanStore(spans), clock }).trace(TRACE, {});
    expect(order(view)).toEqual([[sid(0), 0], [sid(1), 1], [sid(2), 2], [sid(4), 3], [sid(3), 2]]);
    expect(view).toMatchObject({ trace_id: TRACE, span_count: 5, root_span_ids: [sid(0)], start: at(0), end: at(30), duration_ms: 30_000, truncated: false });
  });

  it("makes a span whose parent is not in the trace (the caller's, or hidden) a root, roots oldest first", async () => {
    const spans = [
      span(1, 5, 9, { parent_span_id: 'ffffffffffffffff' }),
      span(2, 6, 7, { parent_span_id: sid(1) }),
      span(0, 0, 3),
      span(3, 4, 4.5, { parent_span_id: sid(0), tenant: 'globex' }),
      span(4, 4.2, 4.4, { parent_span_id: sid(3) }),
    ];
    const view = await createTracingService({ spans: new FixedSpanStore(spans), clock }).trace(TRACE, {});
    expect(order(view)).toEqual([[sid(0), 0], [sid(3), 1], [sid(4), 2], [sid(1), 0], [sid(2), 1]]);
    expect(view.root_span_ids).toEqual([sid(0), sid(1)]);
    // Without the span of another tenant, its child hangs from nothing visible: a root.
    const scoped = await createTracingService({ spans: new FixedSpanStore(spans.map((item) => (item.tenant === undefined ? { ...item, tenant: 'acme' } : item))), clock }).trace(TRACE, { tenant: 'acme' });
    expect(scoped.root_span_ids).toEqual([sid(0), sid(4), sid(1)]);
    expect(order(scoped)).toEqual([[sid(0), 0], [sid(4), 0], [sid(1), 0], [sid(2), 1]]);
  });

  it('places every span once even when stored parents form a cycle or a span is its own parent', async () => {
    const spans = [span(0, 0, 1), span(1, 2, 3, { parent_span_id: sid(2) }), span(2, 4, 5, { parent_span_id: sid(1) }), span(3, 6, 7, { parent_span_id: sid(3) }), span(4, 8, 9, { parent_span_id: sid(2) })];
    const view = await createTracingService({ spans: new FixedSpanStore(spans), clock }).trace(TRACE, {});
    expect(order(view)).toEqual([[sid(0), 0], [sid(3), 0], [sid(1), 0], [sid(2), 1], [sid(4), 2]]);
    expect(view.span_count).toBe(5);
    expect(view.root_span_ids).toEqual([sid(0), sid(3), sid(1)]);
  });

  it('asks for one span more than it shows, and says truncated when the trace has more than 1,000', async () => {
    const many = Array.from({ length: 1001 }, (_, n) => span(n, n, n + 1));
    const store = new FixedSpanStore(many);
    const view = await createTracingService({ spans: store, clock }).trace(TRACE, {});
    expect(store.asked).toEqual([{ trace: TRACE, scope: {}, limit: 1001 }]);
    expect(view.span_count).toBe(1000);
    expect(view.truncated).toBe(true);
    expect(view.end).toBe(at(1000));
    const exact = await createTracingService({ spans: new FixedSpanStore(many.slice(0, 1000)), clock }).trace(TRACE, {});
    expect(exact.truncated).toBe(false);
  });

  it('is NotFoundError when no span of the trace is visible to the caller', async () => {
    const service = createTracingService({ spans: new FixedSpanStore([span(0, 0, 1, { tenant: 'globex' })]), clock });
    await expect(service.trace(TRACE, { tenant: 'acme' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.trace('b2'.repeat(16), {})).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.trace(TRACE, {})).resolves.toMatchObject({ span_count: 1 });
  });
});

describe('TracingService.serviceCalls', () => {
  it('maps call spans to their views and passes the query and the cursor through', async () => {
    const call = span(0, 0, 0.25, {
      category: 'service_call',
      kind: 'client',
      service: 'pay',
      status: 'error',
      tenant: 'acme',
      workflow_id: 'orders',
      execution_id: 'exec-1',
      attributes: { action_id: 'charge', attempt: 2, 'http.status_code': 503, 'error.name': 'ServiceUnavailableError', 'http.method': 'POST', url: 'http://pay/charge' },
    });
    const store = new FixedSpanStore([], undefined, { items: [call], nextCursor: 'next' });
    const page = await createTracingService({ spans: store, clock }).serviceCalls('pay', { tenant: 'acme', since: at(-60), limit: 5, cursor: 'prev' });
    expect(store.asked).toEqual([{ serviceCalls: 'pay', tenant: 'acme', since: at(-60), limit: 5, cursor: 'prev' }]);
    expect(page).toEqual({
      calls: [{ trace_id: TRACE, span_id: sid(0), execution_id: 'exec-1', workflow_id: 'orders', action_id: 'charge', name: 'span 0', start: at(0), duration_ms: 250, outcome: 'error', status_code: 503, error: 'ServiceUnavailableError', attempt: 2 }],
      nextCursor: 'next',
    });
  });

  it('reads a status code recorded as digits or under status_code, and leaves out what is absent or malformed', () => {
    const base = span(0, 0, 1, { category: 'proxy', kind: 'server', service: 'pay' });
    expect(serviceCallView({ ...base, attributes: { status_code: '404', error: 'NotFound' } })).toMatchObject({ status_code: 404, error: 'NotFound', outcome: 'ok' });
    const bare = serviceCallView({ ...base, attributes: { 'http.status_code': 'teapot', attempt: 1.5, action_id: 7 } });
    expect(bare).toEqual({ trace_id: TRACE, span_id: sid(0), name: 'span 0', start: at(0), duration_ms: 1000, outcome: 'ok' });
  });
});

describe('TracingService.stats', () => {
  it('reads the last hour by default, at most 10,000 spans, and summarizes them', async () => {
    const spans = [
      span(0, 0, 0.1, { category: 'service_call', service: 'pay', duration_ms: 100 }),
      span(1, 0, 0.3, { category: 'service_call', service: 'pay', duration_ms: 300, status: 'error' }),
      span(2, 0, 2, { category: 'run', workflow_id: 'orders', duration_ms: 2000, attributes: { status: 'completed' } }),
      span(3, 0, 4, { category: 'run', workflow_id: 'orders', duration_ms: 4000, attributes: { status: 'failed' }, status: 'error' }),
    ];
    const store = new FixedSpanStore([], { spans, truncated: true });
    const stats = await createTracingService({ spans: store, clock }).stats({ tenant: 'acme' });
    expect(store.asked).toEqual([{ window: { tenant: 'acme', since: '2026-11-25T11:30:00.000Z', limit: 10_000 } }]);
    expect(stats).toEqual({
      since: '2026-11-25T11:30:00.000Z',
      until: NOW,
      spans_read: 4,
      truncated: true,
      services: [{ service: 'pay', calls: 2, errors: 1, error_rate: 0.5, latency_ms: { p50: 100, p95: 300, p99: 300, mean: 200, max: 300 } }],
      workflows: [{ workflow_id: 'orders', runs: 2, failed: 1, mean_duration_ms: 3000 }],
    });
  });

  it('reads from the since it is given, for every tenant when none is named', async () => {
    const store = new FixedSpanStore([]);
    const stats = await createTracingService({ spans: store, clock }).stats({ since: '2026-11-25T08:00:00Z' });
    expect(store.asked).toEqual([{ window: { since: '2026-11-25T08:00:00Z', limit: 10_000 } }]);
    expect(stats).toEqual({ since: '2026-11-25T08:00:00Z', until: NOW, spans_read: 0, truncated: false, services: [], workflows: [] });
  });
});
