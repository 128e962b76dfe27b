import middy from '@middy/core';
import { forbiddenKeyIssues as forbiddenKeys } from './forbidden-keys.ts';
import httpEventNormalizer from '@middy/http-event-normalizer';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { z } from 'zod';
import {
  DomainError,
  ErrorName,
  MalformedJsonError,
  PayloadTooLargeError,
  RateLimitedError,
  UpstreamRejectedError,
  UnsupportedMediaTypeError,
  ValidationError,
  type FieldIssue,
} from '../../core/errors.ts';
import { zodIssues } from '../../core/workflow/validate.ts';
import type { RouteSpec } from '../routes.ts';
import { ERROR_STATUS, errorResponse, INTERNAL_ERROR, successResponse, WWW_AUTHENTICATE, type HttpResponse } from './envelope.ts';
import { actionOf, securityMiddleware, type HandlerSecurity } from './security.ts';
import { corsMiddleware } from './cors.ts';
import { principalOf } from '../auth/principal-context.ts';
import { MAX_USER_ID_LENGTH } from '../../core/auth/model.ts';
import type { Principal } from '../../core/auth/model.ts';
import type { Log } from '../../core/ports.ts';
import { sharedLog } from '../observability/logger.ts';
import { observeRequests } from '../observability/request-observer.ts';
import { currentLogContext } from '../observability/log-context.ts';

/**
 * Request bodies above this are refused with 413 before parsing. A workflow definition must fit one
 * DynamoDB item (400 KB); 1 MiB leaves room for JSON whitespace while bounding the work per request.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface HandlerInput<R extends RouteSpec> {
  readonly params: Infer<R['params']>;
  readonly query: Infer<R['query']>;
  readonly body: Infer<R['body']>;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The verified caller (from the authorizer context; never from raw identity headers). */
  readonly caller: Principal;
  /** The caller's subject: the token's `sub`, the key's name, or X-User-ID / `anonymous` for anonymous callers. */
  readonly actor: string;
  readonly requestId: string;
  /** The caller's address, as API Gateway (or the local server) saw it. */
  readonly sourceIp: string | undefined;
  /** The request's trace and span: what it starts (a run) continues the trace as the span's child. */
  readonly trace: { readonly trace_id: string; readonly span_id: string } | undefined;
}

export interface HandlerResult<T> {
  readonly message: string;
  readonly data: T;
  readonly status?: number;
  readonly headers?: Record<string, string>;
  /** Send `data` as the whole body, without the envelope (documents such as OpenAPI that tools read as is). */
  readonly raw?: boolean;
  /** With `raw`, a text `data` sent as it is with this media type (the route's `mediaType`) instead of JSON. */
  readonly contentType?: string;
}

/** The log port (core/ports.ts): entries without `level` are info. */
export type Logger = Log;

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<HttpResponse>;

/**
 * The process's structured logger (functions/observability/logger.ts `sharedLog`): JSON lines with the request's
 * ids, secrets redacted; CloudWatch in AWS, stderr locally (as the composition root configures it).
 */
export const jsonLogger: Logger = sharedLog;

/**
 * What a route's handler returns as `data`: what its response schema describes (the schema's output, which the
 * OpenAPI document shows), read-only so that domain objects fit as they are. A field the schema lacks (in an
 * object literal) or misses is a type error in the handler.
 */
export type ResponseData<R extends RouteSpec> = Immutable<z.output<R['response']>>;

/** `T` with every array and object read-only, all the way down. */
type Immutable<T> = T extends readonly (infer E)[] ? readonly Immutable<E>[] : T extends object ? { readonly [K in keyof T]: Immutable<T[K]> } : T;

/**
 * Builds the Lambda handler for one route: normalizes the event, enforces the body limit and content type,
 * parses JSON, validates path, query and body with the route's zod schemas (every problem, with its field),
 * resolves the caller's identity, runs `run`, and wraps the result or error in the response envelope.
 */
export function createHttpHandler<R extends RouteSpec>(
  route: R,
  run: (input: HandlerInput<R>) => Promise<HandlerResult<ResponseData<R>>>,
  security: HandlerSecurity,
  log: Logger = security.log ?? jsonLogger,
): ApiHandler {
  // The security middleware comes first: its `before` runs before the body is parsed (401/403 before 400),
  // and its `onError` after the envelope's, so it sees the status the caller got.
  // CORS first, so that its `after` and `onError` run last and every response (errors too) carries its headers.
  const handler = middy<APIGatewayProxyEvent, HttpResponse>()
    .use(corsMiddleware(security.cors))
    .use(securityMiddleware(route, { log, ...security }))
    .use(envelopeErrors(route, log))
    .use(httpHeaderNormalizer())
    .use(httpEventNormalizer());
  if (route.body) {
    handler.use(bodyGuard(bodyMayBeOmitted(route.body))).use(httpJsonBodyParser());
  }
  // A query parameter the route does not declare is refused, naming it, as unknown body keys are: a typo
  // (`?stauts=active`) would otherwise silently list everything.
  const declaredQuery = Object.keys(route.query?.shape ?? {});
  const undeclared = (name: string): FieldIssue => ({
    field: name,
    message: `unknown query parameter; ${declaredQuery.length === 0 ? 'this route takes none' : `this route takes ${declaredQuery.join(', ')}`}`,
  });
  const routed = handler.handler(async (event, context) => {
    const requestId = requestIdOf(event, context);
    const issues: FieldIssue[] = [];
    const params = parsePart(route.params, event.pathParameters ?? {}, 'path', issues);
    const rawQuery = singleValued(event.queryStringParameters);
    issues.push(...Object.keys(rawQuery).filter((name) => !declaredQuery.includes(name)).map(undeclared));
    const query = parsePart(route.query, rawQuery, 'query', issues);
    const body = parsePart(route.body, event.body as unknown, '', issues);
    const userId = event.headers['x-user-id']?.trim();
    if (userId !== undefined && userId.length > MAX_USER_ID_LENGTH) issues.push({ field: 'X-User-ID', message: `must be at most ${MAX_USER_ID_LENGTH} characters` });
    if (issues.length > 0) throw new ValidationError(issues);
    const caller = principalOf(event);
    const { trace_id, span_id } = currentLogContext();
    const trace = trace_id !== undefined && span_id !== undefined ? { trace_id, span_id } : undefined;
    const result = await run({ params, query, body, headers: event.headers, caller, actor: caller.subject, requestId, sourceIp: event.requestContext?.identity?.sourceIp, trace } as HandlerInput<R>);
    if (result.raw && result.contentType !== undefined && typeof result.data === 'string') {
      return { statusCode: result.status ?? route.successStatus, headers: { 'content-type': result.contentType, 'x-request-id': requestId, ...result.headers }, body: result.data };
    }
    if (result.raw) {
      return { statusCode: result.status ?? route.successStatus, headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId, ...result.headers }, body: JSON.stringify(result.data) };
    }
    return successResponse(result.status ?? route.successStatus, result.message, result.data, requestId, result.headers);
  }) as unknown as ApiHandler;
  // Outside every middleware: the span and the metrics see the status the caller got, refusals included.
  return observeRequests(actionOf(route), route, routed, security.observer);
}

function parsePart<S extends z.ZodType | undefined>(schema: S, value: unknown, prefix: string, issues: FieldIssue[]): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  issues.push(...zodIssues(parsed.error, prefix === 'path' || prefix === 'query' ? '' : prefix));
  return undefined;
}

function singleValued(query: Record<string, string | undefined> | null): Record<string, string> {
  return Object.fromEntries(Object.entries(query ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function requestIdOf(event: APIGatewayProxyEvent, context: Context): string {
  return event.requestContext?.requestId || context.awsRequestId;
}

/** Refuses a missing or oversized body before the JSON parser sees it (API Gateway sends `null` for none). */
function bodyGuard(mayBeOmitted: boolean): middy.MiddlewareObj<APIGatewayProxyEvent, HttpResponse> {
  return {
    before: ({ event }) => {
      // `curl -X POST .../retry` with neither body nor Content-Type: the same as `{}` when that is a valid body.
      if (mayBeOmitted && (event.body ?? '') === '' && event.headers['content-type'] === undefined) {
        event.body = '{}';
        event.headers['content-type'] = 'application/json';
      }
      const body = event.body ?? '';
      if (body.trim() === '' && /json/i.test(event.headers['content-type'] ?? '')) {
        throw new MalformedJsonError('request body is not valid JSON: the request body is empty', [{ field: '(body)', message: 'the request body is empty' }]);
      }
      const bytes = event.isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body, 'utf8');
      if (bytes > MAX_BODY_BYTES) {
        throw new PayloadTooLargeError(`request body is ${bytes} bytes; the limit is ${MAX_BODY_BYTES} bytes`, [
          { field: '(body)', message: `at most ${MAX_BODY_BYTES} bytes` },
        ]);
      }
    },
  };
}

/** A body schema every field of which is optional: the request may leave the body out (requestBody not required). */
export function bodyMayBeOmitted(schema: z.ZodType): boolean {
  return schema.safeParse({}).success;
}

/** Middy's body parser throws HttpErrors (415, 422); they become domain errors so one table maps them. */
function fromMiddyError(error: unknown, event: APIGatewayProxyEvent): unknown {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  // Valid JSON with a key the parser refuses (prototype pollution): a field problem, not malformed JSON.
  const forbidden = status === 422 ? forbiddenKeyIssues(error, event) : [];
  if (forbidden.length > 0) return new ValidationError(forbidden);
  if (status === 415) {
    const got = ((error as { cause?: { data?: unknown } }).cause?.data as string | undefined) ?? 'none';
    return new UnsupportedMediaTypeError(`Content-Type must be application/json (got ${got})`, [{ field: 'Content-Type', message: `expected application/json, got ${got}` }]);
  }
  if (status === 422) {
    const cause = (error as { cause?: { data?: unknown; message?: unknown } }).cause;
    const detail = cause?.data === undefined || cause.data === '' ? 'the request body is empty' : String(cause.message ?? 'invalid JSON');
    return new MalformedJsonError(`request body is not valid JSON: ${detail}`, [{ field: '(body)', message: detail }]);
  }
  return error;
}

export { FORBIDDEN_KEY_RULE } from './forbidden-keys.ts';

/**
 * Where a body has the keys middy's parser refuses (`__proto__` anywhere, `constructor` holding a `prototype`),
 * each with its path. JSON.parse itself makes `__proto__` an own data property, never the prototype, so
 * parsing again to find them pollutes nothing; the parsed value is only walked, then dropped.
 */
function forbiddenKeyIssues(error: unknown, event: APIGatewayProxyEvent): FieldIssue[] {
  if ((error as { message?: unknown }).message !== 'Forbidden key in JSON body' || typeof event.body !== 'string') return [];
  try {
    return forbiddenKeys(JSON.parse(event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body));
  } catch {
    return [];
  }
}

/** A 401 names the accepted scheme; a 429 says when to come back. */
export function refusalHeaders(error: DomainError): Record<string, string> {
  if (error.name === ErrorName.Unauthenticated) return { 'www-authenticate': WWW_AUTHENTICATE };
  if (error instanceof RateLimitedError) return { 'retry-after': String(error.retryAfterSeconds) };
  if (error instanceof UpstreamRejectedError && error.retryAfter !== undefined) return { 'retry-after': error.retryAfter };
  return {};
}

function envelopeErrors(route: RouteSpec, log: Logger): middy.MiddlewareObj<APIGatewayProxyEvent, HttpResponse> {
  return {
    onError: (request) => {
      const error = fromMiddyError(request.error, request.event);
      const requestId = requestIdOf(request.event, request.context);
      const named = error instanceof DomainError ? ERROR_STATUS[error.name] : undefined;
      // A proxied service's 4xx is passed on with its own status.
      const mapped = named && error instanceof UpstreamRejectedError ? { ...named, status: error.status } : named;
      if (error instanceof DomainError && mapped) {
        request.response = errorResponse(mapped.status, mapped.code, error.message, error.details, requestId, refusalHeaders(error));
        if (mapped.status >= 500) log({ level: 'warn', request_id: requestId, route: `${route.method} ${route.path}`, error: error.name, message: error.message });
        return;
      }
      log({
        level: 'error',
        request_id: requestId,
        route: `${route.method} ${route.path}`,
        error: error instanceof Error ? error.name : 'unknown',
        message: error instanceof Error ? error.message : String(error),
        stack: error instanceof Error ? error.stack : undefined,
      });
      request.response = errorResponse(INTERNAL_ERROR.status, INTERNAL_ERROR.code, 'internal error; quote the request_id when reporting it', [], requestId);
    },
  };
}

/** `createHttpHandler` with the security every handler of one composition root shares. */
export function handlerFactory(security: HandlerSecurity) {
  return <R extends RouteSpec>(route: R, run: (input: HandlerInput<R>) => Promise<HandlerResult<ResponseData<R>>>): ApiHandler => createHttpHandler(route, run, security);
}
