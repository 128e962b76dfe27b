import type { IncomingMessage } from 'node:http';
import type { Principal } from '../core/auth/model.ts';
import type { RateLimiter } from '../core/auth/rate-limit.ts';
import { ErrorName } from '../core/errors.ts';
import type { AuditTrail, Clock, IdGenerator } from '../core/ports.ts';
import type { Authenticator } from '../functions/auth/authenticator.ts';
import { toAuthorizerContext, type AuthorizerContext } from '../functions/auth/principal-context.ts';
import { auditRecord, recordRefusal } from '../functions/auth/audit-record.ts';
import { ERROR_STATUS, errorResponse, WWW_AUTHENTICATE, type HttpResponse } from '../functions/middleware/envelope.ts';
import type { RouteSpec } from '../functions/routes.ts';
import { clientCertificateOf } from './tls.ts';

/**
 * What API Gateway does before a route's Lambda runs, on one machine: the authorizer (the same verification
 * module as the Lambda authorizer) and throttling (a token bucket per caller). A request it refuses never
 * reaches a handler, and leaves an audit record.
 */
export interface RequestGate {
  admit(request: IncomingMessage, route: RouteSpec, routeName: string, requestId: string): Promise<{ context: AuthorizerContext | undefined } | { refused: HttpResponse }>;
}

export interface RequestGateDeps {
  readonly authenticator: Authenticator;
  readonly rateLimiter?: RateLimiter;
  readonly audit: AuditTrail;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly log: (entry: Record<string, unknown>) => void;
}

export function createRequestGate(deps: RequestGateDeps): RequestGate {
  const refuse = async (request: IncomingMessage, route: RouteSpec, action: string, requestId: string, principal: Principal | undefined, status: 401 | 429, reason: string, headers: Record<string, string>): Promise<{ refused: HttpResponse }> => {
    const audited = { action, route: `${route.method} ${route.path}`, targets: [], requestId, sourceIp: request.socket.remoteAddress ?? 'unknown', userAgent: request.headers['user-agent'] };
    await recordRefusal(deps.audit, auditRecord(deps, audited, principal, status, reason), deps.log);
    const mapped = ERROR_STATUS[status === 401 ? ErrorName.Unauthenticated : ErrorName.RateLimited]!;
    return { refused: errorResponse(mapped.status, mapped.code, reason, [], requestId, headers) };
  };

  return {
    async admit(request, route, routeName, requestId) {
      const header = (name: string) => {
        const value = request.headers[name];
        return Array.isArray(value) ? value.join(',') : value;
      };
      // Only a certificate the TLS layer verified against the client CA counts (mutual TLS).
      const subject = clientCertificateOf(request.socket)?.subjectDN;
      const outcome = await deps.authenticator.authenticate({
        authorization: header('authorization'),
        apiKey: header('x-api-key'),
        userId: header('x-user-id'),
        clientCertificateSubject: subject,
      });
      const principal = outcome.ok ? outcome.principal : undefined;
      if (deps.rateLimiter) {
        // Per caller: the key, the subject, or the source address of anonymous and refused callers.
        const callerKey = principal?.keyId ? `key:${principal.keyId}` : principal && principal.method !== 'anonymous' ? `sub:${principal.subject}` : `ip:${request.socket.remoteAddress ?? 'unknown'}`;
        const verdict = deps.rateLimiter.take(callerKey, Date.parse(deps.clock.now()));
        if (!verdict.allowed) {
          return refuse(request, route, 'rateLimit', requestId, principal, 429, `too many requests; retry in ${verdict.retryAfterSeconds} s`, { 'retry-after': String(verdict.retryAfterSeconds) });
        }
      }
      // Public routes have no authorizer in AWS, so a credential that does not verify is not looked at there:
      // the caller is anonymous, as it is here (a health probe with a stale token still gets its answer).
      if (!outcome.ok && route.auth === 'public') return { context: undefined };
      if (!outcome.ok) return refuse(request, route, routeName, requestId, undefined, 401, outcome.reason, { 'www-authenticate': WWW_AUTHENTICATE });
      return { context: toAuthorizerContext(outcome.principal) };
    },
  };
}
