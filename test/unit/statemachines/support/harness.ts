import aslValidator from 'asl-validator';
import { ExecutionError, StateMachine, type RunOptions, type StateMachineDefinition as EmulatorDefinition } from 'aws-local-stepfunctions';
import { WorkflowDefinitionSchema, type WorkflowDefinition } from '../../../../core/workflow/definition.ts';
import { definitionIssues, zodIssues } from '../../../../core/workflow/validate.ts';
import type { State, StateMachineDefinition } from '../../../../statemachines/asl.ts';
import { compileWorkflow, executionInput, type CompiledWorkflow, type CompileOptions } from '../../../../statemachines/compile.ts';
import { isRedriveGatePayload, passRedriveGate } from '../../../../core/execution/redrive-gate.ts';
import { arriveAtGates, gatedCallWait, gateFeedOf, isGatedCallPayload, isGatePayload, parseGateRequest, releasedCall, serviceCallOutput } from '../../../../core/execution/gate-requests.ts';
import { awaitRelease, createLocalGates } from '../../../../adapters/local/in-process-gates.ts';
import { checkLlmAnswer, isLlmCheckPayload } from '../../../../core/execution/llm-check.ts';

/**
 * Compiling workflows the way the service does (schema, whole-definition validation, compiler) and running the
 * result on aws-local-stepfunctions with local task handlers that record every call.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const WORKFLOW_ID = 'wf';
export const WORKFLOW_VERSION = 3;
export const EXECUTION_NAME = 'exec-1';
export const EXECUTION_START = '2026-01-01T00:00:00.000Z';
export const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:${WORKFLOW_ID}:${EXECUTION_NAME}`;

/** Parses with the workflow schema and the whole-definition checks; throws with every issue otherwise. */
export function parseWorkflow(input: unknown): WorkflowDefinition {
  const parsed = WorkflowDefinitionSchema.safeParse(input);
  if (!parsed.success) throw new Error(`definition does not parse: ${JSON.stringify(zodIssues(parsed.error))}`);
  const issues = definitionIssues(parsed.data);
  if (issues.length > 0) throw new Error(`definition has issues: ${JSON.stringify(issues)}`);
  return parsed.data;
}

const validated = new Map<string, string[]>();

/**
 * asl-validator's complaints about a definition (it annotates what it is given, so it gets a copy). It builds
 * its JSON-schema validator on every call (~100 ms), so results are remembered by definition text.
 */
export function aslErrors(definition: StateMachineDefinition): string[] {
  const key = JSON.stringify(definition);
  let errors = validated.get(key);
  if (!errors) {
    errors = aslValidator(structuredClone(definition)).errors.map((error) => `${error['Error code']}: ${error.Message}`);
    validated.set(key, errors);
  }
  return [...errors];
}

export function compileDefinition(workflow: WorkflowDefinition, options: CompileOptions = {}): CompiledWorkflow {
  return compileWorkflow(
    { workflow_id: WORKFLOW_ID, version: WORKFLOW_VERSION, name: workflow.name, execution_mode: workflow.execution_mode, parameters: workflow.parameters, actions: workflow.actions },
    options,
  );
}

/** Validates, compiles and checks the result with asl-validator: every compiled definition must pass. */
export function compileChecked(input: unknown, options: CompileOptions = {}): CompiledWorkflow {
  const compiled = compileDefinition(parseWorkflow(input), options);
  const errors = [compiled.definition, ...compiled.children.map((child) => child.definition)].flatMap((machine) => aslErrors(machine));
  if (errors.length > 0) throw new Error(`compiled definition fails asl-validator:\n${errors.join('\n')}\n${JSON.stringify(compiled.definition, null, 1)}`);
  return compiled;
}

// --- walking definitions ----------------------------------------------------------------------------------

/**
 * Every state, nested ones included (Parallel branches and Map item processors), by name. Names must be unique
 * in a whole state machine (asl-validator checks it too).
 */
export function allStates(definition: StateMachineDefinition): Map<string, State> {
  const found = new Map<string, State>();
  const visit = (machine: StateMachineDefinition) => {
    for (const [name, state] of Object.entries(machine.States)) {
      if (found.has(name)) throw new Error(`state name ${name} is used twice`);
      found.set(name, state);
      if (state.Type === 'Parallel') state.Branches.forEach(visit);
      if (state.Type === 'Map') visit(state.ItemProcessor);
    }
  };
  visit(definition);
  return found;
}

// --- recording handlers -----------------------------------------------------------------------------------

export type Handler = (input: Json) => Promise<Json> | Json;

export interface Call {
  readonly state: string;
  readonly input: Json;
  /** performance.now() when the handler was entered and when it returned or threw. */
  readonly start: number;
  end: number;
  /** A global counter: orders every start and end of every handler, without clock resolution issues. */
  readonly startSeq: number;
  endSeq: number;
  error?: string;
  output?: Json;
}

export class Recorder {
  readonly calls: Call[] = [];
  private seq = 0;

  wrap(state: string, handler: Handler): Handler {
    return async (input: Json) => {
      const call: Call = { state, input: structuredClone(input), start: performance.now(), startSeq: ++this.seq, end: Number.NaN, endSeq: Number.NaN };
      this.calls.push(call);
      try {
        const output = await handler(input);
        call.output = output;
        return output;
      } catch (error) {
        call.error = error instanceof Error ? error.name : String(error);
        throw error;
      } finally {
        call.end = performance.now();
        call.endSeq = ++this.seq;
      }
    };
  }

  to(state: string): Call[] {
    return this.calls.filter((call) => call.state === state);
  }

  only(state: string): Call {
    const calls = this.to(state);
    if (calls.length !== 1) throw new Error(`expected exactly one call to ${state}, got ${calls.length} (calls: ${this.calls.map((call) => call.state).join(', ')})`);
    return calls[0]!;
  }

  /** The most handler calls among `states` that were in progress at the same time. */
  maxConcurrent(states: (state: string) => boolean): number {
    const marks = this.calls
      .filter((call) => states(call.state))
      .flatMap((call) => [
        { seq: call.startSeq, delta: 1 },
        { seq: call.endSeq, delta: -1 },
      ])
      .sort((a, b) => a.seq - b.seq);
    let current = 0;
    let max = 0;
    for (const mark of marks) {
      current += mark.delta;
      max = Math.max(max, current);
    }
    return max;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What the action runner Lambda returns, as lambda:invoke wraps it. */
export function lambdaResult(response: Json, statusCode = 200): Json {
  return { Payload: { status_code: statusCode, response }, StatusCode: 200 };
}

/** What bedrock:invokeModel returns for an Anthropic model: the Messages response as `Body`. */
export function modelAnswer(text: string, usage: { input_tokens: number; output_tokens: number } = { input_tokens: 10, output_tokens: 5 }): Json {
  return { Body: { id: 'msg', type: 'message', role: 'assistant', content: [{ type: 'text', text }], stop_reason: 'end_turn', usage }, ContentType: 'application/json' };
}

export function eventsResult(eventId: string): Json {
  return { Entries: [{ EventId: eventId }] };
}

/** An error whose name the emulator reports as the ASL Error (the runner's error names, e.g. ServiceUnavailableError). */
export function actionError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** A handler that answers from `respond` after `delayMs`. */
export function service(respond: (input: Json) => Json, delayMs = 0): Handler {
  return async (input) => {
    if (delayMs > 0) await sleep(delayMs);
    return lambdaResult(respond(input));
  };
}

/** The `Payload` a lambda:invoke task received (the action runner's request). */
export function payloadOf(call: Call): JsonObject {
  return (call.input as { Payload: JsonObject }).Payload;
}

/** The `Detail` of the event a putEvents task sent. */
export function detailOf(call: Call): JsonObject {
  return (call.input as { Entries: { Detail: JsonObject }[] }).Entries[0]!.Detail;
}

function defaultHandler(resource: string, state: string): Handler {
  if (resource.includes(':lambda:')) {
    // The runner's own answer to a failed run's gate (the run is never redriven here: it fails).
    return (input) => {
      const payload = (input as { Payload?: unknown } | null)?.Payload;
      // The runner's checks of llm answers are its own code, as in AWS.
      if (isLlmCheckPayload(payload)) return { Payload: checkLlmAnswer(payload) as unknown as Json, StatusCode: 200 };
      return isRedriveGatePayload(payload) ? { Payload: passRedriveGate(payload), StatusCode: 200 } : lambdaResult({ state });
    };
  }
  if (resource.includes(':bedrock:')) return () => modelAnswer(`answer of ${state}`);
  if (resource.includes(':events:')) return () => eventsResult(`event-${state}`);
  if (resource.includes(':sqs:')) return () => ({ MessageId: `message-${state}` });
  if (resource.includes(':states:startExecution')) return () => ({ Output: {}, ExecutionArn: `arn:child:${state}` });
  throw new Error(`no default handler for ${resource}`);
}

/**
 * Dependency gates (ADR 0016) as the local runtime serves them (createLocalGates, the gate requests' own
 * handling): a `: gate` state waits until its release and takes the producers' outputs as its result; a
 * gated call waits the same way before it is made; a `: report` state and a completed service call with
 * `gate_waiters` report to the gates they feed.
 */
class HarnessGates {
  private readonly local = createLocalGates({ now: () => EXECUTION_START });
  private readonly run = new AbortController();

  around(handler: Handler): Handler {
    return async (input) => {
      const payload = (input as { Payload?: unknown } | null)?.Payload;
      if (isGatePayload(payload)) {
        const request = parseGateRequest(payload);
        if (request.kind === 'arrive') return { Payload: { released: await arriveAtGates(this.local, request.executionId, request.producer, request.waiters, request.output) }, StatusCode: 200 };
        return (await awaitRelease(this.local, request, this.run.signal)) as Json;
      }
      let call = input;
      if (isGatedCallPayload(payload)) {
        // A gated call waits at its gate in its own state, then is made (recorded from then) with the values it
        // reads from the release rendered, as the runner makes it.
        call = { ...(input as JsonObject), Payload: releasedCall(payload, await awaitRelease(this.local, gatedCallWait(payload), this.run.signal)) as JsonObject };
      }
      const result = await handler(call);
      const feed = gateFeedOf(payload);
      const answer = (result as { Payload?: { status_code?: number; response?: unknown } } | null)?.Payload;
      if (feed && answer) await arriveAtGates(this.local, feed.executionId, feed.producer, feed.waiters, serviceCallOutput({ status_code: answer.status_code ?? 200, response: answer.response ?? null }));
      return result;
    };
  }
}

// --- running ------------------------------------------------------------------------------------------------

type EmulatorHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export interface RunResult {
  readonly status: 'succeeded' | 'failed';
  readonly output?: JsonObject;
  readonly error?: string;
  readonly cause?: string;
  readonly events: readonly EventLog[];
  readonly recorder: Recorder;
}

export interface ExecuteOptions {
  /** By task state name. Tasks without one answer with a generic success (and are recorded like the others). */
  readonly handlers?: Readonly<Record<string, Handler>>;
  readonly recorder?: Recorder;
  /** Milliseconds, by Wait state name. */
  readonly waitTimeOverrides?: Readonly<Record<string, number>>;
  /** Milliseconds, by state name; every state with a Retry defaults to 0. */
  readonly retryIntervalOverrides?: Readonly<Record<string, number>>;
  /** Added to the input runtimes build (a rerun's `reuse` map). */
  readonly extraInput?: JsonObject;
  /** The child machines of a split workflow (CompiledWorkflow.children), started by their parts' Tasks. */
  readonly children?: CompiledWorkflow['children'];
}

/** Runs a compiled definition on the emulator with `params`. Failures are returned, not thrown. */
export async function execute(definition: StateMachineDefinition, params: JsonObject, options: ExecuteOptions = {}): Promise<RunResult> {
  const recorder = options.recorder ?? new Recorder();
  const children = new Map((options.children ?? []).map((child) => [`\${WorkflowPart:${child.part}}`, child.definition]));
  const states = new Map([...allStates(definition), ...[...children.values()].flatMap((child) => [...allStates(child)])]);
  for (const name of Object.keys(options.handlers ?? {})) {
    if (states.get(name)?.Type !== 'Task') throw new Error(`handler for ${name}, which is not a Task state (tasks: ${[...states].filter(([, s]) => s.Type === 'Task').map(([n]) => n).join(', ')})`);
  }
  const handlers: Record<string, Handler> = {};
  const gates = new HarnessGates();
  const retryIntervalOverrides: Record<string, number> = {};
  const overrides = { taskResourceLocalHandlers: handlers as unknown as EmulatorHandlers, waitTimeOverrides: { ...options.waitTimeOverrides }, retryIntervalOverrides };
  // The emulator fills in no `$$.State`, so compiled definitions must not read it (the dead letter's time is SQS's SentTimestamp).
  const context = { Execution: { Name: EXECUTION_NAME, Id: EXECUTION_ARN, StartTime: EXECUTION_START, RedriveCount: 0 }, Task: { Token: 'harness' } };
  /** A child machine of a split workflow, as startExecution.sync:2 runs it: its output, or its failure as the task's. */
  const startChild = async (input: Json): Promise<Json> => {
    const { StateMachineArn: arn, Input: childInput } = input as { StateMachineArn: string; Input: Json };
    const child = children.get(arn);
    if (!child) throw new Error(`no child machine ${arn}`);
    const run = new StateMachine(structuredClone(child) as unknown as EmulatorDefinition, { validationOptions: { noValidate: true } }).run(childInput as never, { overrides, context: { ...context, Execution: { ...context.Execution, Name: `${EXECUTION_NAME}-child`, Input: childInput } } });
    try {
      return { Output: (await run.result) as unknown as Json, ExecutionArn: `${EXECUTION_ARN}-${arn}`, Status: 'SUCCEEDED' };
    } catch (error) {
      if (!(error instanceof ExecutionError)) throw error;
      const cause = error.cause as Error;
      const failed = new Error(JSON.stringify({ Status: 'FAILED', Error: cause.name, Cause: cause.message }));
      failed.name = 'States.TaskFailed';
      throw failed;
    }
  };
  for (const [name, state] of states) {
    const child = state.Type === 'Task' && state.Resource.includes(':states:startExecution') && String(state.Parameters?.StateMachineArn).startsWith('${WorkflowPart:');
    // The call is recorded inside the gates' handling: a completed call ends before it reports to its gates (the runner answers after).
    if (state.Type === 'Task') handlers[name] = child ? recorder.wrap(name, startChild) : gates.around(recorder.wrap(name, options.handlers?.[name] ?? defaultHandler(state.Resource, name)));
    if ('Retry' in state && state.Retry && state.Retry.length > 0) retryIntervalOverrides[name] = 0;
  }
  Object.assign(retryIntervalOverrides, options.retryIntervalOverrides);
  const machine = new StateMachine(structuredClone(definition) as unknown as EmulatorDefinition, { validationOptions: { noValidate: true } });
  // The input runtimes build for a compiled machine: params, with results and failures starting empty.
  const input = { ...executionInput(params), ...options.extraInput };
  const run = machine.run(input as unknown as Parameters<StateMachine['run']>[0], { overrides, context });
  const events: EventLog[] = [];
  const collecting = (async () => {
    for await (const event of run.eventLogs) events.push(event);
  })();
  try {
    const output = (await run.result) as unknown as JsonObject;
    await collecting;
    return { status: 'succeeded', output, events, recorder };
  } catch (error) {
    if (!(error instanceof ExecutionError)) throw error;
    await collecting;
    const cause = error.cause as Error;
    return { status: 'failed', error: cause.name, cause: cause.message, events, recorder };
  }
}

/** The data a state passed on when it exited (the last time it did), from the event log. */
export function stateOutput(result: RunResult, state: string): JsonObject | undefined {
  const exits = result.events.filter((event) => event.type === 'StateExited' && 'state' in event && event.state.name === state);
  const last = exits[exits.length - 1];
  return last && 'state' in last ? (last.state.output as unknown as JsonObject) : undefined;
}

/** Names of the states entered, in the order the event log reports them. */
export function statesEntered(result: RunResult): string[] {
  return result.events.flatMap((event) => (event.type === 'StateEntered' && 'state' in event ? [event.state.name] : []));
}
