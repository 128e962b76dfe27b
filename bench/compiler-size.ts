import { join } from 'node:path';
import { ActionSchema, MAX_ACTIONS as API_MAX_ACTIONS, type Action } from '../core/workflow/definition.ts';
import type { State, StateMachineDefinition } from '../statemachines/asl.ts';
import { compileWorkflow, type CompiledWorkflow } from '../statemachines/compile.ts';
import { STEP_FUNCTIONS_LIMITS } from '../statemachines/limits.ts';
import { duplicateStateNames } from './compiler-cost.ts';
import { randomGraph, seededRandom, serviceCallActions } from './compiler-graphs.ts';
import { readStg } from './stg.ts';
import { median, round, since } from './stats.ts';

/**
 * 4d of the compiler section: how long compileWorkflow takes and how large its definition is, on random
 * sparse workflows of 10, 100 and 1,000 actions and on every STG file. Above the API's action limit the
 * actions are parsed one by one (the compiler does not check the limit; the API does).
 */

/** Compile-time target on the STG files: milliseconds per 1,000 actions. */
export const COMPILE_MS_PER_1000_TARGET = 100;
/** A quarter of the 1 MB definition limit: room left for growth and for what the runtime adds. */
export const DEFINITION_BYTES_TARGET = STEP_FUNCTIONS_LIMITS.definitionBytes / 4;

/** Compile-time workflows: actions and timed runs (after one warm-up compile). */
const COMPILE_SIZES: readonly { actions: number; runs: number }[] = [
  { actions: 10, runs: 21 },
  { actions: 100, runs: 11 },
  { actions: 1000, runs: 5 },
];
/** About 1.5 dependencies per action on average (p = 3 / n), the same density at every size. */
const COMPILE_EDGE_FACTOR = 3;
/** Timed compiles per STG file (after a warm-up compile): fewer for the files over 1,000 tasks. */
const STG_COMPILE_RUNS = 5;
const STG_LARGE_COMPILE_RUNS = 3;

export interface CompileSizePoint {
  readonly workflow: string;
  readonly kind: 'random' | 'stg';
  readonly actions: number;
  readonly edges: number;
  readonly runs: number;
  readonly medianMs: number;
  readonly msPer1000Actions: number;
  /** Actions that wait on a dependency gate, and the gate (wait) and report states of the definition. */
  readonly gatedActions: number;
  readonly gateStates: number;
  readonly reportStates: number;
  /** The largest machine's definition (the only one unless the compiler split the workflow into child machines). */
  readonly definitionBytes: number;
  /** All machines together, and how many there are (1 + child machines). */
  readonly totalBytes: number;
  readonly machines: number;
  readonly bytesPerAction: number;
  readonly states: number;
  readonly parallelStates: number;
  readonly underQuarterLimit: boolean;
  /** Over the 1 MB limit itself (compileWorkflow then reports a limit error). */
  readonly overLimit: boolean;
  readonly limitErrors: number;
  /** State names used more than once (Step Functions refuses such a definition). */
  readonly duplicateStateNames: number;
  /** Definition bytes per action, by what the states are for (a Parallel counted without its branches). */
  readonly bytesPerActionByRole: Readonly<Record<string, number>>;
  readonly note?: string;
}

export async function measureCompileTimes(seed: number, stgDirectory: string, stgFiles: readonly string[]): Promise<CompileSizePoint[]> {
  const random = seededRandom(seed);
  const points: CompileSizePoint[] = [];
  for (const { actions, runs } of COMPILE_SIZES) {
    const graph = randomGraph(random, 'sparse', actions, Math.min(1, COMPILE_EDGE_FACTOR / actions));
    const parsed = serviceCallActions(graph.nodes).map((action) => ActionSchema.parse(action));
    points.push({ ...compilePoint(`random sparse (${actions})`, 'random', parsed, graph.edges, runs), ...overApiLimit(actions) });
  }
  for (const file of stgFiles) {
    const graph = await readStg(join(stgDirectory, file), file);
    const actions = serviceCallActions(graph.nodes).map((action) => ActionSchema.parse(action));
    const edges = graph.nodes.reduce((sum, node) => sum + node.depends_on.length, 0);
    points.push({ ...compilePoint(file, 'stg', actions, edges, actions.length > 1000 ? STG_LARGE_COMPILE_RUNS : STG_COMPILE_RUNS), ...overApiLimit(actions.length) });
  }
  return points;
}

function overApiLimit(actions: number): { note?: string } {
  return actions > API_MAX_ACTIONS ? { note: `${actions} actions is over the API's ${API_MAX_ACTIONS}-action limit: actions parsed one by one, compiler timing only` } : {};
}

function compilePoint(workflow: string, kind: CompileSizePoint['kind'], actions: readonly Action[], edges: number, runs: number): CompileSizePoint {
  const input = { workflow_id: 'bench', version: 1, parameters: [{ name: 'run_id', type: 'string' as const, required: false }], actions };
  compileWorkflow(input); // warm-up, not timed
  const times: number[] = [];
  let compiled: CompiledWorkflow | undefined;
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    compiled = compileWorkflow(input);
    times.push(since(started));
  }
  if (!compiled) throw new Error('compilePoint needs at least one run');
  const medianMs = median(times);
  const bytes = compiled.limits.definitionBytes;
  const machines = [compiled.definition, ...compiled.children.map((child) => child.definition)];
  const encoder = new TextEncoder();
  const totalBytes = machines.reduce((sum, machine) => sum + encoder.encode(JSON.stringify(machine)).length, 0);
  const names = machines.flatMap(stateNames);
  const roles: Record<string, number> = {};
  for (const machine of machines) bytesByRole(machine, roles);
  return {
    workflow,
    kind,
    actions: actions.length,
    edges,
    runs,
    medianMs: round(medianMs, 2),
    msPer1000Actions: round((medianMs / actions.length) * 1000, 1),
    gatedActions: compiled.gates.size,
    gateStates: names.filter((name) => name.endsWith(': gate')).length,
    reportStates: names.filter((name) => name.endsWith(': report')).length,
    definitionBytes: bytes,
    totalBytes,
    machines: machines.length,
    bytesPerAction: Math.round(totalBytes / actions.length),
    states: compiled.limits.states,
    parallelStates: machines.reduce((sum, machine) => sum + countStates(machine, 'Parallel'), 0),
    underQuarterLimit: bytes <= DEFINITION_BYTES_TARGET,
    overLimit: bytes > STEP_FUNCTIONS_LIMITS.definitionBytes,
    limitErrors: compiled.limits.errors.length,
    duplicateStateNames: machines.reduce((sum, machine) => sum + duplicateStateNames(machine).length, 0),
    bytesPerActionByRole: Object.fromEntries(Object.entries(roles).map(([role, total]) => [role, Math.round(total / actions.length)])),
  };
}

/** Every state name of the machine, nested ones included. */
export function stateNames(definition: StateMachineDefinition): string[] {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    name,
    ...(state.Type === 'Parallel' ? state.Branches.flatMap(stateNames) : []),
    ...(state.Type === 'Map' ? stateNames(state.ItemProcessor) : []),
  ]);
}

export function countStates(definition: StateMachineDefinition, type: State['Type']): number {
  let count = 0;
  for (const state of Object.values(definition.States)) {
    if (state.Type === type) count++;
    if (state.Type === 'Parallel') for (const branch of state.Branches) count += countStates(branch, type);
    if (state.Type === 'Map') count += countStates(state.ItemProcessor, type);
  }
  return count;
}

/** Where the definition's bytes go: each state's JSON (name included) attributed to the role its name shows. */
function bytesByRole(definition: StateMachineDefinition, totals: Record<string, number> = {}): Record<string, number> {
  const encoder = new TextEncoder();
  for (const [name, state] of Object.entries(definition.States)) {
    const own = state.Type === 'Parallel' ? { ...state, Branches: [] } : state;
    const role = state.Type === 'Parallel' ? 'Parallel' : (/: (dead letter|describe failure|failed|gate|report)$/.exec(name)?.[1] ?? `${state.Type} (action)`);
    totals[role] = (totals[role] ?? 0) + encoder.encode(JSON.stringify({ [name]: own })).length;
    if (state.Type === 'Parallel') for (const branch of state.Branches) bytesByRole(branch, totals);
  }
  return totals;
}
