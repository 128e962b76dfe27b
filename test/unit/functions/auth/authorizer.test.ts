import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, type AuthSettings } from '../../../../functions/auth/authenticator.ts';
import { apiWildcard, createAuthorizer } from '../../../../functions/auth/authorizer.ts';
import { principalOf, toAuthorizerContext, UNAUTHENTICATED } from '../../../../functions/auth/principal-context.ts';
import { hs256Token, ManualClock, MemoryAuditTrail, randomSecret } from '../../../support/security.ts';

/** The Lambda REQUEST authorizer and the authorizer context handlers trust: what AWS runs in front of every route. */

const SECRET = randomSecret();
const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/POST/workflows/wf-1/execute';
const clock = new ManualClock('2026-11-01T00:00:00.000Z');

function setup(settings: Partial<AuthSettings> = {}) {
  const audit = new MemoryAuditTrail();
  const logs: Record<string, unknown>[] = [];
  let next = 0;
  const authorize = createAuthorizer({
    authenticator: createAuthenticator({ mode: 'required', anonymousRole: 'viewer', jwtSecret: SECRET, ...settings }, { clock }),
    audit,
    clock,
    ids: { next: () => `audit-${++next}` },
    log: (entry) => logs.push(entry),
  });
  return { authorize, audit, logs };
}

function event(headers: Record<string, string>, clientCertSubject?: string): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    resource: '/workflows/{workflow_id}/execute',
    path: '/workflows/wf-1/execute',
    httpMethod: 'POST',
    headers,
    pathParameters: { workflow_id: 'wf-1' },
    requestContext: {
      requestId: 'req-1',
      identity: { sourceIp: '198.51.100.7', userAgent: 'curl/8', ...(clientCertSubject ? { clientCert: { subjectDN: clientCertSubject } } : {}) },
    },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

describe('the REQUEST authorizer', () => {
  it('allows the whole API to a verified caller and passes the principal as the context (header names in any case)', async () => {
    const { authorize, audit } = setup();
    const token = await hs256Token({ sub: 'alice', roles: ['operator'], tenant: 'acme' }, SECRET);
    const result = await authorize(event({ Authorization: `Bearer ${token}` }));
    expect(result.principalId).toBe('alice');
    expect(result.policyDocument.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*' }]);
    expect(result.context).toEqual({ subject: 'alice', roles: 'operator', tenant: 'acme', method: 'jwt' });
    // What the handler then reads back is the same principal.
    expect(principalOf({ requestContext: { authorizer: result.context } } as unknown as APIGatewayProxyEvent)).toEqual({ subject: 'alice', roles: ['operator'], tenant: 'acme', method: 'jwt' });
    expect(audit.records).toEqual([]);
  });

  it('refuses a bad token with Unauthorized and one audit record that holds no credential', async () => {
    const { authorize, audit } = setup();
    const forged = await hs256Token({ sub: 'mallory', roles: ['admin'] }, randomSecret());
    await expect(authorize(event({ authorization: `Bearer ${forged}` }))).rejects.toThrow(/^Unauthorized$/);
    expect(audit.records).toHaveLength(1);
    expect(audit.records[0]).toMatchObject({ action: 'authenticate', outcome: 401, actor: '198.51.100.7', method: 'anonymous', route: 'POST /workflows/{workflow_id}/execute', targets: ['wf-1'], request_id: 'req-1', reason: expect.any(String) });
    expect(JSON.stringify(audit.records)).not.toContain(forged.split('.')[2]);
  });

  it('in required mode refuses a caller without a credential; in optional mode lets it in with the anonymous role', async () => {
    const required = setup();
    await expect(required.authorize(event({ 'x-user-id': 'carol' }))).rejects.toThrow(/^Unauthorized$/);
    expect(required.audit.records).toHaveLength(1);
    const optional = setup({ mode: 'optional', anonymousRole: 'viewer' });
    expect((await optional.authorize(event({ 'x-user-id': 'carol' }))).context).toEqual({ subject: 'carol', roles: 'viewer', tenant: 'default', method: 'anonymous' });
  });

  it('still refuses (and logs) when the refusal cannot be recorded', async () => {
    const { authorize, audit, logs } = setup();
    audit.failing = true;
    await expect(authorize(event({ authorization: 'Bearer not-a-token' }))).rejects.toThrow(/^Unauthorized$/);
    expect(logs).toHaveLength(1);
  });

  it("adds peer for a client certificate API Gateway verified (mutual TLS)", async () => {
    const { authorize } = setup();
    expect((await authorize(event({}, 'CN=orchestrator-b'))).context).toMatchObject({ subject: 'CN=orchestrator-b', roles: 'peer', method: 'client_certificate' });
  });

  it('scopes the policy to the stage, whatever the method ARN names', () => {
    expect(apiWildcard('arn:aws:execute-api:eu-west-1:1:api/stage/GET/workflows')).toBe('arn:aws:execute-api:eu-west-1:1:api/stage/*');
  });
});

describe('the authorizer context', () => {
  const parse = (authorizer: unknown) => principalOf({ requestContext: { authorizer } } as unknown as APIGatewayProxyEvent);

  it('round-trips every principal field, key id included', () => {
    const principal = { subject: 'ci-bot', roles: ['viewer', 'peer'] as const, tenant: 'acme', method: 'api_key' as const, keyId: '0123456789abcdef' };
    expect(parse(toAuthorizerContext({ ...principal, roles: [...principal.roles] }))).toEqual({ ...principal, roles: ['viewer', 'peer'] });
  });

  it('treats a missing or malformed context as no identity at all, never as a privileged one', () => {
    expect(parse(undefined)).toEqual(UNAUTHENTICATED);
    expect(parse(null)).toEqual(UNAUTHENTICATED);
    expect(parse({ subject: 'root', roles: 'admin', tenant: 'default', method: 'superuser' })).toEqual(UNAUTHENTICATED);
    expect(parse({ subject: '', roles: 'admin', tenant: 'default', method: 'jwt' })).toEqual(UNAUTHENTICATED);
    expect(parse({ subject: 'x'.repeat(257), roles: 'admin', tenant: 'default', method: 'jwt' })).toEqual(UNAUTHENTICATED);
    expect(parse({ roles: 'admin', tenant: 'default', method: 'jwt' })).toEqual(UNAUTHENTICATED);
  });

  it('keeps only known grants from the roles string', () => {
    expect(parse({ subject: 'eve', roles: 'superuser, admin,viewer,peer,,root', tenant: 'default', method: 'jwt' }).roles).toEqual(['viewer', 'peer']);
  });
});
