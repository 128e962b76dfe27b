import { StateMachine, type RunOptions } from 'aws-local-stepfunctions';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { WorkflowDefinitionSchema, type Action } from '../core/workflow/definition.ts';
import type { GraphNode } from '../core/workflow/graph.ts';
import { compileWorkflow, executionInput } from '../statemachines/compile.ts';
import type { State, StateMachineDefinition } from '../statemachines/asl.ts';
import type { Structure } from '../statemachines/structure.ts';
import { BENCH_PARAMETERS, randomGraph, serviceCallActions, type Random } from './compiler-graphs.ts';
import { round } from './stats.ts';

/**
 * Billed state transitions of one successful run where every action runs once, counted by executing the
 * compiled definition with aws-local-stepfunctions (every `StateEntered` event: Task, Pass, Choice, Wait,
 * the Parallel state itself and each state in its branches, Map and each iteration's states).
 */

export const TRANSITIONS_PER_ACTION_TARGET = 1.3;

export interface CostShape {
  readonly shape: string;
  readonly actions: number;
  readonly parallelStates: number;
  /** StateEntered events of the local run. */
  readonly transitions: number;
  readonly perAction: number;
  /** The same count from walking the compiled definition along the success path (no execution). */
  readonly walked: number;
  /** What the structure predicts: one Task per action + one per Parallel state. */
  readonly predicted: number;
  /**
   * State names used more than once in the compiled definition (Step Functions requires names unique across
   * the whole machine, branches included, and refuses such a definition). When there are any, the run
   * below used a copy with those names made unique, which changes no transition.
   */
  readonly duplicateStateNames: readonly string[];
  /** Each action's Task handler ran exactly once and the run succeeded. */
  readonly everyActionRanOnce: boolean;
  readonly withinTarget: boolean;
  readonly transitionsByStateType: Readonly<Record<string, number>>;
}

type LocalDefinition = ConstructorParameters<typeof StateMachine>[0];
type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;

/** chain (20), fan-out 1 -> 20 -> 1, diamond, and a random 50-action DAG. */
export function costShapes(random: Random): { shape: string; nodes: GraphNode[] }[] {
  const chain = Array.from({ length: 20 }, (_, i) => ({ action_id: `step${i + 1}`, depends_on: i === 0 ? [] : [`step${i}`] }));
  const fanOut = [
    { action_id: 'split', depends_on: [] },
    ...Array.from({ length: 20 }, (_, i) => ({ action_id: `worker${i + 1}`, depends_on: ['split'] })),
    { action_id: 'join', depends_on: Array.from({ length: 20 }, (_, i) => `worker${i + 1}`) },
  ];
  const diamond = [
    { action_id: 'a', depends_on: [] },
    { action_id: 'b', depends_on: ['a'] },
    { action_id: 'c', depends_on: ['a'] },
    { action_id: 'd', depends_on: ['b', 'c'] },
  ];
  // About two dependencies per action, like the sparse random DAGs.
  const randomDag = randomGraph(random, 'sparse', 50);
  return [
    { shape: 'chain (20)', nodes: chain },
    { shape: 'fan-out (1 -> 20 -> 1)', nodes: fanOut },
    { shape: 'diamond (a -> b,c -> d)', nodes: diamond },
    { shape: `random (50, ${randomDag.edges} edges)`, nodes: randomDag.nodes },
  ];
}

export async function measureTransitions(shape: string, nodes: readonly GraphNode[]): Promise<CostShape> {
  const definition = WorkflowDefinitionSchema.parse({ name: `bench ${shape}`, parameters: BENCH_PARAMETERS, actions: serviceCallActions(nodes) });
  const compiled = compileWorkflow({ workflow_id: 'bench', version: 1, ...definition });
  const calls = new Map<string, number>();
  const handlers: LocalHandlers = {};
  for (const action of definition.actions) {
    handlers[action.action_id] = async () => {
      calls.set(action.action_id, (calls.get(action.action_id) ?? 0) + 1);
      // aws-local-stepfunctions forwards events of nested Parallel branches asynchronously and drops whatever is
      // still in flight when the execution ends; yielding a macrotask per Task lets the forwarding keep up.
      await yieldToEventLoop();
      return { StatusCode: 200, Payload: { status_code: 200, response: { value: action.action_id } } };
    };
  }
  const duplicates = duplicateStateNames(compiled.definition);
  const runnable = duplicates.length === 0 ? compiled.definition : withUniqueStateNames(compiled.definition);
  const machine = new StateMachine(runnable as unknown as LocalDefinition, { validationOptions: { checkPaths: false } });
  const execution = machine.run(
    // The input every runtime gives a compiled machine (results, failures, the trace id its tasks send).
    executionInput({ run_id: 'bench' }, 'b'.repeat(32)) as never,
    { overrides: { taskResourceLocalHandlers: handlers }, context: { Execution: { Name: 'x', Id: 'x', RedriveCount: 0 } } },
  );
  const succeeded = execution.result.then(
    () => true,
    () => false,
  );
  const byType: Record<string, number> = {};
  let transitions = 0;
  for await (const event of execution.eventLogs) {
    if (event.type !== 'StateEntered') continue;
    transitions++;
    byType[event.state.type] = (byType[event.state.type] ?? 0) + 1;
  }
  const parallelStates = countParallels(compiled.structure);
  const actions = definition.actions.length;
  const perAction = round(transitions / actions, 3);
  return {
    shape,
    actions,
    parallelStates,
    transitions,
    perAction,
    walked: successPathStates(compiled.definition),
    predicted: actions + parallelStates,
    duplicateStateNames: duplicates,
    everyActionRanOnce: (await succeeded) && definition.actions.every((action: Action) => calls.get(action.action_id) === 1),
    withinTarget: perAction <= TRANSITIONS_PER_ACTION_TARGET,
    transitionsByStateType: byType,
  };
}

function countParallels(structure: Structure): number {
  switch (structure.kind) {
    case 'action':
      return 0;
    case 'sequence':
      return structure.steps.reduce((sum, step) => sum + countParallels(step), 0);
    case 'parallel':
      return 1 + structure.branches.reduce((sum, branch) => sum + countParallels(branch), 0);
  }
}

/** Names that appear more than once anywhere in the definition (nested branches and Map processors included). */
export function duplicateStateNames(definition: StateMachineDefinition): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  forEachScope(definition, (scope) => {
    for (const name of Object.keys(scope.States)) {
      if (seen.has(name)) duplicates.add(name);
      seen.add(name);
    }
  });
  return [...duplicates].sort();
}

/** A copy where every repeated state name gets a suffix, with StartAt / Next / Default / Catch in its scope updated. */
function withUniqueStateNames(definition: StateMachineDefinition): StateMachineDefinition {
  const copy = structuredClone(definition);
  const seen = new Set<string>();
  forEachScope(copy, (scope) => {
    const renamed = new Map<string, string>();
    for (const name of Object.keys(scope.States)) {
      let unique = name;
      for (let suffix = 2; seen.has(unique); suffix++) unique = `${name} #${suffix}`;
      seen.add(unique);
      if (unique !== name) renamed.set(name, unique);
    }
    if (renamed.size === 0) return;
    const target = (name: string) => renamed.get(name) ?? name;
    const states: Record<string, State> = {};
    for (const [name, state] of Object.entries(scope.States)) {
      if ('Next' in state && state.Next !== undefined) state.Next = target(state.Next);
      if (state.Type === 'Choice') {
        if (state.Default !== undefined) state.Default = target(state.Default);
        for (const choice of state.Choices) if (choice.Next !== undefined) choice.Next = target(choice.Next);
      }
      if ('Catch' in state) for (const catcher of state.Catch ?? []) catcher.Next = target(catcher.Next);
      states[target(name)] = state;
    }
    scope.StartAt = target(scope.StartAt);
    scope.States = states;
  });
  return copy;
}

/** Visits the machine, then each Parallel branch and Map processor, outermost first. */
function forEachScope(definition: StateMachineDefinition, visit: (scope: StateMachineDefinition) => void): void {
  visit(definition);
  for (const state of Object.values(definition.States)) {
    if (state.Type === 'Parallel') state.Branches.forEach((branch) => forEachScope(branch, visit));
    if (state.Type === 'Map') forEachScope(state.ItemProcessor, visit);
  }
}

/**
 * States entered by a run where every Task succeeds: each state on the path from StartAt, a Parallel plus
 * everything its branches enter. Only what service_call workflows put on that path is modelled.
 */
export function successPathStates(machine: StateMachineDefinition): number {
  let entered = 0;
  let name: string | undefined = machine.StartAt;
  while (name !== undefined) {
    const state: State | undefined = machine.States[name];
    if (!state) throw new Error(`no state ${name}`);
    entered++;
    switch (state.Type) {
      case 'Parallel':
        entered += state.Branches.reduce((sum, branch) => sum + successPathStates(branch), 0);
        break;
      case 'Task':
      case 'Pass':
      case 'Wait':
        break;
      case 'Succeed':
      case 'Fail':
        return entered;
      default:
        throw new Error(`${state.Type} state ${name} on the success path: not modelled by the walk`);
    }
    name = state.End ? undefined : state.Next;
  }
  return entered;
}
