import { OrchestratorApiError, type OrchestratorClient } from '../../client/index.ts';
import { AccessError, type AccessErrorKind, type OrchestratorAccess } from './access.ts';

/**
 * OrchestratorAccess over the orchestrator's HTTP API (the typed client): what `orchestrator mcp` serves over
 * stdio. The client carries the user's credential (ORCHESTRATOR_TOKEN or ORCHESTRATOR_API_KEY), so the API
 * authorizes every call exactly as it would the user's own. `extra` replaces what it would do over the API
 * (tests, and a composition that calls service operations its own way).
 */
export function createClientAccess(client: OrchestratorClient, extra: Pick<OrchestratorAccess, 'callServiceTool'> = {}): OrchestratorAccess {
  return {
    listWorkflows: ({ status, cursor, signal }) =>
      refused(async () => {
        signal?.throwIfAborted();
        const page = await client.call('listWorkflows', { query: { page_size: 100, ...(status ? { status } : {}), ...(cursor ? { next_token: cursor } : {}) } });
        return { workflows: page.workflows, ...(page.has_more && page.next_token ? { nextCursor: page.next_token } : {}) };
      }),
    getWorkflow: (workflowId) => refused(() => client.call('getWorkflow', { params: { workflow_id: workflowId } })),
    startRun: (workflowId, parameters) => refused(() => client.call('executeWorkflow', { params: { workflow_id: workflowId }, body: { parameters: { ...parameters } } })),
    getRun: (executionId) => refused(() => client.call('getExecution', { params: { execution_id: executionId } })),
    listRuns: ({ limit }) => refused(async () => (await client.call('executionHistory', { query: { limit } })).executions),
    cancelRun: (executionId) => refused(() => client.call('cancelExecution', { params: { execution_id: executionId } })),
    followRun: (executionId, { since, signal }) => client.stream('streamEvents', { query: { execution_id: executionId, since }, signal }),
    // The operations of the registered services' OpenAPI documents, as GET /tools makes them tools.
    listServiceTools: () => refused(async () => (await client.call('listTools', { query: { kind: 'service_operation' } })).tools.flatMap((tool) => (tool.kind === 'service_operation' ? [tool] : []))),
    // POST /tools/{tool_name}/call: the API checks the arguments against the tool's schema and calls the service;
    // its answer ({tool, service, method, path, status, body, attempts}) is the result. The service's 4xx, and
    // the API's own refusals, are AccessErrors naming the status.
    callServiceTool: (name, args, signal) =>
      refused(async () => {
        signal?.throwIfAborted();
        return client.call('callTool', { params: { tool_name: name }, body: { arguments: { ...args } } });
      }),
    ...extra,
  };
}

const KINDS: Readonly<Record<number, AccessErrorKind>> = { 400: 'invalid', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 412: 'conflict', 422: 'invalid', 429: 'unavailable', 503: 'unavailable' };

/** The API's refusals as AccessErrors; an unreachable API is `unavailable` (fetch's TypeError says why in its cause). */
async function refused<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof OrchestratorApiError) {
      throw new AccessError(KINDS[error.status] ?? 'failed', `${error.message} (${error.code}, HTTP ${error.status})`, { details: error.details, cause: error });
    }
    if (error instanceof TypeError && error.message === 'fetch failed') {
      const cause = (error as { cause?: unknown }).cause;
      throw new AccessError('unavailable', `the orchestrator API could not be reached${cause instanceof Error ? ` (${cause.message})` : ''}`, { cause: error });
    }
    throw error;
  }
}
