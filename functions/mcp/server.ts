import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import * as z from 'zod';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { Log } from '../../core/ports.ts';
import { AccessError, type OrchestratorAccess } from './access.ts';
import { listResources, readResource, RESOURCE_TEMPLATES } from './resources.ts';
import { callWorkflowTool, type RequestExtra } from './run-tool.ts';
import { findEntry, listToolsPage, type CatalogOptions } from './tools.ts';

/**
 * The orchestrator's MCP server (issue 17): workflows as tools, workflow definitions and runs as resources,
 * all through an OrchestratorAccess that acts as the caller. Built on the SDK's low-level Server rather than
 * McpServer: McpServer registers a fixed set of tools with zod schemas, while these tools are whatever
 * workflows the caller may see at the moment of each request, described by JSON Schemas.
 */

export interface OrchestratorMcpOptions {
  /** What the server calls itself in `initialize`. */
  readonly serverInfo?: { readonly name: string; readonly version: string };
  /** Also offer the services' operations as tools (when the access can list them). Default false. */
  readonly serviceTools?: boolean;
  /** How long a workflow tool call waits for its run before answering that it still runs. Default: until it ends. */
  readonly waitForRunMs?: number;
  /** How often a run is read when no event says it changed. Default 500 ms. */
  readonly pollIntervalMs?: number;
  /** How often it is read anyway while its events are followed. Default 2000 ms. */
  readonly safetyPollMs?: number;
  /** An explicit cancellation of a tool call cancels its run. Default true (a lost connection or a client's timeout never does). */
  readonly cancelRunOnCancel?: boolean;
  /** Tools per tools/list page. Default 100. */
  readonly toolsPageSize?: number;
  readonly log?: Log;
}

const INSTRUCTIONS = `Tools named workflow.<name> run an orchestrator workflow: the arguments are the run's parameters, the answer is the run's output (or an error naming the failing action). Long runs report progress. Runs and workflow definitions are readable as resources: orchestrator://executions/{execution_id} and orchestrator://workflows/{workflow_id}.`;

/** A server for one connection (stdio) or one request (stateless HTTP); connect it to a transport. */
export function createOrchestratorMcpServer(access: OrchestratorAccess, options: OrchestratorMcpOptions = {}): Server {
  const server = new Server(options.serverInfo ?? { name: 'orchestrator', version: '0.0.0' }, {
    capabilities: { tools: { listChanged: false }, resources: { subscribe: false, listChanged: false } },
    instructions: INSTRUCTIONS,
  });
  const catalog: CatalogOptions = { serviceTools: options.serviceTools ?? false, pageSize: options.toolsPageSize ?? 100, ...(options.log ? { log: options.log } : {}) };
  const settings = {
    waitForRunMs: options.waitForRunMs ?? Number.POSITIVE_INFINITY,
    pollIntervalMs: options.pollIntervalMs ?? 500,
    safetyPollMs: options.safetyPollMs ?? 2000,
    cancelRunOnCancel: options.cancelRunOnCancel ?? true,
    ...(options.log ? { log: options.log } : {}),
  };
  const connected = () => server.transport !== undefined;
  if (options.log) {
    const log = options.log;
    server.onerror = (error) => log({ level: 'warn', message: `MCP: ${error.message}` });
    if (catalog.serviceTools && !access.listServiceTools) log({ level: 'warn', message: "MCP: service tools were asked for, but this access cannot list the services' operations: only workflows are offered" });
  }

  server.setRequestHandler(ListToolsRequestSchema, (request, extra) => refusedAsMcp(() => listToolsPage(access, catalog, request.params?.cursor, extra.signal)));
  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    refusedAsMcp(async () => {
      const { name, arguments: args = {} } = request.params;
      const entry = await findEntry(access, catalog, name, extra.signal);
      if (!entry) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name} (tools/list gives the tools this caller may use)`);
      if (entry.kind === 'workflow') return callWorkflowTool(access, { tool: name, workflowId: entry.summary.workflow_id, args }, extra, settings, connected);
      return callServiceTool(access, name, args, extra);
    }),
  );
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({ resourceTemplates: [...RESOURCE_TEMPLATES] }));
  server.setRequestHandler(ListResourcesRequestSchema, (request, extra) => refusedAsMcp(() => listResources(access, request.params?.cursor, extra.signal)));
  server.setRequestHandler(ReadResourceRequestSchema, (request, extra) => refusedAsMcp(() => readResource(access, request.params.uri, extra.signal)));
  return server;
}

/** What `POST /tools/{tool_name}/call` answers (CallToolResponse): the service's status and body, and how it was called. */
const ServiceAnswer = z.looseObject({ status: z.number().int(), body: z.unknown() });

/**
 * A service operation called through the access. Its answer is the structured content as it is: the service's
 * `status` and `body` (and the tool, method, path and attempts), an error result when the status is 4xx or
 * 5xx, so that an agent reads the service's own words either way. An access answering in another shape has it
 * as `output`. A refusal (bad arguments, each field named; the service's 4xx as the API passes it on; the
 * service down) is an error result with the message.
 */
async function callServiceTool(access: OrchestratorAccess, name: string, args: Readonly<Record<string, unknown>>, extra: RequestExtra): Promise<CallToolResult> {
  if (!access.callServiceTool) return { isError: true, content: [{ type: 'text', text: `${name} is a service operation, which this server cannot call yet: only workflow tools run here` }] };
  try {
    const output = await access.callServiceTool(name, args, extra.signal);
    const answer = ServiceAnswer.safeParse(output);
    if (answer.success) {
      const structured = { ...answer.data, body: answer.data.body ?? null };
      return { ...(structured.status >= 400 ? { isError: true } : {}), content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
    }
    const structured = { output: output ?? null };
    return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
  } catch (error) {
    if (!(error instanceof AccessError)) throw error;
    const fields = error.details.map((detail) => `\n- ${detail.field}: ${detail.message}`).join('');
    return { isError: true, content: [{ type: 'text', text: `${name} failed: ${error.message}${fields}` }] };
  }
}

/**
 * The access's refusals of a listing or a read as JSON-RPC errors with the API's message (a tool call's are
 * tool results instead, which the agent sees). Anything else is a fault of the server: the SDK answers it as
 * an internal error.
 */
async function refusedAsMcp<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof AccessError)) throw error;
    const code = error.kind === 'invalid' || error.kind === 'not_found' ? ErrorCode.InvalidParams : ErrorCode.InternalError;
    throw new McpError(code, `${error.kind}: ${error.message}`, { kind: error.kind, details: error.details });
  }
}
