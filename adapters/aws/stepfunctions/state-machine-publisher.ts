import { createHash } from 'node:crypto';
import {
  CreateStateMachineAliasCommand,
  CreateStateMachineCommand,
  DescribeStateMachineAliasCommand,
  DescribeStateMachineCommand,
  ListStateMachineVersionsCommand,
  UpdateStateMachineAliasCommand,
  UpdateStateMachineCommand,
  type LoggingConfiguration,
  type SFNClient,
  type StateMachineType,
} from '@aws-sdk/client-sfn';
import { ConflictError, NotFoundError } from '../../../core/errors.ts';
import type { Workflow } from '../../../core/workflow/model.ts';
import type { StepFunctionsEngineConfig } from './config.ts';
import { sdkErrorName, translateStepFunctionsError } from './errors.ts';
import { aliasArn, LIVE_ALIAS, partStateMachineName, stateMachineArn, stateMachineName, versionDescription, workflowVersionOf } from './names.ts';
import type { StepFunctionsCompiler } from './step-functions-engine.ts';

export interface StateMachinePublisherDeps {
  readonly client: SFNClient;
  readonly config: StepFunctionsEngineConfig;
  readonly compiler: StepFunctionsCompiler;
  /** Another workflow (current version, or the given one) for `sub_workflow` actions: it is deployed too. */
  readonly loadWorkflow: (workflowId: string, version?: number) => Promise<Workflow | undefined>;
}

const PLACEHOLDER = /^\$\{([^}]+)\}$/;
const WORKFLOW_PLACEHOLDER = /^Workflow:([A-Za-z0-9_-]+)(?::([1-9][0-9]*))?$/;
/** A split workflow's part (statemachines/split.ts `partPlaceholder`): becomes the version ARN of that part's machine. */
const PART_PLACEHOLDER = /^WorkflowPart:([1-9][0-9]*)$/;

type Variant = { readonly reuse?: boolean };

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
 * Publishes workflow versions as state machine versions, for the Step Functions engine. Each workflow is one
 * state machine (`<prefix>-<workflow_id>`), each workflow version one published state machine version (its
 * description is the workflow version and a fingerprint), and the alias `live` follows the newest version
 * deployed. Deploying is lazy and idempotent: the first start of a version (in each Lambda container)
 * compiles it, substitutes the placeholders, and looks for a published version with the same description:
 * first the alias's target, then the versions newest first. It publishes only when there is none. Step
 * Functions' own idempotency compares with the state machine's current revision only, so publishing an older
 * definition again would otherwise add a version.
 *
 * A workflow too large for one machine (ADR 0016) compiles into a root and parts: each part is a state
 * machine of its own (`<prefix>_<workflow_id>_<part>`, names.ts), published as a version found or published
 * the same way (no alias: nothing starts a part but its parent), and its parent starts it by that version's
 * ARN, so a run never starts a part of another version. Parts are deployed before the machines that start
 * them; the root's fingerprint covers their version ARNs, so a changed part is a new root version too.
 */
export class StateMachinePublisher {
  private readonly deps: StateMachinePublisherDeps;
  /** `<workflow_id>:<version>` -> version ARN, for this container's lifetime (versions are immutable). */
  private readonly versionArns = new Map<string, string>();
  /** Deploys in flight in this container, so concurrent starts of one version publish once. */
  private readonly deploying = new Map<string, Promise<string>>();
  /** Version ARN -> its description (immutable). */
  private readonly descriptions = new Map<string, string | undefined>();

  constructor(deps: StateMachinePublisherDeps) {
    this.deps = deps;
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
  private async machineRequest(workflow: Workflow, chain: readonly string[], variant: Variant = {}): Promise<MachineRequest> {
    const compiled = this.deps.compiler.compile(workflow, variant);
    const type = compiled.executionMode === 'express' ? 'EXPRESS' : 'STANDARD';
    const parts = await this.deployParts(workflow, compiled.children ?? [], chain, variant);
    const definition = JSON.stringify(await this.substitute(compiled.definition, chain, parts));
    return this.requestOf(workflow, definition, type, variant);
  }

  private requestOf(workflow: Workflow, definition: string, type: StateMachineType, variant: Variant): MachineRequest {
    const { config } = this.deps;
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

  /**
   * Deploys the parts of a split workflow, each before the machines that start it (parts are numbered after
   * the part that starts them, so the deepest go first), and returns each part's version ARN. A part is a
   * standard machine with the root's role, logging and tracing, and its description is the workflow version
   * (and variant) and its own fingerprint, so a rerun variant's parts are found apart from the version's.
   */
  private async deployParts(workflow: Workflow, children: readonly { readonly part: number; readonly definition: object }[], chain: readonly string[], variant: Variant): Promise<ReadonlyMap<number, string>> {
    const definitions = new Map(children.map((child) => [child.part, child.definition]));
    const deployed = new Map<number, string>();
    const deployPart = async (part: number, starters: readonly number[]): Promise<string> => {
      const known = deployed.get(part);
      if (known) return known;
      const definition = definitions.get(part);
      if (!definition) throw new Error(`workflow ${workflow.workflow_id} version ${workflow.version}: a compiled machine starts part ${part}, which the compilation does not have`);
      if (starters.includes(part)) throw new Error(`workflow ${workflow.workflow_id} version ${workflow.version}: part ${part} starts itself (${[...starters, part].join(' -> ')})`);
      for (const inner of partsStartedBy(definition)) await deployPart(inner, [...starters, part]);
      const text = JSON.stringify(await this.substitute(definition, chain, deployed));
      const versionArn = await this.publishPart(workflow, part, this.requestOf(workflow, text, 'STANDARD', variant));
      deployed.set(part, versionArn);
      return versionArn;
    };
    // One at a time: the control-plane API is throttled per account, and a workflow may have dozens of parts.
    for (const part of [...definitions.keys()].sort((a, b) => b - a)) await deployPart(part, []);
    return deployed;
  }

  /** Finds the part's version with the request's description, or publishes one (creating the part's machine the first time). */
  private async publishPart(workflow: Workflow, part: number, request: MachineRequest): Promise<string> {
    const name = partStateMachineName(this.deps.config.namePrefix, workflow.workflow_id, part);
    const machineArn = stateMachineArn(this.deps.config, name);
    const found = await this.findVersion(machineArn, request.fields.versionDescription, undefined);
    if (found === 'no-state-machine') return this.create(workflow, name, request);
    return found ?? (await this.update(workflow, machineArn, request));
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
   * `${WorkflowPart:<n>}` becomes the version ARN of part n, which `parts` holds (deployed first).
   */
  private async substitute(definition: object, chain: readonly string[], parts: ReadonlyMap<number, string>): Promise<unknown> {
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
      const part = PART_PLACEHOLDER.exec(placeholder);
      if (part) {
        const versionArn = parts.get(Number(part[1]));
        if (!versionArn) throw new Error(`compiled definition starts part ${part[1]}, which was not deployed before it`);
        workflows.set(placeholder, versionArn);
        continue;
      }
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

  /** Forgets what this container knew of a version (its state machine was deleted since). */
  forget(workflow: Workflow): void {
    const key = `${workflow.workflow_id}:${workflow.version}`;
    const arn = this.versionArns.get(key);
    this.versionArns.delete(key);
    if (arn) this.descriptions.delete(arn);
    // Its parts' machines may be gone too: their version ARNs could come back with other definitions.
    for (const known of this.descriptions.keys()) {
      if (known.includes(`:stateMachine:${this.deps.config.namePrefix}_`)) this.descriptions.delete(known);
    }
  }

  nameOf(workflowId: string): string {
    return stateMachineName(this.deps.config.namePrefix, workflowId);
  }

  /**
   * The version's rerun variant (compiled with `reuse`), published beside it without moving `live` and found
   * again by its description; returns its version ARN.
   */
  async deployRerunVariant(workflow: Workflow): Promise<string> {
    const name = this.nameOf(workflow.workflow_id);
    const request = await this.machineRequest(workflow, [`${workflow.workflow_id}:${workflow.version}`], { reuse: true });
    const found = await this.findVersion(stateMachineArn(this.deps.config, name), request.fields.versionDescription, undefined);
    if (found === 'no-state-machine') return this.create(workflow, name, request);
    return found ?? (await this.update(workflow, stateMachineArn(this.deps.config, name), request));
  }
}


function required(value: string | undefined, message: string): string {
  if (!value) throw new Error(message);
  return value;
}

/** The parts a compiled definition starts (`${WorkflowPart:<n>}`). */
function partsStartedBy(definition: object): number[] {
  const parts = new Set<number>();
  collectStrings(definition, (value) => {
    const match = PLACEHOLDER.exec(value);
    const part = match ? PART_PLACEHOLDER.exec(match[1]!) : null;
    if (part) parts.add(Number(part[1]));
  });
  return [...parts].sort((a, b) => b - a);
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
