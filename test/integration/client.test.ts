import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { createClient, OrchestratorApiError, type OrchestratorClient, type ResponseOf } from '../../client/index.ts';
import { startTestApi } from '../support/api.ts';

/** The typed client against the local server over loopback HTTP: the same requests a program would make. */
let api: Awaited<ReturnType<typeof startTestApi>>;
let client: OrchestratorClient;

beforeAll(async () => {
  api = await startTestApi();
  client = createClient({ baseUrl: api.runtime.url });
});
afterAll(() => api.runtime.close());

const definition = {
  name: 'client test',
  parameters: [{ name: 'who', type: 'string' as const, required: true }],
  actions: [{ action_id: 'greet', action_type: 'transform' as const, config: { output: { hello: '{{who}}' } }, depends_on: [] }],
};

describe('the typed client', () => {
  it('creates, reads and lists workflows, and runs one, with answers typed by the route table', async () => {
    const created = await client.call('createWorkflow', { body: definition });
    expectTypeOf(created.workflow_id).toEqualTypeOf<string>();
    const fetched = await client.call('getWorkflow', { params: { workflow_id: created.workflow_id } });
    expect(fetched.name).toBe('client test');
    const listed = await client.call('listWorkflows', { query: { status: 'active', page_size: 100 } });
    expect(listed.workflows.map((workflow) => workflow.workflow_id)).toContain(created.workflow_id);
    const started = await client.call('executeWorkflow', { params: { workflow_id: created.workflow_id }, body: { parameters: { who: 'you' } } });
    let run: ResponseOf<'getExecution'> = await client.call('getExecution', { params: { execution_id: started.execution_id } });
    for (let i = 0; i < 100 && run.status !== 'completed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      run = await client.call('getExecution', { params: { execution_id: started.execution_id } });
    }
    expect(run.status).toBe('completed');
  });

  it('throws OrchestratorApiError with the status, code and the field of each problem', async () => {
    const refused = await client.call('createWorkflow', { body: { ...definition, actions: [] } }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OrchestratorApiError);
    expect(refused).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    expect((refused as OrchestratorApiError).details.map((detail) => detail.field)).toContain('actions');
    await expect(client.call('getWorkflow', { params: { workflow_id: 'missing' } })).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('builds URLs with encoded path parameters and repeated query values, and refuses a missing path parameter', () => {
    expect(client.url('getWorkflow', { params: { workflow_id: 'a/b c' } })).toBe(`${api.runtime.url}/workflows/a%2Fb%20c`);
    expect(client.url('listWorkflows', { query: { status: 'active', page_size: 5 } })).toBe(`${api.runtime.url}/workflows?status=active&page_size=5`);
    // @ts-expect-error getWorkflow needs its path parameter
    expect(() => client.url('getWorkflow', {})).toThrow('needs the path parameter workflow_id');
  });

  it('sends the bearer token or the API key it was given', async () => {
    const seen: Headers[] = [];
    const recording = createClient({ baseUrl: api.runtime.url, token: 'a.b.c', apiKey: 'key-1', fetch: async (input, init) => (seen.push(new Headers(init?.headers)), fetch(input, init)) });
    await recording.call('health');
    expect(seen[0]!.get('authorization')).toBe('Bearer a.b.c');
    expect(seen[0]!.get('x-api-key')).toBe('key-1');
  });
});
