import { createHash } from 'node:crypto';
import {
  CreateStateMachineAliasCommand,
  CreateStateMachineCommand,
  DescribeStateMachineAliasCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ListStateMachineVersionsCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  UpdateStateMachineAliasCommand,
  UpdateStateMachineCommand,
  type LoggingConfiguration,
  type SFNClient,
  type StateMachineType,
} from '@aws-sdk/client-sfn';
import { ConflictError, DomainError, NotFoundError, WorkflowErrorName } from '../../../core/errors.ts';
import { releaseParkedCalls, type ParkedCallStore, type TaskTokens } from '../../../core/execution/held-calls.ts';
import type { Execution } from '../../../core/execution/model.ts';
import type { ExecutionStore, ReuseRequest, WorkflowEngine } from '../../../core/ports.ts';
import type { ExecutionMode } from '../../../core/workflow/definition.ts';
import type { Workflow } from '../../../core/workflow/model.ts';
import type { StepFunctionsEngineConfig } from './config.ts';
import { reuseMap } from './rerun-input.ts';
import { sdkErrorName, translateStepFunctionsError } from './errors.ts';
import { aliasArn, executionArn, LIVE_ALIAS, stateMachineArn, stateMachineName, versionDescription, workflowVersionOf } from './names.ts';

/** What the engine needs from the compiler (injected: adapters do not import `statemachines/`). */
export interface StepFunctionsCompiler {
  /** The workflow version as ASL, with `${...}` placeholders for account resources, and its execution mode. */
  compile(workflow: Workflow, options?: { readonly reuse?: boolean }): { readonly definition: object; readonly executionMode: ExecutionMode };
  /** The input a compiled machine expects (`executionInput` of statemachines/compile.ts). */
  executionInput(params: Record<string, unknown>, traceId: string): Record<string, unknown>;
  /**
   * Whether a deployed definition (JSON text) ends a failure of the action in the redrive gate, so that a
   * redrive resumes it (`hasRedriveGate` of statemachines/inspect.ts); false for older versions' Fail states.
   */
  hasRedriveGate(definition: string | undefined, actionId: string): boolean;
}

export interface StepFunctionsEngineDeps {
  readonly client: SFNClient;
  readonly config: StepFunctionsEngineConfig;
  readonly compiler: StepFunctionsCompiler;
  /** Step Functions names executions by id only; stopping one needs its workflow, read from here. */
  readonly executions: Pick<ExecutionStore, 'get'>;
  /** Another workflow (current version, or the given one) for `sub_workflow` actions: it is deployed too. */
  readonly loadWorkflow: (workflowId: string, version?: number) => Promise<Workflow | undefined>;
  /** Where paused runs' calls are parked and how they are let go (ADR 0012). Without it, pausing is refused. */
  readonly pause?: { readonly parkedCalls: ParkedCallStore; readonly tokens: TaskTokens };
}

/** Why a run was stopped, as Step Functions records it (and the status listener reads it back). */
export const STOPPED_ERROR = 'Cancelled';

const PLACEHOLDER = /^\$\{([^}]+)\}$/;
const WORKFLOW_PLACEHOLDER = /^Workflow:([A-Za-z0-9_-]+)(?::([1-9][0-9]*))?$/;

interface LiveTarget {
  readonly versionArn: string;
  readonly description: string | undefined;
}

interface MachineRequest {
  readonly type: StateMachineType;
  readonly fields: {
    readonly definition: string;
    readonly roleArn: string;
    readonly loggingConfiguration: LoggingConfiguration;
    readonly tracingConfiguration: { readonly enabled: boolean };
    readonly publish: true;
    readonly versionDescription: string;
  };
}

/**
 * The WorkflowEngine on AWS Step Functions. Each workflow is one state machine (`<prefix>-<workflow_id>`),
 * each workflow version one published state machine version (its description is the workflow version), and
 * the alias `live` follows the newest version deployed. A run is `StartExecution` on the version ARN, named
 * by the execution id, so a repeated start is idempotent.
 *
 * Deploying is lazy and idempotent: the first start of a version (in each Lambda container) compiles it,
 * substitutes the placeholders, and looks for a published version with the same description (workflow
 * version + fingerprint of the definition and settings): first the alias's target, then the versions newest
 * first. It publishes only when there is none. Step Functions' own idempotency compares with the state
 * machine's current revision only, so publishing an older definition again would otherwise add a version.
 */
export class StepFunctionsWorkflowEngine implements WorkflowEngine {
  private readonly deps: StepFunctionsEngineDeps;
  /** `<workflow_id>:<version>` -> version ARN, for this container's lifetime (versions are immutable). */
  private readonly versionArns = new Map<string, string>();
  /** Deploys in flight in this container, so concurrent starts of one version publish once. */
  private readonly deploying = new Map<string, Promise<string>>();
  /** Version ARN -> its description (immutable). */
  private readonly descriptions = new Map<string, string | undefined>();

  constructor(deps: StepFunctionsEngineDeps) {
    this.deps = deps;
  }

  async start(execution: Execution, workflow: Workflow): Promise<void> {
    const input = JSON.stringify(this.deps.compiler.executionInput({ ...execution.parameters }, execution.trace_id));
    const run = async () => this.deps.client.send(new StartExecutionCommand({ stateMachineArn: await this.deploy(workflow), name: execution.execution_id, input }));
    try {
      try {
        await run();
      } catch (error) {
        // A version remembered by this container was deleted since (with its workflow): deploy it again.
        if (sdkErrorName(error) !== 'StateMachineDoesNotExist') throw error;
        this.forget(workflow);
        await run();
      }
    } catch (error) {
      // The same name was started before (with this input: still running, or already closed). The execution
      // id is unique per stored execution, so that run is this one.
      if (sdkErrorName(error) === 'ExecutionAlreadyExists') return;
      if (error instanceof DomainError) throw error;
      throw translateStepFunctionsError(error, `starting execution ${execution.execution_id} of workflow ${workflow.workflow_id} version ${workflow.version}`);
    }
  }

  async stop(executionId: string, reason: string): Promise<void> {
    const execution = await this.deps.executions.get(executionId);
    if (!execution) throw new NotFoundError(`execution ${executionId} not found`, [{ field: 'execution_id', message: `no execution with id ${executionId}` }]);
    const arn = executionArn(this.deps.config, this.nameOf(execution.workflow_id), executionId);
    try {
      // Stopping an execution that already ended changes nothing and succeeds.
      await this.deps.client.send(new StopExecutionCommand({ executionArn: arn, error: STOPPED_ERROR, cause: reason }));
    } catch (error) {
      // Never started (the start failed, or has not reached Step Functions): nothing to stop.
      if (sdkErrorName(error) === 'ExecutionDoesNotExist') return;
      throw translateStepFunctionsError(error, `stopping execution ${executionId}`);
    }
  }

  /**
   * A retry is Step Functions' RedriveExecution: same execution ARN, successful states not run again. It is
   * possible while Step Functions says the execution is REDRIVABLE (a standard workflow, within 14 days of its
   * end). A run that failed at an action ended in the compiler's failure gate (`<id>: failed`), which a
   * redrive passes, going back to the action; versions compiled before the gate existed end in a Fail state,
   * which a redrive would only run again, so those are refused, as is a compensated saga (its end is a Fail
   * state, and its completed actions were undone).
   */
  async assertRetryable(execution: Execution): Promise<void> {
    if (execution.error?.error === WorkflowErrorName.Compensated) {
      throw new ConflictError(`execution ${execution.execution_id} was compensated: its completed actions were undone, so it cannot be resumed; start it again instead`, [
        { field: 'execution_id', message: 'compensated runs cannot be retried' },
      ]);
    }
    const arn = executionArn(this.deps.config, this.nameOf(execution.workflow_id), execution.execution_id);
    let described;
    try {
      described = await this.deps.client.send(new DescribeExecutionCommand({ executionArn: arn }));
    } catch (error) {
      throw translateStepFunctionsError(error, `reading execution ${execution.execution_id}`);
    }
    if (described.redriveStatus !== 'REDRIVABLE') {
      const reason = described.redriveStatusReason ?? `redrive status ${described.redriveStatus ?? 'unknown'}`;
      const window = /redrivable period/i.test(reason) ? ' (Step Functions redrives a run for 14 days after it ends; rerun it with from_action instead)' : '';
      throw new ConflictError(`execution ${execution.execution_id} cannot be retried: ${reason}${window}`, [{ field: 'execution_id', message: `not redrivable: ${reason}` }]);
    }
    const failedAt = execution.error?.error === WorkflowErrorName.ActionFailed ? execution.error.action_id : undefined;
    if (failedAt !== undefined && !(await this.endsInFailureGate(described.stateMachineVersionArn ?? described.stateMachineArn, failedAt))) {
      throw new ConflictError(`execution ${execution.execution_id} failed at action ${failedAt} in a state machine compiled before runs could be retried from a failed action (it ends in a Fail state); start it again instead`, [
        { field: 'execution_id', message: 'its state machine version cannot resume a failed action' },
      ]);
    }
  }

  /** Whether the version the run used ends a failure of `actionId` in the redrivable gate (a Task), not a Fail state. */
  private async endsInFailureGate(versionArn: string | undefined, actionId: string): Promise<boolean> {
    if (versionArn === undefined) return false;
    let definition: string | undefined;
    try {
      definition = (await this.deps.client.send(new DescribeStateMachineCommand({ stateMachineArn: versionArn }))).definition;
    } catch (error) {
      throw translateStepFunctionsError(error, `reading the state machine of ${versionArn}`);
    }
    return this.deps.compiler.hasRedriveGate(definition, actionId);
  }

  /**
   * Step Functions has no pause. Once the run's status is `paused`, the action runner refuses each new call
   * and the compiled state parks it (core/execution/held-calls.ts); calls in flight finish. Nothing is sent
   * to Step Functions here: this only checks that the deployment can let parked calls go again.
   */
  async hold(execution: Execution): Promise<void> {
    if (!this.deps.pause) {
      throw new ConflictError(`pausing a run is not available in this deployment (execution ${execution.execution_id}): the engine has no parked-call store`, [
        { field: 'execution_id', message: 'pause is not configured' },
      ]);
    }
  }

  /** Sends back the task token of every call parked while the run was paused: each is made now. */
  async release(execution: Execution): Promise<void> {
    if (!this.deps.pause) return;
    await releaseParkedCalls(this.deps.pause.parkedCalls, this.deps.pause.tokens, execution.execution_id);
  }

  async resume(execution: Execution, workflow: Workflow, reuse: ReuseRequest): Promise<void> {
    if (reuse.from !== execution.execution_id) return this.rerun(execution, workflow, reuse);
    const arn = executionArn(this.deps.config, this.nameOf(workflow.workflow_id), execution.execution_id);
    try {
      await this.deps.client.send(new RedriveExecutionCommand({ executionArn: arn, clientToken: `${execution.execution_id}-${execution.redrive_count ?? 0}` }));
    } catch (error) {
      if (sdkErrorName(error) === 'ExecutionNotRedrivable') {
        throw new ConflictError(`execution ${execution.execution_id} cannot be retried: ${error instanceof Error ? error.message : String(error)}`, [{ field: 'execution_id', message: 'not redrivable' }]);
      }
      throw translateStepFunctionsError(error, `redriving execution ${execution.execution_id}`);
    }
  }

  /**
   * A rerun is a new execution of the version's rerun variant (compiled with `reuse`: each action takes its
   * result from the input when it is there), published beside the version without moving `live`, with the
   * source run's results of the reused actions in its input. Ordinary runs never pay for the variant.
   */
  private async rerun(execution: Execution, workflow: Workflow, reuse: ReuseRequest): Promise<void> {
    const source = await this.deps.executions.get(reuse.from);
    if (!source) throw new NotFoundError(`execution ${reuse.from} not found`, [{ field: 'execution_id', message: `no execution with id ${reuse.from}` }]);
    const input = JSON.stringify({ ...this.deps.compiler.executionInput({ ...execution.parameters }, execution.trace_id), reuse: reuseMap(source, reuse.actions) });
    const name = this.nameOf(workflow.workflow_id);
    let versionArn: string;
    try {
      const request = await this.machineRequest(workflow, [`${workflow.workflow_id}:${workflow.version}`], { reuse: true });
      const found = await this.findVersion(stateMachineArn(this.deps.config, name), request.fields.versionDescription, undefined);
      if (found === 'no-state-machine') versionArn = await this.create(workflow, name, request);
      else versionArn = found ?? (await this.update(workflow, stateMachineArn(this.deps.config, name), request));
      await this.deps.client.send(new StartExecutionCommand({ stateMachineArn: versionArn, name: execution.execution_id, input }));
    } catch (error) {
      if (sdkErrorName(error) === 'ExecutionAlreadyExists') return;
      if (error instanceof DomainError) throw error;
      throw translateStepFunctionsError(error, `starting rerun ${execution.execution_id} of workflow ${workflow.workflow_id} version ${workflow.version}`);
    }
  }

  /**
   * Makes sure the workflow's version is a published state machine version (creating the state machine and
   * its `live` alias on first use, moving the alias forward when this version is newer), and returns the
   * version ARN. Idempotent; sub-workflows the definition calls are deployed first.
   */
  async deploy(workflow: Workflow): Promise<string> {
    return this.resolveVersion(workflow, []);
  }

  private async resolveVersion(workflow: Workflow, chain: readonly string[]): Promise<string> {
    const key = `${workflow.workflow_id}:${workflow.version}`;
    const known = this.versionArns.get(key);
    if (known) return known;
    if (chain.includes(key)) {
      throw new ConflictError(`workflow ${workflow.workflow_id} version ${workflow.version} calls itself through its sub-workflows`, [
        { field: 'actions', message: `sub_workflow cycle: ${[...chain, key].join(' -> ')}` },
      ]);
    }
    let pending = this.deploying.get(key);
    if (!pending) {
      pending = this.publishIfMissing(workflow, [...chain, key]).finally(() => this.deploying.delete(key));
      this.deploying.set(key, pending);
    }
    const arn = await pending;
    this.versionArns.set(key, arn);
    return arn;
  }

  private async publishIfMissing(workflow: Workflow, chain: readonly string[]): Promise<string> {
    const name = this.nameOf(workflow.workflow_id);
    const machineArn = stateMachineArn(this.deps.config, name);
    const request = await this.machineRequest(workflow, chain);
    const wanted = workflow.version;
    const live = await this.liveTarget(name);
    if (live?.description === request.fields.versionDescription) return live.versionArn;

    // A version newer than the alias's target exists only after a crash or a race between two deploys, so the
    // scan for a newer workflow version stops there; an older one can be anywhere in the list.
    const liveVersion = workflowVersionOf(live?.description);
    const stopAt = live && liveVersion !== undefined && wanted > liveVersion ? live.versionArn : undefined;
    const found = await this.findVersion(machineArn, request.fields.versionDescription, stopAt);
    let versionArn: string;
    if (found === 'no-state-machine') versionArn = await this.create(workflow, name, request);
    else versionArn = found ?? (await this.update(workflow, machineArn, request));
    // `live` only moves forward: starting an older version publishes it without taking the alias back.
    if (!live || liveVersion === undefined || wanted >= liveVersion) await this.pointLiveAlias(name, versionArn, live !== undefined);
    return versionArn;
  }

  /** The version `live` points at, or undefined when there is no alias (or no state machine) yet. */
  private async liveTarget(name: string): Promise<LiveTarget | undefined> {
    try {
      const alias = await this.deps.client.send(new DescribeStateMachineAliasCommand({ stateMachineAliasArn: aliasArn(this.deps.config, name) }));
      const versionArn = alias.routingConfiguration?.[0]?.stateMachineVersionArn;
      if (!versionArn) return undefined;
      return { versionArn, description: await this.describeVersion(versionArn) };
    } catch (error) {
      if (sdkErrorName(error) === 'ResourceNotFound' || sdkErrorName(error) === 'StateMachineDoesNotExist') return undefined;
      throw translateStepFunctionsError(error, `reading the ${LIVE_ALIAS} alias of ${name}`);
    }
  }

  /** Scans versions newest first for the one with `description`, up to (not including) `stopAt`. */
  private async findVersion(machineArn: string, description: string, stopAt: string | undefined): Promise<string | undefined | 'no-state-machine'> {
    let nextToken: string | undefined;
    do {
      let page;
      try {
        page = await this.deps.client.send(new ListStateMachineVersionsCommand({ stateMachineArn: machineArn, nextToken }));
      } catch (error) {
        if (sdkErrorName(error) === 'StateMachineDoesNotExist') return 'no-state-machine';
        throw translateStepFunctionsError(error, `listing the versions of ${machineArn}`);
      }
      for (const version of page.stateMachineVersions ?? []) {
        const arn = version.stateMachineVersionArn;
        if (!arn) continue;
        if (arn === stopAt) return undefined;
        if ((await this.describeVersion(arn)) === description) return arn;
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return undefined;
  }

  private async describeVersion(versionArn: string): Promise<string | undefined> {
    if (this.descriptions.has(versionArn)) return this.descriptions.get(versionArn);
    try {
      const described = await this.deps.client.send(new DescribeStateMachineCommand({ stateMachineArn: versionArn }));
      this.descriptions.set(versionArn, described.description);
      return described.description;
    } catch (error) {
      throw translateStepFunctionsError(error, `describing ${versionArn}`);
    }
  }

  private async create(workflow: Workflow, name: string, request: MachineRequest): Promise<string> {
    try {
      const created = await this.deps.client.send(new CreateStateMachineCommand({ name, type: request.type, ...request.fields }));
      return required(created.stateMachineVersionArn, 'CreateStateMachine returned no version ARN');
    } catch (error) {
      // Created concurrently (by another container) with another definition: publish on it.
      if (sdkErrorName(error) === 'StateMachineAlreadyExists') return this.update(workflow, stateMachineArn(this.deps.config, name), request);
      throw translateStepFunctionsError(error, `creating state machine ${name}`);
    }
  }

  private async update(workflow: Workflow, machineArn: string, request: MachineRequest): Promise<string> {
    try {
      const current = await this.deps.client.send(new DescribeStateMachineCommand({ stateMachineArn: machineArn }));
      // A state machine's type is fixed when it is created.
      if (current.type !== undefined && current.type !== request.type) {
        throw new ConflictError(
          `workflow ${workflow.workflow_id} runs as a ${current.type} state machine; version ${workflow.version} has execution_mode ${workflow.execution_mode}, which needs a ${request.type} one`,
          [{ field: 'execution_mode', message: `the workflow's state machine is ${current.type}; changing execution_mode is not supported yet` }],
        );
      }
      const updated = await this.deps.client.send(new UpdateStateMachineCommand({ stateMachineArn: machineArn, ...request.fields }));
      return required(updated.stateMachineVersionArn, 'UpdateStateMachine returned no version ARN');
    } catch (error) {
      if (error instanceof ConflictError) throw error;
      throw translateStepFunctionsError(error, `publishing workflow ${workflow.workflow_id} version ${workflow.version}`);
    }
  }

  /** What CreateStateMachine / UpdateStateMachine send: the substituted definition and every setting, fingerprinted. */
  private async machineRequest(workflow: Workflow, chain: readonly string[], variant: { readonly reuse?: boolean } = {}): Promise<MachineRequest> {
    const { config, compiler } = this.deps;
    const compiled = compiler.compile(workflow, variant);
    const definition = JSON.stringify(await this.substitute(compiled.definition, chain));
    const type = compiled.executionMode === 'express' ? 'EXPRESS' : 'STANDARD';
    // Express workflows keep no execution history in Step Functions: their log is the only record of a run,
    // which the status listener reads to record its end and settle its actions, so it carries the data.
    // Standard workflows log errors only, without data (parameters and responses stay out of the logs; their
    // history is in Step Functions).
    const loggingConfiguration: LoggingConfiguration = {
      level: type === 'EXPRESS' ? 'ALL' : 'ERROR',
      includeExecutionData: type === 'EXPRESS',
      destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: config.logGroupArn } }],
    };
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([definition, type, config.executionRoleArn, loggingConfiguration]))
      .digest('hex')
      .slice(0, 16);
    return {
      type,
      fields: {
        definition,
        roleArn: config.executionRoleArn,
        loggingConfiguration,
        tracingConfiguration: { enabled: true },
        publish: true,
        versionDescription: versionDescription(workflow.version, fingerprint, variant.reuse ? 'rerun' : undefined),
      },
    };
  }

  private async pointLiveAlias(name: string, versionArn: string, exists: boolean): Promise<void> {
    const routingConfiguration = [{ stateMachineVersionArn: versionArn, weight: 100 }];
    const stateMachineAliasArn = aliasArn(this.deps.config, name);
    try {
      if (!exists) {
        try {
          await this.deps.client.send(new CreateStateMachineAliasCommand({ name: LIVE_ALIAS, routingConfiguration, description: 'the newest deployed workflow version' }));
          return;
        } catch (error) {
          // Created meanwhile, pointing elsewhere: update it below.
          if (sdkErrorName(error) !== 'ConflictException') throw error;
        }
      }
      await this.deps.client.send(new UpdateStateMachineAliasCommand({ stateMachineAliasArn, routingConfiguration }));
    } catch (error) {
      throw translateStepFunctionsError(error, `pointing ${stateMachineAliasArn} at ${versionArn}`);
    }
  }

  /**
   * Replaces the placeholders of a compiled definition: string values that are exactly `${...}` (the compiler
   * emits them as whole values; text users wrote is left alone). `${Workflow:<id>}` becomes the sub-workflow's
   * `live` alias ARN and `${Workflow:<id>:<version>}` that version's ARN; both are deployed first.
   */
  private async substitute(definition: object, chain: readonly string[]): Promise<unknown> {
    const { config } = this.deps;
    const fixed: Record<string, string> = {
      ActionRunnerFunctionArn: config.actionRunnerFunctionArn,
      EventBusName: config.eventBusName,
      DeadLetterQueueUrl: config.deadLetterQueueUrl,
    };
    const workflows = new Map<string, string>();
    const placeholders = new Set<string>();
    collectStrings(definition, (value) => {
      const match = PLACEHOLDER.exec(value);
      if (match) placeholders.add(match[1]!);
    });
    for (const placeholder of placeholders) {
      if (placeholder in fixed) continue;
      const target = WORKFLOW_PLACEHOLDER.exec(placeholder);
      if (!target) throw new Error(`compiled definition holds an unknown placeholder \${${placeholder}}`);
      workflows.set(placeholder, await this.subWorkflowArn(target[1]!, target[2] === undefined ? undefined : Number(target[2]), chain));
    }
    return mapStrings(definition, (value) => {
      const match = PLACEHOLDER.exec(value);
      if (!match) return value;
      return fixed[match[1]!] ?? workflows.get(match[1]!) ?? value;
    });
  }

  private async subWorkflowArn(workflowId: string, version: number | undefined, chain: readonly string[]): Promise<string> {
    const name = this.nameOf(workflowId);
    // A workflow calling itself (or one being deployed further up) needs only its alias's ARN, which is fixed.
    if (version === undefined && chain.some((key) => key.startsWith(`${workflowId}:`))) return aliasArn(this.deps.config, name);
    const workflow = await this.deps.loadWorkflow(workflowId, version);
    if (!workflow) {
      const what = version === undefined ? `workflow ${workflowId}` : `workflow ${workflowId} version ${version}`;
      throw new NotFoundError(`a sub_workflow action calls ${what}, which does not exist`, [{ field: 'actions', message: `${what} not found` }]);
    }
    const versionArn = await this.resolveVersion(workflow, chain);
    return version === undefined ? aliasArn(this.deps.config, name) : versionArn;
  }

  private forget(workflow: Workflow): void {
    const key = `${workflow.workflow_id}:${workflow.version}`;
    const arn = this.versionArns.get(key);
    this.versionArns.delete(key);
    if (arn) this.descriptions.delete(arn);
  }

  private nameOf(workflowId: string): string {
    return stateMachineName(this.deps.config.namePrefix, workflowId);
  }
}

function required(value: string | undefined, message: string): string {
  if (!value) throw new Error(message);
  return value;
}

function collectStrings(value: unknown, visit: (text: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) value.forEach((item) => collectStrings(item, visit));
  else if (typeof value === 'object' && value !== null) Object.values(value).forEach((item) => collectStrings(item, visit));
}

function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)]));
  return value;
}
