import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { toAuthorizerContext } from '../../../../functions/auth/principal-context.ts';
import { createMetricsHandlers } from '../../../../functions/http/metrics-handlers.ts';
import { createPrometheusMetrics } from '../../../../functions/observability/metrics.ts';
import { routes } from '../../../../functions/routes.ts';
import { MemoryAuditTrail } from '../../../support/security.ts';
import { readScrape } from './metrics-text.ts';

const viewer = toAuthorizerContext({ subject: 'grafana', roles: ['viewer'], tenant: 'default', method: 'api_key' });
const security = { audit: new MemoryAuditTrail(), authMode: 'required' as const, clock: { now: () => '2026-01-01T00:00:00.000Z' }, ids: { next: () => 'id-1' }, log: () => undefined };
const context = { awsRequestId: 'req-1' } as unknown as Context;
const event = (authorizer: Record<string, string>): APIGatewayProxyEvent =>
  ({
    resource: '/metrics',
    path: '/metrics',
    httpMethod: 'GET',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1', authorizer, identity: { sourceIp: '127.0.0.1' } },
  }) as unknown as APIGatewayProxyEvent;

describe('GET /metrics', () => {
  it('answers a viewer with the text exposition as it is, in the Prometheus media type', async () => {
    const metrics = createPrometheusMetrics({ gauges: { workflows: async () => ({ active: 2 }) } });
    metrics.runStarted('wf');
    const reply = await createMetricsHandlers({ metrics, security }).getMetrics(event({ ...viewer }), context);
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(reply.headers['content-type']).toBe(routes.getMetrics.mediaType);
    const scrape = readScrape(reply.body);
    expect(scrape.value('orchestrator_runs_started_total')).toBe(1);
    expect(scrape.value('orchestrator_workflows', { status: 'active' })).toBe(2);
  });

  it('refuses a caller without credentials (401), in the JSON envelope', async () => {
    const reply = await createMetricsHandlers({ metrics: createPrometheusMetrics(), security }).getMetrics(event({}), context);
    expect(reply.statusCode).toBe(401);
    expect(JSON.parse(reply.body)).toMatchObject({ success: false });
  });
});
