import type middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { checkAccess, type AuthMode, type Principal } from '../../core/auth/model.ts';
import { DependencyUnavailableError, DomainError, ErrorName, ForbiddenError, UnauthenticatedError } from '../../core/errors.ts';
import type { AuditRecord, AuditTrail, Clock, IdGenerator } from '../../core/ports.ts';
import { principalOf } from '../auth/principal-context.ts';
import { auditRecord, pathIds, recordRefusal } from '../auth/audit-record.ts';
import { routes, type RouteSpec } from '../routes.ts';
import type { HttpResponse } from './envelope.ts';
import type { CorsPolicy } from '../cors.ts';
import type { RequestObserver } from '../observability/request-observer.ts';

/** What every route handler needs to enforce access and keep the audit trail. */
export interface HandlerSecurity {
  readonly audit: AuditTrail;
  readonly authMode: AuthMode;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Where a failure to settle an audit record is reported (the request itself has already happened). */
  readonly log?: (entry: Record<string, unknown>) => void;
  /**
   * Cross-origin access (ORCHESTRATOR_CORS_ORIGINS): the Lambdas add its headers to their responses. Unset
   * locally, where the HTTP server adds them to every response, its own included.
   */
  readonly cors?: CorsPolicy;
  /** Spans and HTTP metrics of every request (functions/observability/request-observer.ts); omitted: none. */
  readonly observer?: RequestObserver;
}

const REFUSALS: ReadonlySet<string> = new Set([ErrorName.Unauthenticated, ErrorName.Forbidden, ErrorName.RateLimited]);
/** Response fields that name what a request created, added to its record's targets. */
const CREATED_ID_FIELDS = ['workflow_id', 'execution_id', 'key_id', 'instance_id', 'subscription_id', 'replay_id'] as const;

/** State-changing requests leave an audit record whatever their outcome; reads only when refused. */
export function isStateChanging(route: Pick<RouteSpec, 'method'>): boolean {
  return route.method !== 'GET';
}

/** The route's name in the route table (the audit record's `action`), or `METHOD /path` for a route outside it. */
export function actionOf(route: RouteSpec): string {
  const entry = Object.entries(routes).find(([, spec]) => spec === route);
  return entry ? entry[0] : `${route.method} ${route.path}`;
}

/**
 * Access control and the audit trail, around every handler:
 * - before anything is parsed, the caller (from the authorizer context) must reach the route's `auth`: 401
 *   without a credential where one is required, 403 when the role is too low;
 * - a state-changing request is recorded *before* it runs, and fails with 503 when the record cannot be
 *   written (fail closed: nothing happens that the trail does not show); its outcome is added after;
 * - a refused request leaves one record with the status and the reason.
 */
export function securityMiddleware(route: RouteSpec, security: HandlerSecurity): middy.MiddlewareObj<APIGatewayProxyEvent, HttpResponse> {
  const action = actionOf(route);
  // The record a request in flight has written, until its outcome is added.
  const pendingAudit = new WeakMap<object, string>();
  const routeLabel = `${route.method} ${route.path}`;
  const recordOf = (event: APIGatewayProxyEvent, principal: Principal, outcome: number | null, reason?: string): AuditRecord =>
    auditRecord(
      security,
      {
        action,
        route: routeLabel,
        targets: pathIds(event.pathParameters),
        requestId: event.requestContext?.requestId ?? 'unknown',
        sourceIp: event.requestContext?.identity?.sourceIp ?? 'unknown',
        userAgent: event.requestContext?.identity?.userAgent,
      },
      principal,
      outcome,
      reason,
    );

  return {
    before: async (request) => {
      const principal = principalOf(request.event);
      const verdict = checkAccess(principal, route.auth, { peerAllowed: route.peerAccess === true });
      if (!verdict.allowed) throw verdict.status === 401 ? new UnauthenticatedError(verdict.reason) : new ForbiddenError(verdict.reason);
      if (!isStateChanging(route)) return;
      const record = recordOf(request.event, principal, null);
      try {
        await security.audit.append(record);
      } catch (error) {
        throw new DependencyUnavailableError('the audit trail cannot be written, so the request was not carried out; try again later', [], { cause: error });
      }
      pendingAudit.set(request, record.audit_id);
    },
    after: async (request) => {
      await settle(request, request.response?.statusCode ?? 200);
    },
    onError: async (request) => {
      const status = request.response?.statusCode ?? 500;
      if (pendingAudit.has(request)) {
        await settle(request, status);
        return;
      }
      const error = request.error;
      // Best effort: failing to record a refusal must not turn a 403 into a 503.
      if (error instanceof DomainError && REFUSALS.has(error.name)) await recordRefusal(security.audit, recordOf(request.event, principalOf(request.event), status, error.message), security.log);
    },
  };

  async function settle(request: middy.Request<APIGatewayProxyEvent, HttpResponse>, status: number): Promise<void> {
    const auditId = pendingAudit.get(request);
    if (auditId === undefined) return;
    pendingAudit.delete(request);
    try {
      const named = new Set(pathIds(request.event.pathParameters));
      await security.audit.settle(auditId, status, createdIds(request.response?.body).filter((id) => !named.has(id)));
    } catch (error) {
      security.log?.({ level: 'error', message: 'audit record outcome not written', audit_id: auditId, route: routeLabel, status, error: String(error) });
    }
  }
}

/** Ids a successful response names (a created workflow, run, key, instance), to add to the record's targets. */
function createdIds(body: string | undefined): string[] {
  if (body === undefined) return [];
  try {
    const parsed = JSON.parse(body) as { success?: unknown; data?: Record<string, unknown> };
    if (parsed.success !== true || typeof parsed.data !== 'object' || parsed.data === null) return [];
    const data = parsed.data;
    return CREATED_ID_FIELDS.map((field) => data[field]).filter((value): value is string => typeof value === 'string');
  } catch {
    return [];
  }
}
