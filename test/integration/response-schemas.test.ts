import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../functions/routes.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';
import { documentAnalysis } from '../support/workflows.ts';

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
type RouteName = keyof typeof routes;

let runtime: LocalRuntime;
let call: Call;

beforeAll(async () => {
  ({ runtime, call } = await startTestApi());
});
afterAll(() => runtime.close());

/**
 * The reply of `name`'s route is what its response schema says, exactly: the schema parses the data, and
 * parsing leaves it as it is. Response schemas are open objects (they strip what they do not know), so a field
 * the handler sends and the schema lacks shows up as a difference, as does a field the schema fills in.
 */
function expectDescribed(name: RouteName, reply: ApiReply): void {
  const route = routes[name];
  expect(reply.status, JSON.stringify(reply.body)).toBe(route.successStatus);
  const data: unknown = 'rawResponse' in route ? reply.body : reply.body.data;
  const parsed = route.response.safeParse(data);
  expect(parsed.error?.issues ?? [], `${name}: the data fails its response schema`).toEqual([]);
  expect(parsed.data, `${name}: the data has fields its response schema does not describe`).toEqual(data);
}

const notify = { action_id: 'tell', action_type: 'notification', config: { message: 'hello {{who}}' } };

describe('responses, route by route, are what the route table says they are', () => {
  it('for the workflow routes', async () => {
    const created = await call<{ workflow_id: string }>('POST', '/workflows', { body: documentAnalysis({ tags: ['docs'] }) });
    expectDescribed('createWorkflow', created);
    const id = created.body.data.workflow_id;
    expectDescribed('getWorkflow', await call('GET', `/workflows/${id}`));
    expectDescribed('updateWorkflow', await call('PUT', `/workflows/${id}`, { body: { description: 'changed', execution_mode: 'express' } }));
    expectDescribed('listWorkflowVersions', await call('GET', `/workflows/${id}/versions`));
    expectDescribed('getStateMachine', await call('GET', `/workflows/${id}/state-machine`));
    expectDescribed('listWorkflows', await call('GET', '/workflows?page_size=5'));
    expectDescribed('searchWorkflows', await call('GET', '/workflows/search?q=document'));
    expectDescribed('workflowStatistics', await call('GET', '/workflows/statistics'));
    expectDescribed('listTemplates', await call('GET', '/workflows/templates'));
    expectDescribed('workflowsHealth', await call('GET', '/workflows/health'));
    expectDescribed('deleteWorkflow', await call('DELETE', `/workflows/${id}`));
  });

  it('for the execution routes', async () => {
    const created = await call<{ workflow_id: string }>('POST', '/workflows', {
      body: { name: 'Greeting', parameters: [{ name: 'who', type: 'string', required: true }], actions: [notify] },
    });
    const id = created.body.data.workflow_id;
    const started = await call<{ execution_id: string }>('POST', `/workflows/${id}/execute`, { body: { parameters: { who: 'world' } } });
    expectDescribed('executeWorkflow', started);
    const executionId = started.body.data.execution_id;
    await expect.poll(async () => (await call<{ status: string }>('GET', `/workflows/executions/${executionId}`)).body.data.status, { timeout: 10_000 }).toBe('completed');
    expectDescribed('getExecution', await call('GET', `/workflows/executions/${executionId}`));
    expectDescribed('listWorkflowExecutions', await call('GET', `/workflows/${id}/executions`));
    expectDescribed('executionHistory', await call('GET', '/workflows/history?limit=5'));
  });

  it('for the registry, platform and security routes', async () => {
    const registered = await call('POST', '/registry/register', { body: { name: 'billing', url: 'http://127.0.0.1:9/api', tags: ['eu'], metadata: { team: 'payments' } } });
    expectDescribed('registerService', registered);
    expectDescribed('listServices', await call('GET', '/registry'));
    expectDescribed('getService', await call('GET', '/registry/billing'));
    expectDescribed('health', await call('GET', '/health'));
    expectDescribed('systemHealth', await call('GET', '/health/system'));
    expectDescribed('openApi', await call('GET', '/openapi.json'));
    expectDescribed('whoAmI', await call('GET', '/auth/whoami'));
    expectDescribed('createApiKey', await call('POST', '/auth/api-keys', { body: { name: 'ci', role: 'viewer' } }));
    expectDescribed('listApiKeys', await call('GET', '/auth/api-keys'));
    expectDescribed('listAuditRecords', await call('GET', '/audit?limit=5'));
    expectDescribed('deregisterService', await call('DELETE', '/registry/billing'));
  });
});
