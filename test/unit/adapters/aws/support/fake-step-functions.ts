import {
  ConflictException,
  CreateStateMachineAliasCommand,
  CreateStateMachineCommand,
  DescribeStateMachineAliasCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ListStateMachineVersionsCommand,
  ResourceNotFound,
  SFNClient,
  StartExecutionCommand,
  StateMachineAlreadyExists,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  UpdateStateMachineAliasCommand,
  UpdateStateMachineCommand,
  type CreateStateMachineAliasCommandInput,
  type CreateStateMachineCommandInput,
  type DescribeStateMachineAliasCommandInput,
  type DescribeStateMachineCommandInput,
  type ListStateMachineVersionsCommandInput,
  type StartExecutionCommandInput,
  type StopExecutionCommandInput,
  type UpdateStateMachineAliasCommandInput,
  type UpdateStateMachineCommandInput,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * Step Functions as far as the engine uses it, behind aws-sdk-client-mock: state machines with revisions,
 * published versions (publishing the current revision again returns its version, as the service does),
 * aliases and executions. Tests read the requests from `mock.commandCalls(...)` and the resulting state here.
 */

const metadata = { $metadata: {} };
const ARN_BASE = 'arn:aws:states:us-east-1:123456789012:stateMachine:';
const EXECUTION_BASE = 'arn:aws:states:us-east-1:123456789012:execution:';

interface FakeVersion {
  readonly arn: string;
  readonly description: string | undefined;
  readonly definition: string;
  readonly revision: number;
}

interface FakeMachine {
  readonly name: string;
  readonly type: string;
  definition: string;
  revision: number;
  readonly versions: FakeVersion[];
  readonly aliases: Map<string, string>;
}

export interface FakeExecution {
  readonly name: string;
  readonly machine: string;
  readonly versionArn: string;
  readonly input: string;
  stopped?: { error?: string; cause?: string };
}

export class FakeStepFunctions {
  readonly client = new SFNClient({ region: 'us-east-1' });
  readonly mock = mockClient(this.client);
  readonly machines = new Map<string, FakeMachine>();
  readonly executions = new Map<string, FakeExecution>();

  constructor() {
    this.mock.on(CreateStateMachineCommand).callsFake((input: CreateStateMachineCommandInput) => this.create(input));
    this.mock.on(UpdateStateMachineCommand).callsFake((input: UpdateStateMachineCommandInput) => this.update(input));
    this.mock.on(DescribeStateMachineCommand).callsFake((input: DescribeStateMachineCommandInput) => this.describe(input));
    this.mock.on(ListStateMachineVersionsCommand).callsFake((input: ListStateMachineVersionsCommandInput) => this.listVersions(input));
    this.mock.on(DescribeStateMachineAliasCommand).callsFake((input: DescribeStateMachineAliasCommandInput) => this.describeAlias(input));
    this.mock.on(CreateStateMachineAliasCommand).callsFake((input: CreateStateMachineAliasCommandInput) => this.createAlias(input));
    this.mock.on(UpdateStateMachineAliasCommand).callsFake((input: UpdateStateMachineAliasCommandInput) => this.updateAlias(input));
    this.mock.on(StartExecutionCommand).callsFake((input: StartExecutionCommandInput) => this.start(input));
    this.mock.on(StopExecutionCommand).callsFake((input: StopExecutionCommandInput) => this.stop(input));
  }

  /** Names of every command sent, in order. */
  commandNames(): string[] {
    return this.mock.calls().map((call) => (call.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, ''));
  }

  resetHistory(): void {
    this.mock.resetHistory();
  }

  machine(name: string): FakeMachine {
    const machine = this.machines.get(name);
    if (!machine) throw new Error(`no state machine ${name}`);
    return machine;
  }

  liveVersion(name: string): FakeVersion | undefined {
    const arn = this.machine(name).aliases.get('live');
    return this.machine(name).versions.find((version) => version.arn === arn);
  }

  /** Deletes a state machine with its versions and aliases, as DeleteStateMachine would. */
  delete(name: string): void {
    this.machines.delete(name);
  }

  private parse(arn: string | undefined): { machine: FakeMachine | undefined; qualifier: string | undefined } {
    if (!arn?.startsWith(ARN_BASE)) throw new Error(`not a state machine ARN: ${arn}`);
    const [name, qualifier] = arn.slice(ARN_BASE.length).split(':');
    return { machine: this.machines.get(name!), qualifier };
  }

  private publish(machine: FakeMachine, description: string | undefined): string {
    const existing = machine.versions.find((version) => version.revision === machine.revision);
    if (existing) return existing.arn;
    const arn = `${ARN_BASE}${machine.name}:${machine.versions.length + 1}`;
    machine.versions.push({ arn, description, definition: machine.definition, revision: machine.revision });
    return arn;
  }

  private create(input: CreateStateMachineCommandInput) {
    const name = input.name!;
    if (this.machines.has(name)) throw new StateMachineAlreadyExists({ message: `State Machine Already Exists: '${ARN_BASE}${name}'`, ...metadata });
    const machine: FakeMachine = { name, type: input.type ?? 'STANDARD', definition: input.definition!, revision: 1, versions: [], aliases: new Map() };
    this.machines.set(name, machine);
    const stateMachineVersionArn = input.publish ? this.publish(machine, input.versionDescription) : undefined;
    return { stateMachineArn: `${ARN_BASE}${name}`, creationDate: new Date(), stateMachineVersionArn };
  }

  private update(input: UpdateStateMachineCommandInput) {
    const { machine } = this.parse(input.stateMachineArn);
    if (!machine) throw new StateMachineDoesNotExist({ message: 'State Machine Does Not Exist', ...metadata });
    if (input.definition !== undefined && input.definition !== machine.definition) {
      machine.definition = input.definition;
      machine.revision += 1;
    }
    const stateMachineVersionArn = input.publish ? this.publish(machine, input.versionDescription) : undefined;
    return { updateDate: new Date(), revisionId: String(machine.revision), stateMachineVersionArn };
  }

  private describe(input: DescribeStateMachineCommandInput) {
    const { machine, qualifier } = this.parse(input.stateMachineArn);
    if (!machine) throw new StateMachineDoesNotExist({ message: 'State Machine Does Not Exist', ...metadata });
    if (qualifier === undefined) return { stateMachineArn: input.stateMachineArn, name: machine.name, type: machine.type, definition: machine.definition };
    const version = machine.versions.find((candidate) => candidate.arn === input.stateMachineArn);
    if (!version) throw new StateMachineDoesNotExist({ message: 'State Machine Version Does Not Exist', ...metadata });
    return { stateMachineArn: version.arn, name: machine.name, type: machine.type, definition: version.definition, description: version.description };
  }

  private listVersions(input: ListStateMachineVersionsCommandInput) {
    const { machine } = this.parse(input.stateMachineArn);
    if (!machine) throw new StateMachineDoesNotExist({ message: 'State Machine Does Not Exist', ...metadata });
    return { stateMachineVersions: [...machine.versions].reverse().map((version) => ({ stateMachineVersionArn: version.arn, creationDate: new Date() })) };
  }

  private describeAlias(input: DescribeStateMachineAliasCommandInput) {
    const { machine, qualifier } = this.parse(input.stateMachineAliasArn);
    const target = machine?.aliases.get(qualifier!);
    if (!target) throw new ResourceNotFound({ message: 'Resource Not Found', ...metadata });
    return { stateMachineAliasArn: input.stateMachineAliasArn, name: qualifier, routingConfiguration: [{ stateMachineVersionArn: target, weight: 100 }] };
  }

  private createAlias(input: CreateStateMachineAliasCommandInput) {
    const target = input.routingConfiguration?.[0]?.stateMachineVersionArn;
    const { machine } = this.parse(target);
    if (!machine) throw new ResourceNotFound({ message: 'Resource Not Found', ...metadata });
    const existing = machine.aliases.get(input.name!);
    if (existing && existing !== target) throw new ConflictException({ message: 'Alias exists with another routing', ...metadata });
    machine.aliases.set(input.name!, target!);
    return { stateMachineAliasArn: `${ARN_BASE}${machine.name}:${input.name}`, creationDate: new Date() };
  }

  private updateAlias(input: UpdateStateMachineAliasCommandInput) {
    const { machine, qualifier } = this.parse(input.stateMachineAliasArn);
    if (!machine?.aliases.has(qualifier!)) throw new ResourceNotFound({ message: 'Resource Not Found', ...metadata });
    machine.aliases.set(qualifier!, input.routingConfiguration![0]!.stateMachineVersionArn!);
    return { updateDate: new Date() };
  }

  private start(input: StartExecutionCommandInput) {
    const { machine, qualifier } = this.parse(input.stateMachineArn);
    if (!machine) throw new StateMachineDoesNotExist({ message: 'State Machine Does Not Exist', ...metadata });
    const versionArn = qualifier !== undefined && /^\d+$/.test(qualifier) ? input.stateMachineArn! : machine.aliases.get(qualifier ?? '') ?? input.stateMachineArn!;
    if (!machine.versions.some((version) => version.arn === versionArn)) throw new StateMachineDoesNotExist({ message: 'State Machine Version Does Not Exist', ...metadata });
    const executionArn = `${EXECUTION_BASE}${machine.name}:${input.name}`;
    if (this.executions.has(executionArn)) throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${executionArn}'`, ...metadata });
    this.executions.set(executionArn, { name: input.name!, machine: machine.name, versionArn, input: input.input ?? '{}' });
    return { executionArn, startDate: new Date() };
  }

  private stop(input: StopExecutionCommandInput) {
    const execution = this.executions.get(input.executionArn!);
    if (!execution) throw new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', ...metadata });
    execution.stopped ??= { error: input.error, cause: input.cause };
    return { stopDate: new Date() };
  }
}
