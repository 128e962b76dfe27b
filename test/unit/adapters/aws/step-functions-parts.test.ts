import { CreateStateMachineAliasCommand, CreateStateMachineCommand, DescribeExecutionCommand, DescribeStateMachineCommand, RedriveExecutionCommand, SFNClient, UpdateStateMachineCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_STATE_MACHINE_NAME_LENGTH, partStateMachineName, stateMachineName } from '../../../../adapters/aws/stepfunctions/names.ts';
import { StepFunctionsWorkflowEngine, type StepFunctionsCompiler, type StepFunctionsEngineDeps } from '../../../../adapters/aws/stepfunctions/step-functions-engine.ts';
import { ConflictError } from '../../../../core/errors.ts';
import type { Execution } from '../../../../core/execution/model.ts';
import type { WorkflowDefinitionInput } from '../../../../core/workflow/definition.ts';
import type { Workflow } from '../../../../core/workflow/model.ts';
import { compileWorkflow, executionInput } from '../../../../statemachines/compile.ts';
import { hasRedriveGate } from '../../../../statemachines/inspect.ts';
import { largeWorkflow } from '../../../support/large-workflow.ts';
import { storedWorkflow } from '../../../support/workflows.ts';
import { serviceCall, workflow } from '../../statemachines/support/workflows.ts';
import { TEST_ENGINE_CONFIG } from './support/engine-config.ts';
import { FakeStepFunctions } from './support/fake-step-functions.ts';

/**
 * A workflow too large for one state machine (ADR 0016) on Step Functions: each part is deployed as a state
 * machine of its own, published like the root, and started by its parent through that version's ARN.
 */

const MACHINES = 'arn:aws:states:us-east-1:123456789012:stateMachine:';
const RUNNER = TEST_ENGINE_CONFIG.actionRunnerFunctionArn;

/** A part's start as the compiler writes it (statemachines/split.ts), reduced to what the publisher reads. */
const start = (part: number, next?: string) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::states:startExecution.sync:2',
  Parameters: { StateMachineArn: `\${WorkflowPart:${part}}`, Input: { 'params.$': '$.params' } },
  ...(next ? { Next: next } : { End: true }),
});
const call = (next?: string) => ({ Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: '${ActionRunnerFunctionArn}' }, ...(next ? { Next: next } : { End: true }) });

/**
 * Root -> parts 1 and 3; part 1 -> part 2. `label` stands for what a workflow version's actions make of
 * part 2 (a new version changes it); a rerun variant's machines say so in their comments.
 */
function splitCompiler(label = 'b'): StepFunctionsCompiler {
  return {
    hasRedriveGate,
    executionInput,
    compile: (_target, options) => {
      const variant = options?.reuse ? ' (rerun)' : '';
      return {
        executionMode: 'standard',
        definition: { Comment: `root${variant}`, StartAt: 'a', States: { a: call('part 1'), 'part 1': start(1, 'part 3'), 'part 3': start(3) } },
        children: [
          { part: 1, definition: { Comment: `part 1${variant}`, StartAt: 'x', States: { x: call('part 2'), 'part 2': start(2) } } },
          { part: 2, definition: { Comment: `part 2${variant}`, StartAt: label, States: { [label]: call() } } },
          { part: 3, definition: { Comment: `part 3${variant}`, StartAt: 'c', States: { c: call() } } },
        ],
      };
    },
  };
}

const big = (version = 1) => storedWorkflow('big', { version }, workflow([serviceCall('a', {})]) as unknown as WorkflowDefinitionInput);

function setup(compiler: StepFunctionsCompiler, workflows: Workflow[] = [], executions: Execution[] = []) {
  const sfn = new FakeStepFunctions();
  const deps: StepFunctionsEngineDeps = {
    client: sfn.client,
    config: TEST_ENGINE_CONFIG,
    compiler,
    executions: { get: async (id) => executions.find((execution) => execution.execution_id === id) },
    loadWorkflow: async (id) => workflows.find((candidate) => candidate.workflow_id === id),
  };
  return { sfn, engine: new StepFunctionsWorkflowEngine(deps), coldEngine: () => new StepFunctionsWorkflowEngine({ ...deps }) };
}

function definitionOf(sfn: FakeStepFunctions, versionArn: string): { States: Record<string, { Parameters?: { StateMachineArn?: string; FunctionName?: string } }> } {
  const [name] = versionArn.slice(MACHINES.length).split(':');
  const version = sfn.machine(name!).versions.find((candidate) => candidate.arn === versionArn);
  if (!version) throw new Error(`no version ${versionArn}`);
  return JSON.parse(version.definition) as never;
}

describe('part state machine names', () => {
  it("are the prefix, '_', the workflow id and '_<part>': never a workflow's own machine name, and never another workflow's part", () => {
    expect(partStateMachineName('Orch', 'orders', 2)).toBe('Orch_orders_2');
    // Every `Orch-<x>` is the machine of workflow `x`: a part is never one.
    expect(partStateMachineName('Orch', 'orders', 2).startsWith('Orch-')).toBe(false);
    expect(partStateMachineName('Orch', 'orders', 2)).not.toBe(stateMachineName('Orch', 'orders_2'));
    // The part is what follows the last '_': `a` part 12 and `a_1` part 2 differ.
    expect(partStateMachineName('Orch', 'a', 12)).not.toBe(partStateMachineName('Orch', 'a_1', 2));
  });

  it('fit in 80 characters for the longest prefix and id, keeping the id recognisable and the parts of two long ids apart', () => {
    const prefix = 'P'.repeat(40);
    const id = 'x'.repeat(128);
    const name = partStateMachineName(prefix, id, 123);
    expect(name).toHaveLength(MAX_STATE_MACHINE_NAME_LENGTH);
    expect(name).toMatch(new RegExp(`^${prefix}_x+-[0-9a-f]{16}_123$`));
    expect(partStateMachineName(prefix, `${id.slice(0, 127)}y`, 123)).not.toBe(name);
    // A name kept whole is shorter than 80, a hashed one exactly 80: an id that spells a hashed name gives another.
    const spelled = name.slice(prefix.length + 1, -'_123'.length);
    expect(partStateMachineName(prefix, spelled, 123)).not.toBe(name);
    expect(partStateMachineName('Orch', 'a'.repeat(72), 1)).toBe(`Orch_${'a'.repeat(72)}_1`);
    expect(partStateMachineName('Orch', 'a'.repeat(73), 1)).toHaveLength(MAX_STATE_MACHINE_NAME_LENGTH);
    expect(partStateMachineName('Orch', 'a'.repeat(73), 1)).toMatch(/-[0-9a-f]{16}_1$/);
  });
});

describe('StateMachinePublisher: a split workflow', () => {
  it('deploys each part as its own standard state machine first (deepest first), as the root is: same role, logging and tracing, a described version, no alias', async () => {
    const { sfn, engine } = setup(splitCompiler());
    const rootArn = await engine.deploy(big());
    expect(rootArn).toBe(`${MACHINES}Orch-big:1`);

    const creates = sfn.mock.commandCalls(CreateStateMachineCommand).map((created) => created.args[0].input);
    expect(creates.map((input) => input.name)).toEqual(['Orch_big_3', 'Orch_big_2', 'Orch_big_1', 'Orch-big']);
    const root = creates.at(-1)!;
    for (const part of creates.slice(0, 3)) {
      expect(part).toMatchObject({ type: 'STANDARD', roleArn: root.roleArn, loggingConfiguration: root.loggingConfiguration, tracingConfiguration: { enabled: true }, publish: true });
      expect(part.versionDescription).toMatch(/^1 \(definition [0-9a-f]{16}\)$/);
    }
    // Only the root has `live`: a part is started by its parent's version only.
    expect(sfn.mock.commandCalls(CreateStateMachineAliasCommand).map((alias) => alias.args[0].input.routingConfiguration?.[0]?.stateMachineVersionArn)).toEqual([rootArn]);
    expect(sfn.machine('Orch_big_1').aliases.size).toBe(0);
  });

  it("replaces each part's placeholder with that part's version ARN, in the root and in the parts, and the parts' own placeholders as the root's", async () => {
    const { sfn, engine } = setup(splitCompiler());
    const rootArn = await engine.deploy(big());
    const root = definitionOf(sfn, rootArn);
    expect(root.States['part 1']!.Parameters!.StateMachineArn).toBe(`${MACHINES}Orch_big_1:1`);
    expect(root.States['part 3']!.Parameters!.StateMachineArn).toBe(`${MACHINES}Orch_big_3:1`);
    const part1 = definitionOf(sfn, `${MACHINES}Orch_big_1:1`);
    expect(part1.States['part 2']!.Parameters!.StateMachineArn).toBe(`${MACHINES}Orch_big_2:1`);
    expect(part1.States['x']!.Parameters!.FunctionName).toBe(RUNNER);
    for (const name of ['Orch-big', 'Orch_big_1', 'Orch_big_2', 'Orch_big_3']) expect(sfn.machine(name).definition).not.toContain('${');
  });

  it('publishes nothing when the version is deployed again from another container, and pins a new version to new part versions', async () => {
    const { sfn, engine, coldEngine } = setup(splitCompiler());
    const first = await engine.deploy(big());
    sfn.resetHistory();
    expect(await coldEngine().deploy(big())).toBe(first);
    expect(sfn.commandNames().filter((name) => /^(Create|Update|Publish)/.test(name))).toEqual([]);

    // Version 2 changes part 2: its parent (part 1) and the root follow with new versions of their own.
    const next = setup(splitCompiler('b2'));
    for (const [name, machine] of sfn.machines) next.sfn.machines.set(name, machine);
    const second = await next.engine.deploy(big(2));
    expect(second).toBe(`${MACHINES}Orch-big:2`);
    expect(definitionOf(sfn, `${MACHINES}Orch_big_1:2`).States['part 2']!.Parameters!.StateMachineArn).toBe(`${MACHINES}Orch_big_2:2`);
    expect(definitionOf(sfn, second).States['part 1']!.Parameters!.StateMachineArn).toBe(`${MACHINES}Orch_big_1:2`);
    // A run of version 1 still starts version 1's parts.
    expect(definitionOf(sfn, first).States['part 1']!.Parameters!.StateMachineArn).toBe(`${MACHINES}Orch_big_1:1`);
    expect(sfn.liveVersion('Orch-big')?.arn).toBe(second);
  });

  it("publishes a rerun variant's parts beside the version's, under the rerun description, and starts the variant's root", async () => {
    const source: Execution = {
      execution_id: 'exec-1', workflow_id: 'big', workflow_version: 1, tenant: 'default', status: 'failed', parameters: {}, trace_id: '0'.repeat(32), started_by: 'alice', created_at: '2026-11-25T10:00:00.000Z',
      actions: [{ action_id: 'a', action_type: 'service_call', status: 'completed', attempts: 1, output: { status_code: 200, response: {} } }],
    };
    const { sfn, engine } = setup(splitCompiler(), [big()], [source]);
    await engine.deploy(big());
    sfn.resetHistory();
    await engine.resume({ ...source, execution_id: 'exec-2', status: 'running', actions: [] }, big(), { from: 'exec-1', actions: new Set(['a']), partialForeach: false });

    const updates = sfn.mock.commandCalls(UpdateStateMachineCommand).map((update) => update.args[0].input);
    expect(updates.map((input) => input.stateMachineArn)).toEqual([`${MACHINES}Orch_big_3`, `${MACHINES}Orch_big_2`, `${MACHINES}Orch_big_1`, `${MACHINES}Orch-big`]);
    for (const update of updates) {
      expect(update.versionDescription).toMatch(/^1 rerun \(definition [0-9a-f]{16}\)$/);
      expect(update.definition).toContain('(rerun)');
    }
    const variant = definitionOf(sfn, `${MACHINES}Orch-big:2`);
    expect(variant.States['part 1']!.Parameters!.StateMachineArn).toBe(`${MACHINES}Orch_big_1:2`);
    expect(sfn.executions.get('arn:aws:states:us-east-1:123456789012:execution:Orch-big:exec-2')?.versionArn).toBe(`${MACHINES}Orch-big:2`);
    // `live` stays on the version; a second rerun publishes nothing.
    expect(sfn.liveVersion('Orch-big')?.arn).toBe(`${MACHINES}Orch-big:1`);
    sfn.resetHistory();
    await engine.resume({ ...source, execution_id: 'exec-3', status: 'running', actions: [] }, big(), { from: 'exec-1', actions: new Set(['a']), partialForeach: false });
    expect(sfn.commandNames().filter((name) => /^(Create|Update|Publish)/.test(name))).toEqual([]);
  });

  it('deploys a compiled workflow of 1,000 actions: every part a machine, every start pinned to a part version, no placeholder left', async () => {
    const large = storedWorkflow('large', {}, workflow(largeWorkflow(1000).actions) as unknown as WorkflowDefinitionInput);
    const compiled = compileWorkflow(large);
    expect(compiled.children.length).toBeGreaterThan(3);
    const compiler: StepFunctionsCompiler = { hasRedriveGate, executionInput, compile: (target, options) => compileWorkflow(target, options) };
    const { sfn, engine } = setup(compiler);
    await engine.deploy(large);
    expect([...sfn.machines.keys()].sort()).toEqual(['Orch-large', ...compiled.children.map((child) => `Orch_large_${child.part}`)].sort());
    const starts: string[] = [];
    for (const machine of sfn.machines.values()) {
      expect(machine.definition).not.toMatch(/\$\{[^}]+\}/);
      for (const match of machine.definition.matchAll(/"StateMachineArn":"([^"]+)"/g)) starts.push(match[1]!);
    }
    expect(starts.sort()).toEqual(compiled.children.map((child) => `${MACHINES}Orch_large_${child.part}:1`).sort());
  });
});

describe('StepFunctionsWorkflowEngine: retrying a split run', () => {
  const sfn = mockClient(SFNClient);
  const engine = new StepFunctionsWorkflowEngine({
    client: new SFNClient({ region: 'us-east-1' }),
    config: TEST_ENGINE_CONFIG,
    compiler: { compile: (target, options) => compileWorkflow(target, options), executionInput, hasRedriveGate },
    executions: { get: async () => undefined },
    loadWorkflow: async () => undefined,
  });
  beforeEach(() => sfn.reset());
  const rootVersion = `${MACHINES}Orch-big:1`;
  /** A deployed root: action `head` in it, the rest in part 1, which it starts by version. */
  const root = JSON.stringify({
    StartAt: 'head',
    States: {
      head: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Next: 'part 1', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'head: failed' }] },
      'head: failed': { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true },
      'part 1': { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution.sync:2', Parameters: { StateMachineArn: `${MACHINES}Orch_big_1:1` }, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'part 1: failed' }], End: true },
      'part 1: failed': { Type: 'Pass', Next: 'part 1: fail' },
      'part 1: fail': { Type: 'Fail', ErrorPath: '$.failures.part.child.Error', CausePath: '$.failures.part.child.Cause' },
    },
  });
  const failedAt = (actionId: string, status: Execution['status'] = 'failed'): Execution => ({
    execution_id: 'exec-1', workflow_id: 'big', workflow_version: 1, tenant: 'default', status, parameters: {}, trace_id: '0'.repeat(32), started_by: 'alice', created_at: '2026-11-25T10:00:00.000Z', actions: [],
    ...(status === 'failed' ? { error: { action_id: actionId, error: 'ActionFailed', cause: `action ${actionId} failed: x: y` } } : {}),
  });

  it('refuses, with a 409 that says to rerun from the failed action, a run that failed at an action inside a part', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ redriveStatus: 'REDRIVABLE', stateMachineVersionArn: rootVersion });
    sfn.on(DescribeStateMachineCommand).resolves({ definition: root });
    const refusal = await engine.assertRetryable(failedAt('deep')).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ConflictError);
    const message = (refusal as Error).message;
    expect(message).toContain('failed at action deep, which runs in a child state machine');
    expect(message).toContain('from_action "deep"');
    expect(message).toContain('reuses the results');
    expect(message).not.toContain('compiled before');
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
  });

  it("retries a split run that failed at an action of the root (its gate is in the root), and refuses a stopped one whose part may have been cut off", async () => {
    sfn.on(DescribeExecutionCommand).resolves({ redriveStatus: 'REDRIVABLE', stateMachineVersionArn: rootVersion });
    sfn.on(DescribeStateMachineCommand).resolves({ definition: root });
    await engine.assertRetryable(failedAt('head'));
    const refusal = await engine.assertRetryable(failedAt('', 'cancelled')).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ConflictError);
    expect((refusal as Error).message).toContain('from_action');
  });

  it('keeps the message for versions compiled before the failure gate when the run is not split', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ redriveStatus: 'REDRIVABLE', stateMachineVersionArn: `${MACHINES}Orch-small:1` });
    sfn.on(DescribeStateMachineCommand).resolves({ definition: JSON.stringify({ StartAt: 'a', States: { a: { Type: 'Task', Resource: 'x', End: true }, 'a: failed': { Type: 'Fail' } } }) });
    const refusal = await engine.assertRetryable({ ...failedAt('a'), workflow_id: 'small' }).catch((error: unknown) => error);
    expect((refusal as Error).message).toContain('compiled before runs could be retried');
    // A stopped run of a workflow in one machine is retried as before.
    await engine.assertRetryable({ ...failedAt('', 'cancelled'), workflow_id: 'small' });
  });
});
