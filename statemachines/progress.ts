import { addUsage, sentNotification, type ActionProgress } from '../core/execution/model.ts';
import { answerOfModelBody } from '../core/execution/llm-check.ts';
import { LLM_STATE_ROLES } from '../core/workflow/llm.ts';
import type { ExecutionHistoryEvent as MachineEvent } from '../core/ports.ts';
import { RUN_PAUSED_ERROR } from '../core/errors.ts';
import type { Action } from '../core/workflow/definition.ts';

/**
 * Per-action progress read back from a compiled machine's execution history: Step Functions'
 * GetExecutionHistory for standard workflows, the CloudWatch log of an express one (the same events). The
 * compiler names every state after its action (`<id>`, `<id>: skipped`, `<id>: failed`...; see actions/ and failure.ts),
 * so the history says when each action started, how many attempts it made, what it returned, and whether it
 * completed, was skipped or failed. This is the record the status listener settles an execution with when it
 * ends; the action runner's live reports (service calls only) are what a client sees meanwhile.
 */

/** Roles of the auxiliary states the compiler adds to an action (the part of the name after `: `). */
const FAILURE_ROLES = new Set(['dead letter', 'dead letter event', 'describe failure', 'failed', 'record failure']);

interface Tracker {
  progress: ActionProgress;
  /** The last attempt's error, until an attempt succeeds. */
  lastError?: { error: string; cause: string };
  taskResult?: unknown;
  notification?: Record<string, unknown>;
  /** The task was refused because the run was paused, and parked: not an attempt, and its exit is not an outcome. */
  parked?: boolean;
  /**
   * A gated call (ADR 0016): its state was entered when it began to wait at its gate, so the history does not
   * say when its call started; the runner's record of its first attempt does.
   */
  waitedInCall?: boolean;
  /** An llm action's model (its calls' ModelId), for its usage. */
  model?: string;
}

/**
 * What happened to each action of `actions`, from the events of one execution (any order; sorted by id).
 * Actions the run never reached stay `pending`. `executionFailed` settles an action still running when the
 * run ended (the failure cut it off) as failed.
 */
export function progressFromHistory(
  actions: readonly {
    readonly action_id: string;
    readonly action_type: Action['action_type'] | string;
    readonly compensation?: ActionProgress['compensation'];
    readonly output?: ActionProgress['output'];
    /** When the runner recorded the action's first attempt (a gated call's start: see Tracker.waitedInCall). */
    readonly started_at?: string;
  }[],
  events: readonly MachineEvent[],
  executionFailed = false,
): ActionProgress[] {
  const sorted = [...events].sort((a, b) => a.id - b.id);
  const trackers = new Map<string, Tracker>(
    actions.map((action) => [
      action.action_id,
      { progress: { action_id: action.action_id, action_type: action.action_type, status: 'pending', attempts: 0, ...(action.compensation ? { compensation: { status: 'planned', attempts: 0 } } : {}) } },
    ]),
  );
  const stateOf = stateNamesByEvent(sorted);
  const set = (tracker: Tracker, change: Partial<ActionProgress>) => {
    tracker.progress = { ...tracker.progress, ...change };
  };

  for (const event of sorted) {
    const stateName = stateOf.get(event.id);
    if (stateName === undefined) continue;
    const [actionId = '', role] = stateName.split(': ');
    const tracker = trackers.get(actionId);
    if (!tracker) continue;
    const { progress } = tracker;

    if (role === 'compensate') {
      trackCompensation(tracker, event);
      continue;
    }
    if (role === 'reused') {
      // A rerun took this action's result from the run it reruns (the rerun variant): completed, as recorded there.
      const recorded = actions.find((action) => action.action_id === actionId)?.output;
      if (event.type.endsWith('StateExited')) set(tracker, { status: 'completed', ended_at: event.timestamp, ...(recorded ? { output: recorded } : {}) });
      continue;
    }
    if (role === 'skipped') {
      if (event.type.endsWith('StateEntered')) set(tracker, { status: 'skipped', ended_at: event.timestamp });
      continue;
    }
    if (role !== undefined && FAILURE_ROLES.has(role)) {
      if (event.type.endsWith('StateEntered') && progress.status !== 'failed') {
        set(tracker, { status: 'failed', ended_at: event.timestamp, ...(tracker.lastError ? { error: tracker.lastError } : {}) });
      }
      continue;
    }
    if (progress.action_type === 'llm') {
      trackLlm(tracker, actionId, role, event);
      continue;
    }
    if (role !== undefined) continue;

    if (event.type.endsWith('StateEntered')) {
      set(tracker, { status: 'running', started_at: progress.started_at ?? event.timestamp, ...(isTaskAction(progress.action_type) ? {} : { attempts: progress.attempts + 1 }) });
    } else if (event.type === 'TaskScheduled') {
      set(tracker, { attempts: progress.attempts + 1, status: 'running' });
      if (progress.action_type === 'notification') tracker.notification = notificationOf(event.parameters);
      if (progress.action_type === 'service_call' && event.parameters?.includes('"gate_wait"') && isGatedCall(parse(event.parameters))) tracker.waitedInCall = true;
    } else if (event.type === 'TaskSucceeded') {
      tracker.taskResult = parse(event.output);
      tracker.lastError = undefined;
    } else if (event.type === 'TaskFailed' && event.error === RUN_PAUSED_ERROR) {
      set(tracker, { attempts: Math.max(0, progress.attempts - 1) });
      tracker.parked = true;
    } else if (event.type.endsWith('StateExited') && tracker.parked) {
      tracker.parked = false;
    } else if (TASK_FAILURES.has(event.type)) {
      tracker.lastError = failureOf(event);
    } else if (event.type.endsWith('StateExited') && progress.status === 'running' && !(isTaskAction(progress.action_type) && tracker.lastError)) {
      // A task whose last attempt failed leaves through its Catch: the failure states that follow settle it.
      const stateOutput = (parse(event.output) as { results?: Record<string, unknown> } | undefined)?.results?.[actionId];
      const output = outputOf(tracker, stateOutput);
      set(tracker, { status: 'completed', ended_at: event.timestamp, error: undefined, ...(output ? { output } : {}) });
    }
  }

  return actions.map((action) => {
    const tracker = trackers.get(action.action_id)!;
    const started = tracker.progress.started_at;
    // A gated call started when the runner made it, not when its state began to wait (never before that).
    if (tracker.waitedInCall && action.started_at !== undefined && (started === undefined || action.started_at > started)) tracker.progress = { ...tracker.progress, started_at: action.started_at };
    const { progress } = tracker;
    if (progress.status === 'running' && executionFailed) {
      return { ...progress, status: 'failed', ...(tracker.lastError ? { error: tracker.lastError } : {}) };
    }
    if (progress.status === 'running' && tracker.lastError) return { ...progress, error: tracker.lastError };
    return progress;
  });
}

const TASK_FAILURES: ReadonlySet<string> = new Set(['TaskFailed', 'TaskTimedOut', 'MapStateFailed', 'TaskSubmitFailed', 'TaskStartFailed']);

function failureOf(event: MachineEvent): { error: string; cause: string } {
  return { error: event.error ?? (event.type === 'TaskTimedOut' ? 'States.Timeout' : 'States.TaskFailed'), cause: event.cause ?? '' };
}

/**
 * An llm action's states (statemachines/actions/llm.ts): it runs from its first state (the conversation), each
 * model call (`: call`, `: repair`) is an attempt and adds its tokens, and it completes when a state writes its
 * result with outcome `completed` (`: call` without output_schema, `: answer` or `: recheck` with it). A
 * history without data cannot say which: a call's exit then completes it, and the states after say better.
 */
function trackLlm(tracker: Tracker, actionId: string, role: string | undefined, event: MachineEvent): void {
  const set = (change: Partial<ActionProgress>) => {
    tracker.progress = { ...tracker.progress, ...change };
  };
  const { progress } = tracker;
  const modelCall = role === LLM_STATE_ROLES.call || role === LLM_STATE_ROLES.repair;
  if (event.type.endsWith('StateEntered')) {
    if (role === undefined) set({ status: 'running', started_at: progress.started_at ?? event.timestamp });
  } else if (event.type === 'TaskScheduled') {
    if (!modelCall) return;
    const model = (parse(event.parameters) as { ModelId?: unknown } | undefined)?.ModelId;
    if (typeof model === 'string') tracker.model = model;
    set({ attempts: progress.attempts + 1, status: 'running' });
  } else if (event.type === 'TaskSucceeded') {
    tracker.taskResult = parse(event.output);
    tracker.lastError = undefined;
    const answer = modelCall ? answerOfModelBody((tracker.taskResult as { Body?: unknown } | undefined)?.Body) : undefined;
    if (answer) set({ usage: addUsage(progress.usage, { model: tracker.model ?? 'unknown', ...answer.usage }) });
  } else if (TASK_FAILURES.has(event.type)) {
    tracker.lastError = failureOf(event);
  } else if (event.type.endsWith('StateExited') && !tracker.lastError && (role === LLM_STATE_ROLES.call || role === LLM_STATE_ROLES.answer || role === LLM_STATE_ROLES.recheck)) {
    const data = parse(event.output) as { results?: Record<string, { outcome?: unknown; response?: unknown } | undefined> } | undefined;
    const recorded = data?.results?.[actionId];
    // The answer goes on to its check.
    if (data !== undefined && recorded?.outcome !== 'completed') return;
    const task = tracker.taskResult as { Body?: unknown; Payload?: { response?: unknown } } | undefined;
    const response = recorded?.response ?? task?.Payload?.response ?? answerOfModelBody(task?.Body);
    set({ status: 'completed', ended_at: event.timestamp, error: undefined, ...(response === undefined ? {} : { output: { status_code: null, response } }) });
  }
}

/** A compensation's task: scheduled attempts, then its success or its last failure (its Catch dead-letters it). */
function trackCompensation(tracker: Tracker, event: MachineEvent): void {
  const current = tracker.progress.compensation ?? { status: 'planned', attempts: 0 };
  let next: NonNullable<ActionProgress['compensation']> | undefined;
  if (event.type === 'TaskScheduled') next = { ...current, status: 'running', attempts: current.attempts + 1, started_at: current.started_at ?? event.timestamp };
  else if (event.type === 'TaskSucceeded') next = { status: 'completed', attempts: current.attempts, ...(current.started_at ? { started_at: current.started_at } : {}), ended_at: event.timestamp };
  else if (event.type === 'TaskFailed' || event.type === 'TaskTimedOut' || event.type === 'TaskSubmitFailed' || event.type === 'TaskStartFailed') {
    next = { ...current, status: 'failed', ended_at: event.timestamp, error: { error: event.error ?? (event.type === 'TaskTimedOut' ? 'States.Timeout' : 'States.TaskFailed'), cause: event.cause ?? '' } };
  }
  if (next) tracker.progress = { ...tracker.progress, compensation: next };
}

/** Task states count their attempts by what they schedule; other states by entering. */
function isTaskAction(actionType: string): boolean {
  return actionType === 'service_call' || actionType === 'notification' || actionType === 'sub_workflow';
}

/**
 * The state each event belongs to: entered and exited events name it; task events follow `previousEventId`
 * back to the state that was entered (retries chain through the failed attempt), so parallel branches,
 * whose events interleave, are kept apart.
 */
function stateNamesByEvent(events: readonly MachineEvent[]): Map<number, string> {
  const byId = new Map(events.map((event) => [event.id, event]));
  const names = new Map<number, string>();
  const resolve = (event: MachineEvent): string | undefined => {
    const chain: MachineEvent[] = [];
    let current: MachineEvent | undefined = event;
    let found: string | undefined;
    while (current && chain.length < 10_000) {
      const known = names.get(current.id);
      if (known !== undefined) {
        found = known;
        break;
      }
      if (current.name !== undefined && /State(Entered|Exited)$/.test(current.type)) {
        found = current.name;
        break;
      }
      chain.push(current);
      // An exited event ends a state: an event following it belongs to no state until the next one is entered.
      current = current.previousEventId === undefined ? undefined : byId.get(current.previousEventId);
      if (current && current.type.endsWith('StateExited')) current = undefined;
    }
    if (found !== undefined) for (const link of chain) names.set(link.id, found);
    return found;
  };
  for (const event of events) {
    const name = resolve(event);
    if (name !== undefined) names.set(event.id, name);
  }
  return names;
}

/** What an action returned, as the API shows it: from the state's output when the history has it, else from the task's result. */
function outputOf(tracker: Tracker, stateOutput: unknown): ActionProgress['output'] | undefined {
  const recorded = stateOutput as { status_code?: number | null; response?: unknown } | undefined;
  const actionType = tracker.progress.action_type;
  if (actionType === 'notification') {
    const eventId = (tracker.taskResult as { Entries?: { EventId?: string }[] } | undefined)?.Entries?.[0]?.EventId ?? (recorded?.response as { event_id?: string } | undefined)?.event_id;
    return { status_code: 200, response: { ...(eventId ? { event_id: eventId } : {}), ...tracker.notification } };
  }
  if (recorded && typeof recorded === 'object' && 'response' in recorded) return { status_code: recorded.status_code ?? null, response: recorded.response };
  const result = tracker.taskResult as { Payload?: { status_code?: number; response?: unknown }; Output?: unknown } | undefined;
  if (result?.Payload) return { status_code: result.Payload.status_code ?? null, response: result.Payload.response };
  if (result && 'Output' in result) return { status_code: null, response: typeof result.Output === 'string' ? (parse(result.Output) ?? result.Output) : result.Output };
  return undefined;
}

/** The rendered message of a notification, from the PutEvents parameters it was sent with. */
function notificationOf(parameters: string | undefined): Record<string, unknown> | undefined {
  const entry = (parse(parameters) as { Entries?: { Detail?: unknown }[] } | undefined)?.Entries?.[0];
  const detail = typeof entry?.Detail === 'string' ? parse(entry.Detail) : entry?.Detail;
  if (!detail || typeof detail !== 'object') return undefined;
  return sentNotification(detail as Record<string, unknown>);
}

/** A gated call's parameters: its payload carries `gate_wait` (functions/workers/gated-calls.ts). */
function isGatedCall(parameters: unknown): boolean {
  const payload = (parameters as { Payload?: unknown } | undefined)?.Payload;
  return typeof payload === 'object' && payload !== null && 'gate_wait' in payload;
}

function parse(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
