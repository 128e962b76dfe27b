import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import { McpError, type ListResourcesResult, type ReadResourceResult, type Resource, type ResourceTemplate } from '@modelcontextprotocol/sdk/types.js';
import { AccessError, type OrchestratorAccess, type RunDocument, type WorkflowSummary } from './access.ts';

/**
 * Resources: workflow definitions (`orchestrator://workflows/{workflow_id}`, the latest version as
 * `GET /workflows/{id}` shows it) and runs (`orchestrator://executions/{execution_id}`, as
 * `GET /workflows/executions/{id}` shows it), both as JSON. Any id is readable through the templates; the
 * listing offers the workflows (paged, cursor = the API's) and, on its first page, the most recent runs.
 */

const WORKFLOW_TEMPLATE = 'orchestrator://workflows/{workflow_id}';
const EXECUTION_TEMPLATE = 'orchestrator://executions/{execution_id}';
/** How many recent runs the first page of resources/list offers (older ones are read by id). */
export const RECENT_RUNS = 50;
const JSON_TYPE = 'application/json';
/** MCP's code for a resource that does not exist. */
const RESOURCE_NOT_FOUND = -32002;

export const workflowUri = (workflowId: string): string => new UriTemplate(WORKFLOW_TEMPLATE).expand({ workflow_id: workflowId });
export const executionUri = (executionId: string): string => new UriTemplate(EXECUTION_TEMPLATE).expand({ execution_id: executionId });

export const RESOURCE_TEMPLATES: readonly ResourceTemplate[] = [
  { uriTemplate: WORKFLOW_TEMPLATE, name: 'workflow', title: 'Workflow definition', description: "A workflow's latest version: parameters, actions, status, as the API's GET /workflows/{workflow_id} shows it", mimeType: JSON_TYPE },
  { uriTemplate: EXECUTION_TEMPLATE, name: 'execution', title: 'Workflow run', description: "A run: status, progress, each action's status, attempts, output or error, the run's output, as GET /workflows/executions/{execution_id} shows it", mimeType: JSON_TYPE },
];

function workflowResource(workflow: WorkflowSummary): Resource {
  return { uri: workflowUri(workflow.workflow_id), name: workflow.name, title: `Workflow ${workflow.name}`, description: `${workflow.description || workflow.name} (${workflow.status}, version ${workflow.version})`, mimeType: JSON_TYPE };
}

function runResource(run: RunDocument): Resource {
  return { uri: executionUri(run.execution_id), name: `run ${run.execution_id}`, title: `Run ${run.execution_id}`, description: `Run of workflow ${run.workflow_id} v${run.workflow_version}: ${run.status} (${run.progress.completed}/${run.progress.total} actions), created ${run.created_at}`, mimeType: JSON_TYPE };
}

/** One page of resources/list: a page of workflows; the first page also has the most recent runs. */
export async function listResources(access: OrchestratorAccess, cursor: string | undefined, signal: AbortSignal): Promise<ListResourcesResult> {
  const [page, runs] = await Promise.all([access.listWorkflows({ ...(cursor ? { cursor } : {}), signal }), cursor ? Promise.resolve([]) : access.listRuns({ limit: RECENT_RUNS, signal })]);
  return { resources: [...page.workflows.map(workflowResource), ...runs.map(runResource)], ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}

/** resources/read of a workflow or run URI; an unknown one is MCP's resource-not-found error. */
export async function readResource(access: OrchestratorAccess, uri: string, signal: AbortSignal): Promise<ReadResourceResult> {
  const workflowId = variable(WORKFLOW_TEMPLATE, uri, 'workflow_id');
  const executionId = variable(EXECUTION_TEMPLATE, uri, 'execution_id');
  try {
    const document = workflowId ? await access.getWorkflow(workflowId, signal) : executionId ? await access.getRun(executionId, signal) : undefined;
    if (document === undefined) throw new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${uri} (this server has ${RESOURCE_TEMPLATES.map((template) => template.uriTemplate).join(' and ')})`, { uri });
    return { contents: [{ uri, mimeType: JSON_TYPE, text: JSON.stringify(document, null, 2) }] };
  } catch (error) {
    if (error instanceof AccessError && error.kind === 'not_found') throw new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${uri} (${error.message})`, { uri });
    throw error;
  }
}

/** A template variable's value in `uri`, when it matches the template with exactly one well-formed, non-empty value. */
function variable(template: string, uri: string, name: string): string | undefined {
  try {
    const value = new UriTemplate(template).match(uri)?.[name];
    return typeof value === 'string' && value !== '' ? decodeURIComponent(value) : undefined;
  } catch {
    // Too long for the template, or a malformed escape: no resource of ours.
    return undefined;
  }
}
