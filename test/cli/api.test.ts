import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';
import { until } from '../support/poll.ts';
import { cli as runCli, json, scratchFolder, startCli, type CliResult } from './cli-process.ts';

/**
 * The CLI as a child process against a real local server (the local runtime on loopback, its emulators) and a
 * loopback service that its workflows call: each command's exit code and output, and what it did to the API.
 */

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
interface ExecutionData {
  execution_id: string;
  workflow_id: string;
  status: string;
  parameters: Record<string, unknown>;
  actions: { action_id: string; status: string }[];
}

let runtime: LocalRuntime;
let call: Call;
let service: Server;
let serviceUrl: string;
/** Calls to /hold wait here until the test lets them go: runs that stay running while they are paused, cancelled... */
const held: ServerResponse[] = [];
const files = scratchFolder();

const cli = (args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> => runCli(args, { ORCHESTRATOR_URL: runtime.url, ...env });
const releaseHeld = () => held.splice(0).forEach((response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"released":true}'));

beforeAll(async () => {
  service = createServer((request, response) => {
    const reply = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (request.url === '/hold') return void held.push(response);
    if (request.url === '/fail') return reply(500, { error: 'card declined upstream' });
    reply(200, { ok: true, path: request.url });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
  ({ runtime, call } = await startTestApi({ log: () => undefined }));
  // Registered through the CLI itself: `--url` is the service's there, the API's comes from ORCHESTRATOR_URL.
  const registered = await cli(['registry', 'register', '--name', 'payments', '--url', serviceUrl, '--version', '2.1.0', '--tag', 'billing', '-o', 'json']);
  expect(registered.code, registered.stderr).toBe(0);
  expect(json(registered)).toMatchObject({ name: 'payments', url: serviceUrl, version: '2.1.0', tags: ['billing'] });
});

afterAll(async () => {
  releaseHeld();
  await runtime.engine.idle();
  await runtime.close();
  service.closeAllConnections();
  await new Promise<void>((resolve) => service.close(() => resolve()));
  files.remove();
});

const serviceCall = (id: string, endpoint: string, extra: Record<string, unknown> = {}) => ({ action_id: id, action_type: 'service_call', config: { service: 'payments', endpoint, method: 'POST' }, ...extra });

/** The URL of a loopback port nothing listens on (it was free a moment ago). */
async function closedPortUrl(): Promise<string> {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  return url;
}

const definitionFile = (name: string, definition: Record<string, unknown>) => files.write(name, JSON.stringify(definition));

describe.concurrent('apply', () => {
  it('creates a workflow, then leaves it unchanged, then updates it: metadata in place, actions as a new version', async () => {
    const definition = {
      name: 'CLI apply',
      description: 'first',
      actions: [{ action_id: 'note', action_type: 'notification', config: { message: 'hi' } }],
    };
    const file = definitionFile('apply.json', definition);
    const created = await cli(['apply', file, '-o', 'json']);
    expect(created.code, created.stderr).toBe(0);
    const first = json<{ result: string; workflow: { workflow_id: string; version: number } }>(created);
    expect(first).toMatchObject({ result: 'created', workflow: { version: 1 } });

    const again = await cli(['apply', file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`unchanged workflow ${first.workflow.workflow_id} 'CLI apply' version 1`);

    definitionFile('apply.json', { ...definition, description: 'second' });
    expect(json(await cli(['apply', file, '-o', 'json']))).toMatchObject({ result: 'updated', workflow: { workflow_id: first.workflow.workflow_id, version: 1, description: 'second' } });

    const { description: _dropped, ...withoutDescription } = definition;
    definitionFile('apply.json', { ...withoutDescription, actions: [...definition.actions, { action_id: 'more', action_type: 'notification', depends_on: ['note'], config: { message: 'more' } }] });
    const updated = json<{ result: string; workflow: { version: number; description: string } }>(await cli(['apply', file, '-o', 'json']));
    // The file is the truth: the description it no longer gives goes back to the default.
    expect(updated).toMatchObject({ result: 'updated', workflow: { version: 2, description: '' } });
    const stored = await call<{ version: number; actions: unknown[] }>('GET', `/workflows/${first.workflow.workflow_id}`);
    expect(stored.body.data).toMatchObject({ version: 2, actions: [expect.anything(), expect.anything()] });
  });

  it('exits 2 for an invalid file without calling the API', async () => {
    const file = definitionFile('broken.json', { name: 'CLI broken', actions: [{ action_id: 'a', action_type: 'notification', depends_on: ['ghost'], config: { message: 'x' } }] });
    const applied = await cli(['apply', file]);
    expect(applied.code).toBe(2);
    expect(applied.stderr).toContain("actions[0].depends_on[0]: depends on 'ghost'");
    const listed = await call<{ workflows: { name: string }[] }>('GET', '/workflows?page_size=100');
    expect(listed.body.data.workflows.map((workflow) => workflow.name)).not.toContain('CLI broken');
  });

  it.each([
    ['references and dependencies', { name: 'P1', actions: [{ action_id: 'a', action_type: 'notification', depends_on: ['ghost'], config: { message: '{{nobody}}' } }] }],
    ['the schema', { name: '', actions: [{ action_id: 'c', action_type: 'service_call', config: { service: 's', endpoint: 'x' }, colour: 'red' }] }],
    ['a cycle and a bad default', { name: 'P3', parameters: [{ name: 'n', type: 'integer', default: 'one' }], actions: [{ action_id: 'a', action_type: 'transform', depends_on: ['b'], config: { output: 1 } }, { action_id: 'b', action_type: 'transform', depends_on: ['a'], config: { output: 2 } }] }],
    ['a forbidden key', '{"name":"P4","actions":[{"action_id":"a","action_type":"transform","config":{"output":{"__proto__":{"x":1}}}}]}'],
  ])('reaches the verdict the API reaches on %s, problem for problem', async (topic, definition) => {
    const text = typeof definition === 'string' ? definition : JSON.stringify(definition);
    const offline = await cli(['validate', files.write(`parity-${topic.replace(/\W/g, '-')}.json`, text), '-o', 'json']);
    const online = await call('POST', '/workflows', { rawBody: text, headers: { 'content-type': 'application/json' } });
    expect(online.status).toBe(400);
    expect(offline.code).toBe(2);
    expect(json(offline)).toMatchObject({ status: online.status, error_code: online.body.error_code, message: online.body.message, details: online.body.details });
  });
});

describe.concurrent('workflows', () => {
  it('lists, gets (by id or name) and deletes, printing exactly the API data with --output json', async () => {
    const { workflow } = json<{ workflow: { workflow_id: string } }>(await cli(['apply', definitionFile('listed.json', { name: 'CLI listed', tags: ['cli'], actions: [{ action_id: 'x', action_type: 'transform', config: { output: 1 } }] }), '-o', 'json']));
    const id = workflow.workflow_id;
    const listed = json<{ workflows: { workflow_id: string }[]; page: number; has_more: boolean }>(await cli(['workflows', 'list', '--page-size', '100', '-o', 'json']));
    expect(listed.workflows.map((item) => item.workflow_id)).toContain(id);
    expect(listed).toMatchObject({ page: 1, has_more: false });

    const table = await cli(['workflows', 'list', '--page-size', '100']);
    expect(table.stdout).toMatch(new RegExp(`^ID +NAME +STATUS +VERSION`, 'm'));
    expect(table.stdout).toMatch(new RegExp(`^${id} +CLI listed +active +1 `, 'm'));

    const byName = json(await cli(['workflows', 'get', 'CLI listed', '-o', 'json']));
    expect(byName).toEqual((await call('GET', `/workflows/${id}`)).body.data);

    const deleted = await cli(['workflows', 'delete', id, '-o', 'json']);
    expect(json(deleted)).toEqual({ workflow_id: id, deleted: true });
    expect((await call('GET', `/workflows/${id}`)).status).toBe(404);
  });

  it('pages with --page-size and --next-token', async () => {
    for (const name of ['CLI page a', 'CLI page b', 'CLI page c']) await cli(['apply', definitionFile('page.json', { name, actions: [{ action_id: 'x', action_type: 'transform', config: { output: 1 } }] })]);
    const first = json<{ workflows: unknown[]; next_token: string | null; has_more: boolean }>(await cli(['workflows', 'list', '--page-size', '2', '-o', 'json']));
    expect(first.workflows).toHaveLength(2);
    expect(first.has_more).toBe(true);
    const second = json<{ workflows: unknown[]; page: number }>(await cli(['workflows', 'list', '--next-token', first.next_token!, '-o', 'json']));
    expect(second.page).toBe(2);
    expect(second.workflows).not.toContainEqual(first.workflows[0]);
  });
});

describe.concurrent('run', () => {
  const typed = {
    name: 'CLI typed',
    parameters: [
      { name: 'who', type: 'string', required: true },
      { name: 'count', type: 'integer', default: 1 },
      { name: 'loud', type: 'boolean' },
      { name: 'extra', type: 'object' },
    ],
    actions: [{ action_id: 'say', action_type: 'transform', config: { output: { who: '{{who}}' } } }],
  };

  // Applied once: tests that applied it at the same time would each create a workflow of that name.
  beforeAll(async () => {
    expect((await cli(['apply', definitionFile('typed.json', typed)])).code).toBe(0);
  });

  it('reads each --param by its declared type and prints the execution id', async () => {
    const started = await cli(['run', 'CLI typed', '--param', 'who=7', '-p', 'count=3', '-p', 'loud=true', '-p', 'extra={"k":[1]}']);
    expect(started.code, started.stderr).toBe(0);
    const executionId = started.stdout.trim();
    expect(executionId).toMatch(/^[A-Za-z0-9_-]+$/);
    const run = await call<ExecutionData>('GET', `/workflows/executions/${executionId}`);
    expect(run.body.data.parameters).toEqual({ who: '7', count: 3, loud: true, extra: { k: [1] } });
  });

  it('exits 2 naming every bad --param before starting anything', async () => {
    // A workflow of its own: the other tests run CLI typed meanwhile.
    const { workflow } = json<{ workflow: { workflow_id: string } }>(await cli(['apply', definitionFile('typed-refused.json', { ...typed, name: 'CLI typed refused' }), '-o', 'json']));
    const refused = await cli(['run', workflow.workflow_id, '-p', 'count=three', '-p', 'loud=yes', '-p', 'nope=1', '-p', 'extra=[1]']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('parameters.count: expected an integer, got "three"');
    expect(refused.stderr).toContain('parameters.loud: expected true or false');
    expect(refused.stderr).toContain("parameters.nope: 'nope' is not a parameter of this workflow");
    expect(refused.stderr).toContain('parameters.extra: expected a JSON object');
    expect(refused.stderr).toContain("parameters.who: 'who' is required");
    expect((await call<{ count: number }>('GET', `/workflows/${workflow.workflow_id}/executions`)).body.data.count).toBe(0);
  });

  it('--watch follows a passing run to its end: a line per action, exit 0, every action completed', async () => {
    const file = definitionFile('passing.json', {
      name: 'CLI passing',
      actions: [
        serviceCall('charge', '/ok'),
        { action_id: 'receipt', action_type: 'notification', depends_on: ['charge'], config: { message: 'charged {{charge.status_code}}' } },
        { action_id: 'summary', action_type: 'transform', depends_on: ['receipt'], config: { output: { done: true } } },
      ],
    });
    const watched = await cli(['run', file, '--watch']);
    expect(watched.code, watched.stderr).toBe(0);
    // stdout is a pipe here: plain lines, no cursor movement.
    expect(watched.stdout).not.toContain('\x1b[');
    for (const action of ['charge', 'receipt', 'summary']) expect(watched.stdout).toMatch(new RegExp(`^${action}: completed`, 'm'));
    expect(watched.stdout).toMatch(/^run completed +\[█+\] 3\/3 100%/m);
    expect(watched.stderr).toMatch(/created workflow .* 'CLI passing' version 1/);
    const executionId = /^run (\S+): workflow/m.exec(watched.stdout)?.[1];
    const run = json<ExecutionData>(await cli(['executions', 'get', executionId!, '-o', 'json']));
    expect(run.status).toBe('completed');
    expect(run.actions.map((action) => action.status)).toEqual(['completed', 'completed', 'completed']);
  });

  it('--watch exits 1 for a failing run, naming the failing action and its cause', async () => {
    const file = definitionFile('failing.json', {
      name: 'CLI failing',
      actions: [serviceCall('reserve', '/ok'), serviceCall('charge', '/fail', { depends_on: ['reserve'], retry: { max_attempts: 1 } }), { action_id: 'ship', action_type: 'notification', depends_on: ['charge'], config: { message: 'never' } }],
    });
    const watched = await cli(['run', file, '--watch']);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toMatch(/^reserve: completed/m);
    expect(watched.stdout).toMatch(/^charge: failed/m);
    expect(watched.stderr).toMatch(/error: run \S+ failed at action 'charge': \w+Error: payments answered 500/);
  });

  it('--watch with --output json prints the final run as the API gives it', async () => {
    const watched = await cli(['run', 'CLI typed', '-p', 'who=json', '--watch', '-o', 'json']);
    expect(watched.code, watched.stderr).toBe(0);
    const run = json<ExecutionData>(watched);
    expect(run).toMatchObject({ status: 'completed', parameters: { who: 'json' }, actions: [{ action_id: 'say', status: 'completed' }] });
    expect(run).toEqual((await call('GET', `/workflows/executions/${run.execution_id}`)).body.data);
  });
});

describe.concurrent('executions', () => {
  it('pauses, resumes, cancels and retries a run, and lists a workflow’s runs', async () => {
    const file = definitionFile('held.json', { name: 'CLI held', actions: [serviceCall('wait_for_bank', '/hold'), { action_id: 'after', action_type: 'transform', depends_on: ['wait_for_bank'], config: { output: 1 } }] });
    const started = await cli(['run', file]);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    await until(() => held.length > 0, 'the run to call /hold');

    const status = async (args: string[]) => {
      const result = await cli([...args, id, '-o', 'json']);
      expect(result.code, result.stderr).toBe(0);
      return json<ExecutionData>(result).status;
    };
    expect(await status(['executions', 'pause'])).toBe('paused');
    expect(await status(['executions', 'resume'])).toBe('running');
    expect(await status(['executions', 'cancel'])).toBe('cancelled');
    const table = await cli(['executions', 'get', id]);
    expect(table.stdout).toMatch(/^status: +cancelled$/m);
    expect(table.stdout).toMatch(/^ACTION +TYPE +STATUS/m);

    const listed = json<{ executions: { execution_id: string }[] }>(await cli(['executions', 'list', '--workflow', 'CLI held', '-o', 'json']));
    expect(listed.executions.map((run) => run.execution_id)).toEqual([id]);
    const cancelledOnes = json<{ executions: { execution_id: string }[] }>(await cli(['executions', 'list', '--status', 'cancelled', '-o', 'json']));
    expect(cancelledOnes.executions.map((run) => run.execution_id)).toContain(id);

    releaseHeld();
    const retried = await cli(['executions', 'retry', id, '-o', 'json']);
    expect(retried.code, retried.stderr).toBe(0);
    expect(json(retried)).toMatchObject({ execution_id: id, redrive_count: 1 });
    await until(async () => held.length > 0 || (await call<ExecutionData>('GET', `/workflows/executions/${id}`)).body.data.status !== 'running', 'the retried run to call again');
    releaseHeld();
    await until(async () => (await call<ExecutionData>('GET', `/workflows/executions/${id}`)).body.data.status === 'completed', 'the retried run to complete');

    const rerun = await cli(['executions', 'retry', id, '--from-action', 'after', '-o', 'json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(json(rerun)).toMatchObject({ rerun_of: { execution_id: id, from_action: 'after' } });
  });
});

describe.concurrent('registry and events', () => {
  it('lists the registered services', async () => {
    const listed = json<{ services: { name: string; instances: { url: string }[] }[] }>(await cli(['registry', 'list', '-o', 'json']));
    expect(listed.services.find((item) => item.name === 'payments')?.instances.map((instance) => instance.url)).toEqual([serviceUrl]);
    const table = await cli(['registry', 'list', '--tag', 'billing']);
    expect(table.stdout).toMatch(/^payments +\S+ +http:\/\/127\.0\.0\.1:\d+ +2\.1\.0 /m);
  });

  it('events tail prints one JSON line per event until Ctrl-C, then exits 0', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const { workflow } = json<{ workflow: { workflow_id: string } }>(await cli(['apply', definitionFile('tailed.json', { name: 'CLI tailed', actions: [{ action_id: 'x', action_type: 'transform', config: { output: 1 } }] }), '-o', 'json']));
    const tail = startCli(['events', 'tail', '--type', 'orchestrator.workflow.created', '--since', since, '-o', 'json'], { ORCHESTRATOR_URL: runtime.url });
    try {
      await until(() => tail.output().includes(workflow.workflow_id), 'the tail to print the created event', 15_000);
      const lines = tail.output().trim().split('\n').map((line) => JSON.parse(line) as { type: string; data: { workflow_id: string } });
      expect(lines.every((event) => event.type === 'orchestrator.workflow.created')).toBe(true);
      expect(lines.map((event) => event.data.workflow_id)).toContain(workflow.workflow_id);
      tail.child.kill('SIGINT');
      expect(await tail.exited).toBe(0);
    } finally {
      tail.child.kill('SIGKILL');
    }
  });
});

describe.concurrent('errors', () => {
  it('exits 1 with the API error code, status and each field detail', async () => {
    const result = await cli(['executions', 'get', 'no-such-run']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*\(NOT_FOUND, HTTP 404, request \S+\)$/m);
    expect(result.stderr).toMatch(/^ {2}execution_id: /m);
  });

  it('sends --api-key and --token, and never prints them', async () => {
    const created = await call<{ api_key: string }>('POST', '/auth/api-keys', { body: { name: 'cli-test', role: 'viewer' } });
    expect(created.status).toBe(201);
    expect((await cli(['workflows', 'list', '--api-key', created.body.data.api_key])).code).toBe(0);
    const refused = await cli(['workflows', 'list'], { ORCHESTRATOR_API_KEY: 'ork_unknown_0123456789abcdef' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('UNAUTHENTICATED');
    expect(refused.stderr).not.toContain('0123456789abcdef');
    const badToken = await cli(['workflows', 'list', '--token', 'not-a-jwt-secret']);
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).not.toContain('not-a-jwt-secret');
  });

  it('says which URL it could not reach', async () => {
    const url = await closedPortUrl();
    const result = await runCli(['workflows', 'list'], { ORCHESTRATOR_URL: url });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`could not reach the orchestrator at ${url}`);
  });

  it('takes --url over ORCHESTRATOR_URL, and the flag closest to the command over one before it', async () => {
    const closed = await closedPortUrl();
    const flagWins = await cli(['workflows', 'list', '--url', closed]);
    expect(flagWins.code).toBe(1);
    expect(flagWins.stderr).toContain(closed);
    const closestWins = await runCli(['--url', closed, '-o', 'json', 'workflows', 'list', '--url', runtime.url], { ORCHESTRATOR_URL: closed });
    expect(closestWins.code, closestWins.stderr).toBe(0);
    expect(json(closestWins)).toHaveProperty('workflows');
  });
});
