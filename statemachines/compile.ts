import { actionFailureCause, RETRYABLE_ACTION_ERRORS, RUN_PAUSED_ERROR, WorkflowErrorName } from '../core/errors.ts';
import type { Action, Condition, ExecutionMode, Parameter, ParameterType, RetryPolicy } from '../core/workflow/definition.ts';
import { RetryPolicySchema } from '../core/workflow/definition.ts';
import { DEFAULT_TENANT } from '../core/auth/model.ts';
import { parseTemplateString } from '../core/workflow/templates.ts';
import { DEAD_LETTER_NOTICE, deadLetterNotice, notificationEntry } from './bus-entries.ts';
import { Placeholder, Resource, type Catcher, type ChoiceRule, type JsonObject, type Retrier, type State, type StateMachineDefinition, type TaskState } from './asl.ts';
import { checkLimits, type LimitReport } from './limits.ts';
import { compileEndpoint, compileValue, payloadTemplate, referencedActions, resolveReference, type PathScope } from './paths.ts';
import { actionsOf, seriesParallelStructure, type Structure } from './structure.ts';

/**
 * Compiles one workflow version into a Step Functions state machine (JSONPath ASL): the dependency DAG as
 * nested Parallel states (structure.ts), each action as its states (a Task, a Wait, a Pass, a Map), guards
 * for conditions and skipped inputs, retries, catches, the dead-letter queue, and saga compensation.
 * Pure: the same input gives the same definition. See docs/adr/0003-workflow-compiler.md.
 */

export interface CompileInput {
  readonly workflow_id: string;
  readonly version: number;
  /** The workflow's tenant: the tenant of the events its runs emit from the state machine (dead letters). */
  readonly tenant?: string;
  readonly name?: string;
  readonly execution_mode?: ExecutionMode;
  readonly parameters: readonly Parameter[];
  readonly actions: readonly Action[];
}

export interface CompileOptions {
  /** Use `expected_duration_seconds` hints when choosing the parallel structure (default true). */
  readonly useDurationHints?: boolean;
  /**
   * The rerun variant (Step Functions; ADR 0012): each action first looks for its result in the input's
   * `reuse` map, and takes it from there instead of running when it is there. One more state per action,
   * so only reruns use it.
   */
  readonly reuse?: boolean;
}

export interface CompiledWorkflow {
  readonly definition: StateMachineDefinition;
  readonly structure: Structure;
  readonly executionMode: ExecutionMode;
  /** `${...}` placeholders in the definition, which the runtime replaces with its resources. */
  readonly placeholders: readonly string[];
  readonly limits: LimitReport;
}

/** Default time limit for a service call when the action sets none. */
export const DEFAULT_SERVICE_CALL_TIMEOUT_SECONDS = 30;

/**
 * State data is at most 256 KiB, and every result a run keeps is in it at once (plus the parameters, the
 * failures, and what a Parallel's branches copy). Each service call may keep an equal share of this budget
 * inline; the action runner stores anything larger outside state data and keeps a reference
 * (`inline_result_bytes` in its payload; docs/adr/0005-large-results.md). The rest of the 256 KiB is left for
 * parameters and everything that is not a service call's result.
 */
export const STATE_RESULTS_BUDGET_BYTES = 160 * 1024;
/** A share is never smaller (a reference and a little structure fit) nor larger (one result alone stays well under 256 KiB). */
export const MIN_INLINE_RESULT_BYTES = 2 * 1024;
export const MAX_INLINE_RESULT_BYTES = 200 * 1024;
/**
 * A foreach keeps every item's result in one array, and how many items there will be is not known when
 * compiling: its share is split as if there were this many (more items can still outgrow the budget).
 */
export const FOREACH_ASSUMED_ITEMS = 16;
// Auxiliary state names contain ': ', which action ids cannot, so they never collide with an action.
const SAGA_CHECK = 'saga: any action to compensate?';
const SAGA_FAILED = 'saga: failed after compensation';
const SAGA_DONE = 'saga: nothing to compensate';
const COMPLETED = 'completed';
/** Carried in state data (the local interpreter has no `$$.Execution.Input` inside branches). */
const TRACE_ID = '$.trace_id';

interface Context {
  readonly input: CompileInput;
  readonly scope: PathScope;
  readonly byId: ReadonlyMap<string, Action>;
  /** Actions whose result may be `skipped` or `failed` rather than `completed`. */
  readonly uncertain: ReadonlySet<string>;
  /** Per action: upstream actions whose outputs it reads and whose outcome it must check first. */
  readonly guardedInputs: ReadonlyMap<string, readonly string[]>;
  /** Per action: every action result it reads (templates, guards, conditions). */
  readonly reads: ReadonlyMap<string, ReadonlySet<string>>;
  readonly saga: boolean;
  readonly states: Record<string, State>;
  /** Shared by every branch: Step Functions needs state names unique across the whole machine. */
  readonly counters: { forks: number };
  /** `inline_result_bytes` of each kind of service call (inlineResultShares). */
  readonly inlineResultBytes: InlineResultShares;
  /** CompileOptions.reuse. */
  readonly reuse: boolean;
}

/** A compiled piece of the flow: where it starts, and the exits that must be wired to whatever comes next. */
interface Fragment {
  readonly start: string;
  readonly exits: readonly Exit[];
  /** Results in state data when this piece ends. */
  readonly present: ReadonlySet<string>;
}

type Exit = (next: string | undefined) => void;

/**
 * The input a compiled machine expects. Runtimes build it (never users), so no state is spent shaping it:
 * `results` and `failures` exist from the start and every ResultPath only adds a leaf; `trace_id` travels in
 * state data (joins and foreach items keep it) so every service call sends the run's trace.
 */
export function executionInput(
  params: Record<string, unknown>,
  traceId = '',
): { params: Record<string, unknown>; results: Record<string, never>; failures: Record<string, never>; trace_id: string } {
  return { params, results: {}, failures: {}, trace_id: traceId };
}

export function compileWorkflow(input: CompileInput, options: CompileOptions = {}): CompiledWorkflow {
  const byId = new Map(input.actions.map((action) => [action.action_id, action]));
  const parameterTypes = new Map<string, ParameterType>(input.parameters.map((parameter) => [parameter.name, parameter.type]));
  const scope: PathScope = { workflowId: input.workflow_id, workflowVersion: input.version, parameterTypes };
  const structure = seriesParallelStructure(input.actions, durationHints(input.actions, options.useDurationHints ?? true));
  const analysis = analyse(input.actions, scope);
  const states: Record<string, State> = {};
  const context: Context = { input, scope, byId, ...analysis, states, counters: { forks: 0 }, inlineResultBytes: inlineResultShares(input.actions), reuse: options.reuse ?? false };

  // What must still be in state data when the forward flow ends: its outputs (the sinks) and, for a saga,
  // every result a compensation reads.
  const sinks = input.actions.filter((action) => !input.actions.some((other) => other.depends_on.includes(action.action_id)));
  const finalNeeds = new Set(sinks.filter(writesResult).map((action) => action.action_id));
  if (context.saga) {
    for (const action of input.actions) {
      if (action.on_failure === 'compensate') finalNeeds.add(action.action_id);
      if (action.compensation) {
        finalNeeds.add(action.action_id);
        for (const id of referencedActions(action.compensation.config, scope)) finalNeeds.add(id);
      }
    }
  }

  const body = compileStructure(context, structure, finalNeeds, new Set());
  if (context.saga) {
    const compensation = compileCompensation(context, structure);
    states[SAGA_CHECK] = {
      Type: 'Choice',
      Comment: 'An action with on_failure compensate failed: undo completed actions, newest dependencies first',
      Choices: [
        {
          Or: [
            ...input.actions
              .filter((action) => action.on_failure === 'compensate')
              .map((action) => ({ Variable: `$.results.${action.action_id}.outcome`, StringEquals: 'failed' })),
            // Choice rules need two operands under Or; a rule that never holds keeps the shape valid for one.
            { Variable: '$.results', IsPresent: false },
          ],
          Next: compensation?.start ?? SAGA_FAILED,
        },
      ],
      Default: SAGA_DONE,
    };
    states[SAGA_DONE] = { Type: 'Succeed' };
    states[SAGA_FAILED] = {
      Type: 'Fail',
      Error: WorkflowErrorName.Compensated,
      Cause: 'an action with on_failure compensate failed; completed actions were compensated in reverse dependency order',
    };
    body.exits.forEach((exit) => exit(SAGA_CHECK));
    compensation?.exits.forEach((exit) => exit(SAGA_FAILED));
  } else {
    body.exits.forEach((exit) => exit(undefined));
  }

  const definition: StateMachineDefinition = {
    Comment: `workflow ${input.workflow_id} version ${input.version}${input.name ? `: ${input.name}` : ''}`,
    StartAt: body.start,
    States: states,
  };
  const text = JSON.stringify(definition);
  const placeholders = [...new Set([...text.matchAll(/\$\{[^}]+\}/g)].map((match) => match[0]))].sort();
  const executionMode = input.execution_mode ?? 'standard';
  return { definition, structure, executionMode, placeholders, limits: checkLimits({ definition, text, executionMode, actions: input.actions, structure }) };
}

export interface InlineResultShares {
  /** A service_call action's result. */
  readonly action: number;
  /** One item's result of a foreach whose inner action is a service call. */
  readonly foreachItem: number;
  /** A compensation's result, which only the task itself holds (its ResultSelector keeps the status code). */
  readonly compensation: number;
}

/** STATE_RESULTS_BUDGET_BYTES shared equally by the service calls whose results the state may keep. */
export function inlineResultShares(actions: readonly Action[]): InlineResultShares {
  const calls = actions.filter((action) => action.action_type === 'service_call' || (action.action_type === 'foreach' && action.config.action.action_type === 'service_call')).length;
  const clamp = (bytes: number) => Math.min(MAX_INLINE_RESULT_BYTES, Math.max(MIN_INLINE_RESULT_BYTES, Math.floor(bytes)));
  const share = clamp(STATE_RESULTS_BUDGET_BYTES / Math.max(1, calls));
  return { action: share, foreachItem: clamp(share / FOREACH_ASSUMED_ITEMS), compensation: MAX_INLINE_RESULT_BYTES };
}

/**
 * Hinted durations when any action gives one (the others count as the median hint), or undefined: unknown
 * durations, for which the structure search samples plausible ones.
 */
function durationHints(actions: readonly Action[], use: boolean): ((id: string) => number) | undefined {
  const hints = actions.map((action) => action.expected_duration_seconds).filter((hint): hint is number => hint !== undefined).sort((a, b) => a - b);
  if (!use || hints.length === 0) return undefined;
  const median = hints[Math.floor(hints.length / 2)]!;
  const byId = new Map(actions.map((action) => [action.action_id, action.expected_duration_seconds ?? median]));
  return (id) => byId.get(id) ?? median;
}

// --- analysis --------------------------------------------------------------------------------------------

function analyse(actions: readonly Action[], scope: PathScope) {
  const byId = new Map(actions.map((action) => [action.action_id, action]));
  const reads = new Map<string, Set<string>>();
  const uncertain = new Set<string>();
  const guardedInputs = new Map<string, string[]>();
  /** Actions whose failure (or whose upstream's compensate failure) must stop everything downstream. */
  const aborting = new Set<string>();
  // Declaration order is not dependency order; walk until every action's inputs are known.
  const order = topological(actions);
  for (const id of order) {
    const action = byId.get(id)!;
    const inputs = new Set<string>();
    for (const value of actionTemplateValues(action)) for (const ref of referencedActions(value.value, { ...scope, loopVariables: value.loop })) inputs.add(ref);
    inputs.delete(id);
    const guards = new Set(action.on_skipped_input === 'run' ? [] : [...inputs].filter((input) => uncertain.has(input)));
    // After a failure that starts compensation, nothing downstream of it may run, reader or not.
    for (const dep of action.depends_on) if (aborting.has(dep)) guards.add(dep);
    if ([...guards].some((guard) => aborting.has(guard)) || action.on_failure === 'compensate') aborting.add(id);
    guardedInputs.set(id, [...guards]);
    if (action.condition || guards.size > 0 || action.on_failure === 'continue' || action.on_failure === 'compensate') uncertain.add(id);
    reads.set(id, inputs);
  }
  const saga = actions.some((action) => action.on_failure === 'compensate');
  return { reads, uncertain, guardedInputs, saga };
}

/** The values of an action in which templates are evaluated when it runs (compensations run later). */
function actionTemplateValues(action: Action): { value: unknown; loop?: boolean }[] {
  const values: { value: unknown; loop?: boolean }[] = [];
  if (action.action_type === 'foreach') {
    values.push({ value: action.config.items }, { value: action.config.action.config, loop: true });
  } else {
    values.push({ value: action.config });
  }
  if (action.condition) values.push({ value: action.condition });
  return values;
}

function topological(actions: readonly Action[]): string[] {
  const done = new Set<string>();
  const order: string[] = [];
  const visit = (id: string, byId: Map<string, Action>) => {
    if (done.has(id)) return;
    done.add(id);
    for (const dep of byId.get(id)?.depends_on ?? []) visit(dep, byId);
    order.push(id);
  };
  const byId = new Map(actions.map((action) => [action.action_id, action]));
  actions.forEach((action) => visit(action.action_id, byId));
  return order;
}

/** Wait states leave state data as it was: nothing of theirs is ever read. */
function writesResult(action: Action): boolean {
  return action.action_type !== 'wait';
}

// --- structure -------------------------------------------------------------------------------------------

/**
 * `after` holds the results needed once this piece is done; `available` the results in state data when it
 * starts. A Parallel's ResultSelector keeps exactly what is needed after it, so state data never carries
 * results nobody reads.
 */
function compileStructure(context: Context, structure: Structure, after: ReadonlySet<string>, available: ReadonlySet<string>): Fragment {
  switch (structure.kind) {
    case 'action':
      return compileAction(context, context.byId.get(structure.id)!, after, available);
    case 'sequence': {
      const needs = structure.steps.map((step) => readsOf(context, step));
      const fragments: Fragment[] = [];
      let present = new Set(available);
      structure.steps.forEach((step, index) => {
        const later = new Set(after);
        for (let j = index + 1; j < structure.steps.length; j++) for (const id of needs[j]!) later.add(id);
        const fragment = compileStructure(context, step, later, present);
        present = new Set(fragment.present);
        fragments.push(fragment);
      });
      fragments.slice(0, -1).forEach((fragment, index) => fragment.exits.forEach((exit) => exit(fragments[index + 1]!.start)));
      return { start: fragments[0]!.start, exits: fragments[fragments.length - 1]!.exits, present };
    }
    case 'parallel':
      return compileParallel(context, structure.branches, after, available);
  }
}

function compileParallel(context: Context, branches: readonly Structure[], after: ReadonlySet<string>, available: ReadonlySet<string>): Fragment {
  const name = `fork ${++context.counters.forks}`;
  const compiled = branches.map((branch) => {
    const states: Record<string, State> = {};
    const fragment = compileStructure({ ...context, states }, branch, after, available);
    fragment.exits.forEach((exit) => exit(undefined));
    return { definition: { StartAt: fragment.start, States: states } satisfies StateMachineDefinition, present: fragment.present };
  });
  // Keep what is needed after the fork, each result taken from a branch that holds it (the one that
  // produced it, or any branch for a result that existed before the fork).
  const results: JsonObject = {};
  const kept = new Set<string>();
  for (const id of [...after].sort()) {
    const producer = compiled.findIndex((branch) => branch.present.has(id) && !available.has(id));
    const source = producer >= 0 ? producer : compiled.findIndex((branch) => branch.present.has(id));
    if (source < 0) continue;
    results[`${id}.$`] = `$[${source}].results.${id}`;
    kept.add(id);
  }
  context.states[name] = {
    Type: 'Parallel',
    Comment: `runs ${branches.map((branch) => actionsOf(branch).join(' > ')).join(' | ')}`,
    Branches: compiled.map((branch) => branch.definition),
    // A rerun's reused results must outlive the fork: the actions after it look for theirs there too.
    ResultSelector: { 'params.$': '$[0].params', 'trace_id.$': `$[0].trace_id`, results, failures: {}, ...(context.reuse ? { 'reuse.$': '$[0].reuse' } : {}) },
  };
  return { start: name, exits: [(next) => setNext(context.states[name]!, next)], present: kept };
}

function readsOf(context: Context, structure: Structure): Set<string> {
  const ids = new Set<string>();
  for (const id of actionsOf(structure)) {
    for (const read of context.reads.get(id) ?? []) ids.add(read);
    for (const guard of context.guardedInputs.get(id) ?? []) ids.add(guard);
  }
  return ids;
}

// --- actions ---------------------------------------------------------------------------------------------

function compileAction(context: Context, action: Action, after: ReadonlySet<string>, available: ReadonlySet<string>): Fragment {
  const id = action.action_id;
  const keep = after.has(id) && writesResult(action);
  const present = keep ? new Set([...available, id]) : available;
  const resultPath = keep ? `$.results.${id}` : null;
  const exits: Exit[] = [];
  const start = compileGuardedAction(context, action, resultPath, exits);
  if (!context.reuse) return { start, exits, present };

  // The rerun variant: a result the rerun reuses is taken from the input, and the action does not run.
  const check = `${id}: reuse?`;
  const reused = `${id}: reused`;
  context.states[reused] = { Type: 'Pass', Comment: 'reused from the run this one reruns', InputPath: `$.reuse.${id}`, ResultPath: resultPath };
  context.states[check] = { Type: 'Choice', Choices: [{ Variable: `$.reuse.${id}`, IsPresent: true, Next: reused }], Default: start };
  exits.push((next) => setNext(context.states[reused]!, next));
  return { start: check, exits, present };
}

/** The action's states behind its condition and the guards on its inputs; returns where it starts. */
function compileGuardedAction(context: Context, action: Action, resultPath: string | null, exits: Exit[]): string {
  const id = action.action_id;
  const main = compileActionStates(context, action, resultPath, exits);

  const guards = context.guardedInputs.get(id) ?? [];
  if (!action.condition && guards.length === 0) return main;

  const skipped = `${id}: skipped`;
  context.states[skipped] = {
    Type: 'Pass',
    Comment: guards.length > 0 ? `skipped when its condition is false or ${guards.join(', ')} did not complete` : 'skipped when its condition is false',
    Result: { outcome: 'skipped', status_code: null, response: null },
    ResultPath: resultPath,
  };
  exits.push((next) => setNext(context.states[skipped]!, next));
  const choices: ChoiceRule[] = [];
  if (guards.length > 0) {
    const incomplete = guards.map((guard) => ({ Not: { Variable: `$.results.${guard}.outcome`, StringEquals: COMPLETED } }));
    choices.push({ ...(incomplete.length === 1 ? incomplete[0]! : { Or: incomplete }), Next: skipped });
  }
  choices.push({ ...(action.condition ? conditionRule(action.condition, context.scope) : { Variable: '$.params', IsPresent: true }), Next: main });
  const guard = `${id}: run?`;
  context.states[guard] = { Type: 'Choice', Choices: choices, Default: skipped };
  return guard;
}

/** The states that run one action; returns the first state's name and pushes the exits to wire. */
function compileActionStates(context: Context, action: Action, resultPath: string | null, exits: Exit[]): string {
  const id = action.action_id;
  const { scope, states } = context;
  // The tenant lets the runner's spans of this run's service calls be shown to the workflow's tenant only.
  const base = { action_id: id, 'execution_id.$': '$$.Execution.Name', workflow_id: context.input.workflow_id, workflow_version: context.input.version, ...tenantOf(context) };
  const traced = { ...base, 'trace_id.$': TRACE_ID };
  switch (action.action_type) {
    case 'service_call': {
      const timeout = action.timeout_seconds ?? DEFAULT_SERVICE_CALL_TIMEOUT_SECONDS;
      states[id] = {
        Type: 'Task',
        Resource: Resource.lambdaInvoke,
        Parameters: runnerParameters(traced, serviceRequest(action.config, timeout), scope, context.inlineResultBytes.action),
        ResultSelector: { outcome: COMPLETED, 'status_code.$': '$.Payload.status_code', 'response.$': '$.Payload.response' },
        ResultPath: resultPath,
        // The runner gives up on the HTTP call at `timeout`; the state allows a little more for the Lambda itself.
        TimeoutSeconds: timeout + 5,
        Retry: retriers(action.retry, RETRYABLE_ACTION_ERRORS),
      };
      attachFailureHandling(context, action, resultPath, exits, { ...base, service: action.config.service, endpoint: action.config.endpoint, method: action.config.method });
      parkWhilePaused(states, id, `${id}: held`, { 'execution_id.$': '$$.Execution.Name', action_id: id });
      return id;
    }
    case 'notification': {
      states[id] = {
        Type: 'Task',
        Resource: Resource.putEvents,
        Parameters: { Entries: [notificationEntry(action.config, base, scope)] },
        ResultSelector: { outcome: COMPLETED, status_code: 200, response: { 'event_id.$': '$.Entries[0].EventId' } },
        ResultPath: resultPath,
        ...(action.timeout_seconds ? { TimeoutSeconds: action.timeout_seconds } : {}),
        Retry: retriers(action.retry, ['EventBridge.InternalException', 'EventBridge.ThrottlingException', 'States.Timeout']),
      };
      attachFailureHandling(context, action, resultPath, exits);
      return id;
    }
    case 'wait': {
      const { seconds, until } = action.config;
      const wait: State = { Type: 'Wait' };
      if (seconds !== undefined) {
        const compiled = compileValue(seconds, scope);
        if ('path' in compiled) wait.SecondsPath = compiled.path;
        else wait.Seconds = compiled.literal as number;
      } else {
        const compiled = compileValue(until, scope);
        if ('path' in compiled) wait.TimestampPath = compiled.path;
        else wait.Timestamp = compiled.literal as string;
      }
      states[id] = wait;
      exits.push((next) => setNext(states[id]!, next));
      return id;
    }
    case 'transform': {
      const output = compileValue(action.config.output, scope);
      states[id] = {
        Type: 'Pass',
        Parameters: { outcome: COMPLETED, status_code: null, ...('path' in output ? { 'response.$': output.path } : { response: output.literal }) },
        ResultPath: resultPath,
      };
      exits.push((next) => setNext(states[id]!, next));
      return id;
    }
    case 'foreach': {
      const items = compileValue(action.config.items, scope);
      if (!('path' in items)) throw new Error(`foreach ${id}: items must be a reference`);
      const loopScope: PathScope = { ...scope, loopVariables: true };
      const inner = action.config.action;
      const each = `${id}: each item`;
      const carried: JsonObject = {};
      for (const ref of referencedActions(inner.config, loopScope)) carried[`${ref}.$`] = `$.results.${ref}`;
      const innerState: State =
        inner.action_type === 'service_call'
          ? {
              Type: 'Task',
              Resource: Resource.lambdaInvoke,
              Parameters: runnerParameters(
                { ...traced, 'item_index.$': '$.index' },
                serviceRequest(inner.config, action.timeout_seconds ?? DEFAULT_SERVICE_CALL_TIMEOUT_SECONDS),
                loopScope,
                context.inlineResultBytes.foreachItem,
              ),
              ResultSelector: { 'status_code.$': '$.Payload.status_code', 'response.$': '$.Payload.response' },
              TimeoutSeconds: (action.timeout_seconds ?? DEFAULT_SERVICE_CALL_TIMEOUT_SECONDS) + 5,
              Retry: retriers(action.retry, RETRYABLE_ACTION_ERRORS),
              End: true,
            }
          : inner.action_type === 'notification'
            ? {
                Type: 'Task',
                Resource: Resource.putEvents,
                Parameters: { Entries: [notificationEntry(inner.config, { ...base, 'item_index.$': '$.index' }, loopScope)] },
                ResultSelector: { status_code: 200, response: { 'event_id.$': '$.Entries[0].EventId' } },
                Retry: retriers(action.retry, ['EventBridge.InternalException', 'EventBridge.ThrottlingException']),
                End: true,
              }
            : (() => {
                const output = compileValue(inner.config.output, loopScope);
                return { Type: 'Pass', Parameters: { status_code: null, ...('path' in output ? { 'response.$': output.path } : { response: output.literal }) }, End: true } as State;
              })();
      const itemStates: Record<string, State> = { [each]: innerState };
      if (inner.action_type === 'service_call') parkWhilePaused(itemStates, each, `${id}: item held`, { 'execution_id.$': '$$.Execution.Name', action_id: id, 'item_index.$': '$.index' });
      states[id] = {
        Type: 'Map',
        ItemsPath: items.path,
        MaxConcurrency: action.config.max_concurrency,
        ItemSelector: { 'item.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index', 'params.$': '$.params', 'trace_id.$': TRACE_ID, results: carried },
        ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: each, States: itemStates },
        ResultSelector: { outcome: COMPLETED, status_code: null, 'response.$': '$' },
        ResultPath: resultPath,
      };
      attachFailureHandling(
        context,
        action,
        resultPath,
        exits,
        inner.action_type === 'service_call' ? { ...base, service: inner.config.service, endpoint: inner.config.endpoint, method: inner.config.method } : undefined,
      );
      return id;
    }
    case 'sub_workflow': {
      states[id] = {
        Type: 'Task',
        Resource: Resource.startExecutionSync,
        Parameters: {
          StateMachineArn: Placeholder.workflow(action.config.workflow_id, action.config.version),
          // The child gets the input every compiled machine expects (executionInput), with this run's trace.
          Input: {
            params: payloadTemplate(action.config.parameters, scope),
            results: {},
            failures: {},
            'trace_id.$': TRACE_ID,
            'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
          },
        },
        ResultSelector: { outcome: COMPLETED, status_code: null, 'response.$': '$.Output', 'execution_arn.$': '$.ExecutionArn' },
        ResultPath: resultPath,
        ...(action.timeout_seconds ? { TimeoutSeconds: action.timeout_seconds } : {}),
        Retry: retriers(action.retry, ['StepFunctions.ExecutionLimitExceededException', 'StepFunctions.SdkClientException']),
      };
      attachFailureHandling(context, action, resultPath, exits);
      return id;
    }
  }
}

/** Lambda's own transient failures, when invoking the runner to park a call. */
const LAMBDA_TRANSIENT_ERRORS = RETRYABLE_ACTION_ERRORS.filter((name) => name.startsWith('Lambda.'));
/** The runner's control tasks (parking a call, the redrive gate) retry Lambda's own transient failures only. */
function runnerControlRetry(): Retrier[] {
  return [{ ErrorEquals: [...LAMBDA_TRANSIENT_ERRORS], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 }];
}

/**
 * Pause on Step Functions (ADR 0012; core/execution/held-calls.ts). The call's payload says `pausable`: while
 * its run is paused the runner answers RunPaused instead of calling, and this catch parks the call in a
 * callback state (no time limit: a pause lasts as long as it lasts) until resume sends its task token back;
 * then the call is made. A run that is never paused enters none of this, so it costs no transition; a call
 * parked by a pause costs two (the callback state, and the task entered again).
 */
function parkWhilePaused(states: Record<string, State>, taskName: string, parkedName: string, ids: JsonObject): void {
  const task = states[taskName] as TaskState;
  (task.Parameters!.Payload as JsonObject).pausable = true;
  const onFailure = task.Catch?.find((catcher) => catcher.ErrorEquals.includes('States.ALL'));
  task.Catch = [{ ErrorEquals: [RUN_PAUSED_ERROR], ResultPath: null, Next: parkedName }, ...(task.Catch ?? [])];
  states[parkedName] = {
    Type: 'Task',
    Comment: 'the run is paused: wait here until it is resumed, then make the call',
    Resource: Resource.lambdaInvokeCallback,
    Parameters: { FunctionName: Placeholder.actionRunner, Payload: { park: { ...ids, 'task_token.$': '$$.Task.Token' } } },
    ResultPath: null,
    Retry: runnerControlRetry(),
    // A call that cannot be parked fails like the call itself would.
    ...(onFailure ? { Catch: [{ ...onFailure }] } : {}),
    Next: taskName,
  };
}

/**
 * The `lambda:invoke` parameters of a call to the action runner (a ServiceCallPayload): the ids that say whose
 * call it is, the rendered request, and how much of its result may stay in state data.
 */
function runnerParameters(ids: JsonObject, request: Record<string, unknown>, scope: PathScope, inlineResultBytes: number): JsonObject {
  const { service, endpoint, ...rest } = request;
  // A templated endpoint's values go beside it, for the runner to percent-encode (paths.ts compileEndpoint).
  const compiled = compileEndpoint(String(endpoint), scope);
  const path = { endpoint: compiled.endpoint, ...(compiled.values ? { endpoint_values: compiled.values } : {}) };
  return { FunctionName: Placeholder.actionRunner, Payload: { ...ids, ...payloadTemplate({ service }, scope), ...path, ...payloadTemplate(rest, scope), inline_result_bytes: inlineResultBytes } };
}

function serviceRequest(config: Extract<Action, { action_type: 'service_call' }>['config'], timeout: number): Record<string, unknown> {
  return {
    service: config.service,
    endpoint: config.endpoint,
    method: config.method,
    ...(config.parameters && Object.keys(config.parameters).length > 0 ? { parameters: config.parameters } : {}),
    ...(config.headers && Object.keys(config.headers).length > 0 ? { headers: config.headers } : {}),
    timeout_seconds: timeout,
  };
}

/**
 * Transient failures retry with the action's policy (defaults: 3 attempts, 2 s, x2, full jitter, at most
 * 60 s apart); everything else goes straight to the catch.
 */
function retriers(policy: RetryPolicy | undefined, errors: readonly string[]): Retrier[] {
  const retry = policy ?? RetryPolicySchema.parse({});
  if (retry.max_attempts <= 1) return [];
  return [
    {
      ErrorEquals: [...errors],
      IntervalSeconds: Math.max(1, Math.round(retry.interval_seconds)),
      MaxAttempts: retry.max_attempts - 1,
      BackoffRate: retry.backoff_rate,
      MaxDelaySeconds: retry.max_delay_seconds,
      JitterStrategy: retry.jitter === 'full' ? 'FULL' : 'NONE',
    },
  ];
}

/**
 * After retries: a failed service call goes to the dead-letter queue, then `fail` ends the execution naming the action, while `continue` and `compensate` record the
 * failure as the action's result and go on (a later check starts compensation).
 */
function attachFailureHandling(context: Context, action: Action, resultPath: string | null, exits: Exit[], deadLetter?: JsonObject): void {
  const id = action.action_id;
  const { states, scope } = context;
  const failureAt = `$.failures.${id}`;
  const onFailure = action.on_failure ?? 'fail';
  const handle = onFailure === 'fail' ? `${id}: failed` : `${id}: record failure`;
  let afterCatch = handle;
  if (deadLetter) {
    const dlq = `${id}: dead letter`;
    states[dlq] = {
      Type: 'Task',
      Resource: Resource.sqsSendMessage,
      Parameters: {
        QueueUrl: Placeholder.deadLetterQueue,
        // The action runner puts the rendered request in its error's cause (JSON), so the message holds what
        // a replay needs without rendering the request a second time here; failures outside the runner
        // (Lambda service errors, timeouts) still name the execution, action and endpoint.
        MessageBody: {
          kind: 'action_failed',
          ...payloadTemplate(deadLetter, scope),
          'error.$': `${failureAt}.Error`,
          'cause.$': `${failureAt}.Cause`,
        },
      },
      ResultPath: null,
      Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2 }],
      // Losing the dead letter must not hide the failure itself.
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: handle }],
      Next: `${id}: ${DEAD_LETTER_NOTICE}`,
    };
    // The dead letter is an event too (orchestrator.dlq.added, announced by the action runner), once it is in
    // the queue; losing the event must not hide the failure either. Runs that succeed never enter it.
    states[`${id}: ${DEAD_LETTER_NOTICE}`] = {
      Type: 'Task',
      Resource: Resource.lambdaInvoke,
      Parameters: deadLetterNotice({ workflowId: context.input.workflow_id, version: context.input.version, tenant: context.input.tenant ?? DEFAULT_TENANT }, id, failureAt, TRACE_ID),
      ResultPath: null,
      Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: handle }],
      Next: handle,
    };
    afterCatch = dlq;
  }
  const task = states[id] as { Catch?: Catcher[] };
  task.Catch = [{ ErrorEquals: ['States.ALL'], ResultPath: failureAt, Next: afterCatch }];

  if (onFailure === 'fail') {
    const describe = `${id}: describe failure`;
    states[describe] = {
      Type: 'Pass',
      Parameters: { 'cause.$': `States.Format('${actionFailureCause(id)}', ${failureAt}.Error, ${failureAt}.Cause)`, 'redrive_count.$': '$$.Execution.RedriveCount' },
      ResultPath: `$.failures.${id}`,
      Next: handle,
    };
    task.Catch[0]!.Next = deadLetter ? afterCatch : describe;
    if (deadLetter) {
      (states[afterCatch] as { Catch: Catcher[] }).Catch[0]!.Next = describe;
      const notice = states[`${id}: ${DEAD_LETTER_NOTICE}`] as { Next?: string; Catch: Catcher[] };
      notice.Next = describe;
      notice.Catch[0]!.Next = describe;
    }
    states[handle] = redriveGate(id);
  } else {
    states[handle] = {
      Type: 'Pass',
      Comment: onFailure === 'continue' ? 'on_failure continue: record the failure and go on' : 'on_failure compensate: record the failure; compensation runs at the end',
      Parameters: { outcome: 'failed', status_code: null, response: null, 'error.$': `${failureAt}.Error`, 'cause.$': `${failureAt}.Cause` },
      ResultPath: resultPath ?? `$.failures.${id}`,
    };
    exits.push((next) => setNext(states[handle]!, next));
  }
  exits.push((next) => setNext(states[id]!, next));
}

/**
 * The end of a run that failed at an action, made so that a retry can resume it (RedriveExecution restarts
 * the state that failed, so that state must not be a Fail state, which would only fail again). The runner
 * fails this task with ActionFailed and the recorded cause while the run has not been redriven since the
 * failure was recorded, and lets it go once it has: the flow then goes back to the action, which runs again
 * with its retries, catch and dead letter. Runs that succeed never enter it. See ADR 0012.
 */
function redriveGate(actionId: string): TaskState {
  return {
    Type: 'Task',
    Comment: 'fails the run with the recorded failure; after a retry (redrive), goes back to the action',
    Resource: Resource.lambdaInvoke,
    Parameters: {
      FunctionName: Placeholder.actionRunner,
      Payload: {
        redrive_gate: {
          action_id: actionId,
          'cause.$': `$.failures.${actionId}.cause`,
          'failed_at_redrive.$': `$.failures.${actionId}.redrive_count`,
          'redrive_count.$': '$$.Execution.RedriveCount',
        },
      },
    },
    ResultPath: null,
    Retry: runnerControlRetry(),
    Next: actionId,
  };
}

// --- conditions --------------------------------------------------------------------------------------------

const COMPARISONS: Record<string, { string: string; number: string; boolean?: string }> = {
  equals: { string: 'StringEquals', number: 'NumericEquals', boolean: 'BooleanEquals' },
  greater_than: { string: 'StringGreaterThan', number: 'NumericGreaterThan' },
  greater_than_or_equal: { string: 'StringGreaterThanEquals', number: 'NumericGreaterThanEquals' },
  less_than: { string: 'StringLessThan', number: 'NumericLessThan' },
  less_than_or_equal: { string: 'StringLessThanEquals', number: 'NumericLessThanEquals' },
};

export function conditionRule(condition: Condition, scope: PathScope): JsonObject {
  if ('all' in condition) return { And: condition.all.map((rule) => conditionRule(rule, scope)) };
  if ('any' in condition) return { Or: condition.any.map((rule) => conditionRule(rule, scope)) };
  if ('not' in condition) return { Not: conditionRule(condition.not, scope) };
  const ref = parseTemplateString(condition.ref, '').refs[0];
  if (!ref) throw new Error(`condition ref ${condition.ref} is not a reference`);
  const variable = resolveReference(ref, scope);
  if (!('path' in variable)) {
    // A constant (workflow id or version): compare at compile time.
    return constantRule(condition, variable.literal);
  }
  const path = variable.path;
  // `false` is written as Not(... true): the same rule in Step Functions, and the local interpreter
  // (aws-local-stepfunctions 3) evaluates `IsNull: false` and `IsPresent: false` as never holding.
  if (condition.is_present !== undefined) return condition.is_present ? { Variable: path, IsPresent: true } : { Not: { Variable: path, IsPresent: true } };
  if (condition.is_null !== undefined) return condition.is_null ? { Variable: path, IsNull: true } : { Not: { Variable: path, IsNull: true } };
  if (condition.not_equals !== undefined) return { Not: comparison(path, 'equals', condition.not_equals) };
  for (const operator of Object.keys(COMPARISONS)) {
    const value = (condition as Record<string, unknown>)[operator];
    if (value !== undefined) return comparison(path, operator, value);
  }
  throw new Error('condition has no operator');
}

function comparison(path: string, operator: string, value: unknown): JsonObject {
  const kinds = COMPARISONS[operator]!;
  const kind = typeof value === 'number' ? kinds.number : typeof value === 'boolean' ? kinds.boolean : kinds.string;
  if (!kind) throw new Error(`${operator} cannot compare booleans`);
  return { Variable: path, [kind]: value };
}

/** Conditions on compile-time constants (workflow id and version) are decided now: a rule that always or never holds. */
function constantRule(condition: Condition, value: unknown): JsonObject {
  const rule = condition as Record<string, unknown>;
  const compare = (expected: unknown, test: (a: number | string, b: number | string) => boolean) =>
    (typeof value === 'number' && typeof expected === 'number') || (typeof value === 'string' && typeof expected === 'string') ? test(value, expected) : false;
  let holds = false;
  if (rule.is_present !== undefined) holds = rule.is_present === true;
  else if (rule.is_null !== undefined) holds = rule.is_null === (value === null);
  else if (rule.equals !== undefined) holds = rule.equals === value;
  else if (rule.not_equals !== undefined) holds = rule.not_equals !== value;
  else if (rule.greater_than !== undefined) holds = compare(rule.greater_than, (a, b) => a > b);
  else if (rule.greater_than_or_equal !== undefined) holds = compare(rule.greater_than_or_equal, (a, b) => a >= b);
  else if (rule.less_than !== undefined) holds = compare(rule.less_than, (a, b) => a < b);
  else if (rule.less_than_or_equal !== undefined) holds = compare(rule.less_than_or_equal, (a, b) => a <= b);
  return { Variable: '$.params', IsPresent: holds };
}

// --- compensation ------------------------------------------------------------------------------------------

/**
 * The saga's backward flow: the forward structure mirrored (sequences reversed, parallels kept), with only
 * the actions that declare a compensation, each run only if its action completed. Reverse dependency order
 * is reverse completion order for every pair of actions where the order is observable.
 */
function compileCompensation(context: Context, structure: Structure): Fragment | undefined {
  const mirror = (node: Structure): Structure | undefined => {
    switch (node.kind) {
      case 'action':
        return context.byId.get(node.id)?.compensation ? node : undefined;
      case 'sequence': {
        const steps = [...node.steps].reverse().map(mirror).filter((step): step is Structure => step !== undefined);
        return steps.length === 0 ? undefined : steps.length === 1 ? steps[0] : { kind: 'sequence', steps };
      }
      case 'parallel': {
        const branches = node.branches.map(mirror).filter((branch): branch is Structure => branch !== undefined);
        return branches.length === 0 ? undefined : branches.length === 1 ? branches[0] : { kind: 'parallel', branches };
      }
    }
  };
  const backward = mirror(structure);
  return backward ? compileCompensationStructure(context, backward) : undefined;
}

function compileCompensationStructure(context: Context, structure: Structure): Fragment {
  switch (structure.kind) {
    case 'action':
      return compileCompensationStep(context, context.byId.get(structure.id)!);
    case 'sequence': {
      const fragments = structure.steps.map((step) => compileCompensationStructure(context, step));
      fragments.slice(0, -1).forEach((fragment, index) => fragment.exits.forEach((exit) => exit(fragments[index + 1]!.start)));
      return { start: fragments[0]!.start, exits: fragments[fragments.length - 1]!.exits, present: new Set() };
    }
    case 'parallel': {
      const name = `compensate fork ${++context.counters.forks}`;
      const branches = structure.branches.map((branch) => {
        const states: Record<string, State> = {};
        const fragment = compileCompensationStructure({ ...context, states }, branch);
        fragment.exits.forEach((exit) => exit(undefined));
        return { StartAt: fragment.start, States: states };
      });
      context.states[name] = { Type: 'Parallel', Branches: branches, ResultPath: null };
      return { start: name, exits: [(next) => setNext(context.states[name]!, next)], present: new Set() };
    }
  }
}

function compileCompensationStep(context: Context, action: Action): Fragment {
  const id = action.action_id;
  const compensation = action.compensation!;
  const check = `${id}: compensate?`;
  const run = `${id}: compensate`;
  const base = { action_id: `${id}.compensation`, 'execution_id.$': '$$.Execution.Name', workflow_id: context.input.workflow_id, workflow_version: context.input.version, ...tenantOf(context) };
  const scope = context.scope;
  context.states[run] =
    compensation.action_type === 'service_call'
      ? {
          Type: 'Task',
          Resource: Resource.lambdaInvoke,
          Parameters: runnerParameters(
            { ...base, 'trace_id.$': TRACE_ID },
            serviceRequest(compensation.config, DEFAULT_SERVICE_CALL_TIMEOUT_SECONDS),
            scope,
            context.inlineResultBytes.compensation,
          ),
          ResultSelector: { 'status_code.$': '$.Payload.status_code' },
          ResultPath: `$.results.${id}.compensation`,
          TimeoutSeconds: DEFAULT_SERVICE_CALL_TIMEOUT_SECONDS + 5,
          Retry: retriers(undefined, RETRYABLE_ACTION_ERRORS),
          // A compensation that fails is recorded and dead-lettered, and the others still run.
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: `$.results.${id}.compensation`, Next: '' }],
        }
      : {
          Type: 'Task',
          Resource: Resource.putEvents,
          Parameters: { Entries: [notificationEntry(compensation.config, base, scope)] },
          ResultSelector: { 'event_id.$': '$.Entries[0].EventId' },
          ResultPath: `$.results.${id}.compensation`,
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: `$.results.${id}.compensation`, Next: '' }],
        };
  // A compensation that still fails after its retries is dead-lettered (what it was, why it failed), then the
  // saga goes on with the others; the run's record says compensation_failed (core/execution/saga.ts).
  const deadLetter = `${id}: compensation dead letter`;
  context.states[deadLetter] = {
    Type: 'Task',
    Resource: Resource.sqsSendMessage,
    Parameters: {
      QueueUrl: Placeholder.deadLetterQueue,
      MessageBody: {
        kind: 'compensation_failed',
        action_id: id,
        'execution_id.$': '$$.Execution.Name',
        workflow_id: context.input.workflow_id,
        workflow_version: context.input.version,
        compensation: compensation.action_type === 'service_call' ? { service: compensation.config.service, endpoint: compensation.config.endpoint, method: compensation.config.method } : { action_type: compensation.action_type },
        'error.$': `$.results.${id}.compensation.Error`,
        'cause.$': `$.results.${id}.compensation.Cause`,
      },
    },
    ResultPath: null,
    Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2 }],
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: '' }],
  };
  (context.states[run] as { Catch: Catcher[] }).Catch[0]!.Next = deadLetter;
  context.states[check] = {
    Type: 'Choice',
    Choices: [{ Variable: `$.results.${id}.outcome`, StringEquals: COMPLETED, Next: run }],
    Default: '',
  };
  // Whether it ran, failed (recorded by the catch) or had nothing to undo, the flow goes on to the same place.
  const exit: Exit = (next) => {
    let target = next;
    if (target === undefined) {
      // A Choice cannot end a branch, so the end is an explicit no-op.
      target = `${id}: compensation done`;
      context.states[target] = { Type: 'Pass', End: true };
    }
    (context.states[deadLetter] as { Catch: Catcher[] }).Catch[0]!.Next = target;
    setNext(context.states[deadLetter]!, target);
    setNext(context.states[run]!, target);
    (context.states[check] as { Default?: string }).Default = target;
  };
  return { start: check, exits: [exit], present: new Set() };
}

// --- wiring -------------------------------------------------------------------------------------------------

function setNext(state: State, next: string | undefined): void {
  const flow = state as { Next?: string; End?: true };
  if (next === undefined) {
    delete flow.Next;
    flow.End = true;
  } else {
    delete flow.End;
    flow.Next = next;
  }
}

/** The compiler as the domain's limit check: errors refuse the definition, warnings are reported. */
export const compilerCheck = {
  check(workflow: CompileInput): { errors: readonly { field: string; message: string }[]; warnings: readonly string[] } {
    const { limits } = compileWorkflow(workflow);
    return { errors: limits.errors, warnings: limits.warnings };
  },
};

/** The workflow's tenant for the runner's payloads, when the compiled version names one. */
function tenantOf(context: Context): { tenant?: string } {
  return context.input.tenant === undefined ? {} : { tenant: context.input.tenant };
}
