import { McpError, ErrorCode, ToolSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { workflowTools, type JsonSchema, type WorkflowTool } from '../../core/ai/workflow-tools.ts';
import type { Log } from '../../core/ports.ts';
import { AccessError, type OrchestratorAccess, type ServiceTool, type WorkflowDocument, type WorkflowSummary } from './access.ts';

/**
 * The tools the server offers: each active workflow (`workflow.<name>`, core/ai/workflow-tools.ts) and, when
 * enabled, the services' operations. Stateless: every listing and every call reads the workflows again, so
 * a tool appears as soon as its workflow is active and a call always runs what the listing now describes.
 */

/** The most workflows read for one listing: a bound on the work of one request (a Lambda has a time limit). */
export const MAX_WORKFLOW_TOOLS = 1000;
const PREFIX = 'workflow.';

export type CatalogEntry = { readonly kind: 'workflow'; readonly name: string; readonly summary: WorkflowSummary } | { readonly kind: 'service_operation'; readonly name: string; readonly tool: ServiceTool };

export interface CatalogOptions {
  readonly serviceTools: boolean;
  readonly pageSize: number;
  readonly log?: Log;
}

/** What a workflow tool's call answers when it completes (structuredContent); `output` is the run's output. */
export const RUN_RESULT_SCHEMA = {
  type: 'object',
  properties: {
    execution_id: { type: 'string', description: 'the run, readable as orchestrator://executions/{execution_id}' },
    status: { type: 'string', description: 'completed, or running when the server stopped waiting before the run ended' },
    output: { description: "the run's output (any JSON), when it completed" },
    progress: { type: 'object', description: 'completed and total actions, when it still runs' },
  },
  required: ['execution_id', 'status'],
} as const;

/** Every active workflow the caller may see, in the API's order (newest first), up to MAX_WORKFLOW_TOOLS. */
async function activeWorkflows(access: OrchestratorAccess, signal: AbortSignal, log?: Log): Promise<WorkflowSummary[]> {
  const workflows: WorkflowSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await access.listWorkflows({ status: 'active', ...(cursor ? { cursor } : {}), signal });
    workflows.push(...page.workflows);
    cursor = page.nextCursor;
  } while (cursor && workflows.length < MAX_WORKFLOW_TOOLS);
  if (cursor || workflows.length > MAX_WORKFLOW_TOOLS) log?.({ level: 'warn', message: `MCP tools: only the newest ${MAX_WORKFLOW_TOOLS} active workflows are offered as tools` });
  return workflows.slice(0, MAX_WORKFLOW_TOOLS);
}

/**
 * Tool names from the summaries alone. A name depends on a workflow's name and id only (and on the other names
 * of the listing, which tells equal names apart), never on its parameters or actions: so names are known
 * without reading each definition, and workflowTools stays the one place that makes them.
 */
function workflowEntries(summaries: readonly WorkflowSummary[]): CatalogEntry[] {
  const named = workflowTools(summaries.map((summary) => ({ ...summary, parameters: [], strict_parameters: false, actions: [] })));
  return named.map((tool, index) => ({ kind: 'workflow', name: tool.name, summary: summaries[index]! }));
}

/** Every entry of the catalog, workflows first; a service tool named like a workflow tool is left out. */
export async function catalogEntries(access: OrchestratorAccess, options: CatalogOptions, signal: AbortSignal, only?: 'workflow' | 'service_operation'): Promise<CatalogEntry[]> {
  const entries = only === 'service_operation' ? [] : workflowEntries(await activeWorkflows(access, signal, options.log));
  if (!options.serviceTools || !access.listServiceTools || only === 'workflow') return entries;
  const taken = new Set(entries.map((entry) => entry.name));
  for (const tool of await serviceTools(access.listServiceTools, signal, options.log)) {
    if (taken.has(tool.name)) {
      options.log?.({ level: 'warn', message: `MCP tools: the service tool ${tool.name} has a workflow tool's name; the workflow is offered` });
      continue;
    }
    taken.add(tool.name);
    entries.push({ kind: 'service_operation', name: tool.name, tool });
  }
  return entries;
}

/** The services' tools; a listing that fails (an API without GET /tools) leaves them out rather than the workflows too. */
async function serviceTools(list: NonNullable<OrchestratorAccess['listServiceTools']>, signal: AbortSignal, log?: Log): Promise<readonly ServiceTool[]> {
  try {
    return await list(signal);
  } catch (error) {
    if (!(error instanceof AccessError)) throw error;
    log?.({ level: 'warn', message: `MCP tools: the services' operations could not be listed (${error.message}); only workflows are offered` });
    return [];
  }
}

/**
 * The entry a tools/call names, reading no more than it must: a `workflow.` name among the workflows first; a
 * name that is none of theirs (a service of that name prefix) in the whole catalog, where workflows win a clash.
 */
export async function findEntry(access: OrchestratorAccess, options: CatalogOptions, name: string, signal: AbortSignal): Promise<CatalogEntry | undefined> {
  const named = (entries: readonly CatalogEntry[]) => entries.find((entry) => entry.name === name);
  if (!name.startsWith(PREFIX)) return named(await catalogEntries(access, options, signal, 'service_operation'));
  return named(await catalogEntries(access, options, signal, 'workflow')) ?? (options.serviceTools ? named(await catalogEntries(access, options, signal)) : undefined);
}

/**
 * One page of tools/list. Cursors are offsets into the catalog: only the page's workflows are read in full
 * (for their parameters), so one request does a bounded amount of work however many workflows there are.
 */
export async function listToolsPage(access: OrchestratorAccess, options: CatalogOptions, cursor: string | undefined, signal: AbortSignal): Promise<{ tools: Tool[]; nextCursor?: string }> {
  const offset = cursor === undefined ? 0 : offsetOf(cursor);
  const entries = await catalogEntries(access, options, signal);
  const page = entries.slice(offset, offset + options.pageSize);
  const tools = await Promise.all(page.map((entry) => (entry.kind === 'workflow' ? workflowToolOf(entry.name, access.getWorkflow(entry.summary.workflow_id, signal)).catch(goneIsNone) : serviceToolOf(entry.tool, access.callServiceTool !== undefined))));
  const next = offset + options.pageSize;
  return { tools: tools.filter((tool) => tool !== undefined), ...(next < entries.length ? { nextCursor: Buffer.from(JSON.stringify({ offset: next })).toString('base64url') } : {}) };
}

/** A workflow deleted between the listing and the read of its definition is no tool, not a failed listing. */
function goneIsNone(error: unknown): undefined {
  if (error instanceof AccessError && error.kind === 'not_found') return undefined;
  throw error;
}

function offsetOf(cursor: string): number {
  try {
    const { offset } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { offset?: unknown };
    if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return offset;
  } catch {
    // Falls through to the refusal: a cursor this server did not give.
  }
  throw new McpError(ErrorCode.InvalidParams, 'Invalid cursor: pass the nextCursor of a previous tools/list answer');
}

/** A workflow as an MCP tool: its description and parameter schema from workflowTools, its name from the whole listing. */
export async function workflowToolOf(name: string, definition: Promise<WorkflowDocument>): Promise<Tool> {
  const described: WorkflowTool = workflowTools([await definition])[0]!;
  return {
    name,
    title: described.title,
    description: described.description,
    inputSchema: objectSchema(described.input_schema),
    outputSchema: objectSchema(RUN_RESULT_SCHEMA),
    // A run calls services: it is neither read-only nor confined to the orchestrator, and two calls are two runs.
    annotations: { title: described.title, readOnlyHint: false, idempotentHint: false, openWorldHint: true },
  };
}

/** Methods whose repetition has the effect of one call (RFC 9110), and those that change nothing. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
const SAFE_METHODS = new Set(['GET', 'HEAD']);

function serviceToolOf(tool: ServiceTool, callable: boolean): Tool {
  // Listed either way (an agent may plan with it, a person may read it), but the agent is told before it tries.
  const description = callable ? tool.description : `${tool.description} (Described only: this server cannot call service operations yet.)`;
  // GET /tools says each operation's method: what an agent may call without asking (a GET) and may repeat.
  const method = 'method' in tool && typeof tool.method === 'string' ? tool.method.toUpperCase() : undefined;
  const hints = method === undefined ? {} : { readOnlyHint: SAFE_METHODS.has(method), idempotentHint: IDEMPOTENT_METHODS.has(method) };
  return { name: tool.name, title: tool.title, description, inputSchema: objectSchema(tool.input_schema), annotations: { title: tool.title, openWorldHint: true, ...hints } };
}

/** A JSON Schema checked to be what MCP takes as a tool's input or output: an object schema. */
function objectSchema(schema: JsonSchema): Tool['inputSchema'] {
  return ToolSchema.shape.inputSchema.parse(schema);
}
