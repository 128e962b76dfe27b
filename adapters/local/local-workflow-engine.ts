import type { ActionProgress } from '../../core/execution/model.ts';
import type { Clock, ExecutionStore, WorkflowEngine } from '../../core/ports.ts';
import type { Workflow } from '../../core/workflow/model.ts';
import { CompiledMachineCache, startLocalRun, type LocalIntegrations, type LocalRun } from './local-engine.ts';

/** What the local engine needs from the compiler (injected: adapters do not import it). */
export interface LocalCompiler {
  compile(workflow: Workflow): { definition: Record<string, unknown>; input: (params: Record<string, unknown>, traceId: string) => Record<string, unknown> };
}

export interface LocalWorkflowEngineDeps {
  readonly executions: ExecutionStore;
  readonly compiler: LocalCompiler;
  readonly clock: Clock;
  /** Service calls, notifications and dead letters (sub-workflows are run by the engine itself). */
  readonly integrations: Omit<LocalIntegrations, 'startSubWorkflow'>;
  /** Finds another workflow for `sub_workflow` actions. */
  readonly loadWorkflow: (workflowId: string, version?: number) => Promise<Workflow | undefined>;
  readonly waitMilliseconds?: number;
  readonly retryMilliseconds?: number;
}

interface RunningEntry {
  run: LocalRun;
  /** Progress writes of the run, chained so they land in order. */
  writes: Promise<void>;
  /** Resolves when the run's end is recorded. */
  settled: Promise<void>;
}

const RESTART_CAUSE = 'the local orchestrator stopped while this execution was running; start it again';

/**
 * The local runtime's WorkflowEngine: compiled ASL run in-process, progress written to the same execution
 * store as in AWS. Runs are independent, so many run at once.
 */
export class LocalWorkflowEngine implements WorkflowEngine {
  private readonly deps: LocalWorkflowEngineDeps;
  private readonly machines = new CompiledMachineCache();
  private readonly running = new Map<string, RunningEntry>();

  constructor(deps: LocalWorkflowEngineDeps) {
    this.deps = deps;
  }

  async start(execution: Parameters<WorkflowEngine['start']>[0], workflow: Workflow): Promise<void> {
    if (this.running.has(execution.execution_id)) return;
    const { executions, clock } = this.deps;
    const compiled = this.deps.compiler.compile(workflow);
    const machine = this.machines.get(`${workflow.workflow_id}:${workflow.version}`, compiled.definition);
    if (!(await executions.transition(execution.execution_id, ['pending'], 'running', { started_at: clock.now() }))) return;
    const entry: RunningEntry = { run: undefined as unknown as LocalRun, writes: Promise.resolve(), settled: Promise.resolve() };
    // Progress writes for one run go in order, so a late "running" never overwrites "completed".
    const written = new Map<string, string>();
    const record = (progress: ActionProgress) => {
      entry.writes = entry.writes
        .then(async () => {
          await executions.updateAction(execution.execution_id, progress);
          written.set(progress.action_id, JSON.stringify(progress));
        })
        .catch(() => undefined);
    };
    entry.run = startLocalRun(machine, {
      definition: compiled.definition,
      actions: workflow.actions,
      executionId: execution.execution_id,
      input: compiled.input({ ...execution.parameters }, execution.trace_id),
      integrations: { ...this.deps.integrations, startSubWorkflow: (target, input, signal) => this.runSubWorkflow(target, input, signal, execution.execution_id) },
      now: () => clock.now(),
      onProgress: record,
      waitMilliseconds: this.deps.waitMilliseconds,
      retryMilliseconds: this.deps.retryMilliseconds,
    });
    this.running.set(execution.execution_id, entry);
    entry.settled = entry.run.done
      .then(async (outcome) => {
        await entry.writes;
        // Only what the run's end changed (settled leftovers) or a write that failed: the rest is stored already.
        const stale = outcome.actions.filter((action) => written.get(action.action_id) !== JSON.stringify(action));
        await Promise.all(stale.map((action) => executions.updateAction(execution.execution_id, action).catch(() => undefined)));
        // A cancelled run was moved to `cancelled` by whoever cancelled it; a run stopped by shutdown stays
        // `running` and is recovered (failed, with the reason) when the runtime starts again.
        if (outcome.status !== 'cancelled') {
          await executions.transition(execution.execution_id, ['running'], outcome.status, {
            ended_at: clock.now(),
            ...(outcome.output === undefined ? {} : { output: outcome.output }),
            ...(outcome.error ? { error: outcome.error } : {}),
          });
        }
      })
      .catch((error: unknown) => console.error(JSON.stringify({ level: 'error', execution_id: execution.execution_id, message: `could not record the end of the run: ${String(error)}` })))
      .finally(() => this.running.delete(execution.execution_id));
  }

  async stop(executionId: string): Promise<void> {
    this.running.get(executionId)?.run.cancel();
  }

  /** Runs still marked running when the process starts were cut off by a restart: they fail, with the reason. */
  async recover(): Promise<number> {
    let recovered = 0;
    for await (const execution of this.deps.executions.unfinished()) {
      if (this.running.has(execution.execution_id)) continue;
      const moved = await this.deps.executions.transition(execution.execution_id, ['pending', 'running'], 'failed', {
        ended_at: this.deps.clock.now(),
        error: { error: 'LocalRuntimeRestarted', cause: RESTART_CAUSE },
      });
      if (moved) recovered++;
    }
    return recovered;
  }

  /** Resolves once every run in flight has ended and been recorded (tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((entry) => entry.settled));
  }

  /** Stops every run in flight, as a crash would, but cleanly: they are recovered at the next start. */
  async shutdown(): Promise<void> {
    for (const entry of this.running.values()) entry.run.cancel();
    await this.idle();
  }

  /** `${Workflow:<id>[:<version>]}` left unsubstituted locally: run that workflow in-process and return its output. */
  private async runSubWorkflow(target: string, input: unknown, signal: AbortSignal, parentId: string): Promise<{ output: unknown; executionArn: string }> {
    const match = /^\$\{Workflow:([^:}]+)(?::(\d+))?\}$/.exec(target);
    if (!match) throw new Error(`unknown sub-workflow target ${target}`);
    const workflow = await this.deps.loadWorkflow(match[1]!, match[2] ? Number(match[2]) : undefined);
    if (!workflow) throw Object.assign(new Error(`sub-workflow ${match[1]} not found`), { name: 'SubWorkflowNotFound' });
    const compiled = this.deps.compiler.compile(workflow);
    const machine = this.machines.get(`${workflow.workflow_id}:${workflow.version}`, compiled.definition);
    const childId = `${parentId}-${workflow.workflow_id}`;
    const child = startLocalRun(machine, {
      definition: compiled.definition,
      actions: workflow.actions,
      executionId: childId,
      input: compiled.input({ ...((input as { params?: Record<string, unknown> }).params ?? {}) }, String((input as { trace_id?: unknown }).trace_id ?? '')),
      integrations: { ...this.deps.integrations, startSubWorkflow: (next, nextInput, nextSignal) => this.runSubWorkflow(next, nextInput, nextSignal, childId) },
      now: () => this.deps.clock.now(),
      waitMilliseconds: this.deps.waitMilliseconds,
      retryMilliseconds: this.deps.retryMilliseconds,
    });
    signal.addEventListener('abort', () => child.cancel(), { once: true });
    const outcome = await child.done;
    if (outcome.status !== 'completed') throw Object.assign(new Error(outcome.error?.cause ?? outcome.status), { name: 'States.TaskFailed' });
    return { output: outcome.output, executionArn: `local:${childId}` };
  }
}
