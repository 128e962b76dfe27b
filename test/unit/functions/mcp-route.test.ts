import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { toAuthorizerContext } from '../../../functions/auth/principal-context.ts';
import { createInProcessFetch, IN_PROCESS_ORIGIN, MCP_DISPATCHED_ROUTES, type McpDispatchedRoute } from '../../../functions/mcp/in-process-fetch.ts';
import type { ApiHandler } from '../../../functions/middleware/http-handler.ts';
import { routes, type RouteSpec, type TableAccess } from '../../../functions/routes.ts';

/**
 * `POST /mcp` calls other routes' handlers in its own function: in AWS it runs with its own route's grants,
 * so they must cover every route it calls (or a call fails there, and only there, with AccessDenied).
 */

const ACCESS_RANK: Readonly<Record<TableAccess, number>> = { read: 1, write: 2 };
const OUTBOUND_RANK = { calls: 1, credentials: 2 } as const;

describe("POST /mcp's grants", () => {
  const mcp: RouteSpec = routes.mcp;

  it.each(MCP_DISPATCHED_ROUTES)('cover what %s needs', (name) => {
    const route: RouteSpec = routes[name];
    for (const [table, access] of Object.entries(route.tables) as [keyof RouteSpec['tables'], TableAccess | undefined][]) {
      if (access === undefined) continue;
      const granted = mcp.tables[table];
      expect(granted, `${name} ${access}s the ${table} table`).toBeDefined();
      expect(ACCESS_RANK[granted!]).toBeGreaterThanOrEqual(ACCESS_RANK[access]);
    }
    if (route.engine) expect(mcp.engine).toBeTruthy();
    if (route.bus) expect(mcp.bus).toBe(route.bus);
    if (route.outbound) expect(OUTBOUND_RANK[mcp.outbound ?? 'calls'] >= OUTBOUND_RANK[route.outbound] && mcp.outbound !== undefined).toBe(true);
    if (route.ecosystem) expect(mcp.ecosystem).toBe(true);
    for (const unsupported of ['probes', 'peers', 'deadLetters', 'deliveries', 'schedules', 'jobs'] as const) expect(route[unsupported], `${name}.${unsupported}`).toBeUndefined();
  });

  it('reach no further than its least role: what a call needs more is checked by the called route', () => {
    expect(mcp.auth).toBe('viewer');
  });
});

describe('the in-process fetch', () => {
  const seen: APIGatewayProxyEvent[] = [];
  const answering: ApiHandler = async (event) => {
    seen.push(event);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: event.path }) };
  };
  const handlers = Object.fromEntries(MCP_DISPATCHED_ROUTES.map((name) => [name, answering])) as Record<McpDispatchedRoute, ApiHandler>;
  const caller = { subject: 'olga', roles: ['operator'] as const, tenant: 'acme', method: 'jwt' as const };
  const fetchInProcess = createInProcessFetch(handlers, { authorizer: toAuthorizerContext({ ...caller, roles: [...caller.roles] }), requestId: 'req-1', sourceIp: '10.0.0.7', remainingMs: () => 5000 });

  it("routes to the handler with the caller's authorizer context, path parameters decoded once, and numbered request ids", async () => {
    const answer = await fetchInProcess(`${IN_PROCESS_ORIGIN}/workflows/executions/a%2520b?x=1`);
    expect(answer.status).toBe(200);
    const event = seen.at(-1)!;
    expect(event.resource).toBe('/workflows/executions/{execution_id}');
    expect(event.pathParameters).toEqual({ execution_id: 'a%20b' });
    expect(event.queryStringParameters).toEqual({ x: '1' });
    expect(event.requestContext.authorizer).toMatchObject({ subject: 'olga', roles: 'operator', tenant: 'acme', method: 'jwt' });
    expect(event.requestContext.identity.sourceIp).toBe('10.0.0.7');
    expect(event.requestContext.requestId).toMatch(/^req-1\.\d+$/);
    await fetchInProcess(`${IN_PROCESS_ORIGIN}/workflows/history`);
    expect(seen.at(-1)!.resource).toBe('/workflows/history');
    expect(Number(seen.at(-1)!.requestContext.requestId.split('.')[1])).toBe(Number(event.requestContext.requestId.split('.')[1]) + 1);
  });

  it('sends the body and method of a POST', async () => {
    await fetchInProcess(`${IN_PROCESS_ORIGIN}/workflows/w-1/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"parameters":{}}' });
    expect(seen.at(-1)).toMatchObject({ httpMethod: 'POST', body: '{"parameters":{}}', pathParameters: { workflow_id: 'w-1' } });
  });

  it('answers 404 for a route the MCP server does not call, and refuses other origins', async () => {
    const count = seen.length;
    expect((await fetchInProcess(`${IN_PROCESS_ORIGIN}/auth/api-keys`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect(seen.length).toBe(count);
    await expect(fetchInProcess('http://169.254.169.254/latest/meta-data')).rejects.toThrow(/not this API/);
  });

  it('gives each handler the time the /mcp request has left', async () => {
    let remaining: number | undefined;
    const timed = createInProcessFetch({ ...handlers, getWorkflow: async (_event: APIGatewayProxyEvent, context: Context) => ((remaining = context.getRemainingTimeInMillis()), { statusCode: 200, headers: {}, body: '{}' }) }, { authorizer: toAuthorizerContext({ ...caller, roles: ['viewer'] }), requestId: 'r', sourceIp: '1.1.1.1', remainingMs: () => 1234 });
    await timed(`${IN_PROCESS_ORIGIN}/workflows/w-9`);
    expect(remaining).toBe(1234);
  });
});
