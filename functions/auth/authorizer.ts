import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { AuditTrail, Clock, IdGenerator } from '../../core/ports.ts';
import { checkAccess, type AccessVerdict } from '../../core/auth/model.ts';
import { auditRecord, pathIds, recordRefusal } from './audit-record.ts';
import type { Authenticator } from './authenticator.ts';
import { toAuthorizerContext } from './principal-context.ts';

export interface AuthorizerDeps {
  readonly authenticator: Authenticator;
  readonly audit: AuditTrail;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly log: (entry: Record<string, unknown>) => void;
}

/**
 * The Lambda REQUEST authorizer: the same verification as the local server, its verdict given to API
 * Gateway as a policy and the principal as the authorizer context, which is all handlers trust. Throwing
 * `Unauthorized` is how a REQUEST authorizer makes API Gateway answer 401 (the UNAUTHORIZED gateway
 * response, in the error envelope). The policy allows the whole API: which role reaches which route is
 * decided by the handler from the route table, so one verdict fits every route.
 */
export function createAuthorizer(deps: AuthorizerDeps) {
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const headers = lowerCased(event.headers);
    const outcome = await deps.authenticator.authenticate({
      authorization: headers.authorization,
      apiKey: headers['x-api-key'],
      userId: headers['x-user-id'],
      clientCertificateSubject: event.requestContext.identity?.clientCert?.subjectDN ?? undefined,
    });
    // The authorizer guards non-public routes only: each needs a caller the auth mode lets in.
    const refusal = outcome.ok ? refusalOf(checkAccess(outcome.principal, 'authenticated')) : outcome.reason;
    if (!outcome.ok || refusal !== undefined) {
      const sourceIp = event.requestContext.identity?.sourceIp ?? 'unknown';
      const audited = { action: 'authenticate', route: `${event.httpMethod} ${event.resource}`, targets: pathIds(event.pathParameters), requestId: event.requestContext.requestId, sourceIp, userAgent: event.requestContext.identity?.userAgent };
      await recordRefusal(deps.audit, auditRecord(deps, audited, undefined, 401, refusal), deps.log);
      throw new Error('Unauthorized');
    }
    return {
      principalId: outcome.principal.subject,
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: apiWildcard(event.methodArn) }] },
      context: { ...toAuthorizerContext(outcome.principal) },
    };
  };
}

function refusalOf(verdict: AccessVerdict): string | undefined {
  return verdict.allowed ? undefined : verdict.reason;
}

/** `arn:aws:execute-api:region:account:api/stage/GET/workflows` -> `arn:aws:execute-api:region:account:api/stage/*`. */
export function apiWildcard(methodArn: string): string {
  const [prefix, stage] = methodArn.split('/');
  return `${prefix}/${stage}/*`;
}

function lowerCased(headers: Record<string, string | undefined> | null): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
}
