import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../core/auth/model.ts';
import { InvalidCursorError, NotFoundError } from '../../../core/errors.ts';
import type { ServiceCallView, TraceView, TracingScope, TracingService, TracingStats } from '../../../core/observability/tracing-service.ts';
import { toAuthorizerContext } from '../../../functions/auth/principal-context.ts';
import { createTracingHandlers } from '../../../functions/http/tracing-handlers.ts';
import { routes } from '../../../functions/routes.ts';
import { MemoryAuditTrail } from '../../support/security.ts';

const TRACE = 'a1'.repeat(16);
const admin: Principal = { subject: 'root', roles: ['admin'], tenant: 'default', method: 'api_key' };
const member: Principal = { subject: 'ann', roles: ['viewer'], tenant: 'acme', method: 'jwt' };
const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

function eventOf(route: { method: string; path: string }, caller: Principal, pathParameters: Record<string, string> | null, query: Record<string, string> | null = null): APIGatewayProxyEvent {
  return {
    resource: route.path,
    path: route.path,
    httpMethod: route.method,
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: query,
    multiValueQueryStringParameters: null,
    pathParameters,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1', authorizer: { ...toAuthorizerContext(caller) }, identity: { sourceIp: '127.0.0.1' } },
  } as unknown as APIGatewayProxyEvent;
}

const traceView: TraceView = {
  trace_id: TRACE,
  span_count: 1,
  root_span_ids: ['0000000000000001'],
  start: '2026-11-25T12:00:00.000Z',
  end: '2026-11-25T12:00:01.000Z',
  duration_ms: 1000,
  spans: [{ trace_id: TRACE, span_id: '0000000000000001', name: 'run', kind: 'internal', category: 'run', service: 'orchestrator', start: '2026-11-25T12:00:00.000Z', end: '2026-11-25T12:00:01.000Z', duration_ms: 1000, status: 'ok', tenant: 'acme', attributes: { status: 'completed' }, depth: 0 }],
  truncated: false,
};
const call: ServiceCallView = { trace_id: TRACE, span_id: '0000000000000002', name: 'POST pay', start: '2026-11-25T12:00:00.000Z', duration_ms: 12, outcome: 'ok', status_code: 200, attempt: 1 };
const stats: TracingStats = { since: '2026-11-25T11:00:00.000Z', until: '2026-11-25T12:00:00.000Z', spans_read: 1, truncated: false, services: [{ service: 'pay', calls: 1, errors: 0, error_rate: 0, latency_ms: { p50: 12, p95: 12, p99: 12, mean: 12, max: 12 } }], workflows: [] };

/** A tracing service that remembers what it was asked and answers fixed views. */
function recordingTracing(): { service: TracingService; asked: unknown[] } {
  const asked: unknown[] = [];
  const service: TracingService = {
    trace: (traceId: string, scope: TracingScope) => {
      asked.push({ trace: traceId, scope });
      return traceId === TRACE ? Promise.resolve(traceView) : Promise.reject(new NotFoundError(`trace ${traceId} not found`));
    },
    serviceCalls: (name, query) => {
      asked.push({ serviceCalls: name, query });
      if (query.cursor === 'forged-token') return Promise.reject(new InvalidCursorError('next_token is not a token this API issued'));
      return Promise.resolve({ calls: [call], ...(query.cursor === undefined ? { nextCursor: 'page-2' } : {}) });
    },
    stats: (query) => {
      asked.push({ stats: query });
      return Promise.resolve(stats);
    },
  };
  return { service, asked };
}

function handlers() {
  const { service, asked } = recordingTracing();
  const security = { audit: new MemoryAuditTrail(), authMode: 'required' as const, clock: { now: () => new Date().toISOString() }, ids: { next: () => randomUUID() }, log: () => undefined };
  return { ...createTracingHandlers({ security, tracing: service }), asked };
}

const dataOf = (response: { body: string }) => (JSON.parse(response.body) as { data: unknown }).data;

describe('the tracing routes', () => {
  it("answer a trace in the route's response shape, read in the caller's tenant", async () => {
    const { getTrace, asked } = handlers();
    const asMember = await getTrace(eventOf(routes.getTrace, member, { trace_id: TRACE }), context);
    expect(asMember.statusCode).toBe(200);
    expect(routes.getTrace.response.parse(dataOf(asMember))).toEqual(traceView);
    await getTrace(eventOf(routes.getTrace, admin, { trace_id: TRACE }), context);
    expect(asked).toEqual([{ trace: TRACE, scope: { tenant: 'acme' } }, { trace: TRACE, scope: {} }]);
  });

  it('answer 404 for a trace with no visible span, and 400 for a trace id that is not one, naming the rule', async () => {
    const { getTrace, asked } = handlers();
    const missing = await getTrace(eventOf(routes.getTrace, member, { trace_id: 'b2'.repeat(16) }), context);
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ success: false, error_code: 'NOT_FOUND' });
    const refusals: [string, string][] = [
      ['0'.repeat(32), 'trace_id must not be all zeros (W3C: an invalid trace id)'],
      ['A1'.repeat(16), 'trace_id must be 32 lower-case hex digits (a W3C trace id)'],
      ['a1'.repeat(15), 'trace_id must be 32 lower-case hex digits (a W3C trace id)'],
    ];
    for (const [bad, message] of refusals) {
      const refused = await getTrace(eventOf(routes.getTrace, member, { trace_id: bad }), context);
      expect(refused.statusCode).toBe(400);
      expect(JSON.parse(refused.body).details).toEqual([{ field: 'trace_id', message }]);
    }
    expect(asked).toHaveLength(1);
  });

  it("list a service's calls with next_token, honouring tenant= for admins only", async () => {
    const { getServiceTraces, asked } = handlers();
    const first = await getServiceTraces(eventOf(routes.getServiceTraces, admin, { service_name: 'pay' }, { tenant: 'globex', limit: '10', since: '2026-11-25T11:00:00Z' }), context);
    expect(first.statusCode).toBe(200);
    expect(routes.getServiceTraces.response.parse(dataOf(first))).toEqual({ service: 'pay', calls: [call], count: 1, next_token: 'page-2' });
    const next = await getServiceTraces(eventOf(routes.getServiceTraces, member, { service_name: 'pay' }, { tenant: 'globex', next_token: 'page-2' }), context);
    expect(dataOf(next)).toMatchObject({ next_token: null });
    expect(asked).toEqual([
      { serviceCalls: 'pay', query: { tenant: 'globex', limit: 10, since: '2026-11-25T11:00:00Z' } },
      // A member's tenant= is ignored: it reads its own tenant; the default limit is 50.
      { serviceCalls: 'pay', query: { tenant: 'acme', limit: 50, cursor: 'page-2' } },
    ]);
  });

  it('answer 400 INVALID_CURSOR for a next_token the store refuses, and 400 for a limit out of range', async () => {
    const { getServiceTraces } = handlers();
    const forged = await getServiceTraces(eventOf(routes.getServiceTraces, member, { service_name: 'pay' }, { next_token: 'forged-token' }), context);
    expect(forged.statusCode).toBe(400);
    expect(JSON.parse(forged.body)).toMatchObject({ error_code: 'INVALID_CURSOR' });
    const tooMany = await getServiceTraces(eventOf(routes.getServiceTraces, member, { service_name: 'pay' }, { limit: '501' }), context);
    expect(tooMany.statusCode).toBe(400);
    expect(JSON.parse(tooMany.body).details).toEqual([{ field: 'limit', message: 'limit must be at most 500' }]);
  });

  it('answer the statistics over the window asked for, in the tenant the caller may read', async () => {
    const { getTracingStats, asked } = handlers();
    const asAdmin = await getTracingStats(eventOf(routes.getTracingStats, admin, null, { since: '2026-11-25T11:00:00Z' }), context);
    expect(asAdmin.statusCode).toBe(200);
    expect(routes.getTracingStats.response.parse(dataOf(asAdmin))).toEqual(stats);
    await getTracingStats(eventOf(routes.getTracingStats, member, null, { tenant: 'globex' }), context);
    const badSince = await getTracingStats(eventOf(routes.getTracingStats, member, null, { since: 'yesterday' }), context);
    expect(badSince.statusCode).toBe(400);
    expect(asked).toEqual([{ stats: { since: '2026-11-25T11:00:00Z' } }, { stats: { tenant: 'acme' } }]);
  });
});
