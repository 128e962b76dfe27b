import { OrchestratorApiError, type OrchestratorClient, type ResponseOf } from '../client/index.ts';
import type { WorkflowDefinition } from '../core/workflow/definition.ts';
import { CommandFailedError } from './errors.ts';

export type Workflow = ResponseOf<'getWorkflow'>;
export type WorkflowSummary = ResponseOf<'listWorkflows'>['workflows'][number];
export type ApplyResult = 'created' | 'updated' | 'unchanged';

/** What an id in a path may be (functions/http/workflow-schemas.ts idSchema): anything else can only be a name. */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** The largest page the listing gives. */
const LISTING_PAGE_SIZE = 100;

/** Every workflow named exactly `name`, through the listing (the API has no lookup by name). */
export async function findWorkflowsByName(client: OrchestratorClient, name: string): Promise<WorkflowSummary[]> {
  const found: WorkflowSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.call('listWorkflows', { query: { page_size: LISTING_PAGE_SIZE, ...(nextToken ? { next_token: nextToken } : {}) } });
    found.push(...page.workflows.filter((workflow) => workflow.name === name));
    nextToken = page.next_token ?? undefined;
  } while (nextToken !== undefined);
  return found;
}

/** The one workflow named `name`, or undefined; two of that name is an error naming their ids. */
async function uniqueByName(client: OrchestratorClient, name: string): Promise<WorkflowSummary | undefined> {
  const found = await findWorkflowsByName(client, name);
  if (found.length > 1) {
    throw new CommandFailedError(`${found.length} workflows are named '${name}' (${found.map((workflow) => workflow.workflow_id).join(', ')}); use an id`);
  }
  return found[0];
}

/** A workflow by id or, when no workflow has that id, by its exact name. */
export async function resolveWorkflow(client: OrchestratorClient, idOrName: string): Promise<Workflow> {
  if (ID_PATTERN.test(idOrName)) {
    try {
      return await client.call('getWorkflow', { params: { workflow_id: idOrName } });
    } catch (error) {
      if (!(error instanceof OrchestratorApiError) || error.status !== 404) throw error;
    }
  }
  const named = await uniqueByName(client, idOrName);
  if (!named) throw new CommandFailedError(`no workflow has the id or name '${idOrName}'`);
  return client.call('getWorkflow', { params: { workflow_id: named.workflow_id } });
}

/** The id of a workflow given by id or name, without reading it when it looks like an id. */
export async function resolveWorkflowId(client: OrchestratorClient, idOrName: string): Promise<string> {
  return ID_PATTERN.test(idOrName) ? idOrName : (await resolveWorkflow(client, idOrName)).workflow_id;
}

/**
 * Makes the API hold `definition` (checked offline first, defaults filled in): creates it, or updates the one
 * workflow with its name so a definition kept in git is the truth (every field the file leaves out goes back to
 * its default). The update is conditional on the revision read, so a concurrent change is a 409, not lost.
 */
export async function applyDefinition(client: OrchestratorClient, definition: WorkflowDefinition): Promise<{ result: ApplyResult; workflow: Workflow }> {
  const existing = await uniqueByName(client, definition.name);
  if (!existing) {
    return { result: 'created', workflow: await client.call('createWorkflow', { body: definition }) };
  }
  const { name, description, tags, status, execution_mode, parameters, strict_parameters, actions } = definition;
  const workflow = await client.call('updateWorkflow', {
    params: { workflow_id: existing.workflow_id },
    body: { name, description, tags, status, execution_mode, parameters, strict_parameters, actions },
    headers: { 'if-match': `"${existing.revision}"` },
  });
  return { result: workflow.revision === existing.revision ? 'unchanged' : 'updated', workflow };
}
