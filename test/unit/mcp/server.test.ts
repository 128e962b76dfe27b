import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpError, type CallToolResult, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../../client/index.ts';
import { parametersSchema } from '../../../core/ai/workflow-tools.ts';
import { AccessError, type OrchestratorAccess } from '../../../functions/mcp/access.ts';
import { createClientAccess } from '../../../functions/mcp/client-access.ts';
import { createOrchestratorMcpServer, type OrchestratorMcpOptions } from '../../../functions/mcp/server.ts';
import { runUntil, serviceCall, startMcpFixture, type McpFixture } from './fixture.ts';

/**
 * The MCP server through the SDK's own Client over an in-memory transport, acting through the real HTTP
 * client on a real local orchestrator (its emulators, the real action runner, a loopback service).
 */

let fixture: McpFixture;
const ids: Record<string, string> = {};
const open: Client[] = [];

const greetingParameters = [
  { name: 'message', type: 'string', required: true, description: 'what to say' },
  { name: 'count', type: 'integer', default: 1 },
  { name: 'tone', type: 'string', enum: ['warm', 'dry'] },
];

beforeAll(async () => {
  fixture = await startMcpFixture();
  ids.greeting = await fixture.createWorkflow({
    name: 'Greeting',
    description: 'Says hello',
    parameters: greetingParameters,
    strict_parameters: true,
    actions: [
      { action_id: 'greet', action_type: 'notification', config: { message: '{{message}}' } },
      { action_id: 'pay', action_type: 'service_call', depends_on: ['greet'], config: { service: 'payments', endpoint: '/ok', method: 'POST', parameters: {} } },
    ],
  });
  ids.held = await fixture.createWorkflow({ name: 'Held payment', actions: [serviceCall('prepare', '/ok'), serviceCall('settle', '/hold', { depends_on: ['prepare'] })] });
  ids.failing = await fixture.createWorkflow({ name: 'Failing charge', actions: [serviceCall('reserve', '/ok'), serviceCall('charge', '/fail', { depends_on: ['reserve'] })] });
  await fixture.registerBilling();
  ids.draft = await fixture.createWorkflow({ name: 'Not yet', status: 'draft', actions: [{ action_id: 'a', action_type: 'notification', config: { message: 'x' } }] });
});

afterAll(async () => {
  await Promise.all(open.map((client) => client.close()));
  await fixture.close();
});

async function connect(options: OrchestratorMcpOptions = {}, access: OrchestratorAccess = createClientAccess(createClient({ baseUrl: fixture.runtime.url }))): Promise<Client> {
  const server = createOrchestratorMcpServer(access, { pollIntervalMs: 50, safetyPollMs: 200, ...options });
  const client = new Client({ name: 'mcp-test', version: '1.0.0' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  open.push(client);
  return client;
}

const text = (result: CallToolResult): string => result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');

describe('tools/list', () => {
  it('offers one tool per active workflow, named workflow.<name>, its input schema from the parameter declarations', async () => {
    const client = await connect();
    const { tools, nextCursor } = await client.listTools();
    expect(nextCursor).toBeUndefined();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['workflow.failing_charge', 'workflow.greeting', 'workflow.held_payment']);
    const greeting = tools.find((tool) => tool.name === 'workflow.greeting')!;
    expect(greeting.title).toBe('Greeting');
    expect(greeting.description).toContain(`Says hello (workflow ${ids.greeting}, version 1, 2 actions)`);
    expect(greeting.inputSchema).toEqual(parametersSchema(greetingParameters.map((parameter) => ({ required: false, ...parameter })) as Parameters<typeof parametersSchema>[0], true));
    expect(greeting.inputSchema).toMatchObject({ required: ['message'], additionalProperties: false, properties: { count: { type: 'integer', default: 1 }, tone: { enum: ['warm', 'dry'] } } });
    expect(greeting.outputSchema).toMatchObject({ type: 'object', required: ['execution_id', 'status'] });
    expect(greeting.annotations).toMatchObject({ readOnlyHint: false, openWorldHint: true });
  });

  it('pages the listing with a cursor, reading only the page’s definitions', async () => {
    const client = await connect({ toolsPageSize: 2 });
    const first = await client.listTools();
    expect(first.tools).toHaveLength(2);
    const second = await client.listTools({ cursor: first.nextCursor! });
    expect(second.nextCursor).toBeUndefined();
    expect([...first.tools, ...second.tools].map((tool) => tool.name).sort()).toEqual(['workflow.failing_charge', 'workflow.greeting', 'workflow.held_payment']);
    await expect(client.listTools({ cursor: 'not-ours' })).rejects.toThrow(/Invalid cursor/);
  });

  it("offers the services' operations (GET /tools) only when enabled, described as not callable by an access that cannot call them", async () => {
    expect((await (await connect()).listTools()).tools.map((tool) => tool.name)).not.toContain('billing.createRefund');
    // The API's client calls them (POST /tools/{tool_name}/call): an access without callServiceTool only describes them.
    const { callServiceTool: _calls, ...describing } = createClientAccess(createClient({ baseUrl: fixture.runtime.url }));
    const client = await connect({ serviceTools: true }, describing);
    const { tools } = await client.listTools();
    // Workflows first, newest first (as the API lists them), then the services' operations.
    expect(tools.map((tool) => tool.name)).toEqual(['workflow.failing_charge', 'workflow.held_payment', 'workflow.greeting', 'billing.createRefund']);
    const refund = tools.find((tool) => tool.name === 'billing.createRefund')!;
    expect(refund).toMatchObject({ title: 'Refund a charge', inputSchema: { type: 'object', properties: { body: { type: 'object', required: ['charge_id'] } } } });
    expect(refund.description).toContain('cannot call service operations yet');
    const called = (await client.callTool({ name: 'billing.createRefund', arguments: { body: { charge_id: 'c1' } } })) as CallToolResult;
    expect(called.isError).toBe(true);
    expect(text(called)).toContain('cannot call yet');
    expect(fixture.served).not.toContain('/refunds');
  });

  it("still offers the workflows when the services' operations cannot be listed (an API without GET /tools)", async () => {
    const base = createClientAccess(createClient({ baseUrl: fixture.runtime.url }));
    const warnings: unknown[] = [];
    const client = await connect({ serviceTools: true, log: (entry) => warnings.push(entry.message) }, { ...base, listServiceTools: () => Promise.reject(new AccessError('not_found', 'Route not found (NOT_FOUND, HTTP 404)')) });
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['workflow.failing_charge', 'workflow.held_payment', 'workflow.greeting']);
    expect(warnings).toContainEqual(expect.stringContaining("the services' operations could not be listed (Route not found"));
  });

  it('calls a service operation through the access when it can', async () => {
    const base = createClientAccess(createClient({ baseUrl: fixture.runtime.url }));
    const client = await connect({ serviceTools: true }, { ...base, callServiceTool: async (name, args) => ({ called: name, args }) });
    const refund = (await client.listTools()).tools.find((tool) => tool.name === 'billing.createRefund');
    expect(refund?.description).not.toContain('cannot call');
    expect(await client.callTool({ name: 'billing.createRefund', arguments: { body: { charge_id: 'c1' } } })).toMatchObject({ structuredContent: { output: { called: 'billing.createRefund', args: { body: { charge_id: 'c1' } } } } });
  });
});

describe('tools/call', () => {
  it("starts a run with the arguments as its parameters, reports its progress, and answers the run's output", async () => {
    const client = await connect();
    const progress: Progress[] = [];
    const result = (await client.callTool({ name: 'workflow.held_payment', arguments: {} }, undefined, {
      onprogress: (update) => {
        progress.push(update);
        // Held until the progress says the held action runs: the message names what is running.
        if (update.message === 'running: settle') fixture.release();
      },
    })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    const structured = result.structuredContent as { execution_id: string; status: string; output: unknown };
    expect(structured).toMatchObject({ status: 'completed', execution_id: expect.any(String) });
    const first = result.content[0];
    expect(JSON.parse(first?.type === 'text' ? first.text : '')).toEqual(structured);
    expect(result.content[1]).toMatchObject({ type: 'resource_link', uri: `orchestrator://executions/${structured.execution_id}` });
    const run = (await fixture.call<{ output: unknown; status: string }>('GET', `/workflows/executions/${structured.execution_id}`)).body.data;
    expect(structured.output).toEqual(run.output ?? null);

    expect(progress.map((update) => update.message)).toContain('running: settle');
    expect(progress.every((update) => update.total === 2)).toBe(true);
    // MCP: progress increases with each notification; the last one is the whole run.
    expect(progress.map((update) => update.progress)).toEqual([...new Set(progress.map((update) => update.progress))].sort());
    expect(progress.at(-1)).toMatchObject({ progress: 2, total: 2, message: expect.stringMatching(/^(finishing|completed)$/) });
  });

  it('passes the arguments as the run’s parameters, and sends no progress without a progressToken', async () => {
    const client = await connect();
    const result = (await client.callTool({ name: 'workflow.greeting', arguments: { message: 'hi there', count: 2 } })) as CallToolResult;
    expect(result.isError, text(result)).toBeFalsy();
    const { execution_id } = result.structuredContent as { execution_id: string };
    const run = (await fixture.call<{ parameters: Record<string, unknown>; status: string }>('GET', `/workflows/executions/${execution_id}`)).body.data;
    expect(run).toMatchObject({ status: 'completed', parameters: { message: 'hi there', count: 2 } });
  });

  it('follows the run by reading it when the access has no event source', async () => {
    const { followRun: _events, ...polling } = createClientAccess(createClient({ baseUrl: fixture.runtime.url }));
    const client = await connect({}, polling);
    const progress: Progress[] = [];
    const result = (await client.callTool({ name: 'workflow.greeting', arguments: { message: 'polled' } }, undefined, { onprogress: (update) => progress.push(update) })) as CallToolResult;
    expect(result.structuredContent).toMatchObject({ status: 'completed' });
    expect(progress.at(-1)).toMatchObject({ progress: 2, total: 2 });
  });

  it('answers a failing run as a tool error naming the failing action and its cause', async () => {
    const client = await connect();
    const result = (await client.callTool({ name: 'workflow.failing_charge', arguments: {} })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/^Run \S+ of workflow\.failing_charge failed at action 'charge': \w+Error: payments answered 500 Internal Server Error to POST \/fail$/m);
    expect(result.structuredContent).toMatchObject({ status: 'failed', error: { action_id: 'charge' } });
  });

  it('answers a bad argument as a tool error naming the field, as the API’s 400 does, and starts no run', async () => {
    const client = await connect();
    const before = fixture.served.length;
    const wrongType = (await client.callTool({ name: 'workflow.greeting', arguments: { message: 'hi', count: 'two' } })) as CallToolResult;
    expect(wrongType.isError).toBe(true);
    expect(text(wrongType)).toMatch(/^Invalid arguments for workflow\.greeting:\n- count: /);
    const missing = (await client.callTool({ name: 'workflow.greeting', arguments: { tone: 'loud' } })) as CallToolResult;
    expect(text(missing)).toMatch(/- message: /);
    expect(text(missing)).toMatch(/- tone: /);
    const runs = (await fixture.call<{ executions: { workflow_id: string; parameters: Record<string, unknown> }[] }>('GET', `/workflows/${ids.greeting}/executions`)).body.data.executions;
    expect(runs.filter((run) => run.parameters.count === 'two' || run.parameters.tone === 'loud')).toEqual([]);
    expect(fixture.served.length).toBe(before);
  });

  it('refuses an unknown tool, and a draft workflow is no tool', async () => {
    const client = await connect();
    await expect(client.callTool({ name: 'workflow.not_yet', arguments: {} })).rejects.toThrow(McpError);
    await expect(client.callTool({ name: 'workflow.nobody', arguments: {} })).rejects.toThrow(/Unknown tool: workflow\.nobody/);
  });

  it('answers that the run still runs when the wait is over, and the run goes on', async () => {
    const client = await connect({ waitForRunMs: 300 });
    const result = (await client.callTool({ name: 'workflow.held_payment', arguments: {} })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    const { execution_id, status } = result.structuredContent as { execution_id: string; status: string };
    expect(status).toBe('running');
    expect(text(result)).toContain(`read orchestrator://executions/${execution_id} for its outcome`);
    await fixture.holding();
    fixture.release();
    expect((await runUntil(fixture.call, execution_id, (run) => run.status === 'completed')).status).toBe('completed');
  });

  it("cancels the run when the agent cancels the call, and leaves it running when the connection closes", async () => {
    const cancelled = new AbortController();
    const client = await connect();
    const started = new Promise<string>((resolve) => {
      void client
        .callTool({ name: 'workflow.held_payment', arguments: {} }, undefined, {
          signal: cancelled.signal,
          onprogress: (update) => {
            if (update.message === 'running: settle') resolve('running');
          },
        })
        .catch(() => undefined);
    });
    await started;
    cancelled.abort('the user stopped it');
    const history = async () => (await fixture.call<{ executions: { execution_id: string; status: string }[] }>('GET', `/workflows/${ids.held}/executions`)).body.data.executions;
    const cancelledRun = (await history())[0]!;
    expect((await runUntil(fixture.call, cancelledRun.execution_id, (run) => run.status === 'cancelled')).status).toBe('cancelled');

    const leaving = await connect();
    const running = new Promise<void>((resolve) => {
      void leaving.callTool({ name: 'workflow.held_payment', arguments: {} }, undefined, { onprogress: (update) => update.message === 'running: settle' && resolve() }).catch(() => undefined);
    });
    await running;
    await leaving.close();
    const leftRun = (await history())[0]!;
    expect(leftRun.execution_id).not.toBe(cancelledRun.execution_id);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await runUntil(fixture.call, leftRun.execution_id, () => true)).status).toBe('running');
    fixture.release();
    expect((await runUntil(fixture.call, leftRun.execution_id, (run) => run.status === 'completed')).status).toBe('completed');
  });

  it("leaves the run running when the client's own request timeout cancels the call", async () => {
    const client = await connect();
    const timedOut = await client.callTool({ name: 'workflow.held_payment', arguments: {} }, undefined, { timeout: 300 }).catch((error: unknown) => error);
    expect(timedOut).toMatchObject({ code: -32001 });
    await fixture.holding();
    const run = (await fixture.call<{ executions: { execution_id: string }[] }>('GET', `/workflows/${ids.held}/executions`)).body.data.executions[0]!;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await runUntil(fixture.call, run.execution_id, () => true)).status).toBe('running');
    fixture.release();
    expect((await runUntil(fixture.call, run.execution_id, (each) => each.status === 'completed')).status).toBe('completed');
  });
});

describe('resources', () => {
  it('lists the templates, the workflows and the recent runs, and reads each as the API shows it', async () => {
    const client = await connect();
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((template) => template.uriTemplate)).toEqual(['orchestrator://workflows/{workflow_id}', 'orchestrator://executions/{execution_id}']);

    const done = (await client.callTool({ name: 'workflow.greeting', arguments: { message: 'for the listing' } })) as CallToolResult;
    const { execution_id } = done.structuredContent as { execution_id: string };
    const { resources } = await client.listResources();
    const uris = resources.map((resource) => resource.uri);
    for (const id of Object.values(ids)) expect(uris).toContain(`orchestrator://workflows/${id}`);
    expect(uris).toContain(`orchestrator://executions/${execution_id}`);
    expect(resources.every((resource) => resource.mimeType === 'application/json')).toBe(true);

    const workflow = await client.readResource({ uri: `orchestrator://workflows/${ids.greeting}` });
    const api = (await fixture.call('GET', `/workflows/${ids.greeting}`)).body.data;
    expect(workflow.contents[0]).toMatchObject({ uri: `orchestrator://workflows/${ids.greeting}`, mimeType: 'application/json' });
    expect(JSON.parse((workflow.contents[0] as { text: string }).text)).toEqual(api);

    const run = await client.readResource({ uri: `orchestrator://executions/${execution_id}` });
    expect(JSON.parse((run.contents[0] as { text: string }).text)).toMatchObject({ execution_id, status: 'completed', parameters: { message: 'for the listing' } });
  });

  it("answers MCP's resource-not-found for an unknown id or URI", async () => {
    const client = await connect();
    for (const uri of ['orchestrator://workflows/wf-nobody', 'orchestrator://executions/nobody', 'orchestrator://elsewhere/x', 'orchestrator://workflows/%E0%A4%A']) {
      const error: unknown = await client.readResource({ uri }).catch((rejection: unknown) => rejection);
      expect(error, uri).toBeInstanceOf(McpError);
      expect((error as McpError).code, uri).toBe(-32002);
    }
  });
});
