import { describe, expect, it } from 'vitest';
import { createLocalGates, type LocalGates } from '../../adapters/local/in-process-gates.ts';
import { CompiledMachineCache, startLocalRun, type LocalIntegrations } from '../../adapters/local/local-engine.ts';
import type { Action } from '../../core/workflow/definition.ts';
import { systemClock } from '../../core/system.ts';
import type { ActionRunner } from '../../functions/workers/action-runner.ts';
import { withGateArrivals } from '../../functions/workers/gate-arrivals.ts';

/**
 * Dependency gates in the local engine (ADR 0016): hand-written definitions in the shape the compiler gives
 * gated actions (a `<W>: gate` waitForTaskToken state before the waiter, `<P>: report` states after producers,
 * `gate_waiters` on a service call), run in the interpreter with the in-process gates. The runner behind
 * `lambda:invoke` is a stand-in for the HTTP call, wrapped with the same gate arrivals as in AWS.
 */

const FUNCTION = '${ActionRunnerFunctionArn}';
const RESULT = { outcome: 'completed', 'status_code.$': '$.Payload.status_code', 'response.$': '$.Payload.response' };

/** A service call's task, as the compiler writes it (the payload the runner reads). */
function call(action: string, next: { Next: string } | { End: true }, extra: Record<string, unknown> = {}) {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: FUNCTION, Payload: { action_id: action, 'execution_id.$': '$$.Execution.Name', workflow_id: 'wf', workflow_version: 1, service: 'svc', endpoint: `/${action}`, method: 'POST', timeout_seconds: 5, ...extra } },
    ResultSelector: RESULT,
    ResultPath: `$.results.${action}`,
    ...next,
  };
}

function report(producer: string, waiters: Record<string, string[]>, next: { Next: string } | { End: true }) {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: FUNCTION, Payload: { gate: { arrive: { 'execution_id.$': '$$.Execution.Name', producer, 'output.$': `$.results.${producer}`, waiters } } } },
    ResultPath: null,
    ...next,
  };
}

function gate(waiter: string, producers: string[], next: string) {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    Parameters: { FunctionName: FUNCTION, Payload: { gate: { wait: { 'execution_id.$': '$$.Execution.Name', waiter, producers, 'task_token.$': '$$.Task.Token' } } } },
    ResultPath: '$.released',
    Next: next,
  };
}

/** build -> deploy across two branches, which the Parallel structure cannot hold: deploy waits at its gate. */
const reported = {
  StartAt: 'all',
  States: {
    all: {
      Type: 'Parallel',
      End: true,
      ResultSelector: { 'build.$': '$[0].results.build', 'deploy.$': '$[1].results.deploy' },
      Branches: [
        { StartAt: 'build', States: { build: call('build', { Next: 'build: report' }), 'build: report': report('build', { deploy: ['build'] }, { End: true }) } },
        { StartAt: 'deploy: gate', States: { 'deploy: gate': gate('deploy', ['build'], 'deploy'), deploy: call('deploy', { End: true }, { parameters: { 'image.$': '$.released.build.response.image' } }) } },
      ],
    },
  },
};

/** deploy waits for a service call that reports from the runner (gate_waiters) and for a report state. */
const twoProducers = {
  StartAt: 'all',
  States: {
    all: {
      Type: 'Parallel',
      End: true,
      ResultSelector: { 'deploy.$': '$[2].results.deploy' },
      Branches: [
        { StartAt: 'build', States: { build: call('build', { End: true }, { gate_waiters: { deploy: ['build', 'test'] } }) } },
        { StartAt: 'test', States: { test: call('test', { Next: 'test: report' }), 'test: report': report('test', { deploy: ['build', 'test'] }, { End: true }) } },
        { StartAt: 'deploy: gate', States: { 'deploy: gate': gate('deploy', ['build', 'test'], 'deploy'), deploy: call('deploy', { End: true }, { 'parameters.$': '$.released' }) } },
      ],
    },
  },
};

const actions = ['build', 'test', 'deploy'].map((action_id) => ({ action_id, action_type: 'service_call' })) as unknown as Action[];

interface Call {
  readonly action: string;
  readonly parameters: unknown;
  readonly started: number;
  ended?: number;
}

/** The runner's stand-in: each call takes `delays[action]` ms (build is slow, so deploy's gate waits first) and answers its image. */
function stubRunner(calls: Call[], delays: Readonly<Record<string, number>>): ActionRunner {
  return async (payload, options) => {
    const { action_id: action, parameters } = payload as { action_id: string; parameters?: unknown };
    const entry: Call = { action, parameters, started: performance.now() };
    calls.push(entry);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, delays[action] ?? 0);
      options?.signal?.addEventListener('abort', () => (clearTimeout(timer), reject(new Error('aborted'))), { once: true });
    });
    entry.ended = performance.now();
    return { status_code: 200, headers: {}, response: { image: `${action}:1` } };
  };
}

const machines = new CompiledMachineCache();
let runs = 0;

function start(definition: Record<string, unknown>, options: { gates?: LocalGates; delays?: Record<string, number>; replay?: Map<string, unknown> } = {}) {
  const calls: Call[] = [];
  const checkpoints: string[] = [];
  const gates = options.gates ?? createLocalGates(systemClock);
  const runner = withGateArrivals(stubRunner(calls, options.delays ?? { build: 60 }), gates);
  const integrations: LocalIntegrations = {
    invokeRunner: (payload, signal) => runner(payload, { signal }),
    putEvent: async () => 'event',
    sendDeadLetter: async () => undefined,
    startSubWorkflow: async () => {
      throw new Error('no sub-workflows here');
    },
    gates,
  };
  const executionId = `gated-${++runs}`;
  const run = startLocalRun(machines.get(JSON.stringify(definition), definition), {
    definition,
    actions,
    executionId,
    input: { params: {}, results: {}, failures: {} },
    integrations,
    now: () => new Date().toISOString(),
    retryMilliseconds: 1,
    ...(options.replay ? { replay: options.replay } : {}),
    onCheckpoint: async (key) => void checkpoints.push(key),
  });
  return { run, calls, checkpoints, gates, executionId };
}

const callOf = (calls: readonly Call[], action: string) => calls.find((entry) => entry.action === action)!;

describe('dependency gates in the local engine', () => {
  it('starts the waiter only after its producer reported, with the producer output at $.released', async () => {
    const { run, calls, checkpoints } = start(reported);
    const outcome = await run.done;
    expect(outcome.status).toBe('completed');
    const [build, deploy] = [callOf(calls, 'build'), callOf(calls, 'deploy')];
    expect(deploy.started).toBeGreaterThanOrEqual(build.ended!);
    expect(deploy.parameters).toEqual({ image: 'build:1' });
    expect(outcome.output).toEqual({ build: { outcome: 'completed', status_code: 200, response: { image: 'build:1' } }, deploy: { outcome: 'completed', status_code: 200, response: { image: 'deploy:1' } } });
    // Gate states are not the actions: only the calls are checkpointed, and the actions' progress is theirs.
    expect(checkpoints.sort()).toEqual(['build', 'deploy']);
    expect(outcome.actions.filter((action) => action.status === 'completed').map((action) => action.action_id).sort()).toEqual(['build', 'deploy']);
  });

  it('releases the waiter at once when its producer reported before it waited', async () => {
    const { run, calls } = start(reported, { delays: { build: 0, deploy: 0 } });
    expect((await run.done).status).toBe('completed');
    expect(callOf(calls, 'deploy').parameters).toEqual({ image: 'build:1' });
  });

  it('waits for every producer: a service call reporting from the runner and a report state', async () => {
    const { run, calls } = start(twoProducers, { delays: { build: 60, test: 20 } });
    const outcome = await run.done;
    expect(outcome.status).toBe('completed');
    const deploy = callOf(calls, 'deploy');
    expect(deploy.started).toBeGreaterThanOrEqual(Math.max(callOf(calls, 'build').ended!, callOf(calls, 'test').ended!));
    expect(deploy.parameters).toEqual({
      build: { outcome: 'completed', status_code: 200, response: { image: 'build:1' } },
      test: { outcome: 'completed', status_code: 200, response: { image: 'test:1' } },
    });
  });

  it('reports a service call replayed from its checkpoint to its gates again, and waits again', async () => {
    const recorded = { Payload: { status_code: 200, headers: {}, response: { image: 'build:0' } }, StatusCode: 200 };
    const { run, calls, checkpoints } = start(twoProducers, { delays: { test: 20 }, replay: new Map([['build', recorded]]) });
    const outcome = await run.done;
    expect(outcome.status).toBe('completed');
    expect(calls.map((entry) => entry.action).sort()).toEqual(['deploy', 'test']);
    expect((callOf(calls, 'deploy').parameters as { build: unknown }).build).toEqual({ outcome: 'completed', status_code: 200, response: { image: 'build:0' } });
    expect(checkpoints.sort()).toEqual(['deploy', 'test']);
  });

  it('forgets the run gates when it ends', async () => {
    const { run, gates, executionId } = start(reported, { delays: { build: 0 } });
    await run.done;
    // The gate of deploy is gone: a new wait finds no producer arrived.
    expect(await gates.gates.wait(executionId, 'deploy', ['build'], 'after-the-end')).toBeUndefined();
  });

  it('stops waiting when the run is cancelled, and never starts the waiter', async () => {
    const { run, calls } = start(reported, { delays: { build: 5_000 } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    run.cancel();
    const outcome = await run.done;
    expect(outcome.status).toBe('cancelled');
    expect(calls.map((entry) => entry.action)).toEqual(['build']);
  });

  it('fails a gate state whose payload is not valid, naming the field', async () => {
    const broken = structuredClone(reported);
    (broken.States.all.Branches[1]!.States['deploy: gate'] as { Parameters: { Payload: { gate: { wait: { producers: string[] } } } } }).Parameters.Payload.gate.wait.producers = [];
    const { run } = start(broken, { delays: { build: 0 } });
    const outcome = await run.done;
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.cause).toContain('gate.wait.producers');
  });
});
