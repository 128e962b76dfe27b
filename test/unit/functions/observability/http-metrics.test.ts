import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { toAuthorizerContext } from '../../../../functions/auth/principal-context.ts';
import { createHttpHandler, type ApiHandler } from '../../../../functions/middleware/http-handler.ts';
import { noopMetrics, type MetricsRecorder } from '../../../../functions/observability/metric-recorder.ts';
import { createPrometheusMetrics } from '../../../../functions/observability/metrics.ts';
import { recordHttpRequest } from '../../../../functions/observability/http-metrics.ts';
import { NO_SPANS } from '../../../../functions/observability/span-recorder.ts';
import { routes, type RouteSpec } from '../../../../functions/routes.ts';
import { MemoryAuditTrail } from '../../../support/security.ts';
import { readScrape } from './metrics-text.ts';

/**
 * HTTP requests are counted with the status the caller got, whichever part of the stack made it: the handler,
 * the security middleware (401, 403), validation (400) or the envelope's error mapping (500).
 */

const admin = toAuthorizerContext({ subject: 'admin', roles: ['admin'], tenant: 'default', method: 'api_key' });
const viewer = toAuthorizerContext({ subject: 'val', roles: ['viewer'], tenant: 'default', method: 'api_key' });

function eventOf(route: { method: string; path: string }, options: { body?: string; authorizer?: Record<string, string>; headers?: Record<string, string> } = {}): APIGatewayProxyEvent {
  return {
    resource: route.path,
    path: route.path,
    httpMethod: route.method,
    headers: options.headers ?? {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: options.body ?? null,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1', authorizer: options.authorizer ?? { ...admin }, identity: { sourceIp: '127.0.0.1' } } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}
const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const security = () => ({ audit: new MemoryAuditTrail(), authMode: 'required' as const, clock: { now: () => '2026-01-01T00:00:00.000Z' }, ids: { next: () => 'id-1' }, log: () => undefined });

/** The route's handler as createHttpHandler builds it, its request observer feeding the metrics (as every composition root does). */
function metered<R extends RouteSpec>(route: R, run: Parameters<typeof createHttpHandler<R>>[1], metrics: MetricsRecorder): ApiHandler {
  return createHttpHandler(route, run, { ...security(), observer: { spans: NO_SPANS, httpRequest: recordHttpRequest(metrics) } });
}

describe('HTTP metrics', () => {
  it('count successes, 401, 403, 400 and 500 with the status each caller got, and time them', async () => {
    const metrics = createPrometheusMetrics();
    const ok = { message: 'ok', data: { status: 'healthy' as const, service: 's', version: 'v' } };
    const health = metered(routes.health, async () => ok, metrics);
    const broken = metered(routes.health, async () => {
      throw new Error('boom');
    }, metrics);
    const create = metered(routes.createWorkflow, async () => {
      throw new Error('never reached: refused or malformed before the handler');
    }, metrics);
    const replies = [
      await health(eventOf(routes.health), context),
      await broken(eventOf(routes.health), context),
      await create(eventOf(routes.createWorkflow, { authorizer: {}, body: '{}', headers: { 'content-type': 'application/json' } }), context),
      await create(eventOf(routes.createWorkflow, { authorizer: { ...viewer }, body: '{}', headers: { 'content-type': 'application/json' } }), context),
      await create(eventOf(routes.createWorkflow, { body: '{"name":', headers: { 'content-type': 'application/json' } }), context),
    ];
    expect(replies.map((reply) => reply.statusCode)).toEqual([200, 500, 401, 403, 400]);
    const scrape = readScrape(await metrics.render());
    expect(scrape.value('orchestrator_http_requests_total', { route: 'health', method: 'GET', status: '200' })).toBe(1);
    expect(scrape.value('orchestrator_http_requests_total', { route: 'health', method: 'GET', status: '500' })).toBe(1);
    expect(scrape.value('orchestrator_http_requests_total', { route: 'createWorkflow', method: 'POST', status: '401' })).toBe(1);
    expect(scrape.value('orchestrator_http_requests_total', { route: 'createWorkflow', method: 'POST', status: '403' })).toBe(1);
    expect(scrape.value('orchestrator_http_requests_total', { route: 'createWorkflow', method: 'POST', status: '400' })).toBe(1);
    expect(scrape.histogram('orchestrator_http_request_duration_seconds', { route: 'createWorkflow', method: 'POST' })?.count).toBe(3);
  });

  it('flush the recorder after each request, and never fail a request when the recorder throws', async () => {
    let flushes = 0;
    const throwing: MetricsRecorder = {
      ...noopMetrics,
      httpRequest: () => {
        throw new Error('recorder down');
      },
    };
    const counting: MetricsRecorder = { ...noopMetrics, flush: () => void flushes++ };
    const ok = async () => ({ message: 'ok', data: { status: 'healthy' as const, service: 's', version: 'v' } });
    expect((await metered(routes.health, ok, throwing)(eventOf(routes.health), context)).statusCode).toBe(200);
    await metered(routes.health, ok, counting)(eventOf(routes.health), context);
    expect(flushes).toBe(1);
  });

  it('as the request observer\'s recorder: records, flushes, and swallows a recorder\'s failure', async () => {
    const metrics = createPrometheusMetrics();
    let flushes = 0;
    const record = recordHttpRequest({ ...metrics, httpRequest: metrics.httpRequest, flush: () => void flushes++ });
    record('getMetrics', 'GET', 200, 0.01);
    expect(flushes).toBe(1);
    expect(readScrape(await metrics.render()).value('orchestrator_http_requests_total', { route: 'getMetrics', method: 'GET', status: '200' })).toBe(1);
    expect(() => recordHttpRequest({ ...noopMetrics, httpRequest: () => { throw new Error('recorder down'); } })('getMetrics', 'GET', 200, 0.01)).not.toThrow();
  });

});
