import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../../client/index.ts';
import type { Role } from '../../../core/auth/model.ts';
import { createClientAccess } from '../../../functions/mcp/client-access.ts';
import { createOrchestratorMcpServer } from '../../../functions/mcp/server.ts';
import { bearer, hs256Token, randomSecret } from '../../support/security.ts';
import { startMcpFixture, type McpFixture } from './fixture.ts';

/**
 * The server acts with the caller's credential and nothing else: what a tool or resource offers and allows is
 * what the API allows that credential (authentication required, roles, tenants).
 */

let fixture: McpFixture;
let workflowId: string;
const secret = randomSecret();
const clients: Client[] = [];

beforeAll(async () => {
  fixture = await startMcpFixture({ auth: { mode: 'required', anonymousRole: 'viewer', jwtSecret: secret } });
  workflowId = await fixture.createWorkflow({ name: 'Tenant job', actions: [{ action_id: 'note', action_type: 'notification', config: { message: 'hi' } }] }, bearer(await token('operator')));
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await fixture.close();
});

const token = (role: Role, tenant = 'default') => hs256Token({ sub: `${role}@example.com`, roles: [role], tenant }, secret);

async function connectAs(credential: { token?: string }): Promise<Client> {
  const server = createOrchestratorMcpServer(createClientAccess(createClient({ baseUrl: fixture.runtime.url, ...credential })), { pollIntervalMs: 50 });
  const client = new Client({ name: 'mcp-auth-test', version: '1.0.0' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  clients.push(client);
  return client;
}

describe('authorization', () => {
  it('refuses every listing to a caller without a credential, with the API’s reason', async () => {
    const anonymous = await connectAs({});
    await expect(anonymous.listTools()).rejects.toThrow(/unauthenticated/);
    await expect(anonymous.readResource({ uri: `orchestrator://workflows/${workflowId}` })).rejects.toThrow(/unauthenticated/);
  });

  it('lets a viewer see the tools and read the workflow, but answers its call as a tool error: starting runs needs an operator', async () => {
    const viewer = await connectAs({ token: await token('viewer') });
    expect((await viewer.listTools()).tools.map((tool) => tool.name)).toEqual(['workflow.tenant_job']);
    expect((await viewer.readResource({ uri: `orchestrator://workflows/${workflowId}` })).contents).toHaveLength(1);
    const refused = (await viewer.callTool({ name: 'workflow.tenant_job', arguments: {} })) as CallToolResult;
    expect(refused.isError).toBe(true);
    expect(refused.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/^workflow\.tenant_job could not start a run: .*HTTP 403/) });
  });

  it('runs the workflow for an operator of its tenant, as that operator', async () => {
    const operator = await connectAs({ token: await token('operator') });
    const result = (await operator.callTool({ name: 'workflow.tenant_job', arguments: {} })) as CallToolResult;
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    const { execution_id } = result.structuredContent as { execution_id: string };
    const run = (await fixture.call('GET', `/workflows/executions/${execution_id}`, { headers: bearer(await token('admin')) })).body.data;
    expect(run).toMatchObject({ status: 'completed', started_by: 'operator@example.com', tenant: 'default' });
  });

  it("shows another tenant's operator neither the tool nor the workflow", async () => {
    const stranger = await connectAs({ token: await token('operator', 'elsewhere') });
    expect((await stranger.listTools()).tools).toEqual([]);
    await expect(stranger.callTool({ name: 'workflow.tenant_job', arguments: {} })).rejects.toThrow(/Unknown tool/);
    await expect(stranger.readResource({ uri: `orchestrator://workflows/${workflowId}` })).rejects.toMatchObject({ code: -32002 });
  });
});
