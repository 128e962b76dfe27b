import { StateMachine, type RunOptions } from 'aws-local-stepfunctions';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { awaitRelease, createLocalGates } from '../adapters/local/in-process-gates.ts';
import { arriveAtGates, gatedCallWait, releasedCall, gateFeedOf, isGatedCallPayload, isGatePayload, parseGateRequest, serviceCallOutput } from '../core/execution/gate-requests.ts';
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
 * the Parallel state itself and each state in its branches, Map and each iteration's states). Dependency
 * gates (ADR 0016) are served as the local runtime serves them: in-process gates, a `<W>: gate` state waits
 * for its release, a `<P>: report` state and a completed service call's `gate_waiters` report to them.
 */

export const TRANSITIONS_PER_ACTION_TARGET = 1.3;
/**
 * Transitions per action of the series-parallel shapes before the lossless compiler (bench/results/latest.json,
 * `compiler.transitions`): they must not change, since a series-parallel graph gets no gate.
 */
const BEFORE_LOSSLESS: Readonly<Record<string, number>> = { chain: 1, 'fan-out': 1.045, diamond: 1.25 };

export interface CostShape {
  readonly shape: string;
  /** Key of the shape (chain, fan-out, diamond, N, crown, random sparse, random dense). */
  readonly key: string;
  readonly actions: number;
  readonly edges: number;
  readonly parallelStates: number;
  /** Actions that wait on a gate (compileWorkflow's `gates`), and the gate and report states entered. */
  readonly gatedActions: number;
  readonly gateStatesEntered: number;
  readonly reportStatesEntered: number;
  /** Producers reported by the service call itself (its `gate_waiters`), with no state of their own. */
  readonly runnerArrivals: number;
  /** Gated actions that waited in their own call (a gated call: no gate state). */
  readonly gatedCalls: number;
  /** StateEntered events of the local run. */
  readonly transitions: number;
  readonly perAction: number;
  /** The same count from walking the compiled definition along the success path (no execution). */
  readonly walked: number;
  /** What the structure predicts: one Task per action + one per Parallel, gate and report state. */
  readonly predicted: number;
  /** Series-parallel shapes: transitions per action before the lossless compiler, which must be unchanged. */
  readonly before?: number;
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
  readonly error?: string;
}

type LocalDefinition = ConstructorParameters<typeof StateMachine>[0];
type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;

export interface ShapeGraph {
  readonly key: string;
  readonly shape: string;
  readonly nodes: GraphNode[];
}

/** The dense 50-action DAG's edge probability: about 3.7 dependencies per action. */
const DENSE_COST_EDGE_PROBABILITY = 0.15;

const node = (action_id: string, depends_on: string[] = []): GraphNode => ({ action_id, depends_on });

/**
 * chain (20), fan-out 1 -> 20 -> 1, diamond (the series-parallel shapes), the N (a->c, b->c, b->d), a crown
 * (tops t1..t4, bottom bi after ti and t(i+1), cyclically: no series-parallel structure without gates), and
 * random sparse and dense DAGs of 50 actions.
 */
export function costShapes(random: Random): ShapeGraph[] {
  const chain = Array.from({ length: 20 }, (_, i) => node(`step${i + 1}`, i === 0 ? [] : [`step${i}`]));
  const workers = Array.from({ length: 20 }, (_, i) => `worker${i + 1}`);
  const fanOut = [node('split'), ...workers.map((worker) => node(worker, ['split'])), node('join', workers)];
  const diamond = [node('a'), node('b', ['a']), node('c', ['a']), node('d', ['b', 'c'])];
  const n = [node('a'), node('b'), node('c', ['a', 'b']), node('d', ['b'])];
  const crown = [...[1, 2, 3, 4].map((i) => node(`t${i}`)), ...[1, 2, 3, 4].map((i) => node(`b${i}`, [`t${i}`, `t${(i % 4) + 1}`]))];
  // About two dependencies per action (the same graph as before the lossless compiler: drawn first).
  const sparse = randomGraph(random, 'sparse', 50);
  const dense = randomGraph(random, 'dense', 50, DENSE_COST_EDGE_PROBABILITY);
  return [
    { key: 'chain', shape: 'chain (20)', nodes: chain },
    { key: 'fan-out', shape: 'fan-out (1 -> 20 -> 1)', nodes: fanOut },
    { key: 'diamond', shape: 'diamond (a -> b,c -> d)', nodes: diamond },
    { key: 'N', shape: 'N (a->c, b->c, b->d)', nodes: n },
    { key: 'crown', shape: 'crown (4 tops, 4 bottoms)', nodes: crown },
    { key: 'random sparse', shape: `random sparse (50, ${sparse.edges} edges)`, nodes: sparse.nodes },
    { key: 'random dense', shape: `random dense (50, ${dense.edges} edges)`, nodes: dense.nodes },
  ];
}

export async function measureTransitions({ key, shape, nodes }: ShapeGraph): Promise<CostShape> {
  const definition = WorkflowDefinitionSchema.parse({ name: `bench ${shape}`, parameters: BENCH_PARAMETERS, actions: serviceCallActions(nodes) });
  const compiled = compileWorkflow({ workflow_id: 'bench', version: 1, ...definition });
  const served = serveGates(compiled.definition);
  const duplicates = duplicateStateNames(compiled.definition);
  const runnable = duplicates.length === 0 ? compiled.definition : withUniqueStateNames(compiled.definition);
  const machine = new StateMachine(runnable as unknown as LocalDefinition, { validationOptions: { checkPaths: false } });
  const execution = machine.run(
    // The input every runtime gives a compiled machine (results, failures, the trace id its tasks send).
    executionInput({ run_id: 'bench' }, 'b'.repeat(32)) as never,
    { overrides: { taskResourceLocalHandlers: served.handlers }, context: { Execution: { Name: 'x', Id: 'x', RedriveCount: 0 }, Task: { Token: 'local' } } },
  );
  let error: string | undefined;
  const succeeded = execution.result.then(
    () => true,
    (failure: unknown) => {
      error = failure instanceof Error ? `${failure.name}: ${failure.message}`.slice(0, 300) : String(failure);
      return false;
    },
  );
  const byType: Record<string, number> = {};
  let transitions = 0;
  let gateStatesEntered = 0;
  let reportStatesEntered = 0;
  for await (const event of execution.eventLogs) {
    if (event.type !== 'StateEntered') continue;
    transitions++;
    byType[event.state.type] = (byType[event.state.type] ?? 0) + 1;
    if (event.state.name.endsWith(': gate')) gateStatesEntered++;
    if (event.state.name.endsWith(': report')) reportStatesEntered++;
  }
  const ok = await succeeded;
  served.stop();
  const parallelStates = countParallels(compiled.structure);
  const actions = definition.actions.length;
  const perAction = round(transitions / actions, 3);
  const names = allStateNames(compiled.definition);
  const before = BEFORE_LOSSLESS[key];
  return {
    shape,
    key,
    actions,
    edges: nodes.reduce((sum, each) => sum + each.depends_on.length, 0),
    parallelStates,
    gatedActions: compiled.gates.size,
    gateStatesEntered,
    reportStatesEntered,
    runnerArrivals: served.runnerArrivals(),
    gatedCalls: served.gatedCalls(),
    transitions,
    perAction,
    walked: successPathStates(compiled.definition),
    predicted: actions + parallelStates + names.filter((name) => name.endsWith(': gate') || name.endsWith(': report')).length,
    ...(before === undefined ? {} : { before }),
    duplicateStateNames: duplicates,
    everyActionRanOnce: ok && definition.actions.every((action: Action) => served.calls.get(action.action_id) === 1),
    withinTarget: perAction <= TRANSITIONS_PER_ACTION_TARGET,
    transitionsByStateType: byType,
    ...(error === undefined ? {} : { error }),
  };
}

/**
 * Task handlers for every Task state of a service_call workflow, serving its gates in process: a gate wait
 * takes a fresh token and resolves with its release's outputs, a report arrives at the gates it feeds, a
 * service call answers at once (after one macrotask) and then reports to its `gate_waiters`.
 */
function serveGates(definition: StateMachineDefinition): { handlers: LocalHandlers; calls: Map<string, number>; runnerArrivals: () => number; gatedCalls: () => number; stop: () => void } {
  const gates = createLocalGates({ now: () => new Date().toISOString() });
  const runEnded = new AbortController();
  const calls = new Map<string, number>();
  let arrivals = 0;
  let gatedCalls = 0;
  const handlers: LocalHandlers = {};
  for (const name of allStateNames(definition, 'Task')) {
    const handler = async (input: unknown): Promise<unknown> => {
      // aws-local-stepfunctions forwards events of nested Parallel branches asynchronously and drops whatever is
      // still in flight when the execution ends; yielding a macrotask per Task lets the forwarding keep up.
      await yieldToEventLoop();
      const payload = (input as { Payload?: Record<string, unknown> } | null)?.Payload;
      if (isGatePayload(payload)) {
        const request = parseGateRequest(payload);
        if (request.kind === 'arrive') return { StatusCode: 200, Payload: { released: await arriveAtGates(gates, request.executionId, request.producer, request.waiters, request.output) } };
        return awaitRelease(gates, request, runEnded.signal);
      }
      if (isGatedCallPayload(payload)) {
        // A gated call: waits at its gate in its own state, then is made as any call, its deferred values rendered.
        releasedCall(payload, await awaitRelease(gates, gatedCallWait(payload), runEnded.signal));
        gatedCalls++;
      }
      if (name.includes(': ') || typeof payload?.action_id !== 'string') throw new Error(`state ${name} is not a service call: not modelled by this benchmark`);
      calls.set(payload.action_id, (calls.get(payload.action_id) ?? 0) + 1);
      const result = { status_code: 200, response: { value: payload.action_id } };
      const feed = gateFeedOf(payload);
      if (feed) {
        arrivals++;
        await arriveAtGates(gates, feed.executionId, feed.producer, feed.waiters, serviceCallOutput(result));
      }
      return { StatusCode: 200, Payload: result };
    };
    handlers[name] = handler as LocalHandlers[string];
  }
  return { handlers, calls, runnerArrivals: () => arrivals, gatedCalls: () => gatedCalls, stop: () => runEnded.abort() };
}

/** Every state name of the machine (nested ones too), or only those of one type. */
function allStateNames(definition: StateMachineDefinition, type?: State['Type']): string[] {
  const names: string[] = [];
  forEachScope(definition, (scope) => {
    for (const [name, state] of Object.entries(scope.States)) if (type === undefined || state.Type === type) names.push(name);
  });
  return names;
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
