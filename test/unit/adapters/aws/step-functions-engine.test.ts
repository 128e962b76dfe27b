import {
  CreateStateMachineAliasCommand,
  CreateStateMachineCommand,
  ExecutionLimitExceeded,
  StartExecutionCommand,
  StateMachineDeleting,
  SFNServiceException,
  StopExecutionCommand,
  UpdateStateMachineAliasCommand,
  UpdateStateMachineCommand,
  type CreateStateMachineCommandInput,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { parseStepFunctionsEngineConfig, ENGINE_ENVIRONMENT, type StepFunctionsEngineConfig } from '../../../../adapters/aws/stepfunctions/config.ts';
import { StepFunctionsWorkflowEngine, type StepFunctionsCompiler, type StepFunctionsEngineDeps } from '../../../../adapters/aws/stepfunctions/step-functions-engine.ts';
import { checkNamePrefix, stateMachineName, workflowVersionOf } from '../../../../adapters/aws/stepfunctions/names.ts';
import { ConflictError, DependencyUnavailableError, NotFoundError } from '../../../../core/errors.ts';
import type { Execution } from '../../../../core/execution/model.ts';
import type { WorkflowDefinitionInput } from '../../../../core/workflow/definition.ts';
import type { Workflow } from '../../../../core/workflow/model.ts';
import { compileWorkflow, executionInput } from '../../../../statemachines/compile.ts';
import { hasRedriveGate } from '../../../../statemachines/inspect.ts';
import { createWorkflowDeployer } from '../../../../functions/workers/workflow-deployer.ts';
import { storedWorkflow } from '../../../support/workflows.ts';
import { notification, param, serviceCall, subWorkflow, workflow, type WorkflowInput } from '../../statemachines/support/workflows.ts';
import { FakeStepFunctions } from './support/fake-step-functions.ts';
import { TEST_ENGINE_CONFIG } from './support/engine-config.ts';

const config: StepFunctionsEngineConfig = TEST_ENGINE_CONFIG;
const MACHINES = 'arn:aws:states:us-east-1:123456789012:stateMachine:';

const compiler: StepFunctionsCompiler = {
  hasRedriveGate,
  compile: (target) => {
    const compiled = compileWorkflow(target);
    return { definition: compiled.definition, executionMode: compiled.executionMode };
  },
  executionInput,
};

function stored(id: string, input: WorkflowInput, overrides: Partial<Workflow> = {}): Workflow {
  return storedWorkflow(id, overrides, input as unknown as WorkflowDefinitionInput);
}

/** A service call (runner + dead-letter queue) and a notification (bus): every fixed placeholder. */
const orders = (version = 1, overrides: Partial<Workflow> = {}) =>
  stored('orders', workflow([serviceCall('charge', { amount: '{{amount}}' }), notification('tell', 'charged {{amount}}', ['charge'])], [param('amount', 'integer')]), { version, ...overrides });

function executionOf(target: Workflow, id = 'exec-1', parameters: Record<string, unknown> = { amount: 42 }): Execution {
  return {
    execution_id: id,
    workflow_id: target.workflow_id,
    workflow_version: target.version,
    tenant: target.tenant,
    status: 'pending',
    parameters,
    trace_id: '0'.repeat(32),
    started_by: 'alice',
    created_at: '2026-11-25T10:00:00.000Z',
    actions: [],
  };
}

function setup(workflows: Workflow[] = [], executions: Execution[] = []) {
  const sfn = new FakeStepFunctions();
  const deps: StepFunctionsEngineDeps = {
    client: sfn.client,
    config,
    compiler,
    executions: { get: async (id) => executions.find((execution) => execution.execution_id === id) },
    loadWorkflow: async (id, version) => {
      const candidates = workflows.filter((candidate) => candidate.workflow_id === id);
      if (version === undefined) return candidates.sort((a, b) => b.version - a.version)[0];
      return candidates.find((candidate) => candidate.version === version);
    },
  };
  // `coldEngine`: another Lambda container, same account, empty caches.
  return { sfn, engine: new StepFunctionsWorkflowEngine(deps), coldEngine: () => new StepFunctionsWorkflowEngine(deps) };
}

/** An error the SDK raises for codes the Step Functions model does not list (throttling, access denied...). */
function serviceError(name: string, message: string, fault: 'client' | 'server' = 'client'): SFNServiceException {
  return new SFNServiceException({ name, message, $fault: fault, $metadata: {} });
}

function createRequests(sfn: FakeStepFunctions): CreateStateMachineCommandInput[] {
  return sfn.mock.commandCalls(CreateStateMachineCommand).map((call) => call.args[0].input);
}

describe('StepFunctionsWorkflowEngine: the first run of a workflow', () => {
  it('creates the state machine <prefix>-<workflow_id> as STANDARD, logged and traced, running as the execution role, and publishes version 1', async () => {
    const { sfn, engine } = setup();
    await engine.start(executionOf(orders()), orders());
    const [request] = createRequests(sfn);
    expect(request).toMatchObject({
      name: 'Orch-orders',
      type: 'STANDARD',
      roleArn: config.executionRoleArn,
      publish: true,
      tracingConfiguration: { enabled: true },
      loggingConfiguration: { level: 'ERROR', includeExecutionData: false, destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: config.logGroupArn } }] },
    });
    expect(workflowVersionOf(request?.versionDescription)).toBe(1);
    expect(createRequests(sfn)).toHaveLength(1);
  });

  it('substitutes every placeholder: the runner ARN, the bus name and the dead-letter queue URL, leaving no ${ in the definition', async () => {
    const { sfn, engine } = setup();
    await engine.start(executionOf(orders()), orders());
    const definition = createRequests(sfn)[0]!.definition!;
    expect(definition).not.toContain('${');
    const parsed = JSON.parse(definition) as { States: Record<string, { Parameters?: Record<string, unknown> }> };
    expect(parsed.States['charge']?.Parameters?.['FunctionName']).toBe(config.actionRunnerFunctionArn);
    expect(parsed.States['charge: dead letter']?.Parameters?.['QueueUrl']).toBe(config.deadLetterQueueUrl);
    expect(JSON.stringify(parsed.States['tell'])).toContain(`"EventBusName":"${config.eventBusName}"`);
  });

  it('points the alias live at the new version', async () => {
    const { sfn, engine } = setup();
    await engine.start(executionOf(orders()), orders());
    const aliases = sfn.mock.commandCalls(CreateStateMachineAliasCommand).map((call) => call.args[0].input);
    expect(aliases).toEqual([{ name: 'live', routingConfiguration: [{ stateMachineVersionArn: `${MACHINES}Orch-orders:1`, weight: 100 }], description: expect.any(String) }]);
  });

  it('starts the execution on the version ARN, named by the execution id, with the compiled input', async () => {
    const { sfn, engine } = setup();
    await engine.start(executionOf(orders(), 'exec-1', { amount: 42 }), orders());
    expect(sfn.mock.commandCalls(StartExecutionCommand).map((call) => call.args[0].input)).toEqual([
      { stateMachineArn: `${MACHINES}Orch-orders:1`, name: 'exec-1', input: JSON.stringify({ params: { amount: 42 }, results: {}, failures: {}, trace_id: '0'.repeat(32) }) },
    ]);
  });

  it('creates an EXPRESS state machine for execution_mode express, logging every event (its only record of a run)', async () => {
    const { sfn, engine } = setup();
    const fast = stored('fast', workflow([serviceCall('ping')], [], { execution_mode: 'express' }));
    await engine.start(executionOf(fast), fast);
    expect(createRequests(sfn)[0]).toMatchObject({ name: 'Orch-fast', type: 'EXPRESS', loggingConfiguration: { level: 'ALL', includeExecutionData: true } });
  });
});

describe('StepFunctionsWorkflowEngine: versions', () => {
  it('sends only StartExecution for further runs of a version this container has deployed', async () => {
    const { sfn, engine } = setup();
    await engine.start(executionOf(orders(), 'exec-1'), orders());
    sfn.resetHistory();
    await engine.start(executionOf(orders(), 'exec-2'), orders());
    expect(sfn.commandNames()).toEqual(['StartExecution']);
  });

  it('publishes nothing from a fresh container when the version is already live: it reads the alias and its version', async () => {
    const { sfn, engine, coldEngine } = setup();
    await engine.start(executionOf(orders(), 'exec-1'), orders());
    sfn.resetHistory();
    await coldEngine().start(executionOf(orders(), 'exec-2'), orders());
    expect(sfn.commandNames()).toEqual(['DescribeStateMachineAlias', 'DescribeStateMachine', 'StartExecution']);
    expect(sfn.machine('Orch-orders').versions).toHaveLength(1);
  });

  it('publishes a new workflow version as the next state machine version and moves live to it', async () => {
    const { sfn, engine } = setup();
    await engine.start(executionOf(orders(1), 'exec-1'), orders(1));
    const v2 = stored('orders', workflow([serviceCall('charge', { amount: '{{amount}}', currency: 'EUR' })], [param('amount', 'integer')]), { version: 2 });
    await engine.start(executionOf(v2, 'exec-2'), v2);

    const [update] = sfn.mock.commandCalls(UpdateStateMachineCommand).map((call) => call.args[0].input);
    expect(update).toMatchObject({ stateMachineArn: `${MACHINES}Orch-orders`, publish: true, roleArn: config.executionRoleArn, tracingConfiguration: { enabled: true } });
    expect(workflowVersionOf(update?.versionDescription)).toBe(2);
    expect(update?.definition).not.toContain('${');
    expect(sfn.mock.commandCalls(UpdateStateMachineAliasCommand).map((call) => call.args[0].input)).toEqual([
      { stateMachineAliasArn: `${MACHINES}Orch-orders:live`, routingConfiguration: [{ stateMachineVersionArn: `${MACHINES}Orch-orders:2`, weight: 100 }] },
    ]);
    expect(sfn.executions.get('arn:aws:states:us-east-1:123456789012:execution:Orch-orders:exec-2')?.versionArn).toBe(`${MACHINES}Orch-orders:2`);
  });

  it('runs an older version on its own published version without publishing it again or moving live back', async () => {
    const { sfn, engine, coldEngine } = setup();
    const v2 = orders(2, { actions: orders().actions.slice(0, 1) });
    await engine.start(executionOf(orders(1), 'exec-1'), orders(1));
    await engine.start(executionOf(v2, 'exec-2'), v2);
    sfn.resetHistory();

    await coldEngine().start(executionOf(orders(1), 'exec-3'), orders(1));
    expect(sfn.mock.commandCalls(UpdateStateMachineCommand)).toHaveLength(0);
    expect(sfn.mock.commandCalls(UpdateStateMachineAliasCommand)).toHaveLength(0);
    expect(sfn.executions.get('arn:aws:states:us-east-1:123456789012:execution:Orch-orders:exec-3')?.versionArn).toBe(`${MACHINES}Orch-orders:1`);
    expect(sfn.liveVersion('Orch-orders')?.arn).toBe(`${MACHINES}Orch-orders:2`);
  });

  it('publishes an older version that was never deployed without moving live back', async () => {
    const { sfn, engine } = setup();
    const v2 = orders(2, { actions: orders().actions.slice(0, 1) });
    await engine.start(executionOf(v2, 'exec-2'), v2);
    await engine.start(executionOf(orders(1), 'exec-1'), orders(1));
    expect(sfn.machine('Orch-orders').versions.map((version) => workflowVersionOf(version.description))).toEqual([2, 1]);
    expect(workflowVersionOf(sfn.liveVersion('Orch-orders')?.description)).toBe(2);
  });

  it('never runs a stale definition: a workflow created again under the same id gets a version of its own', async () => {
    const { sfn, engine, coldEngine } = setup();
    await engine.start(executionOf(orders(1), 'exec-1'), orders(1));
    const recreated = stored('orders', workflow([serviceCall('refund')]), { version: 1, created_at: '2026-12-01T00:00:00.000Z' });
    await coldEngine().start(executionOf(recreated, 'exec-2', {}), recreated);
    const versions = sfn.machine('Orch-orders').versions;
    expect(versions).toHaveLength(2);
    expect(sfn.executions.get('arn:aws:states:us-east-1:123456789012:execution:Orch-orders:exec-2')?.versionArn).toBe(versions[1]!.arn);
    expect(versions[1]!.definition).toContain('/refund');
  });

  it('publishes once when many runs of a new version start at the same time in one container', async () => {
    const { sfn, engine } = setup();
    await Promise.all(['a', 'b', 'c', 'd'].map((id) => engine.start(executionOf(orders(), id), orders())));
    expect(createRequests(sfn)).toHaveLength(1);
    expect(sfn.mock.commandCalls(StartExecutionCommand)).toHaveLength(4);
  });

  it('deploys again when a remembered version was deleted with its state machine', async () => {
    const { sfn, engine } = setup();
    await engine.start(executionOf(orders(), 'exec-1'), orders());
    sfn.delete('Orch-orders');
    await engine.start(executionOf(orders(), 'exec-2'), orders());
    expect(createRequests(sfn)).toHaveLength(2);
    expect(sfn.executions.get('arn:aws:states:us-east-1:123456789012:execution:Orch-orders:exec-2')).toBeDefined();
  });

  it('refuses a version whose execution mode differs from the state machine type (fixed at creation) with ConflictError', async () => {
    const { engine } = setup();
    await engine.start(executionOf(orders(1), 'exec-1'), orders(1));
    const express = orders(2, { execution_mode: 'express' });
    await expect(engine.start(executionOf(express, 'exec-2'), express)).rejects.toBeInstanceOf(ConflictError);
  });
});

describe('StepFunctionsWorkflowEngine: sub-workflows', () => {
  const child1 = stored('child', workflow([serviceCall('work')]), { version: 1 });
  const child2 = stored('child', workflow([serviceCall('work', { more: true })]), { version: 2 });
  const parent = stored('parent', workflow([subWorkflow('latest', { workflow_id: 'child' }, {}), subWorkflow('pinned', { workflow_id: 'child', version: 1 }, {})]));

  it("calls ${Workflow:<id>} through the child's live alias and ${Workflow:<id>:<version>} through that version, deploying both first", async () => {
    const { sfn, engine } = setup([child1, child2, parent]);
    await engine.start(executionOf(parent, 'exec-1', {}), parent);
    const parentRequest = createRequests(sfn).find((request) => request.name === 'Orch-parent');
    const definition = parentRequest!.definition!;
    const pinned = sfn.machine('Orch-child').versions.find((version) => workflowVersionOf(version.description) === 1);
    const targets = [...definition.matchAll(/"StateMachineArn":"([^"]+)"/g)].map((match) => match[1]).sort();
    expect(pinned).toBeDefined();
    expect(targets).toEqual([pinned!.arn, `${MACHINES}Orch-child:live`].sort());
    expect(parentRequest!.definition).not.toContain('${');
    expect(workflowVersionOf(sfn.liveVersion('Orch-child')?.description)).toBe(2);
  });

  it('lets a workflow call itself through its own alias', async () => {
    const recursive = stored('loop', workflow([subWorkflow('again', { workflow_id: 'loop' }, {})]));
    const { sfn, engine } = setup([recursive]);
    await engine.start(executionOf(recursive, 'exec-1', {}), recursive);
    expect(createRequests(sfn)[0]!.definition).toContain(`${MACHINES}Orch-loop:live`);
  });

  it('refuses to start when a sub-workflow does not exist (NotFoundError), creating nothing', async () => {
    const { sfn, engine } = setup([parent]);
    await expect(engine.start(executionOf(parent, 'exec-1', {}), parent)).rejects.toBeInstanceOf(NotFoundError);
    expect(createRequests(sfn)).toHaveLength(0);
  });
});

describe('StepFunctionsWorkflowEngine: idempotency and stopping', () => {
  it('treats ExecutionAlreadyExists as success: the run with that name is this execution', async () => {
    const { sfn, engine } = setup();
    await engine.start(executionOf(orders(), 'exec-1'), orders());
    await expect(engine.start(executionOf(orders(), 'exec-1'), orders())).resolves.toBeUndefined();
    expect(sfn.executions.size).toBe(1);
  });

  it("stops an execution by its ARN under the workflow's state machine, with the reason as cause", async () => {
    const execution = executionOf(orders(), 'exec-1');
    const { sfn, engine } = setup([], [execution]);
    await engine.start(execution, orders());
    await engine.stop('exec-1', 'cancelled by alice');
    expect(sfn.mock.commandCalls(StopExecutionCommand).map((call) => call.args[0].input)).toEqual([
      { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Orch-orders:exec-1', error: 'Cancelled', cause: 'cancelled by alice' },
    ]);
  });

  it('ignores stopping an execution Step Functions does not have (its start never got there)', async () => {
    const { engine } = setup([], [executionOf(orders(), 'exec-1')]);
    await expect(engine.stop('exec-1', 'cancelled by alice')).resolves.toBeUndefined();
  });

  it('refuses to stop an execution the store does not know (NotFoundError)', async () => {
    const { engine } = setup();
    await expect(engine.stop('nope', 'cancelled by alice')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('StepFunctionsWorkflowEngine: SDK errors become domain errors', () => {
  const cases = [
    { error: serviceError('ThrottlingException', 'Rate exceeded'), expected: DependencyUnavailableError },
    { error: new ExecutionLimitExceeded({ message: 'too many executions', $metadata: {} }), expected: DependencyUnavailableError },
    { error: new StateMachineDeleting({ message: 'being deleted', $metadata: {} }), expected: ConflictError },
    { error: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), expected: DependencyUnavailableError },
    { error: serviceError('InternalServerError', 'Internal', 'server'), expected: DependencyUnavailableError },
  ];
  it.each(cases)('StartExecution failing with $error.name becomes $expected.name', async ({ error, expected }) => {
    const { sfn, engine } = setup();
    await engine.deploy(orders());
    sfn.mock.on(StartExecutionCommand).rejects(error);
    const failure = await engine.start(executionOf(orders()), orders()).catch((caught: unknown) => caught);
    expect(failure).toBeInstanceOf(expected);
    expect((failure as Error).cause).toBe(error);
  });

  it('lets a missing permission through unchanged (a deployment bug, reported as a 500)', async () => {
    const { sfn, engine } = setup();
    const denied = serviceError('AccessDeniedException', 'not authorized to perform: states:CreateStateMachine');
    sfn.mock.on(CreateStateMachineCommand).rejects(denied);
    await expect(engine.start(executionOf(orders()), orders())).rejects.toBe(denied);
  });

  it('maps a throttled deploy to DependencyUnavailableError (retryable)', async () => {
    const { sfn, engine } = setup();
    sfn.mock.on(CreateStateMachineCommand).rejects(serviceError('ThrottlingException', 'Rate exceeded'));
    const failure = await engine.start(executionOf(orders()), orders()).catch((caught: unknown) => caught);
    expect(failure).toBeInstanceOf(DependencyUnavailableError);
    expect((failure as DependencyUnavailableError).retryable).toBe(true);
  });
});

describe('state machine names and configuration', () => {
  it('keeps long workflow ids within the 80 characters Step Functions allows, distinct and recognisable', () => {
    const long = 'a'.repeat(128);
    const name = stateMachineName('Orchestrator', long);
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name.startsWith('Orchestrator-aaaa')).toBe(true);
    expect(stateMachineName('Orchestrator', `${long.slice(0, 127)}b`)).not.toBe(name);
    expect(stateMachineName('Orchestrator', 'orders')).toBe('Orchestrator-orders');
  });

  it('refuses a prefix Step Functions names or the IAM patterns could not use', () => {
    expect(() => checkNamePrefix('Orchestrator')).not.toThrow();
    expect(() => checkNamePrefix('bad_prefix')).toThrow();
    expect(() => checkNamePrefix('x'.repeat(41))).toThrow();
  });

  it('reads its configuration from the environment CDK sets, naming every variable that is missing or wrong', () => {
    const env = Object.fromEntries(Object.entries(ENGINE_ENVIRONMENT).map(([field, variable]) => [variable, String(config[field as keyof StepFunctionsEngineConfig])]));
    expect(parseStepFunctionsEngineConfig(env)).toEqual(config);
    const broken = { ...env, [ENGINE_ENVIRONMENT.logGroupArn]: 'arn:aws:logs:us-east-1:123456789012:log-group:x', [ENGINE_ENVIRONMENT.executionRoleArn]: undefined };
    expect(() => parseStepFunctionsEngineConfig(broken)).toThrow(new RegExp(`${ENGINE_ENVIRONMENT.logGroupArn}.*${ENGINE_ENVIRONMENT.executionRoleArn}|${ENGINE_ENVIRONMENT.executionRoleArn}.*${ENGINE_ENVIRONMENT.logGroupArn}`));
  });
});

describe('the workflow deployer: a published version becomes a state machine version before its first run', () => {
  const event = (workflowId: string, version: number) => ({
    source: '/orchestrator/workflows' as const,
    'detail-type': 'orchestrator.workflow.version_published' as const,
    detail: { event_id: 'e-1', type: 'orchestrator.workflow.version_published', tenant: 'default', data: { workflow_id: workflowId, version } },
  });
  const deployer = (workflows: Workflow[]) => {
    const { sfn, engine } = setup(workflows);
    const loadWorkflow = async (id: string, version: number) => workflows.find((candidate) => candidate.workflow_id === id && candidate.version === version);
    return { sfn, deploy: createWorkflowDeployer({ loadWorkflow, deploy: (target) => engine.deploy(target), log: () => undefined }) };
  };

  it('creates the state machine and publishes the version named by the event, and a redelivery publishes nothing more', async () => {
    const { sfn, deploy } = deployer([orders(1)]);
    const outcome = await deploy(event('orders', 1));
    expect(outcome).toMatchObject({ workflow_id: 'orders', version: 1, deployed: true, state_machine_version_arn: expect.stringMatching(/:stateMachine:Orch-orders:1$/) });
    expect(createRequests(sfn)).toHaveLength(1);
    await deploy(event('orders', 1));
    expect(createRequests(sfn)).toHaveLength(1);
    expect(sfn.mock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('moves the live alias to a newer version', async () => {
    const { sfn, deploy } = deployer([orders(1), orders(2)]);
    await deploy(event('orders', 1));
    const second = await deploy(event('orders', 2));
    expect(second).toMatchObject({ deployed: true, state_machine_version_arn: expect.stringMatching(/:2$/) });
    expect(sfn.mock.commandCalls(UpdateStateMachineAliasCommand).at(-1)?.args[0].input.routingConfiguration).toEqual([{ stateMachineVersionArn: second.deployed ? second.state_machine_version_arn : '', weight: 100 }]);
  });

  it('deploys nothing for a workflow deleted since, and refuses an event that is not a published version', async () => {
    const { sfn, deploy } = deployer([]);
    expect(await deploy(event('gone', 3))).toEqual({ workflow_id: 'gone', version: 3, deployed: false, reason: expect.stringMatching(/no longer exists/) });
    expect(createRequests(sfn)).toHaveLength(0);
    await expect(deploy({ ...event('orders', 1), 'detail-type': 'orchestrator.workflow.deleted' } as never)).rejects.toThrow(/orchestrator\.workflow\.version_published/);
  });
});
