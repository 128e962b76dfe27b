import type { Action } from '../core/workflow/definition.ts';
import { Resource, type FailState, type JsonObject, type PassState, type StateMachineDefinition } from './asl.ts';
import type { GatePlacement } from './gates.ts';
import type { Context, Fragment, States } from './context.ts';
import { actionsOf, type Structure } from './structure.ts';
import { executionIdPath, OWN_EXECUTION, type RunReferences } from './paths.ts';
import { task } from './task.ts';

/** A child refers to the run through the root's execution, which its input carries (`run`). */
const CHILD_RUN: RunReferences = { executionId: '$$.Execution.Input.run.execution_id', startedAt: '$$.Execution.Input.run.started_at' };

/**
 * Large workflows as several state machines (ADR 0016). Step Functions accepts definitions up to 1 MB and
 * stops a standard run at 25,000 history events; a workflow whose one machine would pass a quarter of the
 * first or a fifth of the second is split along its structure: pieces of it (a branch, a run of steps, a group
 * of branches) become child state machines, each started by its parent with `startExecution.sync` and waited
 * for. A child receives the parent's state data and gives back its own at the end, so the actions inside see
 * and leave exactly what they would in one machine. A child refers to the run by the root's execution (passed
 * as `run` in its input) wherever a single machine uses its own, so action progress, idempotency
 * keys, dependency gates and events stay the run's. A child's failure fails its parent with the child's own
 * error and cause, so the run fails as it would in one machine.
 */

export interface MachineBudget {
  /** Definition bytes one machine may take before pieces move to children. */
  readonly bytes: number;
  /** History events of a run of one machine where every state is entered once. */
  readonly events: number;
}

export const MACHINE_BUDGET: MachineBudget = { bytes: 256 * 1024, events: 5_000 };

/**
 * Estimated weights this far over the budget need splitting whatever the estimate's error: the compiler
 * plans the split on them and compiles once, instead of compiling the whole workflow first to weigh it.
 */
export const CLEARLY_OVER: MachineBudget = { bytes: MACHINE_BUDGET.bytes * 1.5, events: MACHINE_BUDGET.events * 1.5 };

/**
 * What an action will weigh once compiled, before compiling it. Calls (a service call with its dead letter,
 * failure states and parked state; a notification, foreach or sub_workflow with theirs) measure 3.9 to 5.3 KB
 * and about 30 history events, growing with their templates; transforms and waits about half; a gate and
 * its lists come on top. Only used to plan a split that is needed whatever the estimate's error.
 */
export function estimatedWeight(action: Action, gates: Pick<GatePlacement, 'waits' | 'reports'>): Weight {
  const text = JSON.stringify(action.config).length + (action.condition ? JSON.stringify(action.condition).length : 0);
  const call = action.action_type !== 'transform' && action.action_type !== 'wait';
  const waits = gates.waits.get(action.action_id)?.length ?? 0;
  const reports = Object.values(gates.reports.get(action.action_id) ?? {}).reduce((sum, producers) => sum + producers.length + 1, 0);
  return {
    bytes: (call ? 4_000 : 1_500) + 2.5 * text + (waits > 0 ? 300 + 20 * waits : 0) + (reports > 0 ? 300 + 20 * reports : 0),
    events: (call ? 30 : 10) + (waits > 0 ? 5 : 0),
  };
}

export function sumWeights(weights: Iterable<Weight>): Weight {
  let total = ZERO;
  for (const weight of weights) total = add(total, weight);
  return total;
}

export interface Weight {
  readonly bytes: number;
  readonly events: number;
}

/** What a piece moved to a child leaves in its parent: the starting Task, its failure Pass and Fail, roughly. */
const CHILD_CALL_WEIGHT: Weight = { bytes: 1_200, events: 9 };
/** A Parallel state's own weight, beside its branches. */
const FORK_WEIGHT: Weight = { bytes: 400, events: 2 };

export interface SplitPlan {
  /** The structure, with groups of steps or branches that became one child made explicit. */
  readonly structure: Structure;
  /** The pieces of `structure` that are child machines (by identity). */
  readonly machines: ReadonlySet<Structure>;
}

/** Whether a machine of this weight must be split. */
export function overBudget(weight: Weight, budget: MachineBudget = MACHINE_BUDGET): boolean {
  return weight.bytes > budget.bytes || weight.events > budget.events;
}

/**
 * Chooses the child machines, bottom up: a piece that does not fit in one machine keeps as many of its steps
 * or branches as fit, and moves the others to children in consecutive groups, each filled up to the budget.
 */
export function planSplit(structure: Structure, weightOf: (actionId: string) => Weight, budget: MachineBudget = MACHINE_BUDGET): SplitPlan {
  const machines = new Set<Structure>();
  // Children are filled to a little under the budget: their own Parallel states and starting Tasks come on top.
  const fill: MachineBudget = { bytes: budget.bytes * 0.9, events: budget.events * 0.9 };
  const visit = (node: Structure): { node: Structure; weight: Weight } => {
    if (node.kind === 'action') return { node, weight: weightOf(node.id) };
    const parts = (node.kind === 'sequence' ? node.steps : node.branches).map(visit);
    const own = node.kind === 'parallel' ? FORK_WEIGHT : ZERO;
    const total = parts.reduce((sum, part) => add(sum, part.weight), own);
    const rebuilt = (children: readonly Structure[]): Structure => (node.kind === 'sequence' ? { kind: 'sequence', steps: children } : { kind: 'parallel', branches: children });
    if (!overBudget(total, budget)) return { node: rebuilt(parts.map((part) => part.node)), weight: total };
    // Consecutive groups, each as heavy as fits; a group of one piece is that piece, of several a new node of this kind.
    const groups: { nodes: Structure[]; weight: Weight }[] = [];
    for (const part of parts) {
      const last = groups[groups.length - 1];
      if (last && !overBudget(add(last.weight, part.weight), fill)) {
        last.nodes.push(part.node);
        last.weight = add(last.weight, part.weight);
      } else groups.push({ nodes: [part.node], weight: part.weight });
    }
    const children = groups.map((group) => {
      const child = group.nodes.length === 1 ? group.nodes[0]! : rebuilt(group.nodes);
      // A single action left alone stays where it is: a child of one small action would only add weight.
      if (child.kind !== 'action' || overBudget(group.weight, fill)) machines.add(child);
      return child;
    });
    const weight = children.reduce((sum, child) => add(sum, machines.has(child) ? CHILD_CALL_WEIGHT : weightOf(actionsOf(child)[0]!)), own);
    return { node: rebuilt(children), weight };
  };
  return { structure: visit(structure).node, machines };
}

const ZERO: Weight = { bytes: 0, events: 0 };

function add(a: Weight, b: Weight): Weight {
  return { bytes: a.bytes + b.bytes, events: a.events + b.events };
}

/**
 * Each action's weight in a compiled definition: the states named after it (`<id>` and `<id>: ...`), in
 * branches too. A Parallel's or Map's own fields count, its branches' states count for their actions.
 */
export function actionWeights(definitions: readonly StateMachineDefinition[], actionIds: ReadonlySet<string>): Map<string, Weight> {
  const weights = new Map<string, Weight>();
  const visit = (machine: StateMachineDefinition) => {
    for (const [name, state] of Object.entries(machine.States)) {
      const owner = name.split(': ')[0]!;
      const nested = state.Type === 'Parallel' ? state.Branches : state.Type === 'Map' ? [state.ItemProcessor] : [];
      nested.forEach(visit);
      if (!actionIds.has(owner)) continue;
      const own = state.Type === 'Parallel' ? { ...state, Branches: [] } : state;
      const events = state.Type === 'Task' ? 5 : 2;
      weights.set(owner, add(weights.get(owner) ?? ZERO, { bytes: name.length + JSON.stringify(own).length + 4, events }));
    }
  };
  definitions.forEach(visit);
  return weights;
}

/** The placeholder of child machine `part`, which each runtime replaces with the machine it deployed for it. */
export function partPlaceholder(part: number): string {
  return `\${WorkflowPart:${part}}`;
}

/**
 * A piece as a child machine: its states are built into a definition of their own (with the run's execution
 * in place of the child's), and the parent gets the Task that runs it and turns its failure into the
 * parent's. `compile` builds the piece's fragment, as the parent would have.
 */
export function childMachineFragment(
  context: Context,
  piece: Structure,
  compile: (context: Context, piece: Structure) => Fragment,
): Fragment {
  const part = context.children.length + 1;
  const name = `part ${part}`;
  const failed = `${name}: failed`;
  const fail = `${name}: fail`;
  const notStarted = `${name}: not run`;
  const states: States = {};
  // Reserve the part number before building: pieces nested inside this one become children of it, numbered after it.
  context.children.push({ part, definition: { StartAt: '', States: {} } });
  const fragment = compile({ ...context, states, scope: { ...context.scope, run: CHILD_RUN } }, piece);
  fragment.build(undefined);
  const actions = actionsOf(piece);
  const definition: StateMachineDefinition = { Comment: `${context.input.workflow_id} version ${context.input.version}, part ${part}: ${describe(actions)}`, StartAt: fragment.start, States: states };
  context.children[part - 1] = { part, definition };
  const reuse: JsonObject = context.reuse ? { 'reuse.$': '$.reuse' } : {};
  const build = (next: string | undefined) => {
    context.states[name] = task({
      comment: `runs ${describe(actions)} in child state machine ${part}`,
      resource: Resource.startExecutionSync,
      parameters: {
        StateMachineArn: partPlaceholder(part),
        Input: {
          'params.$': '$.params',
          'results.$': '$.results',
          failures: {},
          'trace_id.$': '$.trace_id',
          // The run, as this machine knows it (a child of a child passes on what it was given).
          run: { 'execution_id.$': executionIdPath(context.scope), 'started_at.$': (context.scope.run ?? OWN_EXECUTION).startedAt },
          ...reuse,
          'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
        },
      },
      resultSelector: { 'params.$': '$.Output.params', 'trace_id.$': '$.Output.trace_id', 'results.$': '$.Output.results', failures: {}, ...(context.reuse ? { 'reuse.$': '$.Output.reuse' } : {}) },
      retry: { policy: undefined },
      // The child failed (its description, JSON, is the cause); anything else (it could not start) is the parent's own failure.
      catch: [
        { ErrorEquals: ['States.TaskFailed'], ResultPath: '$.failures.part', Next: failed },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failures.part', Next: notStarted },
      ],
      next,
    });
    // startExecution.sync fails with the child's description as its cause (JSON): its Error and Cause are the run's.
    const parse: PassState = { Type: 'Pass', Comment: 'the child failed: take its error and cause', Parameters: { 'child.$': 'States.StringToJson($.failures.part.Cause)' }, ResultPath: '$.failures.part', Next: fail };
    const end: FailState = { Type: 'Fail', ErrorPath: '$.failures.part.child.Error', CausePath: '$.failures.part.child.Cause' };
    context.states[failed] = parse;
    context.states[fail] = end;
    context.states[notStarted] = { Type: 'Fail', Comment: 'the child could not be run', ErrorPath: '$.failures.part.Error', CausePath: '$.failures.part.Cause' };
  };
  return { start: name, present: fragment.present, build };
}

/** Actions named in a comment, at most a few. */
function describe(actions: readonly string[]): string {
  const shown = actions.slice(0, 5).join(', ');
  return actions.length > 5 ? `${shown} and ${actions.length - 5} more actions` : shown;
}
