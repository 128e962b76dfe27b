import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { OrchestratorAccess } from './access.ts';
import { createOrchestratorMcpServer, type OrchestratorMcpOptions } from './server.ts';

/**
 * MCP over Streamable HTTP at `/mcp`, stateless: each request gets a new server and transport, so any
 * instance (any Lambda) can answer any request, and nothing outlives the request. The route's wiring
 * authenticates the caller and passes an OrchestratorAccess that acts as that caller.
 *
 * What statelessness means: no `Mcp-Session-Id`; no server-initiated stream (GET answers 405), so no
 * list-changed notifications; a `notifications/cancelled` sent in its own POST reaches a new server that has
 * no such request, so it cancels nothing (runs are cancelled through the API). Progress notifications of a
 * tools/call go on that call's own SSE answer, live where the response is streamed (the local server) and all
 * at once with the result where it is buffered (API Gateway's REST API): there, use `responseMode: 'json'`.
 */

export interface McpHttpOptions extends OrchestratorMcpOptions {
  /**
   * `sse` (the SDK's default): each POST with requests is answered as an event stream carrying its progress
   * notifications, then its result. `json`: one JSON answer once the results are ready, without
   * notifications: for gateways that buffer responses.
   */
  readonly responseMode?: 'sse' | 'json';
}

/**
 * How long a tool call waits for its run over HTTP by default: within the API functions' default 10 s timeout
 * (infra/constructs/api-function.ts), leaving time to answer. A route given a longer timeout may pass more, up
 * to about 25 s under API Gateway's 29 s integration timeout; a longer run is answered as still running.
 */
export const HTTP_WAIT_FOR_RUN_MS = 8_000;

/** Answers one HTTP request to `/mcp` (POST: JSON-RPC messages; GET and DELETE: 405, there are no sessions). */
export async function handleMcpRequest(request: Request, access: OrchestratorAccess, options: McpHttpOptions = {}): Promise<Response> {
  if (request.method !== 'POST') {
    return Response.json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP server is stateless, send JSON-RPC messages with POST' }, id: null }, { status: 405, headers: { allow: 'POST' } });
  }
  const server = createOrchestratorMcpServer(access, { waitForRunMs: HTTP_WAIT_FOR_RUN_MS, ...options });
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: options.responseMode === 'json' });
  let closing: Promise<void> | undefined;
  // Closing aborts the calls still in flight: a tool call's run goes on (a lost connection is no cancellation).
  const close = () => (closing ??= server.close().catch(() => undefined));
  await server.connect(transport);
  const disconnected = new Promise<Response>((resolve) => {
    const gone = () => {
      void close();
      // The caller is gone: this answer is read by no one, it only ends the handler (a JSON answer's promise
      // would otherwise wait for results that a closed server never sends).
      resolve(new Response(null, { status: 499 }));
    };
    if (request.signal.aborted) gone();
    else request.signal.addEventListener('abort', gone, { once: true });
  });
  let response: Response;
  try {
    response = await Promise.race([transport.handleRequest(request), disconnected]);
  } catch (error) {
    await close();
    throw error;
  }
  if (response.body === null || !response.headers.get('content-type')?.includes('text/event-stream')) {
    await close();
    return response;
  }
  return new Response(closingWhenDone(response.body, close), { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** The same event stream, calling `done` once it ends, fails or its reader cancels it (the client went away). */
function closingWhenDone(body: ReadableStream<Uint8Array>, done: () => unknown): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: ended, value } = await reader.read();
        if (ended) {
          controller.close();
          done();
        } else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
        done();
      }
    },
    async cancel(reason) {
      done();
      await reader.cancel(reason);
    },
  });
}
