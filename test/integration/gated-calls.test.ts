import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDependencyGates } from '../../adapters/aws/dynamo/dynamo-dependency-gates.ts';
import { EXECUTION_TABLE } from '../../adapters/aws/dynamo/execution-table.ts';
import { LambdaAsyncInvoker } from '../../adapters/aws/lambda/async-invoker.ts';
import { StepFunctionsGateReleases, StepFunctionsTaskAnswers } from '../../adapters/aws/stepfunctions/task-tokens.ts';
import type { GateRequestDeps } from '../../core/execution/gate-requests.ts';
import { systemClock } from '../../core/system.ts';
import { createActionRunner } from '../../functions/workers/action-runner.ts';
import { withGateArrivals } from '../../functions/workers/gate-arrivals.ts';
import { createGatedCalls, releasedCallPayload, routeReleases } from '../../functions/workers/gated-calls.ts';
import { freshTable } from '../support/dynamo.ts';
import { fixedRegistry } from '../support/fixed-registry.ts';
import { serviceCallPayload, testHttp } from '../support/outbound.ts';

/**
 * Gated calls in AWS (ADR 0016): a service call that waits at its own dependency gate, with the gates on
 * DynamoDB (the emulator), the real action runner calling a loopback service, and Step Functions' task tokens
 * and Lambda's asynchronous invocation mocked (no emulator here). Whichever comes last, the producer's report
 * or the waiter's wait, the call is made exactly once with the values it reads from the release, and its state's
 * token is answered with its result or its error.
 */

const sfn = mockClient(SFNClient);
const lambda = mockClient(LambdaClient);
let services: Server;
let baseUrl = '';
const received: { path: string; body: string }[] = [];

beforeAll(async () => {
  services = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ path, body });
      response.setHeader('content-type', 'application/json');
      if (path === '/down') {
        response.statusCode = 503;
        response.end('{"error":"down"}');
      } else response.end(JSON.stringify({ path, image: `${path.slice(1)}:1` }));
    });
  });
  await new Promise<void>((resolve) => services.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(services.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => services.close(() => resolve())));
beforeEach(() => {
  sfn.reset();
  lambda.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  received.length = 0;
});

const succeeded = () => sfn.commandCalls(SendTaskSuccessCommand).map((call) => ({ token: call.args[0].input.taskToken, output: JSON.parse(call.args[0].input.output ?? 'null') as unknown }));
const failed = () => sfn.commandCalls(SendTaskFailureCommand).map((call) => call.args[0].input);

/** The runner as its Lambda entry composes it, with a dispatch that records what it was handed. */
async function gatedRunner() {
  const table = await freshTable(EXECUTION_TABLE, 'gated');
  const client = new SFNClient({ region: 'us-east-1' });
  const dispatched: Parameters<typeof releasedCallPayload>[] = [];
  const dependencyGates = new DynamoDependencyGates(table.client, table.tableName, systemClock);
  const gates: GateRequestDeps = { gates: dependencyGates, release: routeReleases(new StepFunctionsGateReleases(client), { dispatch: async (...handed) => void dispatched.push(handed) }) };
  const run = withGateArrivals(createActionRunner({ registry: fixedRegistry({ svc: baseUrl }), env: {}, http: testHttp() }), gates);
  return { run, dispatched, gates, gatedCalls: createGatedCalls(run, { gates: dependencyGates, answers: new StepFunctionsTaskAnswers(client) }) };
}

/** The compiled gated call of `deploy` (it waits for build, and sends build's image, read from the release). */
function deployCall(run: string, token: string, endpoint = '/deploy') {
  return {
    ...serviceCallPayload(endpoint, { action_id: 'deploy', workflow_id: 'wf' }, { execution_id: run, method: 'POST' }),
    parameters: { image: { template: '{{build.response.image}}', values: {} }, note: { template: 'run {{run_id}} of {{build.response.path}}', values: { r0: 'r-1' } }, fixed: 1 },
    gate_wait: { producers: ['build'], task_token: token, deferred: [['parameters', 'image'], ['parameters', 'note']] },
  };
}
const buildCall = (run: string) => serviceCallPayload('/build', { action_id: 'build', workflow_id: 'wf' }, { execution_id: run, gate_waiters: { deploy: ['build'] } });

describe('a gated call on DynamoDB gates', () => {
  it('whose producer finished first is made at once by its own invocation, with the values it reads from the release', async () => {
    const { run, gatedCalls, dispatched } = await gatedRunner();
    const execution = randomUUID();
    await run(buildCall(execution));

    expect(await gatedCalls.wait(deployCall(execution, 'token-1'))).toEqual({ waiting: false });
    expect(received.map((request) => request.path)).toEqual(['/build', '/deploy']);
    expect(JSON.parse(received[1]!.body)).toEqual({ image: 'build:1', note: 'run r-1 of /build', fixed: 1 });
    expect(succeeded()).toEqual([{ token: 'token-1', output: { StatusCode: 200, Payload: expect.objectContaining({ status_code: 200, response: { path: '/deploy', image: 'deploy:1' } }) } }]);
    expect(dispatched).toEqual([]);
  });

  it('that waits first is handed over by the report that releases it, which does not wait for it, and is then made once', async () => {
    const { run, gatedCalls, dispatched } = await gatedRunner();
    const execution = randomUUID();
    expect(await gatedCalls.wait(deployCall(execution, 'token-1'))).toEqual({ waiting: true });
    expect(received).toEqual([]);

    const build = await run(buildCall(execution));
    expect(build.status_code).toBe(200);
    // The producer's call returned with the waiter's call handed over, not made.
    expect(received.map((request) => request.path)).toEqual(['/build']);
    expect(dispatched).toHaveLength(1);
    const [token, call, outputs] = dispatched[0]!;
    expect(token).toBe('token-1');
    expect(outputs).toEqual({ build: { outcome: 'completed', status_code: 200, response: { path: '/build', image: 'build:1' } } });
    expect(succeeded()).toEqual([]);

    // What Lambda's asynchronous invocation delivers to the runner.
    expect(await gatedCalls.made(JSON.parse(JSON.stringify(releasedCallPayload(token, call, outputs))))).toEqual({ answered: true });
    expect(received.map((request) => request.path)).toEqual(['/build', '/deploy']);
    expect(JSON.parse(received[1]!.body)).toEqual({ image: 'build:1', note: 'run r-1 of /build', fixed: 1 });
    expect(succeeded()).toEqual([{ token: 'token-1', output: expect.objectContaining({ StatusCode: 200 }) }]);

    // A redelivered report releases nothing more.
    await run(buildCall(execution));
    expect(dispatched).toHaveLength(1);
  });

  it("answers the token with the call's error, in Lambda's shape, for the state's Retry and Catch", async () => {
    const { run, gatedCalls } = await gatedRunner();
    const execution = randomUUID();
    await run(buildCall(execution));
    await gatedCalls.wait(deployCall(execution, 'token-1', '/down'));
    const [failure] = failed();
    expect(failure).toMatchObject({ taskToken: 'token-1', error: 'ServiceUnavailableError' });
    expect(JSON.parse(failure!.cause!)).toEqual({ errorType: 'ServiceUnavailableError', errorMessage: expect.stringContaining('503') });
    expect(succeeded()).toEqual([]);
  });

  it('fails the call without making it when a value it reads is not in the release', async () => {
    const { gates, gatedCalls } = await gatedRunner();
    const execution = randomUUID();
    await gates.gates.arrive(execution, 'deploy', ['build'], 'build', { outcome: 'skipped', status_code: null, response: null });
    await gatedCalls.wait(deployCall(execution, 'token-1'));
    expect(received).toEqual([]);
    expect(failed()).toEqual([expect.objectContaining({ taskToken: 'token-1', error: 'TemplateValueError', cause: expect.stringContaining('the output of build has no response.image') })]);
  });

  it('is made again at once when its state is retried with a new token after the gate was released', async () => {
    const { run, gatedCalls } = await gatedRunner();
    const execution = randomUUID();
    await run(buildCall(execution));
    await gatedCalls.wait(deployCall(execution, 'token-1', '/down'));
    await gatedCalls.wait(deployCall(execution, 'token-2'));
    expect(received.map((request) => request.path)).toEqual(['/build', '/down', '/deploy']);
    expect(succeeded().map((answer) => answer.token)).toEqual(['token-2']);
  });

  it('refuses a malformed call before it waits, and a gate payload that names no producer', async () => {
    const { gates, gatedCalls } = await gatedRunner();
    const execution = randomUUID();
    const { method: _method, ...noMethod } = { ...serviceCallPayload('/deploy', { action_id: 'deploy', workflow_id: 'wf' }, { execution_id: execution }), gate_wait: { producers: ['build'], task_token: 'token-1' } };
    await expect(gatedCalls.wait(noMethod)).rejects.toThrow(/method/);
    // It did not wait: the producer's report releases nothing.
    expect(await gates.gates.arrive(execution, 'deploy', ['build'], 'build', null)).toBeUndefined();
    await expect(gatedCalls.wait({ ...deployCall(execution, 'token-1'), gate_wait: { producers: [], task_token: 'token-1' } })).rejects.toThrow('gate_wait.producers');
  });
});

describe('the adapters a gated call is answered and handed over with', () => {
  it('StepFunctionsTaskAnswers sends the result as JSON, the error within Step Functions limits, and takes a finished task as answered', async () => {
    const answers = new StepFunctionsTaskAnswers(new SFNClient({ region: 'us-east-1' }));
    await answers.succeed('token-1', { StatusCode: 200, Payload: { status_code: 201 } });
    await answers.fail('token-2', 'E'.repeat(300), 'c'.repeat(40_000));
    expect(succeeded()).toEqual([{ token: 'token-1', output: { StatusCode: 200, Payload: { status_code: 201 } } }]);
    expect(failed().map((input) => [input.error?.length, input.cause?.length])).toEqual([[256, 32_768]]);
    sfn.on(SendTaskFailureCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    await expect(answers.fail('token-3', 'E', 'c')).resolves.toBeUndefined();
  });

  it('LambdaAsyncInvoker queues the event (InvocationType Event) and fails when Lambda did not take it', async () => {
    const invoker = new LambdaAsyncInvoker(new LambdaClient({ region: 'us-east-1' }), 'orchestrator-action-runner');
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    await invoker.invoke(releasedCallPayload('token-1', { action_id: 'deploy' }, {}));
    const [sent] = lambda.commandCalls(InvokeCommand).map((call) => call.args[0].input);
    expect(sent).toMatchObject({ FunctionName: 'orchestrator-action-runner', InvocationType: 'Event' });
    expect(JSON.parse(new TextDecoder().decode(sent!.Payload as Uint8Array))).toEqual({ released_call: { task_token: 'token-1', call: { action_id: 'deploy' }, outputs: {} } });

    lambda.on(InvokeCommand).resolves({ StatusCode: 200 });
    await expect(invoker.invoke({})).rejects.toThrow('answered 200, not 202');
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    await expect(invoker.invoke({})).rejects.toMatchObject({ name: 'DependencyUnavailableError', message: expect.stringContaining('TooManyRequestsException') });
  });
});
