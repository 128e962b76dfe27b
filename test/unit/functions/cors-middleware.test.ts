import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../../functions/middleware/http-handler.ts';
import { routes } from '../../../functions/routes.ts';
import { toAuthorizerContext } from '../../../functions/auth/principal-context.ts';
import { MemoryAuditTrail } from '../../support/security.ts';
import type { CorsPolicy } from '../../../functions/cors.ts';

/**
 * In AWS the route Lambdas add the CORS headers themselves (API Gateway's proxy integration adds none): on a
 * success, on a handler's error, on a refusal before the handler, and on a body that fails to parse.
 */

const ALLOWED = 'https://app.example.com';
const policy: CorsPolicy = { anyOrigin: false, origins: [ALLOWED] };
const admin = toAuthorizerContext({ subject: 'admin', roles: ['admin'], tenant: 'default', method: 'api_key' });

function eventOf(route: { method: string; path: string }, headers: Record<string, string>, options: { body?: string; authorizer?: Record<string, string> } = {}): APIGatewayProxyEvent {
  return {
    resource: route.path,
    path: route.path,
    httpMethod: route.method,
    headers,
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
const security = (cors?: CorsPolicy) => ({ audit: new MemoryAuditTrail(), authMode: 'required' as const, clock: { now: () => '2026-01-01T00:00:00.000Z' }, ids: { next: () => 'id-1' }, log: () => undefined, ...(cors ? { cors } : {}) });

describe('the Lambdas\' CORS headers', () => {
  const health = createHttpHandler(routes.health, async () => ({ message: 'ok', data: { status: 'healthy' as const, service: 's', version: 'v' } }), security(policy));
  const failing = createHttpHandler(routes.health, async () => { throw new Error('boom'); }, security(policy));
  const create = createHttpHandler(routes.createWorkflow, async () => {
    throw new Error('never reached: refused or malformed before the handler');
  }, security(policy));

  it('are on a success, a 500, a 401 before the handler and a malformed body, for an allowed origin (whatever the header case)', async () => {
    const replies = {
      success: await health(eventOf(routes.health, { Origin: ALLOWED }), context),
      internal: await failing(eventOf(routes.health, { origin: ALLOWED }), context),
      refused: await create(eventOf(routes.createWorkflow, { origin: ALLOWED, 'content-type': 'application/json' }, { authorizer: {}, body: '{}' }), context),
      malformed: await create(eventOf(routes.createWorkflow, { origin: ALLOWED, 'content-type': 'application/json' }, { body: '{"name":' }), context),
    };
    expect(Object.fromEntries(Object.entries(replies).map(([what, reply]) => [what, reply.statusCode]))).toEqual({ success: 200, internal: 500, refused: 401, malformed: 400 });
    for (const [what, reply] of Object.entries(replies)) {
      expect(reply.headers['access-control-allow-origin'], what).toBe(ALLOWED);
      expect(reply.headers['vary'], what).toBe('Origin');
      expect(reply.headers['access-control-expose-headers'], what).toContain('X-Request-ID');
    }
  });

  it('are absent for another origin, and without a policy', async () => {
    const other = await health(eventOf(routes.health, { origin: 'https://evil.example.com' }), context);
    const none = await createHttpHandler(routes.health, async () => ({ message: 'ok', data: { status: 'healthy' as const, service: 's', version: 'v' } }), security())(eventOf(routes.health, { origin: ALLOWED }), context);
    for (const reply of [other, none]) expect(Object.keys(reply.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });
});
