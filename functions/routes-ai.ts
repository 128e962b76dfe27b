import * as z from 'zod';
import * as t from './http/tool-schemas.ts';
import * as plan from './http/plan-schemas.ts';
import type { RouteSpec } from './routes.ts';

/** Agents' view of the orchestrator (issue 17): what they may call, as tools. Part of THE route table (routes.ts spreads it in). */
export const aiRoutes = {
  listTools: {
    method: 'GET',
    path: '/tools',
    auth: 'viewer',
    // Read from the registry and its services' documents, like the OpenAPI poll: the registry's stack.
    context: 'registry',
    summary: "Every active workflow of the caller's tenant and every operation of the registered services' OpenAPI documents, as tools (name, description, JSON Schema input); a note for each service whose document could not be read",
    tag: 'tools',
    successStatus: 200,
    query: t.ListToolsQuery,
    response: t.ToolListResponse,
    tables: { workflows: 'read', registry: 'read' },
    // Documents are read under the action runner's address rules; no credential is sent with them.
    outbound: 'calls',
  },
  callTool: {
    method: 'POST',
    path: '/tools/{tool_name}/call',
    auth: 'operator',
    context: 'registry',
    summary:
      "Call one service operation of GET /tools with its input (path, query, header, body), checked against the tool's input schema: the call goes to a healthy instance through the action runner's rules (outbound addresses, circuit, the service's credentials, retries of idempotent calls); answers the service's status and body",
    tag: 'tools',
    successStatus: 200,
    params: t.CallToolParams,
    body: t.CallToolBody,
    response: t.CallToolResponse,
    tables: { workflows: 'read', registry: 'read' },
    outbound: 'credentials',
    // Resolved and called as the proxies call ecosystem services: circuits move, ORCHESTRATOR_PROXY_TIMEOUT_SECONDS bounds it.
    ecosystem: true,
  },
  planWorkflow: {
    method: 'POST',
    path: '/ai/plan',
    auth: 'operator',
    context: 'registry',
    summary:
      "A draft workflow for a goal, written by a language model with the tools of GET /tools and checked by the orchestrator's validator and compiler; every problem is fed back and the model repairs, at most max_rounds answers. Saved (as a draft) only with save: true and a valid plan. 503 naming the variable when no model is configured",
    tag: 'tools',
    successStatus: 200,
    body: plan.PlanWorkflowBody,
    response: plan.PlanWorkflowResponse,
    tables: { workflows: 'write', registry: 'read' },
    // Services' documents (for the tools) and the model's gateway, under the outbound rules.
    outbound: 'calls',
    // Saving goes through the workflow service, which publishes the new workflow's lifecycle events (as POST /workflows).
    bus: 'publish',
    // The model: Bedrock's InvokeModel in AWS (-c plannerModel), LLM_GATEWAY_URL locally.
    model: 'invoke',
  },
  mcp: {
    method: 'POST',
    path: '/mcp',
    auth: 'viewer',
    context: 'registry',
    summary:
      "The Model Context Protocol over Streamable HTTP, stateless (JSON-RPC in POST bodies; Accept: application/json, text/event-stream): the caller's workflows as tools (tools/call starts a run and answers its output, progress notifications first), workflow definitions and runs as resources. Every call inside acts as the caller, with the caller's role: running a workflow needs operator",
    tag: 'tools',
    successStatus: 200,
    rawResponse: true,
    mediaType: 'text/event-stream',
    body: z
      .union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))], { error: 'the body must be a JSON-RPC message (an object) or an array of them' })
      .describe('JSON-RPC 2.0 message(s) of the MCP protocol'),
    response: z.string().describe('text/event-stream: the answers (and a tools/call\'s progress notifications) as `event: message` events; 202 with no body for notifications only'),
    // The union of what the routes it calls in process need: listWorkflows, getWorkflow, executeWorkflow,
    // getExecution, executionHistory, cancelExecution, streamEvents, listTools and callTool (test/unit/functions/mcp-route.test.ts).
    tables: { workflows: 'read', executions: 'write', events: 'read', registry: 'read' },
    engine: true,
    bus: 'publish',
    outbound: 'credentials',
    ecosystem: true,
  },
} as const satisfies Record<string, RouteSpec>;
