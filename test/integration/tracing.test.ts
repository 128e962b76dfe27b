import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { parseTraceparent } from '../../core/observability/spans.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';

/**
 * Tracing on the local runtime, end to end: a caller's traceparent continues through the request, the run,
 * its actions and each service-call attempt (the services see the attempt's span as their parent), stored in
 * the spans table and read back through /infrastructure/tracing/*.
 */

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
interface TraceSpan {
  span_id: string;
  parent_span_id?: string;
  name: string;
  kind: string;
  category: string;
  service: string;
  duration_ms: number;
  status: string;
  depth: number;
  start: string;
  end: string;
  execution_id?: string;
  attributes: Record<string, string | number | boolean>;
}

const SLOW_MS = 40;
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

let services: Server;
let runtime: LocalRuntime;
let call: Call;
const received: { path: string; traceparent: string | undefined }[] = [];

beforeAll(async () => {
  services = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      received.push({ path, traceparent: request.headers.traceparent as string | undefined });
      setTimeout(() => {
        response.setHeader('content-type', 'application/json');
        response.statusCode = path.includes('broken') ? 503 : 200;
        response.end(JSON.stringify({ ok: !path.includes('broken') }));
      }, SLOW_MS);
    });
  });
  await new Promise<void>((resolve) => services.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(services.address() as AddressInfo).port}`;
  ({ runtime, call } = await startTestApi({ serviceUrls: { TRACED_URL: url }, observability: { spanFlushIntervalMs: 50 } }));
});
afterAll(async () => {
  await runtime.engine.idle();
  await runtime.close();
  services.closeAllConnections();
  await new Promise<void>((resolve) => services.close(() => resolve()));
});

async function runToEnd(workflow: unknown, headers: Record<string, string> = {}): Promise<{ workflowId: string; executionId: string; traceId: string; status: string }> {
  const created = await call('POST', '/workflows', { body: workflow });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const workflowId = created.body.data.workflow_id as string;
  const started = await call('POST', `/workflows/${workflowId}/execute`, { body: {}, headers });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const executionId = started.body.data.execution_id as string;
  for (let i = 0; i < 400; i++) {
    const run = (await call('GET', `/workflows/executions/${executionId}`)).body.data;
    if (!['pending', 'running'].includes(run.status as string)) return { workflowId, executionId, traceId: run.trace_id as string, status: run.status as string };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('run did not end');
}

async function traceOf(traceId: string, expectedSpans: number): Promise<TraceSpan[]> {
  await runtime.observability.spans.flush();
  let spans: TraceSpan[] = [];
  await expect
    .poll(
      async () => {
        await runtime.observability.spans.flush();
        const reply = await call<{ spans: TraceSpan[] }>('GET', `/infrastructure/tracing/trace/${traceId}`);
        spans = reply.status === 200 ? reply.body.data.spans : [];
        return spans.length;
      },
      { timeout: 5000, interval: 50 },
    )
    .toBeGreaterThanOrEqual(expectedSpans);
  return spans;
}

const svc = (endpoint: string) => ({ service: 'traced', endpoint, method: 'POST', parameters: {} });

describe('a run traced end to end', () => {
  it("continues the caller's trace: request -> run -> actions -> service-call attempts, each service seeing its attempt's span as parent", async () => {
    const before = received.length;
    const { executionId, traceId, status } = await runToEnd(
      {
        name: 'traced chain',
        actions: [
          { action_id: 'fetch', action_type: 'service_call', config: svc('/fetch') },
          { action_id: 'store', action_type: 'service_call', depends_on: ['fetch'], config: svc('/store') },
        ],
      },
      { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
    );
    expect(status).toBe('completed');
    expect(traceId).toBe(CALLER_TRACE);
    const spans = await traceOf(CALLER_TRACE, 6);
    const byId = new Map(spans.map((span) => [span.span_id, span]));
    const request = spans.find((span) => span.category === 'request' && span.name === 'POST /workflows/{workflow_id}/execute')!;
    expect(request).toMatchObject({ parent_span_id: CALLER_SPAN, kind: 'server', status: 'ok', depth: 0 });
    expect(request.attributes['http.status_code']).toBe(202);
    const run = spans.find((span) => span.category === 'run')!;
    expect(run).toMatchObject({ parent_span_id: request.span_id, execution_id: executionId, status: 'ok', depth: 1 });
    const actions = spans.filter((span) => span.category === 'action');
    expect(actions.map((span) => span.name).sort()).toEqual(['service_call fetch', 'service_call store']);
    for (const action of actions) expect(action.parent_span_id).toBe(run.span_id);
    const calls = spans.filter((span) => span.category === 'service_call');
    expect(calls).toHaveLength(2);
    for (const attempt of calls) {
      const parent = byId.get(attempt.parent_span_id!)!;
      expect(parent.category).toBe('action');
      expect(parent.attributes['action_id']).toBe(attempt.attributes['action_id']);
      expect(attempt).toMatchObject({ kind: 'client', service: 'traced', status: 'ok', depth: 3 });
      expect(attempt.attributes['http.status_code']).toBe(200);
      // Durations nest: the service's delay is inside the attempt, the attempt inside its action, both inside the run.
      expect(attempt.duration_ms).toBeGreaterThanOrEqual(SLOW_MS - 1);
      expect(parent.duration_ms).toBeGreaterThanOrEqual(attempt.duration_ms - 2);
    }
    expect(run.duration_ms).toBeGreaterThanOrEqual(2 * SLOW_MS - 2);
    // What each service saw: this run's trace, with the attempt's own span as parent.
    const seen = received.slice(before).map((entry) => parseTraceparent(entry.traceparent));
    expect(seen).toHaveLength(2);
    expect(new Set(seen.map((context) => context?.trace_id))).toEqual(new Set([CALLER_TRACE]));
    expect(new Set(seen.map((context) => context?.span_id))).toEqual(new Set(calls.map((span) => span.span_id)));
    // The tree is depth first: every span comes after its parent.
    const order = new Map(spans.map((span, index) => [span.span_id, index]));
    for (const span of spans) if (span.parent_span_id && order.has(span.parent_span_id)) expect(order.get(span.parent_span_id)!).toBeLessThan(order.get(span.span_id)!);
  });

  it('starts a trace of its own when the caller sends none, or an invalid traceparent', async () => {
    const none = await runToEnd({ name: 'untraced', actions: [{ action_id: 'one', action_type: 'service_call', config: svc('/one') }] });
    expect(none.traceId).toMatch(/^[0-9a-f]{32}$/);
    const forged = await runToEnd({ name: 'forged', actions: [{ action_id: 'one', action_type: 'service_call', config: svc('/one') }] }, { traceparent: `00-${'0'.repeat(32)}-${CALLER_SPAN}-01` });
    expect(forged.traceId).not.toBe('0'.repeat(32));
    const spans = await traceOf(forged.traceId, 4);
    const request = spans.find((span) => span.category === 'request')!;
    expect(request.parent_span_id).toBeUndefined();
  });

  it("records failed attempts as errors, lists a service's recent calls and computes its statistics", async () => {
    const failed = await runToEnd({ name: 'failing', actions: [{ action_id: 'bad', action_type: 'service_call', config: svc('/broken'), retry: { max_attempts: 2, interval_seconds: 1 } }] });
    expect(failed.status).toBe('failed');
    const spans = await traceOf(failed.traceId, 5);
    const attempts = spans.filter((span) => span.category === 'service_call');
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) {
      expect(attempt.status).toBe('error');
      expect(attempt.attributes).toMatchObject({ 'http.status_code': 503, 'error.name': 'ServiceUnavailableError' });
    }
    expect(spans.find((span) => span.category === 'run')).toMatchObject({ status: 'error' });

    const listed = await call<{ calls: { outcome: string; duration_ms: number; start: string; status_code?: number }[]; count: number }>('GET', '/infrastructure/tracing/service/traced?limit=3');
    expect(listed.status).toBe(200);
    expect(listed.body.data.count).toBe(3);
    const starts = listed.body.data.calls.map((entry) => entry.start);
    expect([...starts].sort().reverse()).toEqual(starts);
    expect(listed.body.data.calls[0]).toMatchObject({ outcome: 'error', status_code: 503 });

    const stats = await call<{ services: { service: string; calls: number; errors: number; error_rate: number; latency_ms: { p50: number } }[]; workflows: { workflow_id: string; runs: number; failed: number }[] }>('GET', '/infrastructure/tracing/stats');
    expect(stats.status).toBe(200);
    const traced = stats.body.data.services.find((entry) => entry.service === 'traced')!;
    // 2 + 1 + 1 successful attempts above, and 2 failed ones.
    expect(traced).toMatchObject({ calls: 6, errors: 2 });
    expect(traced.error_rate).toBeCloseTo(2 / 6, 3);
    expect(traced.latency_ms.p50).toBeGreaterThanOrEqual(SLOW_MS - 1);
    expect(stats.body.data.workflows.find((entry) => entry.workflow_id === failed.workflowId)).toMatchObject({ runs: 1, failed: 1 });
  });

  it('answers 404 for a trace nobody recorded and 400 for an id that is not a trace id', async () => {
    expect((await call('GET', `/infrastructure/tracing/trace/${'a'.repeat(32)}`)).status).toBe(404);
    const bad = await call('GET', '/infrastructure/tracing/trace/nope');
    expect(bad.status).toBe(400);
    expect(bad.body.details?.[0]?.field).toBe('trace_id');
  });
});
