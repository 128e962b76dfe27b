import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, hs256Token, randomSecret } from '../support/security.ts';
import { runUntil, serviceCall, startMcpFixture, type McpFixture } from '../unit/mcp/fixture.ts';

/**
 * `POST /mcp` on the orchestrator itself (the local server, authentication required): the SDK's Streamable HTTP
 * client with a caller's bearer token. Every call the server makes inside goes through the API's own handlers
 * as that caller: its role, its tenant and the audit trail apply.
 */

const secret = randomSecret();
const BILLING_SECRET = `billing-${randomSecret()}`;
let fixture: McpFixture;
let mcpUrl: URL;
const clients: Client[] = [];
const tokenOf = (sub: string, role: 'viewer' | 'operator' | 'admin', tenant: string) => hs256Token({ sub, roles: [role], tenant, expiresIn: 3600 }, secret);
let operator: Record<string, string>;
let viewer: Record<string, string>;
let admin: Record<string, string>;
let otherTenant: Record<string, string>;

async function connect(headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'mcp-route-test', version: '1.0.0' });
  clients.push(client);
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers } }));
  return client;
}

beforeAll(async () => {
  fixture = await startMcpFixture({ auth: { mode: 'required', anonymousRole: 'viewer', jwtSecret: secret }, mcpServiceTools: true, secretEnvironment: { MCP_BILLING_TOKEN: BILLING_SECRET } });
  mcpUrl = new URL('/mcp', fixture.runtime.url);
  operator = bearer(await tokenOf('olga', 'operator', 'acme'));
  viewer = bearer(await tokenOf('victor', 'viewer', 'acme'));
  admin = bearer(await tokenOf('ada', 'admin', 'acme'));
  otherTenant = bearer(await tokenOf('gus', 'operator', 'globex'));
  await fixture.createWorkflow({ name: 'Echo', parameters: [{ name: 'word', type: 'string', required: true }], actions: [{ action_id: 'say', action_type: 'transform', config: { output: { said: '{{word}}' } } }] }, admin);
  await fixture.createWorkflow({ name: 'Two steps', actions: [serviceCall('prepare', '/ok'), serviceCall('settle', '/ok', { depends_on: ['prepare'] })] }, admin);
  await fixture.createWorkflow({ name: 'Globex only', actions: [serviceCall('one', '/ok')] }, otherTenant);
  // Offered as the tool billing.createRefund (ORCHESTRATOR_MCP_SERVICE_TOOLS); the orchestrator authenticates to it itself.
  await fixture.registerBilling({ auth: { type: 'bearer', secret_ref: 'env:MCP_BILLING_TOKEN' } }, admin);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await fixture?.close();
});

describe('POST /mcp', () => {
  it("lists the caller's tenant's workflows as tools, and a tools/call runs one and answers its output after its progress", async () => {
    const client = await connect(operator);
    expect(client.getServerVersion()).toMatchObject({ name: 'orchestrator' });
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['billing.createRefund', 'workflow.echo', 'workflow.two_steps']);

    const progress: Progress[] = [];
    const result = (await client.callTool({ name: 'workflow.two_steps', arguments: {} }, undefined, { onprogress: (update) => progress.push(update) })) as CallToolResult;
    expect(result.isError, JSON.stringify(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: 'completed' });
    const executionId = (result.structuredContent as { execution_id: string }).execution_id;
    // The run is the caller's: its tenant and who started it.
    const run = await fixture.call<{ tenant: string; status: string }>('GET', `/workflows/executions/${executionId}`, { headers: operator });
    expect(run.body.data).toMatchObject({ status: 'completed' });
    // Progress went out before the result, in the same (buffered) event stream.
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ total: 2 });
  });

  it("calls a service operation as the caller (operator), with the service's own credential, which no answer shows", async () => {
    const client = await connect(operator);
    const listing = JSON.stringify(await client.listTools());
    expect(listing).not.toContain(BILLING_SECRET);
    expect(listing).not.toContain('MCP_BILLING_TOKEN');
    const served = fixture.served.length;
    const result = (await client.callTool({ name: 'billing.createRefund', arguments: { body: { charge_id: 'ch_1' } } })) as CallToolResult;
    expect(result.isError, JSON.stringify(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: 200, body: { ok: true, path: '/refunds' } });
    expect(fixture.served.slice(served)).toEqual(['/refunds']);
    expect(JSON.stringify(result)).not.toContain(BILLING_SECRET);
    // Bad arguments are the route's 400, each field named; nothing is sent.
    const refused = (await client.callTool({ name: 'billing.createRefund', arguments: { body: {} } })) as CallToolResult;
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toContain('charge_id');
    expect(fixture.served.length).toBe(served + 1);
    // A viewer may list it, not call it.
    const viewing = (await (await connect(viewer)).callTool({ name: 'billing.createRefund', arguments: { body: { charge_id: 'ch_2' } } })) as CallToolResult;
    expect(viewing.isError).toBe(true);
    expect(fixture.served.length).toBe(served + 1);
  });

  it('checks the arguments as the execute route does: a missing required parameter is a tool error naming it, and no run starts', async () => {
    const client = await connect(operator);
    const before = (await fixture.call<{ executions: unknown[] }>('GET', '/workflows/history?limit=100', { headers: operator })).body.data.executions.length;
    const result = (await client.callTool({ name: 'workflow.echo', arguments: {} })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain('word');
    const after = (await fixture.call<{ executions: unknown[] }>('GET', '/workflows/history?limit=100', { headers: operator })).body.data.executions.length;
    expect(after).toBe(before);
  });

  it("acts with the caller's role: a viewer lists tools but cannot start a run", async () => {
    const client = await connect(viewer);
    expect((await client.listTools()).tools.length).toBe(3);
    const result = (await client.callTool({ name: 'workflow.echo', arguments: { word: 'hi' } })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/HTTP 403/);
  });

  it("keeps tenants apart: another tenant's workflow is no tool and its run is no resource", async () => {
    const globex = await connect(otherTenant);
    expect((await globex.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['billing.createRefund', 'workflow.globex_only']);
    const started = (await globex.callTool({ name: 'workflow.globex_only', arguments: {} })) as CallToolResult;
    const executionId = (started.structuredContent as { execution_id: string }).execution_id;
    await runUntil((method, path, options) => fixture.call(method, path, { ...options, headers: otherTenant }), executionId, (run) => run.status === 'completed');

    const acme = await connect(operator);
    expect((await acme.listTools()).tools.map((tool) => tool.name)).not.toContain('workflow.globex_only');
    await expect(acme.readResource({ uri: `orchestrator://executions/${executionId}` })).rejects.toThrow(/Resource not found.*HTTP 404/);
    expect(JSON.stringify((await globex.readResource({ uri: `orchestrator://executions/${executionId}` })).contents[0])).toContain(executionId);
  });

  it('audits what it does as the caller, under the /mcp request', async () => {
    const client = await connect(operator);
    const result = (await client.callTool({ name: 'workflow.echo', arguments: { word: 'audited' } })) as CallToolResult;
    const executionId = (result.structuredContent as { execution_id: string }).execution_id;
    const records = await fixture.call<{ records: { action: string; actor: string; request_id: string; targets: string[] }[] }>('GET', '/audit?action=executeWorkflow&limit=200', { headers: bearer(await tokenOf('root', 'admin', 'acme')) });
    expect(records.status, JSON.stringify(records.body)).toBe(200);
    const record = records.body.data.records.find((entry) => entry.targets.includes(executionId));
    expect(record).toMatchObject({ actor: 'olga', tenant: 'acme', outcome: 202, source_ip: '127.0.0.1' });
    expect(record!.request_id).toMatch(/^[\w-]+\.\d+$/);
  });

  it('refuses a request without a credential before it reaches the server, and answers GET with 405', async () => {
    const refused = await fetch(mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect(refused.status).toBe(401);
    const get = await fetch(mcpUrl, { headers: { ...operator, accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
  });
});
