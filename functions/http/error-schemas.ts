import * as z from 'zod';
import { ErrorName } from '../../core/errors.ts';
import { ERROR_STATUS, INTERNAL_ERROR, METHOD_NOT_ALLOWED, ROUTE_NOT_FOUND } from '../middleware/envelope.ts';
import type { RouteName, RouteSpec } from '../routes.ts';

/**
 * The error envelope as a zod schema, and which errors each operation can answer. The OpenAPI document
 * (openapi.ts) is generated from both; the fuzz suite (test/fuzz) checks every response against it.
 */

export const FieldIssueSchema = z
  .object({
    field: z.string().meta({ description: 'Where: a dotted/bracketed path into the body, a query parameter, a header or (body)' }),
    message: z.string().meta({ description: 'Why: names the rule that failed (type, limit, format)' }),
  })
  .meta({ id: 'FieldIssue', description: 'One problem with the request' });

/**
 * `{ success: false, message, error_code, details, request_id, timestamp }` (functions/middleware/envelope.ts
 * builds it). With `codes`, `error_code` is one of them; without, any string.
 */
export function errorEnvelopeSchema(codes?: readonly string[]) {
  const [first, ...rest] = codes ?? [];
  return z.object({
    success: z.literal(false),
    message: z.string(),
    error_code: first === undefined ? z.string() : z.enum([first, ...rest]),
    details: z.array(FieldIssueSchema),
    request_id: z.string(),
    timestamp: z.iso.datetime(),
  });
}

/** Any error envelope, whatever its code (the unknown-path 404, the 405, and readers that want one shape). */
export const ErrorEnvelopeSchema = errorEnvelopeSchema();

/** The error statuses an operation may document. 404 ROUTE_NOT_FOUND and 405 belong to paths, not operations. */
export const OPERATION_ERROR_STATUSES = [400, 401, 403, 404, 409, 413, 415, 429, 431, 500, 502, 503, 504] as const;
export type OperationErrorStatus = (typeof OPERATION_ERROR_STATUSES)[number];

/** Every code the API answers with `status`: ERROR_STATUS (the one name -> status table), 500, and the router's own. */
export function errorCodesOf(status: number): string[] {
  const codes = Object.values(ERROR_STATUS)
    .filter((mapped) => mapped.status === status)
    .map((mapped) => mapped.code);
  for (const own of [INTERNAL_ERROR, ROUTE_NOT_FOUND, METHOD_NOT_ALLOWED]) if (own.status === status) codes.push(own.code);
  return [...new Set(codes)];
}

/**
 * Operations that answer 404 without a path parameter: they look up what a body or query names
 * (a template by name; a service by ?name=; the workflow saga statistics are narrowed to). Read from the use cases (core/templates/catalog.ts findTemplate,
 * core/registry/openapi-poll.ts, core/registry/health-sweep.ts); every operation with a path parameter is
 * a lookup too.
 */
const LOOKS_UP: ReadonlySet<RouteName> = new Set<RouteName>(['createFromTemplate', 'pollOpenApi', 'runHealthCheck', 'sagaStatistics', 'replayEvents']);

/**
 * Operations whose use cases throw ConflictError: a revision or version precondition (If-Match,
 * expected_version, a concurrent write), a workflow that is not active or a run that already ended, an
 * API key id that already exists, a deployment at its subscription limit. DELETE /registry/{name} and DELETE /auth/api-keys/{key_id} are not among
 * them: removing what is not there is a 404, never a conflict.
 */
const CONFLICTS: ReadonlySet<RouteName> = new Set<RouteName>(['updateWorkflow', 'deleteWorkflow', 'executeWorkflow', 'cancelExecution', 'retryExecution', 'pauseExecution', 'resumeExecution', 'createApiKey', 'createEventSubscription', 'replayEvents', 'ingest', 'runIngestion', 'recalcQuality', 'notifyConsolidation', 'createSchedule', 'updateSchedule', 'triggerSchedule']);

/** Error codes a route cannot produce, by the parts it has: which of each status's codes apply to it. */
function applies(code: string, route: RouteSpec): boolean {
  if (code === ERROR_STATUS[ErrorName.MalformedJson]?.code) return route.body !== undefined;
  if (code === ERROR_STATUS[ErrorName.InvalidCursor]?.code) return route.query?.shape['next_token'] !== undefined;
  if (code === ROUTE_NOT_FOUND.code || code === METHOD_NOT_ALLOWED.code) return false;
  return true;
}

export interface OperationError {
  readonly status: OperationErrorStatus;
  /** The codes the body's `error_code` may take; empty when the response has no body (431). */
  readonly codes: readonly string[];
  readonly description: string;
  /** Response headers that come with it, lower-case name -> description. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Whether `route` can answer `status`, as its handler, the middleware, the local gate and server answer:
 * - 400 always (path, query, body and headers are validated; unknown query parameters are refused);
 * - 401 unless public; 403 unless public or open to any authenticated caller;
 * - 404 with a path parameter or a lookup (LOOKS_UP); 409 where a use case can conflict (CONFLICTS);
 * - 413 and 415 with a body;
 * - 429 (every route is throttled per caller: local/gate.ts, API Gateway's stage), 431 and 500 always;
 * - 503 when the route reads or writes a table, runs the engine, probes, publishes or reads the dead-letter
 *   queues, and for every
 *   state-changing method (its audit record is written first, and the request fails closed without it).
 */
function canAnswer(name: RouteName, route: RouteSpec, status: OperationErrorStatus): boolean {
  switch (status) {
    case 400:
    case 429:
    case 431:
    case 500:
      return true;
    case 401:
      return route.auth !== 'public';
    case 403:
      return route.auth !== 'public' && route.auth !== 'authenticated';
    case 404:
      return route.params !== undefined || LOOKS_UP.has(name);
    case 409:
      return CONFLICTS.has(name);
    case 413:
    case 415:
      return route.body !== undefined;
    case 502:
    case 504:
      // A proxy: the service failed or did not answer in time (its own 4xx are passed on, documented under 400).
      // A route that asks a model: the model refused the request, or did not answer within the route's budget.
      return route.ecosystem === true || route.model !== undefined;
    case 503:
      return route.ecosystem === true || Object.keys(route.tables).length > 0 || Boolean(route.engine) || route.probes === true || route.bus !== undefined || route.deadLetters !== undefined || route.method !== 'GET';
  }
}

const DESCRIPTIONS: Readonly<Record<OperationErrorStatus, string>> = {
  400: 'Invalid input, every problem listed in details: path or query parameters (an undeclared query parameter too), headers (X-User-ID, If-Match, Idempotency-Key), malformed JSON or body fields that fail validation, a next_token this listing did not issue',
  401: 'Unauthenticated: a credential is required, or the one presented does not verify (WWW-Authenticate names the scheme)',
  403: "Forbidden: the caller's role does not reach this route",
  404: "Not found: what the path, the body or ?name= names does not exist (another tenant's objects are not found either)",
  409: 'Conflict: a precondition failed (If-Match, expected_version, a concurrent change won) or the object is not in a state that allows it',
  413: 'Payload too large: the body is over 1 MiB',
  415: 'Unsupported media type: Content-Type must be application/json',
  429: 'Rate limited: too many requests from this caller (Retry-After says when to try again)',
  431: "Request header fields too large: the URL and headers together exceed the server's limit (16 KiB locally); no body",
  500: 'Internal error; quote the request_id when reporting it',
  502: 'Bad gateway: the ecosystem service the request was forwarded to could not be reached, failed (5xx) or answered outside its contract',
  504: 'Gateway timeout: the ecosystem service did not answer within ORCHESTRATOR_PROXY_TIMEOUT_SECONDS',
  503: 'A backing service (a table, the audit trail, the engine, the event bus, a queue, or for a proxy the ecosystem service: not configured, no healthy instance, circuit open) is unavailable; try again later',
};

const HEADERS: Partial<Record<OperationErrorStatus, Record<string, string>>> = {
  401: { 'www-authenticate': 'The scheme that would be accepted: Bearer realm="orchestrator"' },
  429: { 'retry-after': 'Seconds until a request will be accepted' },
};

/** The errors `route` (named `name` in the route table) can answer, in status order. */
export function operationErrors(name: RouteName, route: RouteSpec): OperationError[] {
  return OPERATION_ERROR_STATUSES.filter((status) => canAnswer(name, route, status)).map((status) => ({
    status,
    // The server answers 431 before any handler, with no body.
    codes: status === 431 ? [] : errorCodesOf(status).filter((code) => applies(code, route)),
    description: DESCRIPTIONS[status],
    headers: HEADERS[status] ?? {},
  }));
}
