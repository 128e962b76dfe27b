import { createClient } from '../../client/index.ts';
import { toAuthorizerContext } from '../auth/principal-context.ts';
import { createClientAccess } from '../mcp/client-access.ts';
import { handleMcpRequest } from '../mcp/http.ts';
import { createInProcessFetch, IN_PROCESS_ORIGIN, type McpDispatchedRoute } from '../mcp/in-process-fetch.ts';
import { handlerFactory, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import { ValidationError } from '../../core/errors.ts';
import type { Log } from '../../core/ports.ts';
import type { Secured } from './services.ts';

/** What `POST /mcp` needs: the handlers of the routes the MCP server calls, built on first use. */
export interface McpHttpServices {
  readonly mcp: {
    /** Called at the first request (the local server's handlers include this one: they cannot be built before it). */
    readonly handlers: () => Readonly<Record<McpDispatchedRoute, ApiHandler>>;
    /** ORCHESTRATOR_MCP_SERVICE_TOOLS: also offer the services' operations as tools. */
    readonly serviceTools: boolean;
    readonly serverVersion: string;
    readonly log?: Log;
  };
}

/**
 * How long one `/mcp` request may take: under API Gateway's 29 s integration timeout (the route's function,
 * which may call services, outlives it: infra gives routes with `ecosystem` the proxies' budget and a margin).
 */
const MCP_REQUEST_BUDGET_MS = 25_000;
/** How long a tools/call of a workflow waits for its run, then answers that it still goes on (its resource says how it ends). */
export const ROUTE_WAIT_FOR_RUN_MS = 20_000;
/** How often, at most, a tools/call reads its run while it waits (about 200 table reads for a 20 s wait). */
const IN_PROCESS_POLL_MS = 100;

/**
 * `POST /mcp`: the MCP server of functions/mcp/, stateless, acting as the caller through the API's own handlers
 * (in-process-fetch.ts). The answer is buffered, as API Gateway's REST API buffers every answer: a tools/call's
 * progress notifications arrive with its result, in the same event stream. `orchestrator mcp` (stdio) sends
 * them live.
 */
export function createMcpHandlers({ mcp, security }: McpHttpServices & Secured) {
  const handle = handlerFactory(security);
  return {
    mcp: handle(routes.mcp, async ({ body, headers, caller, requestId, sourceIp }) => {
      const deadline = Date.now() + MCP_REQUEST_BUDGET_MS;
      const fetchInProcess = createInProcessFetch(mcp.handlers(), {
        authorizer: toAuthorizerContext(caller),
        requestId,
        sourceIp: sourceIp ?? 'unknown',
        ...(headers['user-agent'] === undefined ? {} : { userAgent: headers['user-agent'] }),
        remainingMs: () => Math.max(0, deadline - Date.now()),
      });
      const access = createClientAccess(createClient({ baseUrl: IN_PROCESS_ORIGIN, fetch: fetchInProcess }));
      const request = new Request(`${IN_PROCESS_ORIGIN}/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          // Always an event stream (the route's media type), whatever the caller accepts: MCP clients accept it,
          // and a caller that forgot to say so (curl) gets the answer rather than a 406.
          accept: 'application/json, text/event-stream',
          ...(headers['mcp-protocol-version'] === undefined ? {} : { 'mcp-protocol-version': headers['mcp-protocol-version'] }),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(MCP_REQUEST_BUDGET_MS),
      });
      const answer = await handleMcpRequest(request, access, {
        serverInfo: { name: 'orchestrator', version: mcp.serverVersion },
        serviceTools: mcp.serviceTools,
        waitForRunMs: ROUTE_WAIT_FOR_RUN_MS,
        // The event stream answers what was recorded and ends (as in API Gateway): the run is then read every
        // IN_PROCESS_POLL_MS, a table read each, so that a short run is answered soon after it ends.
        pollIntervalMs: IN_PROCESS_POLL_MS,
        ...(mcp.log ? { log: mcp.log } : {}),
      });
      const text = await answer.text();
      // The transport refuses what is no JSON-RPC message with a JSON-RPC error: answered as the API's 400, naming it.
      if (answer.status >= 400) throw new ValidationError([{ field: '(body)', message: jsonRpcErrorOf(text) }]);
      const contentType = answer.headers.get('content-type') ?? 'application/json';
      return {
        message: `MCP: HTTP ${answer.status}`,
        data: text,
        raw: true,
        contentType,
        status: answer.status,
        // The caller sees the answer's own headers (Allow on 405, none of a session: this server keeps none).
        headers: { 'cache-control': 'no-cache', ...(answer.headers.get('allow') ? { allow: answer.headers.get('allow')! } : {}) },
      };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}

/** The message of a JSON-RPC error answer, or the answer itself when it is none. */
function jsonRpcErrorOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return `not a valid MCP request: ${parsed.error.message}`;
  } catch {
    // Not JSON: the text says what went wrong.
  }
  return `not a valid MCP request: ${text.slice(0, 200)}`;
}
