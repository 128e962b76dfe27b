import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoExecutionStore } from '../../adapters/aws/dynamo/dynamo-execution-store.ts';
import { DynamoParkedCallStore } from '../../adapters/aws/dynamo/dynamo-parked-calls.ts';
import { EXECUTION_TABLE } from '../../adapters/aws/dynamo/execution-table.ts';
import { StepFunctionsWorkflowEngine } from '../../adapters/aws/stepfunctions/step-functions-engine.ts';
import { parkCall, releaseParkedCalls, type TaskTokens } from '../../core/execution/held-calls.ts';
import type { Execution } from '../../core/execution/model.ts';
import { createExecutionService } from '../../core/execution/service.ts';
import { randomIds, systemClock } from '../../core/system.ts';
import { createActionRunner } from '../../functions/workers/action-runner.ts';
import { createCallParker, withPauseGate } from '../../functions/workers/pause-gate.ts';
import { compileWorkflow, executionInput } from '../../statemachines/compile.ts';
import { hasRedriveGate } from '../../statemachines/inspect.ts';
import { TEST_ENGINE_CONFIG } from '../unit/adapters/aws/support/engine-config.ts';
import { isRedriveGatePayload, passRedriveGate } from '../../core/execution/redrive-gate.ts';
import { announceDeadLetter } from '../../core/events/dead-letter-notice.ts';
import type { NewEvent } from '../../core/events/envelope.ts';
import { compileChecked } from '../unit/statemachines/support/harness.ts';
import { foreach, param, serviceCall, workflow } from '../unit/statemachines/support/workflows.ts';
import { freshTable } from '../support/dynamo.ts';
import { fixedRegistry } from '../support/fixed-registry.ts';
import { testHttp } from '../support/outbound.ts';
import { until } from '../support/poll.ts';

/**
 * Pause and retry on Step Functions (ADR 0012), end to end except Step Functions itself: a compiled definition runs in
 * the ASL interpreter; its service-call tasks invoke the real action runner behind its pause gate, calling
 * services on loopback; its `: held` callback states invoke the real parker, which keeps task tokens in the
 * executions table on the DynamoDB emulator; resume is the Step Functions engine's `release`. What stands in
 * for Step Functions is only the callback itself (a held state's task ends when its token is sent back) and
 * RedriveExecution (the failed state started again with the input it had, and the redrive count raised).
 */

let services: Server;
/** What the runs' dead-letter notices announced (orchestrator.dlq.added). */
const announced: NewEvent[] = [];
let baseUrl = '';
const calls = new Map<string, number>();
let slowMs = 0;
/** Paths that answer 503 while listed. */
const down = new Set<string>();
const callsTo = (path: string) => calls.get(path) ?? 0;

beforeAll(async () => {
  services = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    request.resume();
    request.on('end', () => {
      calls.set(path, callsTo(path) + 1);
      const reply = () => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ path, n: callsTo(path) }));
      };
      if (path === '/a' && slowMs > 0) setTimeout(reply, slowMs).unref();
      else if (down.has(path)) {
        response.statusCode = 503;
        response.end('{"error":"down"}');
      } else reply();
    });
  });
  await new Promise<void>((resolve) => services.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(services.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => services.close(() => resolve())));

/** Step Functions' side of the callback pattern: a held task waits for its token, SendTaskSuccess ends it. */
class Callbacks implements TaskTokens {
  private readonly waiting = new Map<string, () => void>();
  private issued = 0;
  readonly sent: string[] = [];

  /** A new token, and the promise that settles when it is sent back. */
  issue(): { token: string; done: Promise<void> } {
    const token = `token-${++this.issued}`;
    return { token, done: new Promise<void>((resolve) => this.waiting.set(token, resolve)) };
  }

  async resume(taskToken: string): Promise<void> {
    this.sent.push(taskToken);
    this.waiting.get(taskToken)?.();
    this.waiting.delete(taskToken);
  }
}

function run(executionId: string): Execution {
  return { execution_id: executionId, workflow_id: 'orders', workflow_version: 1, tenant: 'default', status: 'running', parameters: {}, trace_id: '0'.repeat(32), started_by: 'alice', created_at: new Date().toISOString(), actions: [] };
}

describe('run control on Step Functions: pause parks calls with their task tokens, retry redrives the failed action', () => {
  let executions: DynamoExecutionStore;
  let parkedCalls: DynamoParkedCallStore;
  let callbacks: Callbacks;
  let engine: StepFunctionsWorkflowEngine;

  beforeEach(async () => {
    calls.clear();
    down.clear();
    slowMs = 0;
    const table = await freshTable(EXECUTION_TABLE, 'executions');
    executions = new DynamoExecutionStore(table.client, table.tableName);
    parkedCalls = new DynamoParkedCallStore(table.client, table.tableName);
    callbacks = new Callbacks();
    engine = new StepFunctionsWorkflowEngine({
      client: new SFNClient({ region: 'us-east-1' }),
      config: TEST_ENGINE_CONFIG,
      compiler: { compile: (target, options) => compileWorkflow(target, options), executionInput, hasRedriveGate },
      executions,
      loadWorkflow: async () => undefined,
      pause: { parkedCalls, tokens: callbacks },
    });
  });

  /** Runs the compiled workflow in the interpreter, each task wired as in AWS; returns its result and the states it entered. */
  function start(definition: unknown, executionId: string, params: Record<string, unknown>, redrive?: { readonly from: string; readonly input: unknown; readonly count: number }) {
    const runner = withPauseGate(createActionRunner({ registry: fixedRegistry({ svc: baseUrl }), env: {}, http: testHttp() }), parkedCalls);
    const parker = createCallParker(parkedCalls, callbacks);
    const handlers: Record<string, (input: { Payload: Record<string, unknown> }) => Promise<unknown>> = {};
    const machine = new StateMachine(definition as never, { validationOptions: { checkPaths: false } } as never);
    const tasks = JSON.stringify(definition).match(/"[^"]+":\{"Type":"Task"/g) ?? [];
    for (const match of tasks) {
      const name = JSON.parse(match.slice(0, match.indexOf(':{'))) as string;
      handlers[name] = name.endsWith('dead letter')
        ? async () => ({ MessageId: `dead-letter-${name}` })
        : name.endsWith('dead letter event')
        ? async (input) => ({ Payload: await announceDeadLetter(input.Payload, async (event) => void announced.push(event)), StatusCode: 200 })
        : name.endsWith('held')
        ? async (input) => {
            // Step Functions gives every callback task its own token ($$.Task.Token).
            const { token, done } = callbacks.issue();
            await parker({ park: { ...(input.Payload.park as Record<string, unknown>), task_token: token } });
            await done;
            return {};
          }
        : async (input) => ({ Payload: isRedriveGatePayload(input.Payload) ? passRedriveGate(input.Payload) : await runner(input.Payload), StatusCode: 200 });
    }
    const entered: string[] = [];
    // A redrive starts the state that failed again, with the input it had; the rest of the run is what follows it.
    const running = redrive ? new StateMachine({ ...(definition as object), StartAt: redrive.from } as never, { validationOptions: { checkPaths: false } } as never) : machine;
    const execution = running.run((redrive ? redrive.input : executionInput(params)) as never, {
      overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: Object.fromEntries(Object.keys(handlers).map((name) => [name, 0])) },
      context: { Execution: { Name: executionId, RedriveCount: redrive?.count ?? 0 }, Task: { Token: 'unused' } },
    } as never);
    const inputs = new Map<string, unknown>();
    void (async () => {
      for await (const event of execution.eventLogs as AsyncIterable<{ type: string; state?: { name: string; input?: unknown } }>) {
        if (event.type === 'StateEntered' && event.state) {
          entered.push(event.state.name);
          inputs.set(event.state.name, event.state.input);
        }
      }
    })();
    return { result: execution.result as Promise<{ results: Record<string, { outcome: string }> }>, entered, inputs };
  }

  it('lets the call in flight finish, parks the next ones (a task and foreach items) until resume, then makes each exactly once', async () => {
    const compiled = compileChecked(
      workflow(
        [
          serviceCall('a'),
          foreach('f', '{{items}}', { action_type: 'service_call', config: { service: 'svc', endpoint: '/item', method: 'POST' } }, 2, ['a']),
          serviceCall('c', {}, ['f']),
        ],
        [param('items', 'array')],
      ),
    );
    await executions.create(run('exec-p'));
    slowMs = 400;
    const { result, entered } = start(compiled.definition, 'exec-p', { items: [1, 2, 3] });
    await until(() => callsTo('/a') === 1, 'the call to a');

    // Pause as the API does: the engine first, then the status the runner reads.
    await engine.hold(run('exec-p'));
    expect(await executions.transition('exec-p', ['running'], 'paused')).toBe(true);
    await until(async () => (await parkedCalls.parkedCalls('exec-p')).length === 2, 'two foreach items parked');
    // Nothing new was called while paused, however long it lasts.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([callsTo('/a'), callsTo('/item'), callsTo('/c')]).toEqual([1, 0, 0]);
    expect((await parkedCalls.parkedCalls('exec-p')).sort()).toEqual(['f#0', 'f#1']);

    expect(await executions.transition('exec-p', ['paused'], 'running')).toBe(true);
    await engine.release(run('exec-p'));
    const output = await result;
    expect(Object.fromEntries(Object.entries(output.results).map(([id, value]) => [id, value.outcome]))).toEqual({ c: 'completed' });
    expect([callsTo('/a'), callsTo('/item'), callsTo('/c')]).toEqual([1, 3, 1]);
    expect(callbacks.sent.sort()).toEqual(['token-1', 'token-2']);
    expect(await parkedCalls.parkedCalls('exec-p')).toEqual([]);
    // Two parked items: two callback states entered, and their task states entered once more each.
    expect(entered.filter((name) => name.endsWith(': item held'))).toHaveLength(2);
    expect(entered.filter((name) => name === 'f: each item')).toHaveLength(5);
  });

  it('enters no callback state in a run that is never paused', async () => {
    const compiled = compileChecked(workflow([serviceCall('a'), serviceCall('b', {}, ['a'])]));
    await executions.create(run('exec-n'));
    const { result, entered } = start(compiled.definition, 'exec-n', {});
    await result;
    expect(entered).toEqual(['a', 'b']);
    expect([callsTo('/a'), callsTo('/b')]).toEqual([1, 1]);
  });

  it('lets a call go at once when the run was resumed while it was being parked, and sends each token back once', async () => {
    await executions.create(run('exec-r'));
    // Parked while running (the resume came between the refusal and the parking): let go by the parker itself.
    expect(await parkCall(parkedCalls, callbacks, { executionId: 'exec-r', actionId: 'a', taskToken: 'late' })).toBe(false);
    expect(callbacks.sent).toEqual(['late']);
    expect(await parkedCalls.parkedCalls('exec-r')).toEqual([]);

    // Two releases racing over the same parked calls: each token goes back once.
    await executions.transition('exec-r', ['running'], 'paused');
    for (const [index, token] of ['t1', 't2', 't3'].entries()) expect(await parkCall(parkedCalls, callbacks, { executionId: 'exec-r', actionId: 'f', itemIndex: index, taskToken: token })).toBe(true);
    await executions.transition('exec-r', ['paused'], 'running');
    const released = await Promise.all([releaseParkedCalls(parkedCalls, callbacks, 'exec-r'), releaseParkedCalls(parkedCalls, callbacks, 'exec-r')]);
    expect(released[0] + released[1]).toBe(3);
    expect(callbacks.sent.slice(1).sort()).toEqual(['t1', 't2', 't3']);
  });

  it('calls as usual when the payload was compiled without a place to park (a state machine from before pause)', async () => {
    await executions.create(run('exec-o'));
    await executions.transition('exec-o', ['running'], 'paused');
    const runner = withPauseGate(createActionRunner({ registry: fixedRegistry({ svc: baseUrl }), env: {}, http: testHttp() }), parkedCalls);
    const payload = { action_id: 'a', execution_id: 'exec-o', workflow_id: 'orders', workflow_version: 1, service: 'svc', endpoint: '/a', method: 'POST', timeout_seconds: 5 };
    await expect(runner(payload)).resolves.toMatchObject({ status_code: 200 });
    await expect(runner({ ...payload, pausable: true })).rejects.toMatchObject({ name: 'RunPaused' });
    expect(callsTo('/a')).toBe(1);
  });

  it('fails a run at the failed action, and a redrive of it calls that action again and goes on, without calling what had completed', async () => {
    const compiled = compileChecked(workflow([serviceCall('a'), serviceCall('charge', {}, ['a'], { retry: { max_attempts: 2 } }), serviceCall('ship', {}, ['charge'])]));
    await executions.create(run('exec-f'));
    down.add('/charge');
    const first = start(compiled.definition, 'exec-f', {});
    const failure = await first.result.then(
      () => undefined,
      (error: { cause?: Error }) => error.cause,
    );
    // The run ends at the gate, with the error and cause the compiled Fail state used to give it.
    expect(failure).toMatchObject({ name: 'ActionFailed' });
    expect(failure?.message).toMatch(/^action charge failed: ServiceUnavailableError: /);
    expect(first.entered.slice(-4)).toEqual(['charge: dead letter', 'charge: dead letter event', 'charge: describe failure', 'charge: failed']);
    // The dead letter is announced (orchestrator.dlq.added) once it is in the queue, naming the run and the action.
    expect(announced.at(-1)).toMatchObject({ type: 'orchestrator.dlq.added', subject: expect.stringMatching(/\/actions\/charge$/), data: { queue: 'actions', kind: 'action_failed', action_id: 'charge' } });
    expect([callsTo('/a'), callsTo('/charge'), callsTo('/ship')]).toEqual([1, 2, 0]);

    // The service recovers; RedriveExecution restarts the gate with the input it had and the count raised.
    down.delete('/charge');
    const redriven = start(compiled.definition, 'exec-f', {}, { from: 'charge: failed', input: first.inputs.get('charge: failed'), count: 1 });
    const output = await redriven.result;
    expect(output.results['ship']).toMatchObject({ outcome: 'completed' });
    expect(redriven.entered).toEqual(['charge: failed', 'charge', 'ship']);
    expect([callsTo('/a'), callsTo('/charge'), callsTo('/ship')]).toEqual([1, 3, 1]);
  });

  it('fails again, redrivable again, when the action still fails after a redrive', async () => {
    const compiled = compileChecked(workflow([serviceCall('charge', {}, [], { retry: { max_attempts: 1 } })]));
    down.add('/charge');
    const first = start(compiled.definition, 'exec-g', {});
    await expect(first.result).rejects.toBeDefined();
    const second = start(compiled.definition, 'exec-g', {}, { from: 'charge: failed', input: first.inputs.get('charge: failed'), count: 1 });
    await expect(second.result).rejects.toMatchObject({ cause: { name: 'ActionFailed' } });
    // The failure was recorded again (at redrive 1) and dead-lettered again: a second redrive would pass the gate.
    expect(second.entered).toEqual(['charge: failed', 'charge', 'charge: dead letter', 'charge: dead letter event', 'charge: describe failure', 'charge: failed']);
    expect(second.inputs.get('charge: failed')).toMatchObject({ failures: { charge: { redrive_count: 1 } } });
    expect(callsTo('/charge')).toBe(2);
  });

  it('pauses and resumes through the execution service; a resume whose release failed is finished by the next one', async () => {
    const service = createExecutionService({ workflows: { get: async () => undefined, getVersion: async () => undefined }, executions, engine, clock: systemClock, ids: randomIds });
    await executions.create(run('exec-s'));
    expect((await service.pauseExecution('exec-s')).status).toBe('paused');
    expect(await parkCall(parkedCalls, callbacks, { executionId: 'exec-s', actionId: 'a', taskToken: 'held-a' })).toBe(true);
    // The status went back to running, then the release failed (Step Functions throttled, say): the call is still parked.
    await executions.transition('exec-s', ['paused'], 'running');
    expect(await parkedCalls.parkedCalls('exec-s')).toEqual(['a']);
    expect((await service.resumeExecution('exec-s')).status).toBe('running');
    expect(callbacks.sent).toEqual(['held-a']);
    expect(await parkedCalls.parkedCalls('exec-s')).toEqual([]);
  });

  it('drops the calls parked on a paused run when it is cancelled, sending no token back', async () => {
    const sfn = mockClient(SFNClient);
    sfn.on(StopExecutionCommand).resolves({});
    try {
      await executions.create(run('exec-c'));
      await executions.transition('exec-c', ['running'], 'paused');
      expect(await parkCall(parkedCalls, callbacks, { executionId: 'exec-c', actionId: 'a', taskToken: 'cancelled-a' })).toBe(true);
      await engine.stop('exec-c', 'cancelled by alice');
      expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(1);
      expect(await parkedCalls.parkedCalls('exec-c')).toEqual([]);
      expect(callbacks.sent).toEqual([]);
    } finally {
      sfn.restore();
    }
  });
});
