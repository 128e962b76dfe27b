import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createClient, type OrchestratorClient } from '../client/index.ts';
import { createClientAccess } from '../functions/mcp/client-access.ts';
import { createOrchestratorMcpServer } from '../functions/mcp/server.ts';
import { startDynalite } from '../local/dynalite.ts';
import { startFauxqsEmulator } from '../local/fauxqs.ts';
import { startLocalRuntime } from '../local/runtime.ts';
import { median, round, table } from './stats.ts';

/**
 * Issue 17: what a workflow costs when an agent runs it as an MCP tool, against running it directly, on one
 * local runtime (the real server, its emulators and engine), side by side in one process:
 * - direct: `POST /workflows/{id}/execute`, then `GET /workflows/executions/{id}` every 20 ms until it ended
 *   (a script with the typed client);
 * - `/mcp`: the SDK's Streamable HTTP client, one tools/call per run, against the route (in-process handlers,
 *   the run read every 100 ms);
 * - stdio's server: the same MCP server over the typed client, following the run's live event stream (what
 *   `orchestrator mcp` does), connected in memory so that no process boundary is measured.
 * Each call is timed from the request to the run's output. The workflow has two transforms, so the run itself
 * is short and what is measured is mostly the way in.
 */
export interface McpSection {
  readonly runs: number;
  readonly direct: Timing;
  readonly mcp_route: Timing;
  readonly mcp_stdio_server: Timing;
  readonly route_ratio: number;
  readonly stdio_ratio: number;
}

interface Timing {
  readonly median_ms: number;
  readonly min_ms: number;
  readonly max_ms: number;
}

const RUNS = 20;
const WARM_UP = 3;

const WORKFLOW = {
  name: 'Bench tool',
  parameters: [{ name: 'customer', type: 'string' as const, required: true }],
  actions: [
    { action_id: 'shape', action_type: 'transform' as const, config: { output: { customer: '{{customer}}' } } },
    { action_id: 'answer', action_type: 'transform' as const, depends_on: ['shape'], config: { output: { done: true, customer: '{{shape.response.customer}}' } } },
  ],
};

async function direct(client: OrchestratorClient, workflowId: string, customer: string): Promise<void> {
  const started = await client.call('executeWorkflow', { params: { workflow_id: workflowId }, body: { parameters: { customer } } });
  for (;;) {
    const run = await client.call('getExecution', { params: { execution_id: started.execution_id } });
    if (run.status === 'completed') return;
    if (['failed', 'cancelled', 'timed_out'].includes(run.status)) throw new Error(`the direct run ended ${run.status}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function viaMcp(client: Client, customer: string): Promise<void> {
  const result = (await client.callTool({ name: 'workflow.bench_tool', arguments: { customer } })) as CallToolResult;
  const status = (result.structuredContent as { status?: string } | undefined)?.status;
  if (result.isError || status !== 'completed') throw new Error(`the MCP call answered ${JSON.stringify(result).slice(0, 300)}`);
}

const summary = (values: number[]): Timing => ({ median_ms: round(median(values), 1), min_ms: round(Math.min(...values), 1), max_ms: round(Math.max(...values), 1) });

export async function measureMcp(): Promise<McpSection> {
  const [dynamo, fauxqs] = await Promise.all([startDynalite({}), startFauxqsEmulator()]);
  const runtime = await startLocalRuntime({ port: 0, host: '127.0.0.1', dynamoEndpoint: dynamo.endpoint, sqsEndpoint: fauxqs.endpoint, s3Endpoint: fauxqs.endpoint, workflowsTableName: 'bench-mcp', region: 'us-east-1', serviceVersion: 'bench', logLevel: 'warn' });
  const api = createClient({ baseUrl: runtime.url });
  const route = new Client({ name: 'bench', version: '1.0.0' });
  const stdio = new Client({ name: 'bench', version: '1.0.0' });
  try {
    const workflow = await api.call('createWorkflow', { body: WORKFLOW });
    await route.connect(new StreamableHTTPClientTransport(new URL('/mcp', runtime.url)));
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await createOrchestratorMcpServer(createClientAccess(api)).connect(serverSide);
    await stdio.connect(clientSide);
    // Interleaved, one of each per round, so that the machine's noise falls on all three alike.
    const directTimes: number[] = [];
    const routeTimes: number[] = [];
    const stdioTimes: number[] = [];
    for (let round = 0; round < WARM_UP + RUNS; round++) {
      const measure = async (values: number[], call: () => Promise<void>) => {
        const started = performance.now();
        await call();
        if (round >= WARM_UP) values.push(performance.now() - started);
      };
      await measure(directTimes, () => direct(api, workflow.workflow_id, `c${round}`));
      await measure(routeTimes, () => viaMcp(route, `c${round}`));
      await measure(stdioTimes, () => viaMcp(stdio, `c${round}`));
    }
    const base = median(directTimes);
    return {
      runs: RUNS,
      direct: summary(directTimes),
      mcp_route: summary(routeTimes),
      mcp_stdio_server: summary(stdioTimes),
      route_ratio: round(median(routeTimes) / base, 2),
      stdio_ratio: round(median(stdioTimes) / base, 2),
    };
  } finally {
    await Promise.allSettled([route.close(), stdio.close()]);
    await runtime.close();
    await Promise.allSettled([dynamo.close(), fauxqs.close()]);
  }
}

export function renderMcpSection(section: McpSection): string {
  const row = (name: string, timing: Timing, ratio: number | string): (string | number)[] => [name, timing.median_ms, timing.min_ms, timing.max_ms, ratio];
  return [
    `18. MCP (tools/call against execute, side by side: ${section.runs} runs each of a two-transform workflow, interleaved, on one local runtime)`,
    '',
    table(
      ['way in', 'median ms', 'min ms', 'max ms', 'x direct'],
      [row('execute + poll (20 ms)', section.direct, 1), row('POST /mcp tools/call', section.mcp_route, section.route_ratio), row('MCP server, live events (stdio)', section.mcp_stdio_server, section.stdio_ratio)],
    ),
  ].join('\n');
}
