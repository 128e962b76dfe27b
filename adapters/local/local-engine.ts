import { StateMachine } from 'aws-local-stepfunctions';
import { failedActionOf } from '../../core/errors.ts';
import type { ActionProgress, CompensationProgress, ExecutionFailure, ExecutionStatus } from '../../core/execution/model.ts';
import type { Action } from '../../core/workflow/definition.ts';
import type { EmitEvent } from '../../core/events/emitter.ts';
import { isGatedCallPayload, isGatePayload, releasedCall } from '../../core/execution/gate-requests.ts';
import type { LocalGates } from './in-process-gates.ts';
import { llmSteps } from './llm-steps.ts';
import { dispatch, extractOutput, gateTask, reportReplayedCall, waitInCall } from './local-tasks.ts';

/**
 * Runs a compiled workflow (JSONPath ASL) in-process with the `aws-local-stepfunctions` interpreter. Its Task
 * states are routed by state name to local stand-ins for what AWS would call: the action runner for service
 * calls, a bus for notifications, a queue for dead letters, another run for sub-workflows, a model (the LLM
 * gateway) for llm actions (local-tasks.ts). Per-action
 * progress comes from those handlers (tasks) and from the interpreter's state events (waits, transforms,
 * skips), and is reported as it happens.
 */

type Definition = ConstructorParameters<typeof StateMachine>[0];
type RunOptions = NonNullable<Parameters<StateMachine['run']>[1]>;
type TaskHandler = (input: never) => Promise<unknown>;

export interface LocalIntegrations {
  /** `lambda:invoke` of the action runner: the compiled payload in, `{ status_code, headers, response }` out. */
  invokeRunner(payload: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
  /** `events:putEvents`: returns the event id. */
  putEvent(entry: Record<string, unknown>): Promise<string>;
  /** `sqs:sendMessage` to the dead-letter queue. */
  sendDeadLetter(body: unknown): Promise<void>;
  /**
   * `bedrock:invokeModel` of llm actions: `ModelId` and the Messages request `Body` in, `{ Body }` (the Messages
   * response) out; fails with Bedrock's error names (`Bedrock.ThrottlingException`...). Omitted: llm actions fail.
   */
  invokeModel?(request: { readonly ModelId: string; readonly Body: unknown }, signal: AbortSignal): Promise<{ readonly Body: unknown; readonly ContentType?: string }>;
  /** `states:startExecution.sync:2`: runs another workflow and returns its output. */
  startSubWorkflow(stateMachine: string, input: unknown, signal: AbortSignal): Promise<{ output: unknown; executionArn: string }>;
  /** Where a dead letter's `orchestrator.dlq.added` goes (the in-process bus); omitted: nowhere. */
  emit?: EmitEvent;
  /**
   * The runtime's dependency gates (ADR 0016), shared with the runner that reports service calls to them
   * (functions/workers/gate-arrivals.ts). Omitted: a definition with gate states fails at its first one.
   */
  gates?: LocalGates;
}

export interface LocalRunInput {
  readonly definition: Record<string, unknown>;
  /**
   * The child machines of a workflow split into several (statemachines/split.ts), by the placeholder their
   * parents start them with (`${WorkflowPart:<n>}`): run in process like the root, with the same task handlers.
   */
  readonly children?: ReadonlyMap<string, { readonly machine: StateMachine; readonly definition: Record<string, unknown> }>;
  readonly actions: readonly Action[];
  readonly executionId: string;
  /** `{ params, results: {}, failures: {} }` from `executionInput`. */
  readonly input: Record<string, unknown>;
  readonly integrations: LocalIntegrations;
  readonly now: () => string;
  /** Called after every change to an action's progress. */
  readonly onProgress?: (progress: ActionProgress) => void;
  /** Test speed-ups: milliseconds instead of the definition's waits and retry intervals. */
  readonly waitMilliseconds?: number;
  readonly retryMilliseconds?: number;
  /**
   * Where a resumed, retried or rerun run starts from: the progress it had (actions already settled keep
   * theirs and are not reported again, and their waits take no time) and the task results to reuse, by
   * checkpoint key (checkpointKey): a task found there returns its recorded result without being called.
   */
  readonly initialProgress?: readonly ActionProgress[];
  readonly replay?: ReadonlyMap<string, unknown>;
  /** Called with each task's result before the run goes on: what makes it reusable after a crash. */
  readonly onCheckpoint?: (key: string, result: unknown) => Promise<void>;
  /**
   * Awaited before a task starts: how a paused or draining runtime starts no new call while the ones in
   * flight finish. Rejects (or never resolves until the run is cancelled) to hold the task back.
   */
  readonly beforeTask?: (signal: AbortSignal) => Promise<void>;
  /** Wraps each task from its call to its checkpoint: how a graceful stop knows what is still in flight. */
  readonly trackTask?: <T>(work: () => Promise<T>) => Promise<T>;
}

/**
 * The key a task's result is kept under: its state name, plus `#<index>` for an item of a foreach (the
 * same index its Idempotency-Key carries).
 */
export function checkpointKey(stateName: string, input: Record<string, unknown>): string {
  const payload = input.Payload as { item_index?: unknown } | undefined;
  const detail = (input.Entries as { Detail?: { item_index?: unknown } }[] | undefined)?.[0]?.Detail;
  const index = payload?.item_index ?? detail?.item_index;
  return typeof index === 'number' ? `${stateName}#${index}` : stateName;
}

/** The action whose compensation a task state runs (`<id>: compensate`), if it is one. */
function compensationOf(stateName: string): string | undefined {
  const owner = checkpointOwner(stateName);
  return owner.role === 'compensate' ? owner.actionId : undefined;
}

/** The action a checkpoint key belongs to, and whether it is one item of that action's foreach. */
export function checkpointOwner(key: string): { actionId: string; item: boolean; role?: string } {
  const [state = key] = key.split('#');
  const [actionId = state, role] = state.split(': ');
  return { actionId, item: role === 'each item', ...(role === undefined ? {} : { role }) };
}

export interface LocalRunOutcome {
  readonly status: ExecutionStatus;
  readonly output?: unknown;
  readonly error?: ExecutionFailure;
  readonly actions: readonly ActionProgress[];
}

export interface LocalRun {
  readonly done: Promise<LocalRunOutcome>;
  /** Stops the run; in-flight calls see their AbortSignal fire. */
  cancel(): void;
}

/** Builds the interpreter once per definition (construction validates it, ~100 ms); runs reuse it. */
export class CompiledMachineCache {
  private readonly machines = new Map<string, StateMachine>();

  get(key: string, definition: Record<string, unknown>): StateMachine {
    let machine = this.machines.get(key);
    if (!machine) {
      machine = new StateMachine(structuredClone(definition) as unknown as Definition, { validationOptions: { checkPaths: false } } as never);
      this.machines.set(key, machine);
    }
    return machine;
  }
}

export function startLocalRun(machine: StateMachine, run: LocalRunInput): LocalRun {
  const controller = new AbortController();
  const initial = new Map((run.initialProgress ?? []).map((action) => [action.action_id, action]));
  const progress = new Map<string, ActionProgress>(
    run.actions.map((action) => [action.action_id, initial.get(action.action_id) ?? { action_id: action.action_id, action_type: action.action_type, status: 'pending', attempts: 0 }]),
  );
  // Actions that were done before this start keep their record: replaying them reports nothing.
  const settledBefore = new Set([...progress.values()].filter((action) => action.status !== 'pending' && action.status !== 'running').map((action) => action.action_id));
  // Once the outcome is known, late reports (a call aborted by the cancellation) must not reopen an action.
  let closed = false;
  const update = (actionId: string, change: Partial<ActionProgress>) => {
    const current = progress.get(actionId);
    if (!current || closed) return;
    const next = { ...current, ...change };
    progress.set(actionId, next);
    run.onProgress?.(next);
  };

  // Waits at dependency gates end with the run (its end or its cancellation), released or not.
  const gateWaits = new AbortController();
  const gates = run.integrations.gates;
  const handlers: Record<string, TaskHandler> = {};
  // State names are unique across a split workflow's machines, so one set of handlers serves them all.
  const definitions = [run.definition, ...[...(run.children?.values() ?? [])].map((child) => child.definition)] as { States: Record<string, unknown> }[];
  const childRuns = new Set<{ abort: () => void }>();
  const llm = llmSteps(run.actions);
  for (const [stateName, actionId] of definitions.flatMap(taskStates)) {
    handlers[stateName] = (async (input: Record<string, unknown>) => {
      const child = typeof input.StateMachineArn === 'string' ? run.children?.get(input.StateMachineArn) : undefined;
      // A part of the workflow: not a call, so neither tracked nor checkpointed (its own tasks are).
      if (child) return runChild(child.machine, input.Input);
      if ('FunctionName' in input && isGatePayload(input.Payload)) {
        // Neither replayed nor checkpointed: a resumed run starts with no gates (they live in memory), so its
        // producers report again and its waiters wait again. Not tracked either: a wait is no call in flight.
        await run.beforeTask?.(controller.signal);
        return gateTask(stateName, input.Payload, gates, gateWaits.signal);
      }
      const key = checkpointKey(stateName, input);
      const own = actionId !== undefined && stateName === actionId && !settledBefore.has(actionId);
      // An llm action's states (llm-steps.ts): its calls are its attempts, its checks may complete it.
      const step = llm.of(stateName);
      const llmOwn = step !== undefined && !settledBefore.has(step.actionId) ? step : undefined;
      if (run.replay?.has(key)) {
        const recorded = structuredClone(run.replay.get(key));
        // A recorded service call is not called again, but the gates it feeds are new: it reports to them again.
        if ('FunctionName' in input) await reportReplayedCall(input.Payload, recorded, gates);
        // Its result was kept but the run stopped before its progress said so.
        if (own) update(actionId, { status: 'completed', ended_at: progress.get(actionId)?.ended_at ?? run.now(), output: extractOutput(recorded, input), error: undefined });
        const replayed = llmOwn && llm.succeeded(llmOwn, stateName, input, recorded, progress.get(llmOwn.actionId)?.ended_at ?? run.now());
        if (llmOwn && replayed) update(llmOwn.actionId, replayed);
        return recorded;
      }
      // A gated call is neither running nor in flight while it waits for its producers; it is made once they reported.
      const released = 'FunctionName' in input && isGatedCallPayload(input.Payload) ? await waitInCall(stateName, input.Payload, gates, gateWaits.signal) : undefined;
      await run.beforeTask?.(controller.signal);
      if (own) update(actionId, { status: 'running', attempts: (progress.get(actionId)?.attempts ?? 0) + 1, started_at: progress.get(actionId)?.started_at ?? run.now() });
      const started = llmOwn && llm.started(llmOwn, progress.get(llmOwn.actionId), run.now());
      if (llmOwn && started) update(llmOwn.actionId, started);
      const compensated = compensationOf(stateName);
      const compensate = (change: Partial<CompensationProgress>) => {
        const current = compensated === undefined ? undefined : progress.get(compensated);
        if (current && compensated) update(compensated, { compensation: { status: 'planned', attempts: 0, ...current.compensation, ...change } });
      };
      compensate({ status: 'running', attempts: (progress.get(compensated ?? '')?.compensation?.attempts ?? 0) + 1, started_at: progress.get(compensated ?? '')?.compensation?.started_at ?? run.now() });
      try {
        const work = async () => {
          // A gated call's request, with the values it reads from its release rendered (TemplateValueError fails it).
          const call = released ? { ...input, Payload: releasedCall(input.Payload, released) } : input;
          const called = await dispatch(stateName, call, run.integrations, controller.signal);
          await run.onCheckpoint?.(key, called);
          return called;
        };
        const result = run.trackTask ? await run.trackTask(work) : await work();
        compensate({ status: 'completed', ended_at: run.now(), error: undefined });
        if (own) {
          const payload = extractOutput(result, input);
          update(actionId, { status: 'completed', ended_at: run.now(), output: payload, error: undefined });
        }
        const answered = llmOwn && llm.succeeded(llmOwn, stateName, input, result, run.now());
        if (llmOwn && answered) update(llmOwn.actionId, answered);
        return result;
      } catch (error) {
        const failure = { error: error instanceof Error ? error.name : 'Error', cause: error instanceof Error ? error.message : String(error) };
        if (own) update(actionId, { error: failure });
        if (llmOwn) update(llmOwn.actionId, { error: failure });
        // Failed until a retry of it starts: its Catch dead-letters it and the saga goes on.
        compensate({ status: 'failed', ended_at: run.now(), error: failure });
        throw error;
      }
    }) as TaskHandler;
  }

  // A wait that had ended before this start does not wait again.
  const waits = definitions
    .flatMap((definition) => statesOfType(definition, 'Wait'))
    .map((name): [string, number | undefined] => [name, settledBefore.has(name) ? 0 : run.waitMilliseconds])
    .filter((entry): entry is [string, number] => entry[1] !== undefined);
  const options: RunOptions = {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      ...(waits.length > 0 ? { waitTimeOverrides: Object.fromEntries(waits) } : {}),
      ...(run.retryMilliseconds !== undefined ? { retryIntervalOverrides: Object.fromEntries(Object.keys(handlers).map((name) => [name, run.retryMilliseconds!])) } : {}),
    },
    // No task tokens locally: gate states send this placeholder, and each wait takes its own token (gateTask).
    context: { Execution: { Name: run.executionId, Id: `arn:aws:states:local:000000000000:execution:local:${run.executionId}`, StartTime: run.now(), RedriveCount: 0 }, Task: { Token: 'local' } },
  } as RunOptions;
  // Declared before the run starts: the interpreter enters the first state (which may start a child) at once.
  const follow = (events: unknown) =>
    void followEvents(events as AsyncIterable<StateEvent> | undefined, progress, (actionId, change) => {
      if (!settledBefore.has(actionId)) update(actionId, change);
    }, run.now);
  const execution = machine.run(structuredClone(run.input) as never, options);
  follow(execution.eventLogs);

  /** What startExecution.sync:2 gives its parent: the child's output, or a failure carrying the child's error and cause. */
  async function runChild(child: StateMachine, input: unknown): Promise<unknown> {
    const childOptions = { ...options, context: { ...options.context, Execution: { ...(options.context as { Execution: object }).Execution, Input: input } } } as RunOptions;
    let childExecution: ReturnType<StateMachine['run']> | undefined;
    try {
      childExecution = child.run(structuredClone(input) as never, childOptions);
      childRuns.add(childExecution);
      follow(childExecution.eventLogs);
      return { Output: await childExecution.result, ExecutionArn: `${(options.context as { Execution: { Id: string } }).Execution.Id}-part`, Status: 'SUCCEEDED' };
    } catch (error) {
      const cause = (error as { cause?: { name?: string; message?: string } }).cause;
      const failed = new Error(JSON.stringify({ Status: 'FAILED', Error: cause?.name ?? 'States.TaskFailed', Cause: cause?.message ?? String(error) }));
      failed.name = 'States.TaskFailed';
      throw failed;
    } finally {
      if (childExecution) childRuns.delete(childExecution);
    }
  }

  const outcome = (async (): Promise<LocalRunOutcome> => {
    try {
      const output = await execution.result;
      settleUnfinished(progress, update, run.now, output);
      closed = true;
      return { status: 'completed', output, actions: [...progress.values()] };
    } catch (error) {
      const failure = describeFailure(error, progress);
      if (controller.signal.aborted) {
        closed = true;
        return { status: 'cancelled', error: { error: 'Cancelled', cause: 'the execution was cancelled' }, actions: [...progress.values()] };
      }
      if (failure.action_id) update(failure.action_id, { status: 'failed', ended_at: run.now() });
      closed = true;
      return { status: failure.error === 'States.Timeout' ? 'timed_out' : 'failed', error: failure, actions: [...progress.values()] };
    }
  })();
  // Gates do not outlive their run: a retry or a resumption runs its gate states again, with new gates.
  const done = outcome.then(async (ended) => {
    gateWaits.abort();
    await gates?.gates.forget(run.executionId).catch(() => undefined);
    return ended;
  });

  return {
    done,
    cancel: () => {
      controller.abort();
      gateWaits.abort();
      for (const child of childRuns) child.abort();
      execution.abort();
    },
  };
}

/** Names of every state of `type`, in branches and foreach iterations too. */
function statesOfType(definition: { States: Record<string, unknown> }, type: string): string[] {
  const found: string[] = [];
  const visit = (states: Record<string, unknown>) => {
    for (const [name, raw] of Object.entries(states)) {
      const state = raw as { Type: string; Branches?: { States: Record<string, unknown> }[]; ItemProcessor?: { States: Record<string, unknown> } };
      if (state.Type === type) found.push(name);
      state.Branches?.forEach((branch) => visit(branch.States));
      if (state.ItemProcessor) visit(state.ItemProcessor.States);
    }
  };
  visit(definition.States);
  return found;
}

/** Task states, each with the action it belongs to (compensation and dead-letter states belong to none). */
function taskStates(definition: { States: Record<string, unknown> }): [string, string | undefined][] {
  return statesOfType(definition, 'Task').map((name) => [name, name.includes(': ') ? undefined : name]);
}

interface StateEvent {
  readonly type: string;
  readonly timestamp?: number;
  readonly state?: { readonly name: string; readonly type: string; readonly output?: unknown };
}

/** Waits, transforms and the compiler's skip/record-failure states have no handler: their events tell. */
async function followEvents(
  events: AsyncIterable<StateEvent> | undefined,
  progress: Map<string, ActionProgress>,
  update: (actionId: string, change: Partial<ActionProgress>) => void,
  now: () => string,
): Promise<void> {
  if (!events) return;
  try {
    for await (const event of events) {
      const name = event.state?.name;
      if (!name) continue;
      const [actionId, role] = name.split(': ');
      if (!actionId || !progress.has(actionId)) continue;
      const current = progress.get(actionId)!;
      if (role === 'skipped' && event.type === 'StateExited') update(actionId, { status: 'skipped', ended_at: now() });
      else if (role === 'record failure' && event.type === 'StateExited') update(actionId, { status: 'failed', ended_at: now() });
      else if (role === undefined && (current.action_type === 'wait' || current.action_type === 'transform' || current.action_type === 'foreach')) {
        if (event.type === 'StateEntered') update(actionId, { status: 'running', attempts: current.attempts + 1, started_at: now() });
        if (event.type === 'StateExited') {
          const output = (event.state?.output as { results?: Record<string, { status_code?: number | null; response?: unknown }> } | undefined)?.results?.[actionId];
          update(actionId, { status: 'completed', ended_at: now(), ...(output ? { output: { status_code: output.status_code ?? null, response: output.response } } : {}) });
        }
      }
    }
  } catch {
    // The event stream ends with the execution; a failed or aborted run may close it abruptly.
  }
}

/**
 * The interpreter can drop the last events of nested branches when a run ends, so a successful run settles
 * what is left from its output: an action with a result there completed, one still pending was skipped.
 */
function settleUnfinished(progress: Map<string, ActionProgress>, update: (actionId: string, change: Partial<ActionProgress>) => void, now: () => string, output: unknown): void {
  const results = (output as { results?: Record<string, { outcome?: string }> } | undefined)?.results ?? {};
  for (const action of progress.values()) {
    if (action.status !== 'pending' && action.status !== 'running') continue;
    const outcome = results[action.action_id]?.outcome;
    const status = outcome === 'skipped' ? 'skipped' : outcome === 'failed' ? 'failed' : action.status === 'running' || outcome === 'completed' || action.action_type === 'wait' || action.action_type === 'transform' ? 'completed' : 'skipped';
    // It ran, but the events that said so were dropped: it starts before it ends, as every run's actions do.
    if (action.status === 'pending' && status !== 'skipped') update(action.action_id, { status: 'running', attempts: action.attempts + 1, started_at: now() });
    update(action.action_id, { status, ended_at: action.ended_at ?? now() });
  }
}

function describeFailure(error: unknown, progress: Map<string, ActionProgress>): ExecutionFailure {
  const cause = (error as { cause?: { name?: string; message?: string } }).cause;
  const name = cause?.name ?? (error instanceof Error ? error.name : 'Error');
  const message = cause?.message ?? (error instanceof Error ? error.message : String(error));
  // The compiler's Fail states name the action in the cause (failedActionOf); other failures, the running one.
  const actionId = failedActionOf(message) ?? [...progress.values()].find((action) => action.status === 'running')?.action_id;
  return { ...(actionId && progress.has(actionId) ? { action_id: actionId } : {}), error: name, cause: message };
}
