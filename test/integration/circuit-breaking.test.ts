import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configureSharedLog } from '../../functions/observability/logger.ts';
import { DynamoServiceRegistry } from '../../adapters/aws/dynamo/dynamo-service-registry.ts';
import { ActionErrorName } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';
import type { CircuitState, HealthStatus, InstanceHealth } from '../../core/registry/model.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { createActionRunner, type ActionRunner, type ActionRunnerDeps } from '../../functions/workers/action-runner.ts';
import type { ServiceCallPayload } from '../../functions/workers/service-call.ts';
import { countingDocumentClient } from '../support/dynamo.ts';
import { testHttp } from '../support/outbound.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';
import { failure } from '../support/service-call-failure.ts';

/**
 * Circuit breaking and load balancing of service calls: the production action runner, the DynamoDB registry on
 * the emulator (the same table the local runtime's HTTP API reads), and real HTTP services on loopback.
 */

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
type ServiceReply = { name: string; status: string; instances: { instance_id: string; circuit: CircuitState }[] };

/** A service instance on loopback whose answers the test sets; it counts the requests that reach it. */
interface FakeInstance {
  readonly url: string;
  hits: number;
  status: number;
  delayMs: number;
}

const fakes: { instance: FakeInstance; server: Server }[] = [];

async function startInstance(status = 200): Promise<FakeInstance> {
  const instance: FakeInstance = { url: '', hits: 0, status, delayMs: 0 };
  const server = createServer((request, response) => {
    instance.hits++;
    request.resume();
    const answer = () => {
      response.writeHead(instance.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: instance.status }));
    };
    if (instance.delayMs > 0) setTimeout(answer, instance.delayMs).unref();
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(instance, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  fakes.push({ instance, server });
  return instance;
}

/** A clock the tests move: circuit cool-downs and the runners' registry caches are measured on it. */
const START = Date.parse('2026-11-01T00:00:00.000Z');
let nowMs = START;
const clock: Clock = { now: () => new Date(nowMs).toISOString() };
const advance = (seconds: number) => {
  nowMs += seconds * 1000;
};

let runtime: LocalRuntime;
let call: Call;
let registry: DynamoServiceRegistry;
/** DynamoDB commands the runners' registry sent. */
let commands: string[] = [];

beforeAll(async () => {
  const registryTableName = `circuits-${randomUUID()}`;
  ({ runtime, call } = await startTestApi({ clock, registryTableName }));
  const counting = countingDocumentClient();
  commands = counting.commands;
  registry = new DynamoServiceRegistry(counting.client, registryTableName);
});
// Each test starts an hour later: no failure window, cool-down or cache carries over into the next.
afterEach(() => advance(3600));
afterAll(async () => {
  await runtime.engine.idle();
  await runtime.close();
  for (const { server } of fakes) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A runner as one Lambda has it: its own registry cache, the shared table. */
function runner(deps: Partial<ActionRunnerDeps> = {}): ActionRunner {
  return createActionRunner({ registry, env: {}, http: testHttp(), clock, ...deps });
}

function payload(service: string): ServiceCallPayload {
  return { action_id: 'call', execution_id: 'exec-1', workflow_id: 'wf-1', workflow_version: 1, service, endpoint: '/work', method: 'POST', parameters: { a: 1 }, timeout_seconds: 5 };
}

async function register(name: string, instance: FakeInstance, instanceId?: string): Promise<void> {
  const reply = await call('POST', '/registry/register', { body: { name, url: instance.url, ...(instanceId === undefined ? {} : { instance_id: instanceId }) } });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
}

async function serviceView(name: string): Promise<ServiceReply> {
  const reply = await call<ServiceReply>('GET', `/registry/${name}`);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.data;
}

async function failTimes(run: ActionRunner, service: string, times: number): Promise<void> {
  for (let attempt = 0; attempt < times; attempt++) expect((await failure(run(payload(service)))).error.name).toBe(ActionErrorName.ServiceUnavailable);
}

const health = (status: HealthStatus): InstanceHealth => ({ status, checked_at: clock.now(), latency_ms: 3, history: [], consecutive_failures: status === 'unhealthy' ? 3 : 0 });

describe('circuit breaking', () => {
  it('opens after five failures within the window: GET /registry shows it, and calls fail fast without reaching the service', async () => {
    const instance = await startInstance(503);
    await register('flaky', instance);
    const run = runner();

    await failTimes(run, 'flaky', 4);
    expect((await serviceView('flaky')).instances[0]?.circuit).toMatchObject({ state: 'closed', failures: expect.arrayContaining([clock.now()]), revision: 4 });
    advance(10);
    await failTimes(run, 'flaky', 1);
    const view = await serviceView('flaky');
    expect(view.instances[0]?.circuit).toMatchObject({ state: 'open', opened_at: clock.now(), revision: 5 });
    expect(view.status).toBe('unhealthy');
    expect(instance.hits).toBe(5);

    advance(12);
    const { error, details } = await failure(run(payload('flaky')));
    expect(error.name).toBe(ActionErrorName.CircuitOpen);
    expect(error.retryable).toBe(true);
    expect(details.message).toBe("no instance of service 'flaky' can take a call: 1 circuit open (retry in 18 s)");
    expect(details.retry_after).toBe('18');
    expect(details.request).toMatchObject({ service: 'flaky', url: null });
    // Another Lambda, with a cache of its own, sees the same circuit.
    expect((await failure(runner()(payload('flaky')))).error.name).toBe(ActionErrorName.CircuitOpen);
    expect(instance.hits).toBe(5);

    const listed = await call<{ services: ServiceReply[] }>('GET', '/registry?name=flaky');
    expect(listed.body.data.services[0]?.instances[0]?.circuit.state).toBe('open');
  });

  it('does not count answers that are not failures (4xx, 429) and forgets failures after a success', async () => {
    const instance = await startInstance(404);
    await register('picky', instance);
    const run = runner();
    for (let attempt = 0; attempt < 6; attempt++) expect((await failure(run(payload('picky')))).error.name).toBe(ActionErrorName.ServiceRejected);
    instance.status = 429;
    expect((await failure(run(payload('picky')))).error.name).toBe(ActionErrorName.ServiceThrottled);
    expect((await serviceView('picky')).instances[0]?.circuit).toEqual({ state: 'closed', failures: [], revision: 0 });

    instance.status = 500;
    await failTimes(run, 'picky', 4);
    instance.status = 200;
    await run(payload('picky'));
    instance.status = 500;
    await failTimes(run, 'picky', 4);
    // Four failures (revisions 1-4), the success clears them (5), four more (6-9): never five in a row.
    const circuit = (await serviceView('picky')).instances[0]?.circuit;
    expect(circuit).toMatchObject({ state: 'closed', revision: 9 });
    expect(circuit?.failures).toHaveLength(4);
    expect(instance.hits).toBe(7 + 4 + 1 + 4);
  });

  it('after the cool-down lets one trial through, and closes the circuit when it succeeds', async () => {
    const instance = await startInstance(503);
    await register('recovering', instance);
    const run = runner();
    await failTimes(run, 'recovering', 5);
    advance(29);
    expect((await failure(run(payload('recovering')))).details.retry_after).toBe('1');

    advance(1);
    instance.status = 200;
    expect(await run(payload('recovering'))).toMatchObject({ status_code: 200 });
    expect((await serviceView('recovering')).instances[0]?.circuit).toEqual({ state: 'closed', failures: [], revision: 7 });
    await run(payload('recovering'));
    expect(instance.hits).toBe(7);
  });

  it('opens the circuit again for another cool-down when the trial fails', async () => {
    const instance = await startInstance(503);
    await register('still_down', instance);
    const run = runner();
    await failTimes(run, 'still_down', 5);
    advance(30);
    await failTimes(run, 'still_down', 1);
    expect((await serviceView('still_down')).instances[0]?.circuit).toMatchObject({ state: 'open', opened_at: clock.now(), revision: 7 });
    const { error, details } = await failure(run(payload('still_down')));
    expect(error.name).toBe(ActionErrorName.CircuitOpen);
    expect(details.retry_after).toBe('30');
    expect(instance.hits).toBe(6);
  });

  it('lets a single trial through when callers race for it, in one runner and across runners', async () => {
    const instance = await startInstance(503);
    await register('contended', instance);
    await failTimes(runner(), 'contended', 5);
    advance(30);
    instance.status = 200;
    instance.delayMs = 150;

    const lambdaA = runner();
    const lambdaB = runner();
    const outcomes = await Promise.allSettled([lambdaA, lambdaA, lambdaB, lambdaB, runner()].map((run) => run(payload('contended'))));
    expect(instance.hits).toBe(6);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        expect((outcome.reason as Error).name).toBe(ActionErrorName.CircuitOpen);
        expect(JSON.parse((outcome.reason as Error).message)).toMatchObject({ message: expect.stringMatching(/trial call in progress/) });
      }
    }
    expect((await serviceView('contended')).instances[0]?.circuit.state).toBe('closed');
    advance(2);
    await Promise.all([lambdaA(payload('contended')), lambdaB(payload('contended'))]);
    expect(instance.hits).toBe(8);
  });

  it('lets a new trial through when the one in flight was cancelled, without waiting for the trial timeout', async () => {
    const instance = await startInstance(503);
    await register('cancelled_trial', instance);
    const run = runner();
    await failTimes(run, 'cancelled_trial', 5);
    advance(30);
    instance.delayMs = 2000;
    const controller = new AbortController();
    const cancelled = run(payload('cancelled_trial'), { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort(new Error('execution stopped'));
    await expect(cancelled).rejects.toThrow('execution stopped');
    expect((await serviceView('cancelled_trial')).instances[0]?.circuit).toMatchObject({ state: 'half_open', revision: 7 });
    instance.delayMs = 0;
    instance.status = 200;
    await runner()(payload('cancelled_trial'));
    expect((await serviceView('cancelled_trial')).instances[0]?.circuit.state).toBe('closed');
  });

  it('is shared by runners with caches of their own (two Lambdas) through the table', async () => {
    const instance = await startInstance(502);
    await register('shared', instance);
    const lambdaA = runner();
    const lambdaB = runner();
    await failTimes(lambdaA, 'shared', 3);
    advance(1);
    await failTimes(lambdaB, 'shared', 2);
    expect((await serviceView('shared')).instances[0]?.circuit).toMatchObject({ state: 'open', revision: 5 });
    // A's cache is older than its TTL by now: it reads the table again and fails fast.
    advance(2);
    expect((await failure(lambdaA(payload('shared')))).error.name).toBe(ActionErrorName.CircuitOpen);
    expect(instance.hits).toBe(5);
  });

  it('counts a failure seen through a stale cache on the stored circuit, not on the stale copy', async () => {
    const instance = await startInstance(500);
    await register('stale', instance);
    const lambdaA = runner();
    const lambdaB = runner();
    await failTimes(lambdaA, 'stale', 2);
    await failTimes(lambdaB, 'stale', 2);
    // A still trusts its copy (two failures, revision 2): its write loses, it reads again and counts the fifth.
    await failTimes(lambdaA, 'stale', 1);
    expect((await serviceView('stale')).instances[0]?.circuit).toMatchObject({ state: 'open', revision: 5 });
    expect(instance.hits).toBe(5);
  });

  it('never fails a call because its outcome could not be recorded', async () => {
    const instance = await startInstance(503);
    await register('unrecorded', instance);
    const lines: string[] = [];
    configureSharedLog({ destination: (line) => lines.push(line) });
    try {
      const run = runner({ registry: { instancesOf: (name) => registry.instancesOf(name), updateCircuit: () => Promise.reject(new Error('table throttled')) } });
      expect((await failure(run(payload('unrecorded')))).error.name).toBe(ActionErrorName.ServiceUnavailable);
      instance.status = 200;
      expect(await run(payload('unrecorded'))).toMatchObject({ status_code: 200 });
      expect(lines.join('\n')).toMatch(/could not record a call outcome in a circuit.*table throttled/);
    } finally {
      configureSharedLog({});
    }
  });

  it('reads the registry at most once per call, and not at all while its cache is fresh', async () => {
    const instance = await startInstance(200);
    await register('cached', instance);
    const run = runner();
    commands.length = 0;
    await run(payload('cached'));
    expect(commands).toEqual(['QueryCommand']);
    commands.length = 0;
    for (let index = 0; index < 20; index++) await run(payload('cached'));
    expect(commands).toEqual([]);
    advance(2);
    await run(payload('cached'));
    expect(commands).toEqual(['QueryCommand']);

    commands.length = 0;
    const cold = runner({ registryCacheTtlMs: 0 });
    for (let index = 0; index < 3; index++) await cold(payload('cached'));
    expect(commands).toEqual(['QueryCommand', 'QueryCommand', 'QueryCommand']);
    expect(instance.hits).toBe(25);
  });
});

describe('load balancing', () => {
  it('spreads calls over both instances of a service, and sends none to one marked unhealthy', async () => {
    const [first, second] = [await startInstance(200), await startInstance(200)];
    await register('balanced', first!, 'first');
    await register('balanced', second!, 'second');
    const run = runner();
    for (let index = 0; index < 10; index++) await run(payload('balanced'));
    expect([first!.hits, second!.hits]).toEqual([5, 5]);

    expect(await registry.recordHealth('balanced', 'first', health('unhealthy'))).toBe(true);
    expect(await registry.recordHealth('balanced', 'second', health('healthy'))).toBe(true);
    advance(2);
    for (let index = 0; index < 10; index++) await run(payload('balanced'));
    expect([first!.hits, second!.hits]).toEqual([5, 15]);
  });

  it('prefers healthy instances to unchecked ones and skips those whose circuit is open', async () => {
    const [unchecked, healthy, broken] = [await startInstance(200), await startInstance(200), await startInstance(503)];
    await register('mixed', unchecked!, 'unchecked');
    await register('mixed', healthy!, 'healthy');
    await register('mixed', broken!, 'broken');
    await registry.recordHealth('mixed', 'healthy', health('healthy'));
    await registry.recordHealth('mixed', 'broken', health('healthy'));
    const run = runner();
    // Round robin over the two healthy instances until the broken one's circuit opens (five failures).
    for (let index = 0; index < 12; index++) await run(payload('mixed')).catch(() => undefined);
    expect(broken!.hits).toBe(5);
    expect(healthy!.hits).toBe(7);
    for (let index = 0; index < 5; index++) await run(payload('mixed'));
    expect([unchecked!.hits, healthy!.hits, broken!.hits]).toEqual([0, 12, 5]);
  });

  it('fails with a clear, retryable error when no instance is available', async () => {
    const [first, second] = [await startInstance(200), await startInstance(200)];
    await register('down', first!, 'first');
    await register('down', second!, 'second');
    await registry.recordHealth('down', 'first', health('unhealthy'));
    await registry.recordHealth('down', 'second', health('unhealthy'));
    const { error, details } = await failure(runner()(payload('down')));
    expect(error.name).toBe(ActionErrorName.ServiceUnavailable);
    expect(error.retryable).toBe(true);
    expect(details.message).toBe("no instance of service 'down' can take a call: 2 unhealthy");
    expect(first!.hits + second!.hits).toBe(0);
  });
});

describe('a workflow calling a service whose circuit opens (local runtime, over HTTP)', () => {
  interface ExecutionReply {
    execution_id: string;
    status: string;
    error?: { action_id?: string; error: string; cause: string };
    actions: { action_id: string; status: string; attempts: number; error?: { error: string; cause: string } }[];
  }

  async function execute(workflowId: string): Promise<ExecutionReply> {
    const started = await call<ExecutionReply>('POST', `/workflows/${workflowId}/execute`, { body: {} });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    for (let poll = 0; poll < 400; poll++) {
      const reply = await call<ExecutionReply>('GET', `/workflows/executions/${started.body.data.execution_id}`);
      if (!['pending', 'running'].includes(reply.body.data.status)) return reply.body.data;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the execution did not end');
  }

  it('fails after its retries with CircuitOpenError while the circuit is open, and completes once the cool-down let a good trial through', async () => {
    const instance = await startInstance(503);
    await register('e2e_service', instance);
    const created = await call('POST', '/workflows', {
      body: { name: 'circuit', actions: [{ action_id: 'call_it', action_type: 'service_call', config: { service: 'e2e_service', endpoint: '/work', method: 'POST' }, retry: { max_attempts: 5, interval_seconds: 1 } }] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const workflowId = created.body.data.workflow_id as string;

    // Five attempts, five failures: the circuit opens on the last one.
    const first = await execute(workflowId);
    expect(first).toMatchObject({ status: 'failed', actions: [{ action_id: 'call_it', status: 'failed', attempts: 5, error: { error: ActionErrorName.ServiceUnavailable } }] });
    expect(instance.hits).toBe(5);
    expect((await serviceView('e2e_service')).instances[0]?.circuit.state).toBe('open');

    // Every retry fails fast: the service sees none of them.
    const second = await execute(workflowId);
    expect(second.status).toBe('failed');
    expect(second.error).toMatchObject({ action_id: 'call_it', cause: expect.stringMatching(/CircuitOpenError/) });
    expect(second.actions[0]).toMatchObject({ status: 'failed', attempts: 5, error: { error: ActionErrorName.CircuitOpen, cause: expect.stringMatching(/e2e_service.*retry in \d+ s/) } });
    expect(instance.hits).toBe(5);

    advance(30);
    instance.status = 200;
    const third = await execute(workflowId);
    expect(third).toMatchObject({ status: 'completed', actions: [{ status: 'completed', attempts: 1 }] });
    expect((await serviceView('e2e_service')).instances[0]?.circuit).toMatchObject({ state: 'closed', failures: [] });
  });
});
