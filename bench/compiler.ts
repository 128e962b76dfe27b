import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ActionSchema, MAX_ACTIONS as API_MAX_ACTIONS, type Action } from '../core/workflow/definition.ts';
import type { GraphNode } from '../core/workflow/graph.ts';
import type { State, StateMachineDefinition } from '../statemachines/asl.ts';
import { compileWorkflow, type CompiledWorkflow } from '../statemachines/compile.ts';
import { STEP_FUNCTIONS_LIMITS } from '../statemachines/limits.ts';
import { criticalPath, makespan, seriesParallelStructure, topologicalLevelsStructure, type DurationOf, type Structure } from '../statemachines/structure.ts';
import { costShapes, duplicateStateNames, measureTransitions, TRANSITIONS_PER_ACTION_TARGET, type CostShape } from './compiler-cost.ts';
import { DENSE_EDGE_PROBABILITY, randomGraph, SPARSE_EDGES_PER_NODE, randomInt, seededRandom, serviceCallActions, type GraphFamily } from './compiler-graphs.ts';
import { readStg } from './stg.ts';
import { kilobytes, median, round, since, table, verdict, type Cell } from './stats.ts';

/**
 * The workflow compiler: how much concurrency the series-parallel structure keeps (makespan / critical path
 * on random DAGs and on the Standard Task Graph Set), what a run costs in state transitions, and how compile
 * time and definition size grow with the number of actions.
 */

export const DEFAULT_COMPILER_SEED = 20_261_124;
export const STG_DIRECTORY = '/work/shared/benchmarks/stg';
/** Mean makespan / critical path over all random DAGs; series-parallel ones must be exactly 1. */
export const RANDOM_MEAN_RATIO_TARGET = 1.05;
export const STG_RATIO_TARGET = 1.1;
/** A quarter of the 1 MB definition limit: room left for growth and for what the runtime adds. */
export const DEFINITION_BYTES_TARGET = STEP_FUNCTIONS_LIMITS.definitionBytes / 4;

/** 1,000 graphs: 30 % series-parallel by construction, the rest ordered random DAGs, mostly sparse. */
const GRAPH_MIX: readonly { family: GraphFamily; share: number }[] = [
  { family: 'series-parallel', share: 0.3 },
  { family: 'sparse', share: 0.45 },
  { family: 'dense', share: 0.25 },
];
const MIN_ACTIONS = 10;
const MAX_ACTIONS = 200;
/** Ratios within this of 1 count as exactly 1 (log-normal durations are floats summed in different orders). */
const EXACT = 1e-9;
/** Compile-time workflows: actions and timed runs (after one warm-up compile). */
const COMPILE_SIZES: readonly { actions: number; runs: number }[] = [
  { actions: 10, runs: 21 },
  { actions: 100, runs: 11 },
  { actions: 1000, runs: 5 },
];
/** About 1.5 dependencies per action on average (p = 3 / n), the same density at every size. */
const COMPILE_EDGE_FACTOR = 3;
const STG_STRESS_FILE = 'proto048.stg';
/** One run, no warm-up: ~3 s each, and the code is warm from 4b and the 1,000-action workflow by then. */
const STG_STRESS_RUNS = 1;
/** Structure timings per STG file: median of this many runs per mode (one for files over 1,000 tasks). */
const STG_TIMING_RUNS = 3;

export type Mode = 'equal' | 'hints' | 'levels';
const MODES: readonly Mode[] = ['equal', 'hints', 'levels'];
const MODE_LABELS: Record<Mode, string> = { equal: 'compiler, equal durations', hints: 'compiler, duration hints', levels: 'baseline: topological levels' };

export interface RatioStats {
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  /** Graphs whose ratio is exactly 1 (within 1e-9). */
  readonly exact: number;
}

export interface RatioGroup {
  readonly group: string;
  readonly graphs: number;
  readonly ratios: Readonly<Record<Mode, RatioStats>>;
  /**
   * Not a compiler mode: the best of the three structures under the hints (here the true durations), i.e.
   * what the compiler would get if it evaluated its candidates' makespans and kept the shortest.
   */
  readonly bestOfThree: RatioStats;
}

export interface RandomDagSection {
  readonly seed: number;
  readonly graphs: number;
  readonly actions: { readonly min: number; readonly max: number; readonly mean: number };
  readonly groups: readonly RatioGroup[];
  /** Series-parallel graphs where a compiler mode lost any concurrency (should be none). */
  readonly seriesParallelLosses: Readonly<Record<'equal' | 'hints', number>>;
  readonly meanTargetMet: Readonly<Record<Mode, boolean>>;
  /** Structures that drop, repeat or misorder an action (should be none). */
  readonly invalidStructures: number;
  /** Wall time of seriesParallelStructure per graph (both modes together), per family. */
  readonly structureMs: readonly { readonly group: string; readonly median: number; readonly p95: number; readonly max: number }[];
  /** Total wall time spent in seriesParallelStructure (both modes, all graphs). */
  readonly structureSeconds: number;
  readonly worst: readonly { readonly mode: Mode; readonly family: GraphFamily; readonly actions: number; readonly edges: number; readonly ratio: number }[];
}

export interface StgFileResult {
  readonly file: string;
  readonly tasks: number;
  readonly edges: number;
  readonly criticalPath: number;
  readonly ratios: Readonly<Record<Mode, number>>;
  readonly modesWithinTarget: readonly Mode[];
  /** Median wall time of seriesParallelStructure on the file, per compiler mode. */
  readonly structureMs: Readonly<Record<'equal' | 'hints', number>>;
  readonly timingRuns: number;
  readonly validStructures: boolean;
}

export interface CompileSizePoint {
  readonly workflow: string;
  readonly actions: number;
  readonly edges: number;
  readonly runs: number;
  readonly medianMs: number;
  readonly msPerAction: number;
  readonly definitionBytes: number;
  readonly bytesPerAction: number;
  readonly states: number;
  readonly parallelStates: number;
  readonly underQuarterLimit: boolean;
  readonly limitErrors: number;
  /** State names used more than once (Step Functions refuses such a definition). */
  readonly duplicateStateNames: number;
  /** Definition bytes per action, by what the states are for (a Parallel counted without its branches). */
  readonly bytesPerActionByRole: Readonly<Record<string, number>>;
  readonly note?: string;
}

export interface CompilerSection {
  readonly seed: number;
  readonly randomDags: RandomDagSection;
  readonly stg: readonly StgFileResult[];
  readonly stgTarget: number;
  readonly transitions: readonly CostShape[];
  readonly transitionsTarget: number;
  readonly compile: readonly CompileSizePoint[];
  /** (time(1000 actions) / time(100 actions)) / 10: 1 is linear growth. */
  readonly linearity: number;
  readonly definitionBytesTarget: number;
  readonly largestUnderTarget: boolean;
  readonly subsectionSeconds: Readonly<Record<string, number>>;
}

export async function measureCompiler(options: { seed?: number; graphs?: number } = {}): Promise<CompilerSection> {
  const seed = options.seed ?? DEFAULT_COMPILER_SEED;
  const subsectionSeconds: Record<string, number> = {};
  const timed = async <T>(name: string, work: () => T | Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      subsectionSeconds[name] = round(since(started) / 1000, 1);
    }
  };
  // Each part has its own stream, so changing one part's sample does not reshuffle the others.
  const randomDags = await timed('random DAGs', () => measureRandomDags(seed, options.graphs ?? 1000));
  const stg = await timed('STG', () => measureStg());
  const transitions = await timed('transitions', async () => {
    const shapes = costShapes(seededRandom(seed + 2));
    const results: CostShape[] = [];
    for (const { shape, nodes } of shapes) results.push(await measureTransitions(shape, nodes));
    return results;
  });
  const compile = await timed('compile time', () => measureCompileTimes(seed + 3));
  const at = (actions: number) => compile.find((point) => point.actions === actions && point.workflow.startsWith('random'));
  const linearity = round((at(1000)?.medianMs ?? Number.NaN) / (at(100)?.medianMs ?? Number.NaN) / 10, 2);
  const largest = compile.reduce((big, point) => (point.definitionBytes > big.definitionBytes ? point : big), compile[0]!);
  return {
    seed,
    randomDags,
    stg,
    stgTarget: STG_RATIO_TARGET,
    transitions,
    transitionsTarget: TRANSITIONS_PER_ACTION_TARGET,
    compile,
    linearity,
    definitionBytesTarget: DEFINITION_BYTES_TARGET,
    largestUnderTarget: largest.definitionBytes <= DEFINITION_BYTES_TARGET,
    subsectionSeconds,
  };
}

// --- 4a. random DAGs ---------------------------------------------------------------------------------------

interface GraphResult {
  readonly family: GraphFamily;
  readonly actions: number;
  readonly edges: number;
  readonly ratios: Record<Mode, number>;
  readonly structureMs: number;
}

function measureRandomDags(seed: number, graphs: number): RandomDagSection {
  const random = seededRandom(seed);
  const families: GraphFamily[] = [];
  for (const { family, share } of GRAPH_MIX) for (let i = 0; i < Math.round(share * graphs); i++) families.push(family);
  const results: GraphResult[] = [];
  let invalidStructures = 0;
  for (const family of families.slice(0, graphs)) {
    const graph = randomGraph(random, family, randomInt(random, MIN_ACTIONS, MAX_ACTIONS));
    const durationOf: DurationOf = (id) => graph.duration.get(id)!;
    const critical = criticalPath(graph.nodes, durationOf);
    const started = performance.now();
    const equal = seriesParallelStructure(graph.nodes);
    const hints = seriesParallelStructure(graph.nodes, durationOf);
    const structureMs = since(started);
    const structures: Record<Mode, Structure> = { equal, hints, levels: topologicalLevelsStructure(graph.nodes) };
    for (const mode of MODES) if (!isValidStructure(structures[mode], graph.nodes)) invalidStructures++;
    const ratios = Object.fromEntries(MODES.map((mode) => [mode, makespan(structures[mode], durationOf) / critical])) as Record<Mode, number>;
    results.push({ family, actions: graph.nodes.length, edges: graph.edges, ratios, structureMs });
  }
  const groupOf = (group: string, members: readonly GraphResult[]): RatioGroup => ({
    group,
    graphs: members.length,
    ratios: Object.fromEntries(MODES.map((mode) => [mode, ratioStats(members.map((result) => result.ratios[mode]))])) as Record<Mode, RatioStats>,
    bestOfThree: ratioStats(members.map((result) => Math.min(...MODES.map((mode) => result.ratios[mode])))),
  });
  const seriesParallel = results.filter((result) => result.family === 'series-parallel');
  const all = groupOf('all', results);
  const timeGroup = (group: string, members: readonly GraphResult[]) => {
    const times = members.map((result) => result.structureMs);
    return { group, median: round(median(times), 1), p95: round(quantile(times, 0.95), 1), max: round(Math.max(...times), 1) };
  };
  const sizes = results.map((result) => result.actions);
  return {
    seed,
    graphs: results.length,
    actions: { min: Math.min(...sizes), max: Math.max(...sizes), mean: round(sizes.reduce((a, b) => a + b, 0) / sizes.length, 1) },
    groups: [
      groupOf('series-parallel', seriesParallel),
      all,
      groupOf('  of which sparse', results.filter((result) => result.family === 'sparse')),
      groupOf('  of which dense', results.filter((result) => result.family === 'dense')),
    ],
    seriesParallelLosses: {
      equal: seriesParallel.filter((result) => result.ratios.equal > 1 + EXACT).length,
      hints: seriesParallel.filter((result) => result.ratios.hints > 1 + EXACT).length,
    },
    meanTargetMet: Object.fromEntries(MODES.map((mode) => [mode, all.ratios[mode].mean <= RANDOM_MEAN_RATIO_TARGET])) as Record<Mode, boolean>,
    invalidStructures,
    structureSeconds: round(results.reduce((sum, result) => sum + result.structureMs, 0) / 1000, 1),
    structureMs: [timeGroup('series-parallel', seriesParallel), ...(['sparse', 'dense'] as const).map((family) => timeGroup(family, results.filter((result) => result.family === family)))],
    worst: MODES.map((mode) => {
      const worst = results.reduce((a, b) => (b.ratios[mode] > a.ratios[mode] ? b : a));
      return { mode, family: worst.family, actions: worst.actions, edges: worst.edges, ratio: round(worst.ratios[mode], 3) };
    }),
  };
}

function ratioStats(values: readonly number[]): RatioStats {
  return {
    mean: round(values.reduce((a, b) => a + b, 0) / values.length, 3),
    p50: round(quantile(values, 0.5), 3),
    p95: round(quantile(values, 0.95), 3),
    max: round(Math.max(...values), 3),
    exact: values.filter((value) => value <= 1 + EXACT).length,
  };
}

/** Nearest-rank quantile. */
function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Every action exactly once, and every dependency ordered: the deepest structure node holding both ends of
 * an edge must be a sequence with the dependency in an earlier step. (A makespan is meaningless otherwise.)
 */
export function isValidStructure(structure: Structure, nodes: readonly GraphNode[]): boolean {
  const paths = new Map<string, { node: Structure; step: number }[]>();
  let duplicate = false;
  const walk = (node: Structure, path: { node: Structure; step: number }[]) => {
    if (node.kind === 'action') {
      if (paths.has(node.id)) duplicate = true;
      paths.set(node.id, path);
      return;
    }
    const children = node.kind === 'sequence' ? node.steps : node.branches;
    children.forEach((child, step) => walk(child, [...path, { node, step }]));
  };
  walk(structure, []);
  if (duplicate || paths.size !== nodes.length) return false;
  for (const node of nodes) {
    const after = paths.get(node.action_id);
    if (!after) return false;
    for (const dep of node.depends_on) {
      const before = paths.get(dep);
      if (!before) return false;
      let depth = 0;
      while (depth < before.length && depth < after.length && before[depth]!.node === after[depth]!.node && before[depth]!.step === after[depth]!.step) depth++;
      const split = before[depth];
      if (!split || split.node !== after[depth]?.node || split.node.kind !== 'sequence' || split.step >= after[depth]!.step) return false;
    }
  }
  return true;
}

// --- 4b. STG ------------------------------------------------------------------------------------------------

/** The STG files, or none when the shared benchmark directory is not there (4b is then empty, 4d skips proto048). */
async function stgFiles(): Promise<string[]> {
  try {
    return await readdir(STG_DIRECTORY);
  } catch {
    return [];
  }
}

async function measureStg(): Promise<StgFileResult[]> {
  const files = (await stgFiles()).filter((file) => file.endsWith('.stg')).sort();
  const results: StgFileResult[] = [];
  for (const file of files) {
    const graph = await readStg(join(STG_DIRECTORY, file), file);
    const durationOf: DurationOf = (id) => graph.cost.get(id)!;
    const critical = criticalPath(graph.nodes, durationOf);
    const runs = graph.nodes.length > 1000 ? 1 : STG_TIMING_RUNS;
    const timeStructure = (hints: boolean) => {
      const times: number[] = [];
      let structure: Structure | undefined;
      for (let run = 0; run < runs; run++) {
        const started = performance.now();
        structure = hints ? seriesParallelStructure(graph.nodes, durationOf) : seriesParallelStructure(graph.nodes);
        times.push(since(started));
      }
      return { structure: structure!, ms: round(median(times), 1) };
    };
    const equal = timeStructure(false);
    const hints = timeStructure(true);
    const structures: Record<Mode, Structure> = { equal: equal.structure, hints: hints.structure, levels: topologicalLevelsStructure(graph.nodes) };
    const ratios = Object.fromEntries(MODES.map((mode) => [mode, round(makespan(structures[mode], durationOf) / critical, 3)])) as Record<Mode, number>;
    results.push({
      file,
      tasks: graph.nodes.length,
      edges: graph.nodes.reduce((sum, node) => sum + node.depends_on.length, 0),
      criticalPath: critical,
      ratios,
      modesWithinTarget: MODES.filter((mode) => ratios[mode] <= STG_RATIO_TARGET),
      structureMs: { equal: equal.ms, hints: hints.ms },
      timingRuns: runs,
      validStructures: MODES.every((mode) => isValidStructure(structures[mode], graph.nodes)),
    });
  }
  return results;
}

// --- 4d. compile time and size ---------------------------------------------------------------------------------

async function measureCompileTimes(seed: number): Promise<CompileSizePoint[]> {
  const random = seededRandom(seed);
  const points: CompileSizePoint[] = [];
  for (const { actions, runs } of COMPILE_SIZES) {
    const graph = randomGraph(random, 'sparse', actions, Math.min(1, COMPILE_EDGE_FACTOR / actions));
    const hints = new Map([...graph.duration].map(([id, seconds]) => [id, round(seconds, 2)]));
    // Above MAX_ACTIONS the API refuses the workflow; the compiler is still timed on it, actions parsed one by one.
    const parsed = serviceCallActions(graph.nodes, hints).map((action) => ActionSchema.parse(action));
    points.push({
      ...compilePoint(`random (${actions})`, parsed, graph.edges, runs),
      ...(actions > API_MAX_ACTIONS ? { note: `${actions} actions is over the API's ${API_MAX_ACTIONS}-action limit (compiler timing only)` } : {}),
    });
  }
  if (!(await stgFiles()).includes(STG_STRESS_FILE)) return points;
  const stress = await readStg(join(STG_DIRECTORY, STG_STRESS_FILE), STG_STRESS_FILE);
  // 2,064 actions is over the API's action limit: parse each action on its own.
  const actions = serviceCallActions(stress.nodes, stress.cost).map((action) => ActionSchema.parse(action));
  const edges = stress.nodes.reduce((sum, node) => sum + node.depends_on.length, 0);
  points.push({
    ...compilePoint(STG_STRESS_FILE, actions, edges, STG_STRESS_RUNS, false),
    note: `${actions.length} actions is over the API's ${API_MAX_ACTIONS}-action limit; compiled from individually parsed actions`,
  });
  return points;
}

function compilePoint(workflow: string, actions: readonly Action[], edges: number, runs: number, warmUp = true): CompileSizePoint {
  const input = { workflow_id: 'bench', version: 1, parameters: [{ name: 'run_id', type: 'string' as const, required: false }], actions };
  if (warmUp) compileWorkflow(input); // not timed
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
  return {
    workflow,
    actions: actions.length,
    edges,
    runs,
    medianMs: round(medianMs, 2),
    msPerAction: round(medianMs / actions.length, 3),
    definitionBytes: bytes,
    bytesPerAction: Math.round(bytes / actions.length),
    states: compiled.limits.states,
    parallelStates: countStates(compiled.definition, 'Parallel'),
    underQuarterLimit: bytes <= DEFINITION_BYTES_TARGET,
    limitErrors: compiled.limits.errors.length,
    duplicateStateNames: duplicateStateNames(compiled.definition).length,
    bytesPerActionByRole: Object.fromEntries(Object.entries(bytesByRole(compiled.definition)).map(([role, total]) => [role, Math.round(total / actions.length)])),
  };
}

function countStates(definition: StateMachineDefinition, type: State['Type']): number {
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
    const role = state.Type === 'Parallel' ? 'Parallel' : (/: (dead letter|describe failure|failed)$/.exec(name)?.[1] ?? `${state.Type} (action)`);
    totals[role] = (totals[role] ?? 0) + encoder.encode(JSON.stringify({ [name]: own })).length;
    if (state.Type === 'Parallel') for (const branch of state.Branches) bytesByRole(branch, totals);
  }
  return totals;
}

// --- report ------------------------------------------------------------------------------------------------------

const fixed = (value: number, digits = 3) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

export function renderCompilerSection(section: CompilerSection): string {
  const dags = section.randomDags;
  const ratioRows: Cell[][] = [];
  for (const group of dags.groups) {
    MODES.forEach((mode, index) => {
      const stats = group.ratios[mode];
      let check = '';
      if (group.group === 'series-parallel' && mode !== 'levels') check = stats.exact === group.graphs ? 'ok (=1.00)' : 'OVER';
      if (group.group === 'all') check = `${verdict(stats.mean <= RANDOM_MEAN_RATIO_TARGET)} (mean)`;
      ratioRows.push([
        index === 0 ? group.group : '',
        index === 0 ? group.graphs : '',
        MODE_LABELS[mode],
        fixed(stats.mean),
        fixed(stats.p50),
        fixed(stats.p95),
        fixed(stats.max),
        `${stats.exact}/${group.graphs}`,
        check,
      ]);
    });
    const best = group.bestOfThree;
    ratioRows.push(['', '', '(info) best of the three', fixed(best.mean), fixed(best.p50), fixed(best.p95), fixed(best.max), `${best.exact}/${group.graphs}`, '']);
  }
  const stgRows = section.stg.map((file) => [
    file.file,
    file.tasks,
    file.edges,
    file.criticalPath,
    fixed(file.ratios.equal),
    fixed(file.ratios.hints),
    fixed(file.ratios.levels),
    file.modesWithinTarget.length === 0 ? 'OVER (none)' : file.modesWithinTarget.join(', '),
    file.structureMs.equal,
    file.structureMs.hints,
    file.timingRuns,
  ]);
  const stgMeets = (mode: Mode) => section.stg.filter((file) => file.modesWithinTarget.includes(mode)).length;
  const costRows = section.transitions.map((shape) => [
    shape.shape,
    shape.actions,
    shape.parallelStates,
    shape.transitions,
    shape.walked === shape.transitions ? shape.walked : `${shape.walked} (differs)`,
    fixed(shape.perAction, 2),
    shape.everyActionRanOnce ? 'yes' : 'NO',
    shape.duplicateStateNames.length === 0 ? 'none' : `${shape.duplicateStateNames.length} DUPLICATE`,
    verdict(shape.withinTarget),
  ]);
  const compileRows = section.compile.map((point) => [
    point.workflow,
    point.actions,
    point.edges,
    point.runs,
    fixed(point.medianMs, 1),
    fixed(point.msPerAction * 1000, 0),
    kilobytes(point.definitionBytes),
    point.bytesPerAction,
    point.states,
    point.parallelStates,
    point.underQuarterLimit ? 'ok' : 'OVER',
    point.duplicateStateNames === 0 ? 'none' : `${point.duplicateStateNames} DUPLICATE`,
  ]);
  const largest = section.compile.reduce((big, point) => (point.definitionBytes > big.definitionBytes ? point : big), section.compile[0]!);
  const times = dags.structureMs.map((time) => `${time.group} ${time.median} / ${time.p95} / ${time.max}`).join('; ');
  const typical = section.compile.find((point) => point.workflow === 'random (1000)') ?? largest;
  const notes = section.compile.filter((point) => point.note).map((point) => `  ${point.workflow}: ${point.note}`);
  return [
    `4. WORKFLOW COMPILER (seed ${section.seed} for 4a, +2 for 4c, +3 for 4d; ratios are makespan / critical path, both with the true durations, 1.000 = no concurrency lost)`,
    `4a. Random DAGs: ${dags.graphs} graphs, ${dags.actions.min}..${dags.actions.max} actions (mean ${dags.actions.mean}), durations uniform 1..10 or log-normal;`,
    `    ${GRAPH_MIX.map((mix) => `${Math.round(mix.share * 100)} % ${mix.family}`).join(', ')} (sparse p = ${SPARSE_EDGES_PER_NODE.join('..')} / n, dense p = ${DENSE_EDGE_PROBABILITY.join('..')}).`,
    `    Targets: series-parallel exactly 1.00 (compiler modes), all graphs mean <= ${RANDOM_MEAN_RATIO_TARGET}`,
    table(['group', 'graphs', 'structure', 'mean', 'p50', 'p95', 'max', '=1.00', 'check'], ratioRows),
    `  "best of the three" is not a compiler mode: the shortest of the three structures under the hints (one O(n) makespan each), which the compiler could keep.`,
    `  Series-parallel graphs that lost concurrency: equal durations ${dags.seriesParallelLosses.equal}, hints ${dags.seriesParallelLosses.hints}.`,
    `  All graphs, mean <= ${RANDOM_MEAN_RATIO_TARGET}: ${MODES.map((mode) => `${mode} ${verdict(dags.meanTargetMet[mode])}`).join(', ')}.`,
    `  Worst graphs: ${dags.worst.map((worst) => `${worst.mode} ${fixed(worst.ratio)} (${worst.family}, ${worst.actions} actions, ${worst.edges} edges)`).join('; ')}.`,
    `  Structures checked (each action once, every dependency ordered): ${dags.invalidStructures === 0 ? 'all valid' : `${dags.invalidStructures} INVALID`}.`,
    `  seriesParallelStructure ms per graph, both modes (median / p95 / max): ${times}; ${dags.structureSeconds} s in all.`,
    '',
    `4b. Standard Task Graph Set (${STG_DIRECTORY}, costs from the files; target <= ${section.stgTarget} on every file)${section.stg.length === 0 ? ': NO FILES FOUND, skipped' : ''}`,
    table(['file', 'tasks', 'edges', 'crit. path', 'equal', 'hints', 'levels', `<= ${section.stgTarget}`, 'ms equal', 'ms hints', 'runs'], stgRows),
    `  Files within ${section.stgTarget}: hints ${stgMeets('hints')}/${section.stg.length}, equal durations ${stgMeets('equal')}/${section.stg.length}, topological levels ${stgMeets('levels')}/${section.stg.length}.` +
      ` Structures valid: ${section.stg.every((file) => file.validStructures) ? 'all' : 'NOT ALL'}. ms = median wall time of seriesParallelStructure.`,
    '',
    `4c. Billed state transitions of one successful run (every action once; aws-local-stepfunctions StateEntered events; target <= ${section.transitionsTarget} per action)`,
    table(['shape', 'actions', 'Parallels', 'run: entered', 'walk', 'per action', 'all ran once', 'state names', 'check'], costRows),
    `  run = StateEntered events of a local execution; walk = the compiled definition walked along the success path;`,
    `  both should equal 1 Task per action + 1 per Parallel state (${section.transitions.every((shape) => shape.walked === shape.predicted) ? 'they do' : 'they DO NOT'}).`,
    ...section.transitions
      .filter((shape) => shape.duplicateStateNames.length > 0)
      .map((shape) => `  ${shape.shape}: state names used twice (${shape.duplicateStateNames.join(', ')}): Step Functions would refuse this definition; counted on a copy with them renamed.`),
    '',
    `4d. Compile time (full compileWorkflow, median of the runs, after a warm-up compile except for ${STG_STRESS_FILE}) and definition size (target: largest <= ${kilobytes(section.definitionBytesTarget)} KB, a quarter of the 1 MB limit)`,
    table(['workflow', 'actions', 'edges', 'runs', 'median ms', 'us/action', 'KB', 'bytes/action', 'states', 'Parallels', '<= 256 KB', 'state names'], compileRows),
    `  Growth 100 -> 1,000 actions: time(1000) / time(100) / 10 = ${fixed(section.linearity, 2)} (1.00 = linear).`,
    `  Largest definition: ${largest.workflow}, ${kilobytes(largest.definitionBytes)} KB: ${section.largestUnderTarget ? 'under' : 'OVER'} a quarter of the limit.` +
      ` Over the 1 MB limit itself (compileWorkflow reports a limit error): ${section.compile.filter((point) => point.limitErrors > 0).map((point) => point.workflow).join(', ') || 'none'}.`,
    `  At ~${typical.bytesPerAction} bytes per service_call action, about ${Math.floor(section.definitionBytesTarget / typical.bytesPerAction)} actions fit in 256 KB and ${Math.floor(STEP_FUNCTIONS_LIMITS.definitionBytes / typical.bytesPerAction)} in 1 MB.` +
      ` Bytes per action by state role (${typical.workflow}): ${Object.entries(typical.bytesPerActionByRole).sort((a, b) => b[1] - a[1]).map(([role, bytes]) => `${role} ${bytes}`).join(', ')}.`,
    ...notes,
    `  Sub-sections took ${Object.entries(section.subsectionSeconds).map(([name, seconds]) => `${name} ${seconds} s`).join(', ')}.`,
  ].join('\n');
}
