import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import FindMyWay from 'find-my-way';
import { errorResponse, METHOD_NOT_ALLOWED, ROUTE_NOT_FOUND, ERROR_STATUS, type HttpResponse } from '../functions/middleware/envelope.ts';
import { MAX_BODY_BYTES, type ApiHandler } from '../functions/middleware/http-handler.ts';
import type { RouteName, RouteSpec } from '../functions/routes.ts';
import { ErrorName } from '../core/errors.ts';
import { clientCertificateOf, tlsServerOptions, type TlsMaterial } from './tls.ts';
import type { RequestGate } from './gate.ts';
import type { AuthorizerContext } from '../functions/auth/principal-context.ts';

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

/** The server: HTTP, or HTTPS (mutual TLS with a client CA) when `tls` is given, with the one request listener. */
export function createLocalServer(options: LocalServerOptions): Server {
  const listener = createRequestListener(options);
  return options.tls === undefined ? createServer(listener) : createHttpsServer(tlsServerOptions(options.tls), listener);
}

/** The request listener (routing, proxy events, handlers), for an HTTP or an HTTPS server alike. */
export function createRequestListener({ routes, handlers, gate, bodyLimitBytes = MAX_BODY_BYTES }: LocalServerOptions): RequestListener {
  const router = FindMyWay({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true });
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
    const requestId = randomUUID();
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = (request.method ?? 'GET').toUpperCase();
    const resource = resourceOf(url.pathname);
    if (!resource) {
      request.resume();
      send(response, errorResponse(ROUTE_NOT_FOUND.status, ROUTE_NOT_FOUND.code, `no route for ${method} ${url.pathname}`, [], requestId));
      return;
    }
    const allow = resource.allowed.join(', ');
    if (method === 'OPTIONS') {
      request.resume();
      response.writeHead(204, { allow, 'x-request-id': requestId });
      response.end();
      return;
    }
    // HEAD is GET without the body (RFC 9110 9.3.2): same status and headers.
    const head = method === 'HEAD';
    const found = router.find((head ? 'GET' : method) as 'GET', url.pathname);
    if (!found || (found.store as RouteTarget).route.path !== resource.template) {
      request.resume();
      send(response, errorResponse(METHOD_NOT_ALLOWED.status, METHOD_NOT_ALLOWED.code, `${method} is not allowed on ${url.pathname}; use ${allow}`, [], requestId, { allow }));
      return;
    }
    const target = found.store as RouteTarget;
    gate.admit(request, target.route, target.name, requestId)
      .then(async (admission) => {
        if ('refused' in admission) {
          request.resume();
          send(response, admission.refused);
          return;
        }
        const body = await readBody(request, bodyLimitBytes);
        if (body === undefined) {
          const tooLarge = ERROR_STATUS[ErrorName.PayloadTooLarge]!;
          send(response, errorResponse(tooLarge.status, tooLarge.code, `request body exceeds ${bodyLimitBytes} bytes`, [{ field: '(body)', message: `at most ${bodyLimitBytes} bytes` }], requestId, { connection: 'close' }));
          return;
        }
        const event = toProxyEvent(request, url, target, found.params, body, requestId, admission.context);
        send(response, await target.handler(event, lambdaContext(target.name, requestId)), head);
      })
      .catch((error: unknown) => {
        console.error(JSON.stringify({ level: 'error', request_id: requestId, message: error instanceof Error ? error.message : String(error) }));
        if (!response.headersSent) send(response, errorResponse(500, 'INTERNAL_ERROR', 'internal error', [], requestId));
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

/** The body as text, or undefined once it passes the limit (the rest is drained, not buffered). */
function readBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  const declared = Number(request.headers['content-length'] ?? 0);
  return new Promise((resolve, reject) => {
    if (declared > limit) {
      request.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let overflow = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) overflow = true;
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(overflow ? undefined : Buffer.concat(chunks).toString('utf8')));
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
  authorizer: AuthorizerContext,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    headers[name] = values.join(',');
    multiValueHeaders[name] = values;
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    query[key] = value;
    (multiQuery[key] ??= []).push(value);
  }
  const hasQuery = Object.keys(query).length > 0;
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
      authorizer: { ...authorizer },
      protocol: `HTTP/${request.httpVersion}`,
      httpMethod: target.route.method,
      path: url.pathname,
      stage: 'local',
      requestId,
      requestTimeEpoch: now,
      resourceId: target.name,
      resourcePath: target.route.path,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        // Only a certificate verified against the client CA (mutual TLS), as API Gateway passes it.
        clientCert: clientCertificateOf(request.socket),
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: request.headers['user-agent'] ?? null,
        userArn: null,
      },
    },
  };
}

function lambdaContext(functionName: string, requestId: string): Context {
  const deadline = Date.now() + FUNCTION_TIMEOUT_MS;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/local/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
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
