import { awsServiceProxy } from '../aws-service-proxy.ts';
import { awsEventServices } from '../aws-event-services.ts';
import { secured } from '../aws-security.ts';
import { awsExecutionServices, awsServices } from '../aws-services.ts';
import { awsToolCatalog } from '../aws-tools.ts';
import { readLambdaConfig } from '../config.ts';
import type { ServiceProxy } from '../ecosystem/service-proxy.ts';
import { createEventHandlers } from '../http/event-handlers.ts';
import { createExecutionHandlers } from '../http/execution-handlers.ts';
import { createMcpHandlers } from '../http/mcp-handlers.ts';
import { createToolHandlers } from '../http/tool-handlers.ts';
import { createWorkflowHandlers } from '../http/workflow-handlers.ts';
import type { McpDispatchedRoute } from '../mcp/in-process-fetch.ts';
import type { ApiHandler } from '../middleware/http-handler.ts';
import { sharedLog } from '../observability/logger.ts';

/**
 * `POST /mcp` in AWS: the handlers of the routes the MCP server calls, composed here as their own entries compose
 * them, with this function's grants (the route's, the union of theirs). Built at the first request, and the
 * action runner only at the first service tool call.
 */
const config = readLambdaConfig();
let proxy: ServiceProxy | undefined;
let handlers: Readonly<Record<McpDispatchedRoute, ApiHandler>> | undefined;

function dispatched(): Readonly<Record<McpDispatchedRoute, ApiHandler>> {
  const workflows = createWorkflowHandlers(awsServices());
  const executions = createExecutionHandlers(secured(awsExecutionServices()));
  const tools = createToolHandlers(
    secured({
      tools: awsToolCatalog(),
      get serviceProxy() {
        return (proxy ??= awsServiceProxy());
      },
    }),
  );
  return {
    listWorkflows: workflows.listWorkflows,
    getWorkflow: workflows.getWorkflow,
    executeWorkflow: executions.executeWorkflow,
    getExecution: executions.getExecution,
    executionHistory: executions.executionHistory,
    cancelExecution: executions.cancelExecution,
    streamEvents: createEventHandlers(awsEventServices()).streamEvents,
    listTools: tools.listTools,
    callTool: tools.callTool,
  };
}

export const handler = createMcpHandlers(
  secured({ mcp: { handlers: () => (handlers ??= dispatched()), serviceTools: config.ORCHESTRATOR_MCP_SERVICE_TOOLS, serverVersion: config.SERVICE_VERSION, log: sharedLog } }),
).mcp;
