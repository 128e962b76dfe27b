import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { ConflictError, DomainError, NotFoundError, WorkflowErrorName } from '../../../core/errors.ts';
import { discardParkedCalls, releaseParkedCalls, type ParkedCallStore, type TaskTokens } from '../../../core/execution/held-calls.ts';
import type { Execution } from '../../../core/execution/model.ts';
import type { ExecutionStore, ReuseRequest, WorkflowEngine } from '../../../core/ports.ts';
import type { ExecutionMode } from '../../../core/workflow/definition.ts';
import type { Workflow } from '../../../core/workflow/model.ts';
import type { StepFunctionsEngineConfig } from './config.ts';
import { reuseMap } from './rerun-input.ts';
import { StateMachinePublisher } from './state-machine-publisher.ts';
import { sdkErrorName, translateStepFunctionsError } from './errors.ts';
import { executionArn } from './names.ts';

/** What the engine needs from the compiler (injected: adapters do not import `statemachines/`). */
export interface StepFunctionsCompiler {
  /**
   * The workflow version as ASL, with `${...}` placeholders for account resources, and its execution mode. A
   * workflow too large for one machine has `children` (ADR 0016): the parts, which the definition (or a part)
   * starts through `${WorkflowPart:<n>}`.
   */
  compile(
    workflow: Workflow,
    options?: { readonly reuse?: boolean },
  ): { readonly definition: object; readonly executionMode: ExecutionMode; readonly children?: readonly { readonly part: number; readonly definition: object }[] };
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

/**
 * The WorkflowEngine on AWS Step Functions. A run is `StartExecution` on its workflow version's state machine
 * version (StateMachinePublisher deploys it on first use), named by the execution id, so a repeated start is
 * idempotent; a retry is `RedriveExecution`, a rerun a start of the version's rerun variant, and a pause parks
 * service calls until resume (ADR 0012).
 */
export class StepFunctionsWorkflowEngine implements WorkflowEngine {
  private readonly deps: StepFunctionsEngineDeps;
  /** Compiles, substitutes and publishes workflow versions (and their rerun variants). */
  private readonly publisher: StateMachinePublisher;

  constructor(deps: StepFunctionsEngineDeps) {
    this.deps = deps;
    this.publisher = new StateMachinePublisher(deps);
  }

  async start(execution: Execution, workflow: Workflow): Promise<void> {
    const input = JSON.stringify(this.deps.compiler.executionInput({ ...execution.parameters }, execution.trace_id));
    const run = async () => this.deps.client.send(new StartExecutionCommand({ stateMachineArn: await this.deploy(workflow), name: execution.execution_id, input }));
    await this.startOnce(`starting execution ${execution.execution_id} of workflow ${workflow.workflow_id} version ${workflow.version}`, async () => {
      try {
        await run();
      } catch (error) {
        // A version remembered by this container was deleted since (with its workflow): deploy it again.
        if (sdkErrorName(error) !== 'StateMachineDoesNotExist') throw error;
        this.publisher.forget(workflow);
        await run();
      }
    });
  }

  /**
   * Starts an execution named by its run's id. The same name started before (with this input: still running,
   * or already closed) is that run, since the execution id is unique per stored execution: nothing to do.
   */
  private async startOnce(what: string, start: () => Promise<void>): Promise<void> {
    try {
      await start();
    } catch (error) {
      if (sdkErrorName(error) === 'ExecutionAlreadyExists') return;
      if (error instanceof DomainError) throw error;
      throw translateStepFunctionsError(error, what);
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
    // Calls parked while the run was paused ended with it: their records would only mislead.
    if (this.deps.pause) await discardParkedCalls(this.deps.pause.parkedCalls, executionId);
  }

  /**
   * A retry is Step Functions' RedriveExecution: same execution ARN, successful states not run again. It is
   * possible while Step Functions says the execution is REDRIVABLE (a standard workflow, within 14 days of its
   * end). A run that failed at an action ended in the compiler's failure gate (`<id>: failed`), which a
   * redrive passes, going back to the action; versions compiled before the gate existed end in a Fail state,
   * which a redrive would only run again, so those are refused, as is a compensated saga (its end is a Fail
   * state, and its completed actions were undone). A split workflow's run (ADR 0016) is retried only when it
   * failed at an action of the root machine: a part interrupted by the end (the failed action's, or one that
   * was cut off by a stop or a timeout) is a child execution that a redrive of the root starts again from its
   * beginning, running its completed actions again. Those runs are refused, pointing to a rerun from the
   * action (`from_action`), which reuses completed results.
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
    const versionArn = described.stateMachineVersionArn ?? described.stateMachineArn;
    // Only runs that failed at an action, or of a split workflow, need the definition they ran.
    if (versionArn === undefined) {
      if (failedAt !== undefined) throw oldVersionRefusal(execution.execution_id, failedAt);
      return;
    }
    const definition = await this.definitionOf(versionArn);
    const gated = failedAt !== undefined && this.deps.compiler.hasRedriveGate(definition, failedAt);
    if (!gated && startsParts(definition, this.deps.config.namePrefix)) throw splitRefusal(execution.execution_id, failedAt);
    if (failedAt !== undefined && !gated) throw oldVersionRefusal(execution.execution_id, failedAt);
  }

  /** The definition (JSON text) of the state machine version a run used. */
  private async definitionOf(versionArn: string): Promise<string | undefined> {
    try {
      return (await this.deps.client.send(new DescribeStateMachineCommand({ stateMachineArn: versionArn }))).definition;
    } catch (error) {
      throw translateStepFunctionsError(error, `reading the state machine of ${versionArn}`);
    }
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
    await this.startOnce(`starting rerun ${execution.execution_id} of workflow ${workflow.workflow_id} version ${workflow.version}`, async () => {
      const versionArn = await this.publisher.deployRerunVariant(workflow);
      await this.deps.client.send(new StartExecutionCommand({ stateMachineArn: versionArn, name: execution.execution_id, input }));
    });
  }

  /**
   * Makes sure the workflow's version is a published state machine version (creating the state machine and
   * its `live` alias on first use, moving the alias forward when this version is newer), and returns the
   * version ARN. Idempotent; sub-workflows the definition calls are deployed first.
   */
  async deploy(workflow: Workflow): Promise<string> {
    return this.publisher.deploy(workflow);
  }

  private nameOf(workflowId: string): string {
    return this.publisher.nameOf(workflowId);
  }
}

/** Whether a deployed definition starts parts of a split workflow (their machines are `<prefix>_...`, names.ts). */
function startsParts(definition: string | undefined, namePrefix: string): boolean {
  return definition !== undefined && definition.includes(`:stateMachine:${namePrefix}_`);
}

function oldVersionRefusal(executionId: string, failedAt: string): ConflictError {
  return new ConflictError(
    `execution ${executionId} failed at action ${failedAt} in a state machine compiled before runs could be retried from a failed action (it ends in a Fail state); start it again instead`,
    [{ field: 'execution_id', message: 'its state machine version cannot resume a failed action' }],
  );
}

function splitRefusal(executionId: string, failedAt: string | undefined): ConflictError {
  const split = 'a workflow too large for one state machine runs parts of it in child state machines';
  const [where, how] =
    failedAt === undefined
      ? [`ended while parts of its workflow may have been running (${split})`, 'Rerun it from the first action that did not complete instead (retry with from_action)']
      : [`failed at action ${failedAt}, which runs in a child state machine (${split})`, `Rerun it from the failed action instead (retry with from_action "${failedAt}")`];
  return new ConflictError(`execution ${executionId} ${where}: a retry would start that child again from its beginning and run its completed actions again. ${how}, which reuses the results of the actions that completed`, [
    { field: 'execution_id', message: `stopped inside a part of a split workflow: cannot be retried in place; give from_action${failedAt === undefined ? '' : ` "${failedAt}"`} to rerun it` },
  ]);
}
