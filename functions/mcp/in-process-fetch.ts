import type { APIGatewayProxyEvent } from 'aws-lambda';
import FindMyWay from 'find-my-way';
import type { AuthorizerContext } from '../auth/principal-context.ts';
import type { ApiHandler } from '../middleware/http-handler.ts';
import { lambdaContextOf, proxyIdentity } from '../middleware/proxy-event.ts';
import { routes, type RouteName } from '../routes.ts';

/**
 * `fetch` for the typed client that answers from the API's own handlers in this process, as the caller of
 * `/mcp`: what the MCP server at `/mcp` runs on (functions/http/mcp-handlers.ts). The server then uses exactly
 * the access it uses over stdio (client-access.ts), and every request it makes is one the API's handlers
 * check again: each carries the `/mcp` caller's verified authorizer context, so the route's role, the tenant's
 * scope, validation and the audit trail apply to it as to the caller's own request. Nothing crosses the
 * network or API Gateway twice, and the function needs no credential of its own.
 */

/** The routes the MCP server calls (client-access.ts): `/mcp`'s grants are their union (test/unit/functions/mcp-route.test.ts). */
export const MCP_DISPATCHED_ROUTES = ['listWorkflows', 'getWorkflow', 'executeWorkflow', 'getExecution', 'executionHistory', 'cancelExecution', 'streamEvents', 'listTools', 'callTool'] as const satisfies readonly RouteName[];
export type McpDispatchedRoute = (typeof MCP_DISPATCHED_ROUTES)[number];

export interface InProcessCaller {
  /** The `/mcp` request's authorizer context, as the caller's own requests would carry it. */
  readonly authorizer: AuthorizerContext;
  /** The `/mcp` request's id: each request made for it is `<id>.<n>`, so logs and the audit trail tie them together. */
  readonly requestId: string;
  readonly sourceIp: string;
  readonly userAgent?: string;
  /** The `/mcp` function's time left (a request made for it has no more). */
  readonly remainingMs: () => number;
}

/** The base URL the client is given: requests to any other origin are refused rather than sent anywhere. */
export const IN_PROCESS_ORIGIN = 'http://orchestrator.in-process';

export function createInProcessFetch(handlers: Readonly<Record<McpDispatchedRoute, ApiHandler>>, caller: InProcessCaller): typeof fetch {
  const router = FindMyWay({ ignoreTrailingSlash: true });
  for (const name of MCP_DISPATCHED_ROUTES) {
    router.on(routes[name].method, routes[name].path.replace(/\{(\w+)\}/g, ':$1'), () => undefined, name);
  }
  let sequence = 0;

  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.origin !== IN_PROCESS_ORIGIN) throw new TypeError(`in-process fetch: ${url.origin} is not this API`);
    const found = router.find(request.method as 'GET', url.pathname);
    if (!found) return Response.json({ success: false, error: { code: 'ROUTE_NOT_FOUND', message: `${request.method} ${url.pathname} is not a route the MCP server may call`, details: [] } }, { status: 404 });
    const name = found.store as McpDispatchedRoute;
    sequence += 1;
    const requestId = `${caller.requestId}.${sequence}`;
    const body = request.body === null ? null : await request.text();
    const event = proxyEvent(request, url, name, found.params, body, requestId, caller);
    const answer = await handlers[name](event, lambdaContextOf(name, requestId, caller.remainingMs, 'in-process'));
    return new Response(request.method === 'HEAD' ? null : answer.body, { status: answer.statusCode, headers: answer.headers });
  };
}

function proxyEvent(request: Request, url: URL, name: McpDispatchedRoute, params: Record<string, string | undefined>, body: string | null, requestId: string, caller: InProcessCaller): APIGatewayProxyEvent {
  const route = routes[name];
  const headers = Object.fromEntries(request.headers);
  const queryValues = new Map<string, string[]>();
  for (const [key, value] of url.searchParams) queryValues.set(key, [...(queryValues.get(key) ?? []), value]);
  const hasQuery = queryValues.size > 0;
  // find-my-way has decoded them, as API Gateway does.
  const pathParameters = Object.fromEntries(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return {
    resource: route.path,
    path: url.pathname,
    httpMethod: route.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, [value]])),
    queryStringParameters: hasQuery ? Object.fromEntries([...queryValues].map(([key, values]) => [key, values[values.length - 1]!])) : null,
    multiValueQueryStringParameters: hasQuery ? Object.fromEntries(queryValues) : null,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : null,
    stageVariables: null,
    body: body === null || body.length === 0 ? null : body,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'in-process',
      apiId: 'in-process',
      authorizer: { ...caller.authorizer },
      protocol: 'HTTP/1.1',
      httpMethod: route.method,
      path: url.pathname,
      stage: 'in-process',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: name,
      resourcePath: route.path,
      identity: proxyIdentity({ sourceIp: caller.sourceIp, userAgent: caller.userAgent ?? null }),
    },
  };
}
