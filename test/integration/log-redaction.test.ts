import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { toAuthorizerContext } from '../../functions/auth/principal-context.ts';
import { createHttpHandler } from '../../functions/middleware/http-handler.ts';
import { createLogger } from '../../functions/observability/logger.ts';
import { NO_SPANS } from '../../functions/observability/span-recorder.ts';
import { routes } from '../../functions/routes.ts';
import { MemoryAuditTrail } from '../support/security.ts';

/**
 * A request that fails with 500 through the real handler stack (middy, the security middleware, the error
 * envelope): the error line it leaves names the request and the failure, and none of the caller's credentials,
 * although the error's message (and stack) carried every header the request had.
 */

const BEARER = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl';
const API_KEY = 'ork_live_7f3a9c1e5b2d4f60';
const COOKIE = 'session=sess-Qw12Er34Ty56';

function eventOf(): APIGatewayProxyEvent {
  return {
    resource: routes.health.path,
    path: routes.health.path,
    httpMethod: routes.health.method,
    headers: { Authorization: `Bearer ${BEARER}`, 'X-Api-Key': API_KEY, Cookie: COOKIE, 'X-Request-Note': `forwarded key ${API_KEY}` },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      requestId: 'req-log-1',
      authorizer: { ...toAuthorizerContext({ subject: 'alice', roles: ['admin'], tenant: 'default', method: 'jwt' }) },
      identity: { sourceIp: '127.0.0.1' },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

describe('logs of a failing request', () => {
  it('carry the request id and the error, and none of the caller\'s token, API key or cookie', async () => {
    const lines: string[] = [];
    // The API key is a secret the composition root knows (a managed key): scrubbed wherever it appears.
    const log = createLogger({ destination: (line) => lines.push(line), secrets: [API_KEY] });
    const security = { audit: new MemoryAuditTrail(), authMode: 'required' as const, clock: { now: () => '2026-01-01T00:00:00.000Z' }, ids: { next: () => 'audit-1' }, log };
    const handler = createHttpHandler(routes.health, async ({ headers }) => {
      throw new Error(`the upstream refused the call; it was sent ${JSON.stringify(headers)}`);
    }, security);

    const response = await handler(eventOf(), { awsRequestId: 'aws-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context);

    expect(response.statusCode).toBe(500);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const errorLine = parsed.find((line) => line.level === 'ERROR');
    expect(errorLine).toMatchObject({ request_id: 'req-log-1', route: `${routes.health.method} ${routes.health.path}`, error: 'Error' });
    // The line says what failed; the redaction left the headers' names and masked their values.
    expect(String(errorLine!.message)).toContain('the upstream refused the call');
    expect(String(errorLine!.message)).toContain('"authorization":"***"');
    const everything = lines.join('\n');
    for (const secret of [BEARER, API_KEY, 'sess-Qw12Er34Ty56']) expect(everything).not.toContain(secret);
  });

  it('end with one access line naming the request, its route, status and duration, in the caller\'s trace', async () => {
    const lines: string[] = [];
    const log = createLogger({ destination: (line) => lines.push(line), secrets: [API_KEY] });
    const security = { audit: new MemoryAuditTrail(), authMode: 'required' as const, clock: { now: () => '2026-01-01T00:00:00.000Z' }, ids: { next: () => 'audit-1' }, log, observer: { spans: NO_SPANS, log } };
    const handler = createHttpHandler(routes.health, () => Promise.reject(new Error('down')), security);
    const event = eventOf();
    const traced = { ...event, headers: { ...event.headers, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } };

    await handler(traced, { awsRequestId: 'aws-2', getRemainingTimeInMillis: () => 10_000 } as unknown as Context);

    const access = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.message === 'request answered');
    expect(access).toEqual([
      expect.objectContaining({ level: 'ERROR', request_id: 'req-log-1', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', route: 'GET /health', status: 500, tenant: 'default', duration_ms: expect.any(Number) }),
    ]);
    expect(lines.join('\n')).not.toContain(API_KEY);
  });
});
