import { DescribeExecutionCommand, DescribeStateMachineCommand, ExecutionNotRedrivable, ListStateMachineVersionsCommand, UpdateStateMachineAliasCommand, UpdateStateMachineCommand, RedriveExecutionCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand, TaskTimedOut } from '@aws-sdk/client-sfn';
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
import { hasRedriveGate } from '../../../../statemachines/inspect.ts';
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
    compiler: { compile: (target, options) => compileWorkflow(target, options), executionInput, hasRedriveGate },
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

  it('retries a run that failed at an action when its version ends that failure in the redrive gate, and refuses one compiled with a Fail state there', async () => {
    const failed = run({ status: 'failed', error: { action_id: 'charge', error: 'ActionFailed', cause: 'action charge failed: x: y' } });
    const versionArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:Orch-orders:3';
    const current = JSON.stringify(compileWorkflow(orders).definition);
    sfn.on(DescribeExecutionCommand).resolves({ redriveStatus: 'REDRIVABLE', stateMachineVersionArn: versionArn });
    sfn.on(DescribeStateMachineCommand).resolves({ definition: current });
    await engine.assertRetryable(failed);
    expect(sfn.commandCalls(DescribeStateMachineCommand).map((call) => call.args[0].input)).toEqual([{ stateMachineArn: versionArn }]);

    // The same action ending in a Fail state, as versions compiled before the gate do.
    const before = JSON.parse(current) as { States: Record<string, unknown> };
    before.States['charge: failed'] = { Type: 'Fail', Error: 'ActionFailed', CausePath: '$.failures.charge.cause' };
    sfn.on(DescribeStateMachineCommand).resolves({ definition: JSON.stringify(before) });
    const refusal = await engine.assertRetryable(failed).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ConflictError);
    expect((refusal as Error).message).toContain('Fail state');
  });

  it('refuses a compensated saga without asking Step Functions: its completed actions were undone', async () => {
    const refusal = await engine.assertRetryable(run({ status: 'failed', error: { error: 'WorkflowCompensated', cause: 'compensated' } })).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ConflictError);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('turns ExecutionNotRedrivable from the redrive itself into a 409', async () => {
    sfn.on(RedriveExecutionCommand).rejects(new ExecutionNotRedrivable({ message: 'Execution is RUNNING and cannot be redriven', $metadata: {} }));
    await expect(engine.resume(run({ status: 'running' }), orders, { from: 'exec-1', actions: new Set(), partialForeach: true })).rejects.toBeInstanceOf(ConflictError);
  });
});

describe('StepFunctionsWorkflowEngine: rerun from an action', () => {
  const sfn = mockClient(SFNClient);
  const chain = storedWorkflow('orders', {}, workflow([serviceCall('charge', {}), serviceCall('ship', { order: '{{charge.response}}' }, ['charge']), serviceCall('notify', {}, ['ship'])]) as unknown as WorkflowDefinitionInput);
  const source = run({
    execution_id: 'exec-1',
    status: 'failed',
    actions: [
      { action_id: 'charge', action_type: 'service_call', status: 'completed', attempts: 1, output: { status_code: 200, response: { id: 7 } } },
      { action_id: 'ship', action_type: 'service_call', status: 'failed', attempts: 3 },
      { action_id: 'notify', action_type: 'service_call', status: 'not_run', attempts: 0 },
    ],
  });
  const sources = new Map<string, Execution>([['exec-1', source]]);
  const engine = new StepFunctionsWorkflowEngine({
    client: new SFNClient({ region: 'us-east-1' }),
    config,
    compiler: { compile: (target, options) => compileWorkflow(target, options), executionInput, hasRedriveGate },
    executions: { get: async (id) => sources.get(id) },
    loadWorkflow: async () => undefined,
  });
  beforeEach(() => sfn.reset());

  it('publishes the rerun variant beside the version (not on live) and starts it with the reused results in its input', async () => {
    const variantArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:Orch-orders:4';
    sfn.on(ListStateMachineVersionsCommand).resolves({ stateMachineVersions: [] });
    sfn.on(DescribeStateMachineCommand).resolves({ type: 'STANDARD' });
    sfn.on(UpdateStateMachineCommand).resolves({ stateMachineVersionArn: variantArn });
    sfn.on(StartExecutionCommand).resolves({});
    await engine.resume(run({ execution_id: 'exec-2', status: 'running', parameters: { region: 'eu' } }), chain, { from: 'exec-1', actions: new Set(['charge']), partialForeach: false });

    const [update] = sfn.commandCalls(UpdateStateMachineCommand).map((call) => call.args[0].input);
    expect(update?.versionDescription).toMatch(/^1 rerun \(definition [0-9a-f]+\)$/);
    expect(update?.definition).toContain('charge: reuse?');
    expect(sfn.commandCalls(UpdateStateMachineAliasCommand)).toHaveLength(0);
    const [start] = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
    expect(start).toMatchObject({ stateMachineArn: variantArn, name: 'exec-2' });
    expect(JSON.parse(start!.input!)).toMatchObject({ params: { region: 'eu' }, reuse: { charge: { outcome: 'completed', status_code: 200, response: { id: 7 } } } });
  });

  it('reuses a variant already published, and refuses a result the record could not keep whole, naming the action', async () => {
    sfn.on(ListStateMachineVersionsCommand).resolves({ stateMachineVersions: [{ stateMachineVersionArn: 'arn:v:9', creationDate: new Date() }] });
    sfn.on(DescribeStateMachineCommand).resolves({ description: 'not this one' });
    sources.set('exec-big', { ...source, execution_id: 'exec-big', actions: [{ ...source.actions[0]!, output: { status_code: 200, response: { truncated: true, size_bytes: 90_000, preview: '{"id":' } } }] });
    const refusal = await engine.resume(run({ execution_id: 'exec-3', status: 'running' }), chain, { from: 'exec-big', actions: new Set(['charge']), partialForeach: false }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ConflictError);
    expect((refusal as Error).message).toContain('action charge');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
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
      compiler: { compile: (target, options) => compileWorkflow(target, options), executionInput, hasRedriveGate },
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
