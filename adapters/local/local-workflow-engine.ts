import { ACTIVE_STATUSES, settleProgress, type ActionProgress, type Execution } from '../../core/execution/model.ts';
import type { Clock, ExecutionStore, Log, ReuseRequest, WorkflowEngine } from '../../core/ports.ts';
import type { Workflow } from '../../core/workflow/model.ts';
import { sagaFailure } from '../../core/execution/saga.ts';
import { LLM_STATE_ROLES } from '../../core/workflow/llm.ts';
import { checkpointOwner, CompiledMachineCache, startLocalRun, type LocalIntegrations, type LocalRun, type LocalRunInput } from './local-engine.ts';

/** What the local engine needs from the compiler (injected: adapters do not import it). */
export interface LocalCompiler {
  compile(workflow: Workflow): {
    definition: Record<string, unknown>;
    /** Child machines of a workflow too large for one, by part number (started through `${WorkflowPart:<n>}`). */
    children?: readonly { readonly part: number; readonly definition: Record<string, unknown> }[];
    input: (params: Record<string, unknown>, traceId: string) => Record<string, unknown>;
  };
}

export interface LocalWorkflowEngineDeps {
  readonly executions: ExecutionStore;
  readonly compiler: LocalCompiler;
  readonly clock: Clock;
  /**
   * Service calls, notifications, dead letters and dependency gates (sub-workflows are run by the engine
   * itself). The gates must be the ones the runner behind `invokeRunner` reports to (withGateArrivals).
   */
  readonly integrations: Omit<LocalIntegrations, 'startSubWorkflow'>;
  /** Finds another workflow for `sub_workflow` actions. */
  readonly loadWorkflow: (workflowId: string, version?: number) => Promise<Workflow | undefined>;
  readonly waitMilliseconds?: number;
  readonly retryMilliseconds?: number;
  /** The runtime's logger; omitted: a JSON line on stderr (adapters do not import the logger itself). */
  readonly log?: Log;
}

/** Without an injected logger: the line the engine always wrote, on stderr. */
const stderrLog: Log = (entry) => console.error(JSON.stringify({ level: 'info', ...entry }));

interface RunningEntry {
  run: LocalRun;
  /** Progress writes of the run, chained so they land in order. */
  writes: Promise<void>;
  /** Resolves when the run's end is recorded. */
  settled: Promise<void>;
}

/** An llm action's model calls and checks: a reused llm action calls its model no more (core/workflow/llm.ts). */
const REUSED_LLM_ROLES: ReadonlySet<string> = new Set([LLM_STATE_ROLES.call, LLM_STATE_ROLES.check, LLM_STATE_ROLES.repair, LLM_STATE_ROLES.recheck]);

/** Unfinished runs taken up at once when the runtime starts. */
const RECOVERY_CONCURRENCY = 16;

/** How long a stop waits, after cancelling, for aborted tasks to finish writing. */
const SHUTDOWN_SETTLE_MS = 2000;

/**
 * The local runtime's WorkflowEngine: compiled ASL run in-process, progress written to the same execution
 * store as in AWS. Runs are independent, so many run at once. Every task's result is checkpointed before the
 * run goes on, so a run cut off by a stop or a crash continues where it was at the next start (recover), and a
 * retry or rerun reuses what completed instead of calling it again.
 */
export class LocalWorkflowEngine implements WorkflowEngine {
  private readonly deps: LocalWorkflowEngineDeps;
  private readonly machines = new CompiledMachineCache();
  private readonly compiled = new Map<string, ReturnType<LocalCompiler['compile']>>();
  private readonly running = new Map<string, RunningEntry>();
  /** Calls to services, the bus, the queue or a sub-workflow now in flight, for a graceful stop. */
  private inFlight = 0;
  private readonly drained = new Set<() => void>();
  /** Set by shutdown: no new task starts, and runs that stop are left to be resumed. */
  private stopping = false;

  /** Whether it takes new runs: false once it is stopping (readiness). */
  get accepting(): boolean {
    return !this.stopping;
  }
  /** Paused runs: their next task waits for the release. */
  private readonly held = new Map<string, { released: Promise<void>; release: () => void }>();

  constructor(deps: LocalWorkflowEngineDeps) {
    this.deps = deps;
  }

  async start(execution: Parameters<WorkflowEngine['start']>[0], workflow: Workflow): Promise<void> {
    if (this.running.has(execution.execution_id)) return;
    this.machineFor(workflow);
    if (!(await this.deps.executions.transition(execution.execution_id, ['pending'], 'running', { started_at: this.deps.clock.now() }))) return;
    this.launch(execution, workflow, new Map());
  }

  /**
   * Runs a run reopened for a retry, or a new rerun, reusing recorded results: those of `reuse.actions` in
   * run `reuse.from` (copied into this run's own checkpoints first, so that a crash during a rerun keeps them).
   */
  async resume(execution: Execution, workflow: Workflow, reuse: ReuseRequest): Promise<void> {
    if (this.running.has(execution.execution_id)) return;
    this.machineFor(workflow);
    const recorded = await this.deps.executions.checkpoints(reuse.from);
    // An action whose compensation ran was undone: its result is not reused.
    const compensated = new Set([...recorded.keys()].map(checkpointOwner).filter((owner) => owner.role === 'compensate').map((owner) => owner.actionId));
    const replay = new Map(
      [...recorded].filter(([key]) => {
        const owner = checkpointOwner(key);
        if (compensated.has(owner.actionId)) return false;
        return (reuse.actions.has(owner.actionId) && (owner.role === undefined || owner.item || REUSED_LLM_ROLES.has(owner.role))) || (reuse.partialForeach && owner.item);
      }),
    );
    if (reuse.from !== execution.execution_id) {
      await Promise.all([...replay].map(([key, result]) => this.deps.executions.saveCheckpoint(execution.execution_id, key, result)));
    }
    this.launch(execution, workflow, replay);
  }

  async hold(execution: Execution): Promise<void> {
    if (this.held.has(execution.execution_id)) return;
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    this.held.set(execution.execution_id, { released, release });
  }

  async release(execution: Execution): Promise<void> {
    this.held.get(execution.execution_id)?.release();
    this.held.delete(execution.execution_id);
  }

  /** Locally every finished run can be retried: its checkpoints are kept with it. */
  async assertRetryable(): Promise<void> {}

  async stop(executionId: string): Promise<void> {
    this.running.get(executionId)?.run.cancel();
  }

  /**
   * Runs left unfinished by a stop or a crash continue from their recorded progress: tasks whose results were
   * checkpointed are not called again; one that was in flight is called again, with the same Idempotency-Key.
   * A run never started is started. Returns how many runs were taken up.
   */
  async recover(): Promise<number> {
    const unfinished: Execution[] = [];
    for await (const execution of this.deps.executions.unfinished()) if (!this.running.has(execution.execution_id)) unfinished.push(execution);
    // Each version is read once; runs are taken up a few at a time (their checkpoints are one Query each).
    const versions = new Map<string, Promise<Workflow | undefined>>();
    const workflowOf = (execution: Execution) => {
      const key = `${execution.workflow_id}:${execution.workflow_version}`;
      if (!versions.has(key)) versions.set(key, this.deps.loadWorkflow(execution.workflow_id, execution.workflow_version));
      return versions.get(key)!;
    };
    let recovered = 0;
    let next = 0;
    const worker = async () => {
      while (next < unfinished.length) {
        const execution = unfinished[next++]!;
        if (await this.recoverOne(execution, await workflowOf(execution))) recovered++;
      }
    };
    await Promise.all(Array.from({ length: RECOVERY_CONCURRENCY }, worker));
    return recovered;
  }

  private async recoverOne(execution: Execution, workflow: Workflow | undefined): Promise<boolean> {
    if (!workflow) {
      await this.deps.executions.transition(execution.execution_id, ['pending', ...ACTIVE_STATUSES], 'failed', {
        ended_at: this.deps.clock.now(),
        error: { error: 'WorkflowNotFound', cause: `workflow ${execution.workflow_id} version ${execution.workflow_version} no longer exists; the run cannot continue` },
      });
      return false;
    }
    if (execution.status === 'pending') {
      await this.start(execution, workflow);
      return true;
    }
    // A run paused before the stop stays paused: it starts no new action until it is resumed.
    if (execution.status === 'paused') await this.hold(execution);
    this.machineFor(workflow);
    this.launch(execution, workflow, await this.deps.executions.checkpoints(execution.execution_id));
    return true;
  }


  /** Resolves once every run in flight has ended and been recorded (tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((entry) => entry.settled));
  }

  /**
   * A graceful stop: no new task starts; calls in flight get up to `graceMs` to finish (their results are
   * checkpointed); then every run is stopped where it is, left `running`, and continues at the next start.
   */
  async shutdown(graceMs = 0): Promise<void> {
    this.stopping = true;
    await this.drain(graceMs);
    for (const entry of this.running.values()) entry.run.cancel();
    await this.idle();
    // Aborted calls end at once, but a checkpoint write may still be on its way: the store must outlive it.
    await this.drain(SHUTDOWN_SETTLE_MS);
  }

  /** Resolves when no task is in flight, or after `limitMs`. */
  private async drain(limitMs: number): Promise<void> {
    if (this.inFlight === 0 || limitMs <= 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.drained.delete(done);
        resolve();
      };
      const timer = setTimeout(done, limitMs);
      this.drained.add(done);
    });
  }

  /** A version's compiled definition and interpreter, made once (versions are immutable). */
  private machineFor(workflow: Workflow): { compiled: ReturnType<LocalCompiler['compile']>; machine: ReturnType<CompiledMachineCache['get']>; children: NonNullable<LocalRunInput['children']> } {
    const key = `${workflow.workflow_id}:${workflow.version}`;
    let compiled = this.compiled.get(key);
    if (!compiled) {
      compiled = this.deps.compiler.compile(workflow);
      this.compiled.set(key, compiled);
    }
    const children = new Map((compiled.children ?? []).map((child) => [`\${WorkflowPart:${child.part}}`, { definition: child.definition, machine: this.machines.get(`${key}#${child.part}`, child.definition) }]));
    return { compiled, machine: this.machines.get(key, compiled.definition), children };
  }


  /** Holds a task back while the runtime is stopping; the run's cancellation releases it. */
  private beforeTask = async (signal: AbortSignal): Promise<void> => {
    if (!this.stopping) return;
    await new Promise<never>((_, reject) => {
      if (signal.aborted) reject(new Error('stopping'));
      signal.addEventListener('abort', () => reject(new Error('stopping')), { once: true });
    });
  };

  /** A task of a paused run waits for the release (or the run's end); then the runtime's own gate. */
  private async beforeTaskOf(executionId: string, signal: AbortSignal): Promise<void> {
    for (let held = this.held.get(executionId); held; held = this.held.get(executionId)) {
      await Promise.race([held.released, new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))]);
      if (signal.aborted) throw new Error('the run stopped while paused');
    }
    await this.beforeTask(signal);
  }

  /** Counts a task from its call to its checkpoint, so that a graceful stop waits for both. */
  private trackTask = async <T,>(work: () => Promise<T>): Promise<T> => {
    this.inFlight++;
    try {
      return await work();
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const done of [...this.drained]) done();
    }
  };

  /** Runs `execution` (already `running` in the store) from its stored progress, reusing `replay`. */
  private launch(execution: Execution, workflow: Workflow, replay: ReadonlyMap<string, unknown>): void {
    const { executions, clock } = this.deps;
    const { compiled, machine, children } = this.machineFor(workflow);
    const entry: RunningEntry = { run: undefined as unknown as LocalRun, writes: Promise.resolve(), settled: Promise.resolve() };
    // Progress writes for one run go in order, so a late "running" never overwrites "completed".
    const written = new Map<string, string>(execution.actions.map((action) => [action.action_id, JSON.stringify(action)]));
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
      children,
      actions: workflow.actions,
      executionId: execution.execution_id,
      input: compiled.input({ ...execution.parameters }, execution.trace_id),
      integrations: { ...this.deps.integrations, startSubWorkflow: (target, input, signal) => this.runSubWorkflow(target, input, signal, execution.execution_id) },
      trackTask: this.trackTask,
      now: () => clock.now(),
      onProgress: record,
      initialProgress: execution.actions,
      replay,
      onCheckpoint: (key, result) => executions.saveCheckpoint(execution.execution_id, key, result),
      beforeTask: (signal) => this.beforeTaskOf(execution.execution_id, signal),
      waitMilliseconds: this.deps.waitMilliseconds,
      retryMilliseconds: this.deps.retryMilliseconds,
    });
    this.running.set(execution.execution_id, entry);
    entry.settled = entry.run.done
      .then(async (outcome) => {
        await entry.writes;
        // A run stopped by shutdown stays `running`, its progress as it was: the next start continues it.
        const ended = !(outcome.status === 'cancelled' && this.stopping);
        const actions = ended ? settleProgress(outcome.actions, outcome.status, clock.now(), outcome.error?.action_id) : outcome.actions;
        // Only what the run's end changed (settled leftovers) or a write that failed: the rest is stored already.
        const stale = actions.filter((action) => written.get(action.action_id) !== JSON.stringify(action));
        await Promise.all(stale.map((action) => executions.updateAction(execution.execution_id, action).catch(() => undefined)));
        // A cancelled run was moved to `cancelled` by whoever cancelled it.
        if (outcome.status !== 'cancelled') {
          const error = sagaFailure(actions, outcome.error);
          await executions.transition(execution.execution_id, ACTIVE_STATUSES, outcome.status, {
            ended_at: clock.now(),
            ...(outcome.output === undefined ? {} : { output: outcome.output }),
            ...(error ? { error } : {}),
          });
        }
      })
      .catch((error: unknown) => (this.deps.log ?? stderrLog)({ level: 'error', execution_id: execution.execution_id, message: `could not record the end of the run: ${String(error)}` }))
      .finally(() => {
        this.running.delete(execution.execution_id);
        this.held.delete(execution.execution_id);
      });
  }

  /** `${Workflow:<id>[:<version>]}` left unsubstituted locally: run that workflow in-process and return its output. */
  private async runSubWorkflow(target: string, input: unknown, signal: AbortSignal, parentId: string): Promise<{ output: unknown; executionArn: string }> {
    const match = /^\$\{Workflow:([^:}]+)(?::(\d+))?\}$/.exec(target);
    if (!match) throw new Error(`unknown sub-workflow target ${target}`);
    const workflow = await this.deps.loadWorkflow(match[1]!, match[2] ? Number(match[2]) : undefined);
    if (!workflow) throw Object.assign(new Error(`sub-workflow ${match[1]} not found`), { name: 'SubWorkflowNotFound' });
    const { compiled, machine, children } = this.machineFor(workflow);
    const childId = `${parentId}-${workflow.workflow_id}`;
    const child = startLocalRun(machine, {
      definition: compiled.definition,
      children,
      actions: workflow.actions,
      executionId: childId,
      input: compiled.input({ ...((input as { params?: Record<string, unknown> }).params ?? {}) }, String((input as { trace_id?: unknown }).trace_id ?? '')),
      integrations: { ...this.deps.integrations, startSubWorkflow: (next, nextInput, nextSignal) => this.runSubWorkflow(next, nextInput, nextSignal, childId) },
      trackTask: this.trackTask,
      now: () => this.deps.clock.now(),
      beforeTask: this.beforeTask,
      waitMilliseconds: this.deps.waitMilliseconds,
      retryMilliseconds: this.deps.retryMilliseconds,
    });
    signal.addEventListener('abort', () => child.cancel(), { once: true });
    const outcome = await child.done;
    if (outcome.status !== 'completed') throw Object.assign(new Error(outcome.error?.cause ?? outcome.status), { name: 'States.TaskFailed' });
    return { output: outcome.output, executionArn: `local:${childId}` };
  }
}
