import { DescribeExecutionCommand, ExecutionNotRedrivable, RedriveExecutionCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand, TaskTimedOut } from '@aws-sdk/client-sfn';
import { StepFunctionsTaskTokens } from '../../../../adapters/aws/stepfunctions/task-tokens.ts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { StepFunctionsEngineConfig } from '../../../../adapters/aws/stepfunctions/config.ts';
import { StepFunctionsWorkflowEngine } from '../../../../adapters/aws/stepfunctions/step-functions-engine.ts';
import { ConflictError, DependencyUnavailableError } from '../../../../core/errors.ts';
import type { ParkedCallStore } from '../../../../core/execution/held-calls.ts';
import { TEST_ENGINE_CONFIG } from './support/engine-config.ts';
import type { Execution } from '../../../../core/execution/model.ts';
import type { WorkflowDefinitionInput } from '../../../../core/workflow/definition.ts';
import { compileWorkflow, executionInput } from '../../../../statemachines/compile.ts';
import { storedWorkflow } from '../../../support/workflows.ts';
import { serviceCall, workflow } from '../../statemachines/support/workflows.ts';

/** Retrying a run on Step Functions is RedriveExecution: the requests it sends, and when it refuses. */

const config: StepFunctionsEngineConfig = TEST_ENGINE_CONFIG;
const ARN = 'arn:aws:states:us-east-1:123456789012:execution:Orch-orders:exec-1';
const orders = storedWorkflow('orders', {}, workflow([serviceCall('charge', {})]) as unknown as WorkflowDefinitionInput);

function run(overrides: Partial<Execution> = {}): Execution {
  return {
    execution_id: 'exec-1',
    workflow_id: 'orders',
    workflow_version: 1,
    tenant: 'default',
    status: 'cancelled',
    parameters: {},
    trace_id: '0'.repeat(32),
    started_by: 'alice',
    created_at: '2026-11-25T10:00:00.000Z',
    actions: [],
    ...overrides,
  };
}

describe('StepFunctionsWorkflowEngine: retry as RedriveExecution', () => {
  const sfn = mockClient(SFNClient);
  const engine = new StepFunctionsWorkflowEngine({
    client: new SFNClient({ region: 'us-east-1' }),
    config,
    compiler: { compile: (target) => compileWorkflow(target), executionInput },
    executions: { get: async () => undefined },
    loadWorkflow: async () => undefined,
  });
  beforeEach(() => sfn.reset());

  it('checks the execution is REDRIVABLE, then redrives it by its ARN with a token per retry', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ redriveStatus: 'REDRIVABLE' });
    sfn.on(RedriveExecutionCommand).resolves({ redriveDate: new Date() });
    await engine.assertRetryable(run());
    await engine.resume(run({ status: 'running', redrive_count: 1 }), orders, { from: 'exec-1', actions: new Set(), partialForeach: true });
    expect(sfn.commandCalls(DescribeExecutionCommand).map((call) => call.args[0].input)).toEqual([{ executionArn: ARN }]);
    expect(sfn.commandCalls(RedriveExecutionCommand).map((call) => call.args[0].input)).toEqual([{ executionArn: ARN, clientToken: 'exec-1-1' }]);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('refuses a run past the 14-day redrive window with a 409 that names the limit', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'Execution redrivable period exceeded' });
    const refusal = await engine.assertRetryable(run({ status: 'failed' })).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ConflictError);
    expect((refusal as Error).message).toContain('14 days');
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
  });

  it("refuses a run that failed at an action: a redrive would only run the compiled Fail state again", async () => {
    const refusal = await engine.assertRetryable(run({ status: 'failed', error: { action_id: 'charge', error: 'ActionFailed', cause: 'action charge failed' } })).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ConflictError);
    expect((refusal as Error).message).toContain('Fail state');
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  it('turns ExecutionNotRedrivable from the redrive itself into a 409, and refuses a rerun it cannot do yet', async () => {
    sfn.on(RedriveExecutionCommand).rejects(new ExecutionNotRedrivable({ message: 'Execution is RUNNING and cannot be redriven', $metadata: {} }));
    await expect(engine.resume(run({ status: 'running' }), orders, { from: 'exec-1', actions: new Set(), partialForeach: true })).rejects.toBeInstanceOf(ConflictError);
    await expect(engine.resume(run({ execution_id: 'exec-2', status: 'running' }), orders, { from: 'exec-1', actions: new Set(['charge']), partialForeach: false })).rejects.toThrow(/not available on Step Functions yet/);
  });
});

describe('StepFunctionsWorkflowEngine: pause and resume', () => {
  const sfn = mockClient(SFNClient);
  const client = new SFNClient({ region: 'us-east-1' });
  beforeEach(() => sfn.reset());

  /** Parked calls in memory, with the store's rule: whoever removes a call gets its token. */
  function parked(entries: Record<string, string>): ParkedCallStore {
    const calls = new Map(Object.entries(entries));
    return {
      runStatus: async () => 'running',
      park: async (_id, key, token) => void calls.set(key, token),
      parkedCalls: async () => [...calls.keys()],
      claim: async (_id, key) => {
        const token = calls.get(key);
        calls.delete(key);
        return token;
      },
    };
  }
  const engineWith = (pause?: { parkedCalls: ParkedCallStore }) =>
    new StepFunctionsWorkflowEngine({
      client,
      config,
      compiler: { compile: (target) => compileWorkflow(target), executionInput },
      executions: { get: async () => undefined },
      loadWorkflow: async () => undefined,
      ...(pause ? { pause: { parkedCalls: pause.parkedCalls, tokens: new StepFunctionsTaskTokens(client) } } : {}),
    });

  it('holds without a request to Step Functions, and on release sends back each parked token once with SendTaskSuccess', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    const engine = engineWith({ parkedCalls: parked({ charge: 'token-a', 'ship#0': 'token-b' }) });
    await engine.hold(run({ status: 'running' }));
    expect(sfn.calls()).toHaveLength(0);
    await engine.release(run({ status: 'running' }));
    await engine.release(run({ status: 'running' }));
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input)).toEqual([
      { taskToken: 'token-a', output: '{}' },
      { taskToken: 'token-b', output: '{}' },
    ]);
  });

  it('treats a token whose execution ended as nothing to resume, and a throttled Step Functions as unavailable', async () => {
    sfn.on(SendTaskSuccessCommand, { taskToken: 'gone' }).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    sfn.on(SendTaskSuccessCommand, { taskToken: 'busy' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const tokens = new StepFunctionsTaskTokens(client);
    await expect(tokens.resume('gone')).resolves.toBeUndefined();
    await expect(tokens.resume('busy')).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it('refuses to pause, with a 409, when the deployment gave the engine no parked-call store', async () => {
    await expect(engineWith().hold(run({ status: 'running' }))).rejects.toBeInstanceOf(ConflictError);
  });
});
