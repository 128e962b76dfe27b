import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import FindMyWay from 'find-my-way';
import { isConsoleRequest, serveConsole } from './console-site.ts';
import { errorResponse, METHOD_NOT_ALLOWED, ROUTE_NOT_FOUND, ERROR_STATUS, type HttpResponse } from '../functions/middleware/envelope.ts';
import { MAX_BODY_BYTES, type ApiHandler } from '../functions/middleware/http-handler.ts';
import { lambdaContextOf, proxyIdentity } from '../functions/middleware/proxy-event.ts';
import type { RouteName, RouteSpec } from '../functions/routes.ts';
import { ErrorName } from '../core/errors.ts';
import { clientCertificateOf, tlsServerOptions, type TlsMaterial } from './tls.ts';
import type { RequestGate } from './gate.ts';
import type { LiveStreams } from './event-stream.ts';
import type { AuthorizerContext } from '../functions/auth/principal-context.ts';
import { corsPreflightHeaders, corsResponseHeaders, type CorsPolicy } from '../functions/cors.ts';
import type { Log } from '../core/ports.ts';
import { sharedLog } from '../functions/observability/logger.ts';
import { UNMATCHED_ROUTE } from '../functions/observability/http-metrics.ts';
import { recordAnswer } from '../functions/observability/request-observer.ts';

/**
 * API Gateway's role on one machine: routes requests by the route table, turns them into REST API proxy
 * events, calls the same handlers the Lambdas run, and writes their responses back.
 */
export interface LocalServerOptions {
  readonly routes: Readonly<Record<RouteName, RouteSpec>>;
  readonly handlers: Readonly<Record<RouteName, ApiHandler>>;
  readonly bodyLimitBytes?: number;
  /** Authentication and throttling before a handler runs (API Gateway's authorizer and stage throttling). */
  readonly gate: RequestGate;
  /** Serve HTTPS with this material (and require client certificates when it has a client CA); omitted: HTTP. */
  readonly tls?: TlsMaterial;
  /** Browser origins that may call the API (ORCHESTRATOR_CORS_ORIGINS); omitted: no CORS headers. */
  readonly cors?: CorsPolicy;
  /** Live Server-Sent Events for the stream route (local/event-stream.ts); omitted: it answers its catch-up only. */
  readonly liveStreams?: LiveStreams;
  /** Where a request that failed outside its handler is logged; default the shared logger. */
  readonly log?: Log;
  /**
   * Counts (and logs) the answers the server gives itself (the handlers' are counted by their request observer): 404 and
   * 405 as the route `unmatched`, the gate's refusals (401, 403, 429) and 413 under their route's name.
   */
  readonly httpRequest?: (route: string, method: string, status: number, seconds: number) => void;
  /** The web console's built files, served at /console/ (local/console-site.ts); omitted: no console. */
  readonly consoleDirectory?: string;
}

export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

interface RouteTarget {
  readonly name: RouteName;
  readonly route: RouteSpec;
  readonly handler: ApiHandler;
}

const FUNCTION_TIMEOUT_MS = 30_000;
/** Longer than any URL the server reads (431 beyond Node's 16 KB of headers, the request line included). */
const MAX_PATH_PARAMETER_LENGTH = 16 * 1024;

/**
 * How much of an oversized body is read and thrown away before the 413 is sent. Closing the connection while
 * the client is still sending makes its kernel see a reset, often before it reads the answer; reading the rest
 * first means it always gets the 413. A client that declares more than this gets the 413 at once (then the
 * connection is closed, and it may see a reset instead: it was warned by its own Content-Length).
 */
export const MAX_DISCARDED_BODY_BYTES = 32 * 1024 * 1024;

/** The server: HTTP, or HTTPS (mutual TLS with a client CA) when `tls` is given, with the one request listener. */
export function createLocalServer(options: LocalServerOptions): Server {
  const listener = createRequestListener(options);
  const server = options.tls === undefined ? createServer(listener) : createHttpsServer(tlsServerOptions(options.tls), listener);
  // `Expect: 100-continue`: the listener sends 100 Continue only when it is about to read the body, so a
  // request refused before that (401, 404, 413 on its Content-Length...) never has its body sent at all.
  server.on('checkContinue', listener);
  return server;
}

/** The request listener (routing, proxy events, handlers), for an HTTP or an HTTPS server alike. */
export function createRequestListener({ routes, handlers, gate, bodyLimitBytes = MAX_BODY_BYTES, cors, liveStreams, log = sharedLog, httpRequest, consoleDirectory }: LocalServerOptions): RequestListener {
  // A path parameter of any length reaches its handler, as in API Gateway, whose schema then names the limit
  // (find-my-way's default, 100 characters, would answer a longer id with 404 ROUTE_NOT_FOUND).
  const router = FindMyWay({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: MAX_PATH_PARAMETER_LENGTH });
  const noop = () => undefined;
  for (const [name, route] of Object.entries(routes) as [RouteName, RouteSpec][]) {
    const target: RouteTarget = { name, route, handler: handlers[name] };
    router.on(route.method, route.path.replace(/\{(\w+)\}/g, ':$1'), noop, target);
  }
  const methods = [...new Set(Object.values(routes).map((route) => route.method))];
  const parameterCount = (template: string) => template.split('{').length - 1;

  /**
   * The route-table resource a path belongs to, as API Gateway decides it: of the templates that match, the
   * one with the fewest parameters (fixed words win: `/workflows/health` is never the workflow `health`), and
   * the methods that resource has.
   */
  const resourceOf = (path: string): { template: string; allowed: string[] } | undefined => {
    const matches = methods.flatMap((candidate) => {
      const match = router.find(candidate, path);
      return match ? [{ method: candidate, template: (match.store as RouteTarget).route.path }] : [];
    });
    if (matches.length === 0) return undefined;
    const fewest = Math.min(...matches.map((match) => parameterCount(match.template)));
    const template = matches.find((match) => parameterCount(match.template) === fewest)!.template;
    const own = matches.filter((match) => match.template === template).map((match) => match.method);
    return { template, allowed: [...own, ...(own.includes('GET') ? ['HEAD'] : []), 'OPTIONS'] };
  };

  return (request, response) => {
    const started = performance.now();
    const requestId = randomUUID();
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = (request.method ?? 'GET').toUpperCase();
    const origin = request.headers.origin;
    // `Expect: 100-continue` with a body not asked for yet: the client sends it only after a 100, so an answer
    // given before must close the connection (the server would otherwise wait for a body that never comes).
    const awaitingContinue = /^\s*100-continue\s*$/i.test(request.headers.expect ?? '');
    let bodyAsked = false;
    /** Every answer, the router's and the gate's too, carries the CORS headers an allowed origin needs. */
    const reply = (answer: HttpResponse, headOnly = false): void => {
      // An answer no handler gave (their observer records the others): unknown paths, refusals.
      if (answeredBy !== undefined) recordAnswer({ httpRequest, log }, { ...answeredBy, method, status: answer.statusCode, seconds: (performance.now() - started) / 1000, request_id: requestId });
      const close: Record<string, string> = awaitingContinue && !bodyAsked ? { connection: 'close' } : {};
      send(response, { ...answer, headers: { ...answer.headers, ...corsResponseHeaders(cors, origin), ...close } }, headOnly);
    };
    const discard = (): void => {
      if (!awaitingContinue) request.resume();
    };
    // Whose answer `reply` sends: the server's own (measured here) until a handler answers (measured by its observer).
    let answeredBy: { routeName: string; route: string } | undefined = { routeName: UNMATCHED_ROUTE, route: `${method} ${url.pathname}` };
    if (consoleDirectory !== undefined && isConsoleRequest(method, url.pathname)) {
      discard();
      void serveConsole(consoleDirectory, request, response, url.pathname).catch((error: unknown) => {
        log({ level: 'error', message: 'serving the console failed', path: url.pathname, error: String(error) });
        if (!response.headersSent) response.writeHead(500).end();
      });
      return;
    }
    const resource = resourceOf(url.pathname);
    if (!resource) {
      discard();
      reply(errorResponse(ROUTE_NOT_FOUND.status, ROUTE_NOT_FOUND.code, `no route for ${method} ${url.pathname}`, [], requestId));
      return;
    }
    const allow = resource.allowed.join(', ');
    if (method === 'OPTIONS') {
      discard();
      // A CORS preflight (Origin and Access-Control-Request-Method) from an allowed origin gets the CORS
      // answer; anyone else gets the methods in Allow only.
      const preflight = request.headers['access-control-request-method'] === undefined ? corsResponseHeaders(cors, origin) : corsPreflightHeaders(cors, origin, resource.allowed);
      response.writeHead(204, { allow, 'x-request-id': requestId, ...preflight, ...(awaitingContinue ? { connection: 'close' } : {}) });
      response.end();
      return;
    }
    // HEAD is GET without the body (RFC 9110 9.3.2): same status and headers.
    const head = method === 'HEAD';
    const found = router.find((head ? 'GET' : method) as 'GET', url.pathname);
    if (!found || (found.store as RouteTarget).route.path !== resource.template) {
      discard();
      reply(errorResponse(METHOD_NOT_ALLOWED.status, METHOD_NOT_ALLOWED.code, `${method} is not allowed on ${url.pathname}; use ${allow}`, [], requestId, { allow }));
      return;
    }
    const target = found.store as RouteTarget;
    answeredBy = { routeName: target.name, route: `${target.route.method} ${target.route.path}` };
    const tooLarge = (): HttpResponse => {
      const mapped = ERROR_STATUS[ErrorName.PayloadTooLarge]!;
      return errorResponse(mapped.status, mapped.code, `request body exceeds ${bodyLimitBytes} bytes`, [{ field: '(body)', message: `at most ${bodyLimitBytes} bytes` }], requestId, { connection: 'close' });
    };
    gate.admit(request, target.route, target.name, requestId)
      .then(async (admission) => {
        if ('refused' in admission) {
          discard();
          reply(admission.refused);
          return;
        }
        const declared = Number(request.headers['content-length'] ?? 0);
        if (awaitingContinue && declared > bodyLimitBytes) {
          // Refused on its Content-Length: the body is never sent.
          reply(tooLarge());
          return;
        }
        if (awaitingContinue) response.writeContinue();
        bodyAsked = true;
        const body = await readBody(request, bodyLimitBytes);
        if (body === undefined) {
          reply(tooLarge());
          return;
        }
        answeredBy = undefined;
        const event = toProxyEvent(request, url, target, found.params, body, requestId, admission.context);
        // A live stream subscribes before its handler reads the history, so that nothing falls in between.
        const live = liveStreams !== undefined && target.name === liveStreams.route && !head ? liveStreams.prepare(request, event) : undefined;
        let answer: HttpResponse;
        try {
          answer = await target.handler(event, lambdaContext(target.name, requestId));
        } catch (error) {
          live?.cancel();
          throw error;
        }
        if (live?.start(response, { ...answer, headers: { ...answer.headers, ...corsResponseHeaders(cors, origin) } })) return;
        reply(answer, head);
      })
      .catch((error: unknown) => {
        log({ level: 'error', request_id: requestId, message: error instanceof Error ? error.message : String(error) });
        answeredBy = { routeName: target.name, route: `${target.route.method} ${target.route.path}` };
        if (!response.headersSent) reply(errorResponse(500, 'INTERNAL_ERROR', 'internal error', [], requestId));
      });
  };
}

/** Listens on `port` (0 for any) and resolves once accepting connections. */
export async function listen(server: Server, port: number, host: string): Promise<RunningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${server instanceof HttpsServer ? 'https' : 'http'}://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/**
 * The body as text, or undefined when it passes the limit. An oversized body is read to its end and thrown
 * away (not buffered) before the caller answers 413, up to MAX_DISCARDED_BODY_BYTES: see there.
 */
function readBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  const declared = Number(request.headers['content-length'] ?? 0);
  return new Promise((resolve, reject) => {
    if (declared > limit + MAX_DISCARDED_BODY_BYTES) {
      request.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > limit + MAX_DISCARDED_BODY_BYTES) resolve(undefined);
    });
    request.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function toProxyEvent(
  request: IncomingMessage,
  url: URL,
  target: RouteTarget,
  params: Record<string, string | undefined>,
  body: string,
  requestId: string,
  authorizer: AuthorizerContext | undefined,
): APIGatewayProxyEvent {
  // Maps, then Object.fromEntries: a name such as `__proto__` or `constructor` becomes an own property, as
  // it does in the JSON event API Gateway sends, never the prototype (an assignment would set or read that).
  const headerValues = new Map<string, string[]>();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headerValues.set(name, Array.isArray(value) ? value : [value]);
  }
  const queryValues = new Map<string, string[]>();
  for (const [key, value] of url.searchParams) queryValues.set(key, [...(queryValues.get(key) ?? []), value]);
  const headers = Object.fromEntries([...headerValues].map(([name, values]) => [name, values.join(',')]));
  const multiValueHeaders = Object.fromEntries(headerValues);
  // API Gateway's queryStringParameters holds a repeated parameter's last value.
  const query = Object.fromEntries([...queryValues].map(([key, values]) => [key, values[values.length - 1]!]));
  const multiQuery = Object.fromEntries(queryValues);
  const hasQuery = queryValues.size > 0;
  const pathParameters = Object.fromEntries(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const now = Date.now();
  return {
    resource: target.route.path,
    path: url.pathname,
    httpMethod: target.route.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : null,
    stageVariables: null,
    body: body.length > 0 ? body : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      // A public route's anonymous caller has no context, as with no authorizer in AWS.
      authorizer: authorizer === undefined ? null : { ...authorizer },
      protocol: `HTTP/${request.httpVersion}`,
      httpMethod: target.route.method,
      path: url.pathname,
      stage: 'local',
      requestId,
      requestTimeEpoch: now,
      resourceId: target.name,
      resourcePath: target.route.path,
      // Only a certificate verified against the client CA (mutual TLS), as API Gateway passes it.
      identity: proxyIdentity({ sourceIp: request.socket.remoteAddress ?? '127.0.0.1', userAgent: request.headers['user-agent'] ?? null, clientCert: clientCertificateOf(request.socket) }),
    },
  };
}

function lambdaContext(functionName: string, requestId: string): Context {
  const deadline = Date.now() + FUNCTION_TIMEOUT_MS;
  return lambdaContextOf(functionName, requestId, () => Math.max(0, deadline - Date.now()));
}

function send(response: ServerResponse, reply: HttpResponse, headOnly = false): void {
  if (headOnly) {
    response.writeHead(reply.statusCode, { ...reply.headers, 'content-length': String(Buffer.byteLength(reply.body)) });
    response.end();
    return;
  }
  response.writeHead(reply.statusCode, reply.headers);
  response.end(reply.body);
}
