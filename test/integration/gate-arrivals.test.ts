import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendTaskSuccessCommand, SFNClient, TaskTimedOut, InvalidOutput } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDependencyGates } from '../../adapters/aws/dynamo/dynamo-dependency-gates.ts';
import { EXECUTION_TABLE } from '../../adapters/aws/dynamo/execution-table.ts';
import { StepFunctionsGateReleases } from '../../adapters/aws/stepfunctions/task-tokens.ts';
import { handleGateRequest, type GateRequestDeps } from '../../core/execution/gate-requests.ts';
import { systemClock } from '../../core/system.ts';
import { createActionRunner } from '../../functions/workers/action-runner.ts';
import { withGateArrivals } from '../../functions/workers/gate-arrivals.ts';
import { freshTable } from '../support/dynamo.ts';
import { fixedRegistry } from '../support/fixed-registry.ts';
import { serviceCallPayload, testHttp } from '../support/outbound.ts';

/**
 * The action runner's side of dependency gates in AWS (ADR 0016): gate events and a gate-feeding service call
 * go through the DynamoDB gates on the emulator, and a release is SendTaskSuccess (mocked: Step Functions has
 * no emulator here), with the producers' outputs as the waiting state's result.
 */

const sfn = mockClient(SFNClient);
let services: Server;
let baseUrl = '';
const calls: string[] = [];

beforeAll(async () => {
  services = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    request.resume();
    request.on('end', () => {
      calls.push(path);
      response.setHeader('content-type', 'application/json');
      if (path === '/down') {
        response.statusCode = 503;
        response.end('{"error":"down"}');
      } else response.end(JSON.stringify({ path }));
    });
  });
  await new Promise<void>((resolve) => services.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(services.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => services.close(() => resolve())));
beforeEach(() => {
  sfn.reset();
  calls.length = 0;
});

const sent = () => sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input);

async function awsGates(): Promise<GateRequestDeps> {
  const table = await freshTable(EXECUTION_TABLE, 'gates');
  const releases = new StepFunctionsGateReleases(new SFNClient({ region: 'us-east-1' }));
  return { gates: new DynamoDependencyGates(table.client, table.tableName, systemClock), release: (release) => releases.release(release) };
}

describe('StepFunctionsGateReleases', () => {
  const releases = new StepFunctionsGateReleases(new SFNClient({ region: 'us-east-1' }));

  it("answers the waiter's token with the producers' outputs as JSON", async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    await releases.release({ token: 'token-1', outputs: { build: { image: 'app:1' }, test: null } });
    expect(sent()).toEqual([{ taskToken: 'token-1', output: '{"build":{"image":"app:1"},"test":null}' }]);
  });

  it('takes a token whose task is over (timed out, or answered by an earlier delivery) as released', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    await expect(releases.release({ token: 'token-1', outputs: { build: 1 } })).resolves.toBeUndefined();
  });

  it('fails on any other error, so that the report is retried', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new InvalidOutput({ message: 'too large', $metadata: {} }));
    await expect(releases.release({ token: 'token-1', outputs: { build: 1 } })).rejects.toThrow('too large');
  });
});

describe('the action runner with dependency gates on DynamoDB', () => {
  it('a waiter waits until a report state and a gate-feeding service call both arrived, then gets both outputs', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    const gates = await awsGates();
    const run = randomUUID();
    const runner = withGateArrivals(createActionRunner({ registry: fixedRegistry({ svc: baseUrl }), env: {}, http: testHttp() }), gates);

    expect(await handleGateRequest({ gate: { wait: { execution_id: run, waiter: 'deploy', producers: ['build', 'notify'], task_token: 'token-1' } } }, gates)).toEqual({ waiting: true });
    expect(await handleGateRequest({ gate: { arrive: { execution_id: run, producer: 'notify', output: { event_id: 'e-1' }, waiters: { deploy: ['build', 'notify'] } } } }, gates)).toEqual({ released: 0 });
    expect(sent()).toEqual([]);

    const result = await runner(serviceCallPayload('/build', { action_id: 'build', workflow_id: 'wf' }, { execution_id: run, gate_waiters: { deploy: ['build', 'notify'] } }));
    expect(result.status_code).toBe(200);
    expect(sent()).toEqual([
      { taskToken: 'token-1', output: JSON.stringify({ build: { outcome: 'completed', status_code: 200, response: { path: '/build' } }, notify: { event_id: 'e-1' } }) },
    ]);
  });

  it('a failed call reports nothing', async () => {
    const gates = await awsGates();
    const run = randomUUID();
    const runner = withGateArrivals(createActionRunner({ registry: fixedRegistry({ svc: baseUrl }), env: {}, http: testHttp() }), gates);
    await handleGateRequest({ gate: { wait: { execution_id: run, waiter: 'deploy', producers: ['build'], task_token: 'token-1' } } }, gates);
    await expect(runner(serviceCallPayload('/down', { action_id: 'build', workflow_id: 'wf' }, { execution_id: run, gate_waiters: { deploy: ['build'] } }))).rejects.toThrow();
    expect(sent()).toEqual([]);
    // The gate still waits for the producer: the compiled failure path reports it.
    expect(await gates.gates.arrive(run, 'deploy', ['build'], 'build', null)).toEqual({ token: 'token-1', outputs: { build: null } });
  });

  it('refuses gate_waiters that leave the call out before calling the service', async () => {
    const gates = await awsGates();
    const runner = withGateArrivals(createActionRunner({ registry: fixedRegistry({ svc: baseUrl }), env: {}, http: testHttp() }), gates);
    await expect(runner(serviceCallPayload('/build', { action_id: 'build', workflow_id: 'wf' }, { gate_waiters: { deploy: ['test'] } }))).rejects.toThrow('gate_waiters.deploy: must include the reporting producer build');
    expect(calls).toEqual([]);
  });
});
