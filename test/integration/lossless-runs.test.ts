import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowDefinitionSchema } from '../../core/workflow/definition.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { compileWorkflow } from '../../statemachines/compile.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';
import { fetchRunner } from '../support/fetch-runner.ts';
import { largeWorkflow } from '../support/large-workflow.ts';
import { serviceCall, workflow } from '../unit/statemachines/support/workflows.ts';

/**
 * Lossless DAGs and large workflows through the local API, as a user runs them (ADR 0016): the N shape, which
 * no nesting of Parallel states runs without an added order, and a workflow large enough for the compiler to
 * split it into child state machines.
 */

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
interface ExecutionData {
  status: string;
  error?: unknown;
  progress: { completed: number; total: number };
  actions: { action_id: string; status: string; attempts: number; output?: { response: unknown } }[];
}

let services: Server;
let servicesUrl: string;
const requests: { path: string; body: unknown }[] = [];
/** `/a` answers only once `/d` was called: a run that made d wait for a would never end. */
let dCalled: () => void = () => undefined;
let dSeen = new Promise<void>((resolve) => (dCalled = resolve));
let runtime: LocalRuntime;
let call: Call;

beforeAll(async () => {
  services = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      requests.push({ path, body: text ? JSON.parse(text) : {} });
      const reply = () => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ state: path.slice(1) }));
      };
      if (path === '/d') dCalled();
      if (path === '/a') void dSeen.then(reply);
      else if (path === '/broken') {
        response.statusCode = 500;
        response.end(JSON.stringify({ error: 'down' }));
      } else reply();
    });
  });
  await new Promise<void>((resolve) => services.listen(0, '127.0.0.1', resolve));
  servicesUrl = `http://127.0.0.1:${(services.address() as AddressInfo).port}`;
  ({ runtime, call } = await startTestApi({ invokeRunner: fetchRunner(() => servicesUrl) }));
});
afterAll(async () => {
  await runtime.engine.idle();
  await runtime.close();
  services.closeAllConnections();
  await new Promise<void>((resolve) => services.close(() => resolve()));
});

async function run(definition: unknown, seconds = 60): Promise<ExecutionData> {
  const created = await call('POST', '/workflows', { body: definition });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const started = await call('POST', `/workflows/${created.body.data.workflow_id as string}/execute`, { body: { parameters: {} } });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const id = started.body.data.execution_id as string;
  for (let waited = 0; waited < seconds * 10; waited++) {
    const reply = await call<ExecutionData>('GET', `/workflows/executions/${id}`);
    if (!['pending', 'running'].includes(reply.body.data.status)) return reply.body.data;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`execution ${id} did not end within ${seconds} s`);
}

describe('lossless DAG execution through the API', () => {
  it('starts d as soon as b finished, while a (which c also waits for) is still running', async () => {
    dSeen = new Promise<void>((resolve) => (dCalled = resolve));
    const execution = await run(
      workflow([
        serviceCall('a', {}, [], { timeout_seconds: 10 }),
        serviceCall('b'),
        serviceCall('c', { a: '{{a.response.state}}', b: '{{b.response.state}}' }, ['a', 'b']),
        serviceCall('d', { b: '{{b.response.state}}' }, ['b']),
      ]),
    );
    expect(execution.status, JSON.stringify(execution.error)).toBe('completed');
    const order = requests.map((request) => request.path).filter((path) => ['/a', '/b', '/c', '/d'].includes(path));
    expect(order.indexOf('/d')).toBeLessThan(order.indexOf('/c'));
    expect(requests.find((request) => request.path === '/c')!.body).toEqual({ a: 'a', b: 'b' });
    expect(execution.actions.map((action) => [action.action_id, action.status, action.attempts])).toEqual([
      ['a', 'completed', 1],
      ['b', 'completed', 1],
      ['c', 'completed', 1],
      ['d', 'completed', 1],
    ]);
  });
});

// 300 actions: split into several child machines like 1,000 would be (test/unit/statemachines/split.test.ts
// runs 1,000 in the interpreter), at a third of the time the local runtime takes for 1,000 here.
describe('a workflow split into child machines, through the API', () => {
  it('is accepted, runs every action once across its child machines, and reports progress as one run', async () => {
    requests.length = 0;
    const { actions, last, chainEnd } = largeWorkflow(300);
    const parsed = WorkflowDefinitionSchema.parse(workflow(actions));
    expect(compileWorkflow({ workflow_id: 'w', version: 1, ...parsed }).children.length).toBeGreaterThan(2);
    const execution = await run(workflow(actions), 240);
    expect(execution.status, JSON.stringify(execution.error)).toBe('completed');
    expect(execution.progress).toMatchObject({ completed: 300, total: 300 });
    expect(execution.actions.every((action) => action.status === 'completed' && action.attempts <= 1)).toBe(true);
    const calls = actions.filter((action) => action.action_type === 'service_call');
    expect(requests).toHaveLength(calls.length);
    expect(new Set(requests.map((request) => request.path)).size).toBe(calls.length);
    expect(requests.find((request) => request.path === `/${last}`)!.body).toEqual({ chain_end: chainEnd, fan_in: 'wide0' });
  }, 300_000);
});

describe('a workflow that starts with a child machine', () => {
  const chain = (length: number, failAt?: number) =>
    workflow(
      Array.from({ length }, (_, i) =>
        i === failAt
          ? { action_id: `s${i}`, action_type: 'service_call', config: { service: 'svc', endpoint: '/broken', method: 'POST' }, depends_on: [`s${i - 1}`], retry: { max_attempts: 1 } }
          : serviceCall(`s${i}`, i === length - 1 ? { first: '{{s0.response.state}}' } : {}, i === 0 ? [] : [`s${i - 1}`]),
      ),
    );

  it('runs a chain of 150 actions, whose first machine is a child, to the end', async () => {
    requests.length = 0;
    const parsed = WorkflowDefinitionSchema.parse(chain(150));
    const compiled = compileWorkflow({ workflow_id: 'w', version: 1, ...parsed });
    expect(compiled.definition.States[compiled.definition.StartAt]?.Type).toBe('Task');
    expect(compiled.definition.StartAt).toMatch(/^part \d+$/);
    const execution = await run(chain(150), 120);
    expect(execution.status, JSON.stringify(execution.error)).toBe('completed');
    expect(requests.find((request) => request.path === '/s149')!.body).toEqual({ first: 's0' });
  }, 150_000);

  it('fails, naming the action, when an action inside a child fails', async () => {
    const execution = await run(chain(150, 100), 120);
    expect(execution.status).toBe('failed');
    expect(execution.error).toMatchObject({ action_id: 's100', error: 'ActionFailed' });
    expect(execution.actions.find((action) => action.action_id === 's101')?.status).not.toBe('completed');
  }, 150_000);
});
