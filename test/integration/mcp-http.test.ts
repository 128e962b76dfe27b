import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION, type CallToolResult, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../client/index.ts';
import { createClientAccess } from '../../functions/mcp/client-access.ts';
import { handleMcpRequest, type McpHttpOptions } from '../../functions/mcp/http.ts';
import { runUntil, serviceCall, startMcpFixture, type McpFixture } from '../unit/mcp/fixture.ts';

/**
 * handleMcpRequest (MCP over Streamable HTTP, stateless) with real fetch Requests: mounted on a node:http
 * server for the SDK's own HTTP client (SSE answers, progress live), and called directly (JSON answers). The
 * access acts with the credential of each request, forwarded to a real local orchestrator.
 */

let fixture: McpFixture;
let mcp: Server;
let mcpUrl: URL;
let heldWorkflow: string;
const clients: Client[] = [];

/** What the route's wiring does: an access that acts as this request's caller. */
const accessFor = (request: Request) => {
  const authorization = request.headers.get('authorization');
  return createClientAccess(createClient({ baseUrl: fixture.runtime.url, ...(authorization ? { headers: { authorization } } : {}) }));
};

/** node:http to a fetch Request and back, the request's signal aborted when the client goes away. */
function mount(options: McpHttpOptions): (incoming: IncomingMessage, outgoing: ServerResponse) => void {
  return (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const gone = new AbortController();
      outgoing.on('close', () => outgoing.writableFinished || gone.abort());
      const headers = new Headers();
      for (const [name, value] of Object.entries(incoming.headers)) if (typeof value === 'string') headers.set(name, value);
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      const request = new Request(`http://${incoming.headers.host}${incoming.url}`, { method: incoming.method, headers, signal: gone.signal, ...(body ? { body } : {}) });
      void handleMcpRequest(request, accessFor(request), options).then(async (response) => {
        outgoing.writeHead(response.status, Object.fromEntries(response.headers.entries()));
        if (response.body) for await (const chunk of response.body) outgoing.write(chunk);
        outgoing.end();
      });
    });
  };
}

beforeAll(async () => {
  fixture = await startMcpFixture();
  await fixture.createWorkflow({ name: 'Echo', parameters: [{ name: 'word', type: 'string', required: true }], actions: [{ action_id: 'say', action_type: 'notification', config: { message: '{{word}}' } }] });
  heldWorkflow = await fixture.createWorkflow({ name: 'Held payment', actions: [serviceCall('prepare', '/ok'), serviceCall('settle', '/hold', { depends_on: ['prepare'] })] });
  mcp = createServer(mount({ pollIntervalMs: 50, safetyPollMs: 200 }));
  await new Promise<void>((resolve) => mcp.listen(0, '127.0.0.1', resolve));
  mcpUrl = new URL(`http://127.0.0.1:${(mcp.address() as AddressInfo).port}/mcp`);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  mcp.closeAllConnections();
  await new Promise<void>((resolve) => mcp.close(() => resolve()));
  await fixture.close();
});

describe('over the SDK’s Streamable HTTP client (SSE answers)', () => {
  it('initializes, lists the tools and calls one, its progress arriving live before its result', async () => {
    const client = new Client({ name: 'mcp-http-test', version: '1.0.0' });
    clients.push(client);
    const transport = new StreamableHTTPClientTransport(mcpUrl);
    await client.connect(transport);
    expect(transport.sessionId).toBeUndefined();
    expect(client.getServerVersion()).toMatchObject({ name: 'orchestrator' });
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['workflow.echo', 'workflow.held_payment']);

    const progress: Progress[] = [];
    const result = (await client.callTool({ name: 'workflow.held_payment', arguments: {} }, undefined, {
      onprogress: (update) => {
        progress.push(update);
        // Released only once the progress said so: the notification came before the result, on the open stream.
        if (update.message === 'running: settle') fixture.release();
      },
    })) as CallToolResult;
    expect(result.structuredContent).toMatchObject({ status: 'completed' });
    expect(progress.map((update) => update.message)).toContain('running: settle');
  });

  it('leaves the run running when the client goes away mid-call', async () => {
    const gone = new AbortController();
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'workflow.held_payment', arguments: {}, _meta: { progressToken: 'p1' } } }),
      signal: gone.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    let seen = '';
    while (!seen.includes('running: settle')) seen += new TextDecoder().decode((await reader.read()).value);
    gone.abort();
    const runs = (await fixture.call<{ executions: { execution_id: string }[] }>('GET', `/workflows/${heldWorkflow}/executions`)).body.data.executions;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await runUntil(fixture.call, runs[0]!.execution_id, () => true)).status).toBe('running');
    fixture.release();
    expect((await runUntil(fixture.call, runs[0]!.execution_id, (run) => run.status === 'completed')).status).toBe('completed');
  });
});

describe('called directly with fetch Requests (JSON answers, as behind a buffering gateway)', () => {
  const post = (message: Record<string, unknown>, headers: Record<string, string> = {}) =>
    new Request(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': LATEST_PROTOCOL_VERSION, ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', ...message }),
    });
  const answer = async (request: Request) => {
    const response = await handleMcpRequest(request, accessFor(request), { responseMode: 'json', pollIntervalMs: 50 });
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.headers.get('mcp-session-id')).toBeNull();
    return { status: response.status, body: (await response.json()) as { result?: Record<string, unknown>; error?: { code: number; message: string } } };
  };

  it('answers initialize, tools/list and tools/call, each request on its own (no session)', async () => {
    const initialized = await answer(post({ id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
    expect(initialized).toMatchObject({ status: 200, body: { result: { serverInfo: { name: 'orchestrator' }, capabilities: { tools: {}, resources: {} } } } });

    const listed = await answer(post({ id: 2, method: 'tools/list' }));
    expect((listed.body.result?.tools as { name: string }[]).map((tool) => tool.name).sort()).toEqual(['workflow.echo', 'workflow.held_payment']);

    const called = await answer(post({ id: 3, method: 'tools/call', params: { name: 'workflow.echo', arguments: { word: 'stateless' }, _meta: { progressToken: 7 } } }));
    expect(called.body.result).toMatchObject({ structuredContent: { status: 'completed' } });
    const bad = await answer(post({ id: 4, method: 'tools/call', params: { name: 'workflow.echo', arguments: {} } }));
    expect(bad.body.result).toMatchObject({ isError: true, content: [{ type: 'text', text: expect.stringContaining('- word: ') }] });
  });

  it('acts with the credential each request carries', async () => {
    // The local server lets anonymous callers act as admin; a credential it cannot verify is refused as by the API.
    const refused = await answer(post({ id: 1, method: 'tools/list' }, { authorization: 'Bearer not-a-token' }));
    expect(refused.body.error?.message).toMatch(/unauthenticated/);
  });

  it('answers 405 to GET and DELETE: there are no sessions and no server-initiated stream', async () => {
    for (const method of ['GET', 'DELETE']) {
      const response = await handleMcpRequest(new Request(mcpUrl, { method, headers: { accept: 'text/event-stream' } }), accessFor(new Request(mcpUrl)));
      expect(response.status, method).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
    }
  });
});
