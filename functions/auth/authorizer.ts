import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { AuditTrail, Clock, IdGenerator } from '../../core/ports.ts';
import { DEFAULT_TENANT } from '../../core/auth/model.ts';
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
    const refusal = !outcome.ok ? outcome.reason : outcome.principal.method === 'anonymous' && outcome.principal.roles.length === 0 ? 'this route needs a credential: a bearer token or an API key' : undefined;
    if (refusal !== undefined) {
      await deps.audit
        .append({
          audit_id: deps.ids.next(),
          time: deps.clock.now(),
          actor: event.requestContext.identity?.sourceIp ?? 'unknown',
          method: 'anonymous',
          roles: [],
          tenant: DEFAULT_TENANT,
          action: 'authenticate',
          route: `${event.httpMethod} ${event.resource}`,
          targets: Object.values(event.pathParameters ?? {}).filter((value): value is string => typeof value === 'string'),
          outcome: 401,
          request_id: event.requestContext.requestId,
          source_ip: event.requestContext.identity?.sourceIp ?? 'unknown',
          ...(event.requestContext.identity?.userAgent ? { user_agent: event.requestContext.identity.userAgent.slice(0, 512) } : {}),
          reason: refusal,
        })
        .catch((error: unknown) => deps.log({ level: 'error', message: 'audit record of a refused credential not written', error: String(error) }));
      throw new Error('Unauthorized');
    }
    if (!outcome.ok) throw new Error('Unauthorized');
    return {
      principalId: outcome.principal.subject,
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: apiWildcard(event.methodArn) }] },
      context: { ...toAuthorizerContext(outcome.principal) },
    };
  };
}

/** `arn:aws:execute-api:region:account:api/stage/GET/workflows` -> `arn:aws:execute-api:region:account:api/stage/*`. */
export function apiWildcard(methodArn: string): string {
  const [prefix, stage] = methodArn.split('/');
  return `${prefix}/${stage}/*`;
}

function lowerCased(headers: Record<string, string | undefined> | null): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
}
