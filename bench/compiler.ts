import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ActionSchema } from '../core/workflow/definition.ts';
import { transitiveDependencies, type GraphNode } from '../core/workflow/graph.ts';
import { compileWorkflow } from '../statemachines/compile.ts';
import { addsNoOrdering, losslessStructure, simulatedStarts, type LosslessStructure } from '../statemachines/lossless.ts';
import { criticalPath, makespan, seriesParallelStructure, topologicalLevelsStructure, type DurationOf, type Structure } from '../statemachines/structure.ts';
import { costShapes, measureTransitions, TRANSITIONS_PER_ACTION_TARGET, type CostShape } from './compiler-cost.ts';
import { randomGraph, randomInt, seededRandom, serviceCallActions, type GraphFamily } from './compiler-graphs.ts';
import { COMPILE_MS_PER_1000_TARGET, DEFINITION_BYTES_TARGET, measureCompileTimes, type CompileSizePoint } from './compiler-size.ts';
import { readStg } from './stg.ts';
import { median, round, since } from './stats.ts';

/**
 * The workflow compiler: how much concurrency it keeps (makespan / critical path on random DAGs and on the
 * Standard Task Graph Set, without duration hints) for the lossless compiler (what compileWorkflow does:
 * exact series-parallel pieces plus dependency gates, ADR 0016) against the series-parallel structure it
 * replaced and the topological-levels baseline; what a run costs in state transitions; and how compile
 * time and definition size grow with the number of actions.
 */

export const DEFAULT_COMPILER_SEED = 20_261_124;
export const STG_DIRECTORY = '/work/shared/benchmarks/stg';
/** Lossless compiler on the random DAGs: mean makespan / critical path, and no graph above the max. */
export const RANDOM_MEAN_RATIO_TARGET = 1.02;
export const RANDOM_MAX_RATIO_TARGET = 1.05;
/** Lossless compiler on every STG file. */
export const STG_RATIO_TARGET = 1.05;

/** 1,000 graphs: 30 % series-parallel by construction, the rest ordered random DAGs, mostly sparse. */
export const GRAPH_MIX: readonly { family: GraphFamily; share: number }[] = [
  { family: 'series-parallel', share: 0.3 },
  { family: 'sparse', share: 0.45 },
  { family: 'dense', share: 0.25 },
];
const MIN_ACTIONS = 10;
const MAX_ACTIONS = 200;
/** Ratios within this of 1 count as exactly 1 (log-normal durations are floats summed in different orders). */
const EXACT = 1e-9;
/** Graphs per family whose compileWorkflow(...).gates is compared with losslessStructure(...).gates. */
const GATE_CHECKS_PER_FAMILY = 3;
/** Structure timings per STG file: median of this many runs per mode (one for files over 1,000 tasks). */
const STG_TIMING_RUNS = 3;

export type Mode = 'lossless' | 'sp' | 'levels';
export const MODES: readonly Mode[] = ['lossless', 'sp', 'levels'];
export const MODE_LABELS: Record<Mode, string> = { lossless: 'lossless (compileWorkflow now)', sp: "SP-ization (before), no hints", levels: 'baseline: topological levels' };

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
  /** Share of the actions that wait on a dependency gate in the lossless structure (mean over the graphs, max). */
  readonly gatedShare: { readonly mean: number; readonly max: number };
}

export interface RandomDagSection {
  readonly seed: number;
  readonly graphs: number;
  readonly actions: { readonly min: number; readonly max: number; readonly mean: number };
  readonly groups: readonly RatioGroup[];
  readonly targets: { readonly mean: number; readonly max: number };
  readonly losslessMeanMet: boolean;
  readonly losslessMaxMet: boolean;
  /** Graphs where the lossless ratio is above the max target. */
  readonly losslessOverMax: number;
  /** Graphs where some action's simulated start is not the latest finish of its dependencies (should be none). */
  readonly lateStarts: number;
  /** Series-parallel graphs (by construction) that got a gate, or lost concurrency (should be none). */
  readonly seriesParallelGated: number;
  readonly seriesParallelLosses: Readonly<Record<'lossless' | 'sp', number>>;
  /** Structures that drop, repeat or misorder an action (an edge neither ordered nor gated) (should be none). */
  readonly invalidStructures: Readonly<Record<Mode, number>>;
  /** Lossless structures that order two actions their dependencies do not (should be none). */
  readonly addedOrdering: number;
  /** compileWorkflow(...).gates against losslessStructure(...).gates, the first graphs of each family. */
  readonly gateChecks: readonly { readonly family: GraphFamily; readonly checked: number; readonly equal: number }[];
  /** Wall time of the structure per graph, per family and mode (median / p95 / max ms). */
  readonly structureMs: readonly { readonly group: string; readonly mode: 'lossless' | 'sp'; readonly median: number; readonly p95: number; readonly max: number }[];
  readonly structureSeconds: Readonly<Record<'lossless' | 'sp', number>>;
  readonly worst: readonly { readonly mode: Mode; readonly family: GraphFamily; readonly actions: number; readonly edges: number; readonly ratio: number }[];
}

export interface StgFileResult {
  readonly file: string;
  readonly tasks: number;
  readonly edges: number;
  readonly criticalPath: number;
  readonly ratios: Readonly<Record<Mode, number>>;
  readonly losslessWithinTarget: boolean;
  readonly gatedActions: number;
  /** Median wall time of the structure on the file. */
  readonly structureMs: Readonly<Record<'lossless' | 'sp', number>>;
  readonly timingRuns: number;
  readonly validStructures: boolean;
  readonly addsNoOrdering: boolean;
  readonly lateStarts: number;
}

export interface CompilerSection {
  readonly seed: number;
  readonly randomDags: RandomDagSection;
  readonly stg: readonly StgFileResult[];
  readonly stgTarget: number;
  readonly transitions: readonly CostShape[];
  readonly transitionsTarget: number;
  readonly compile: readonly CompileSizePoint[];
  readonly compileTargetMsPer1000: number;
  /** (time(1000 actions) / time(100 actions)) / 10: 1 is linear growth. */
  readonly linearity: number;
  readonly definitionBytesTarget: number;
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
  const files = await stgFiles();
  const stg = await timed('STG', () => measureStg(files));
  const transitions = await timed('transitions', async () => {
    const results: CostShape[] = [];
    for (const shape of costShapes(seededRandom(seed + 2))) results.push(await measureTransitions(shape));
    return results;
  });
  const compile = await timed('compile time', () => measureCompileTimes(seed + 3, STG_DIRECTORY, files));
  const at = (actions: number) => compile.find((point) => point.actions === actions && point.kind === 'random');
  const linearity = round((at(1000)?.medianMs ?? Number.NaN) / (at(100)?.medianMs ?? Number.NaN) / 10, 2);
  return {
    seed,
    randomDags,
    stg,
    stgTarget: STG_RATIO_TARGET,
    transitions,
    transitionsTarget: TRANSITIONS_PER_ACTION_TARGET,
    compile,
    compileTargetMsPer1000: COMPILE_MS_PER_1000_TARGET,
    linearity,
    definitionBytesTarget: DEFINITION_BYTES_TARGET,
    subsectionSeconds,
  };
}

// --- lossless: makespan under the structure and its gates ---------------------------------------------------

interface LosslessRun {
  readonly lossless: LosslessStructure;
  readonly ms: number;
  /** max over actions of start + duration, the starts from simulatedStarts. */
  readonly makespan: number;
  /** Actions whose start is later than the latest finish of their dependencies. */
  readonly lateStarts: number;
}

function runLossless(nodes: readonly GraphNode[], durationOf: DurationOf): LosslessRun {
  // The bench's service calls read their first dependency's output (serviceCallActions), as compileWorkflow sees.
  const firstDependency = new Map(nodes.map((node) => [node.action_id, node.depends_on.slice(0, 1)]));
  const started = performance.now();
  const lossless = losslessStructure(nodes, (id) => firstDependency.get(id) ?? []);
  const ms = since(started);
  const starts = simulatedStarts(lossless, durationOf);
  const finish = (id: string) => starts.get(id)! + durationOf(id);
  const makespanOf = Math.max(0, ...nodes.map((node) => finish(node.action_id)));
  const lateStarts = nodes.filter((node) => {
    const ready = Math.max(0, ...node.depends_on.map(finish));
    return starts.get(node.action_id)! > ready + EXACT * Math.max(1, ready);
  }).length;
  return { lossless, ms, makespan: makespanOf, lateStarts };
}

/**
 * Whether compileWorkflow gates what the structure says: each of the structure's gates is in the compiled
 * one, and any other producer a compiled gate waits for is one whose output the action reads (the bench's
 * actions read their first dependency's output), which comes with the release when it ran in another branch.
 */
function compiledGatesEqual(nodes: readonly GraphNode[], lossless: LosslessStructure): boolean {
  const actions = serviceCallActions(nodes).map((action) => ActionSchema.parse(action));
  const compiled = compileWorkflow({ workflow_id: 'bench', version: 1, parameters: [{ name: 'run_id', type: 'string', required: false }], actions });
  const reads = new Map(actions.map((action) => [action.action_id, new Set([...JSON.stringify(action.config).matchAll(/\{\{(\w+)\./g)].map((match) => match[1]!))]));
  for (const [waiter, producers] of lossless.gates) if (!producers.every((producer) => compiled.gates.get(waiter)?.includes(producer))) return false;
  for (const [waiter, producers] of compiled.gates) {
    const structural = lossless.gates.get(waiter) ?? [];
    if (!producers.every((producer) => structural.includes(producer) || reads.get(waiter)?.has(producer))) return false;
  }
  return true;
}

// --- 4a. random DAGs ---------------------------------------------------------------------------------------

interface GraphResult {
  readonly family: GraphFamily;
  readonly actions: number;
  readonly edges: number;
  readonly ratios: Record<Mode, number>;
  readonly gatedShare: number;
  readonly lateStarts: number;
  readonly ms: Record<'lossless' | 'sp', number>;
}

function measureRandomDags(seed: number, graphs: number): RandomDagSection {
  const random = seededRandom(seed);
  const families: GraphFamily[] = [];
  for (const { family, share } of GRAPH_MIX) for (let i = 0; i < Math.round(share * graphs); i++) families.push(family);
  const results: GraphResult[] = [];
  const invalidStructures: Record<Mode, number> = { lossless: 0, sp: 0, levels: 0 };
  let addedOrdering = 0;
  const gateChecks = new Map<GraphFamily, { checked: number; equal: number }>();
  for (const family of families.slice(0, graphs)) {
    const graph = randomGraph(random, family, randomInt(random, MIN_ACTIONS, MAX_ACTIONS));
    const durationOf: DurationOf = (id) => graph.duration.get(id)!;
    const critical = criticalPath(graph.nodes, durationOf);
    const lossless = runLossless(graph.nodes, durationOf);
    const started = performance.now();
    const sp = seriesParallelStructure(graph.nodes);
    const spMs = since(started);
    const levels = topologicalLevelsStructure(graph.nodes);
    if (!isValidStructure(lossless.lossless.structure, graph.nodes, lossless.lossless.gates)) invalidStructures.lossless++;
    if (!isValidStructure(sp, graph.nodes)) invalidStructures.sp++;
    if (!isValidStructure(levels, graph.nodes)) invalidStructures.levels++;
    if (!addsNoOrdering(graph.nodes, lossless.lossless.structure)) addedOrdering++;
    const checks = gateChecks.get(family) ?? gateChecks.set(family, { checked: 0, equal: 0 }).get(family)!;
    if (checks.checked < GATE_CHECKS_PER_FAMILY) {
      checks.checked++;
      if (compiledGatesEqual(graph.nodes, lossless.lossless)) checks.equal++;
    }
    results.push({
      family,
      actions: graph.nodes.length,
      edges: graph.edges,
      ratios: { lossless: lossless.makespan / critical, sp: makespan(sp, durationOf) / critical, levels: makespan(levels, durationOf) / critical },
      gatedShare: lossless.lossless.gates.size / graph.nodes.length,
      lateStarts: lossless.lateStarts,
      ms: { lossless: lossless.ms, sp: spMs },
    });
  }
  const groupOf = (group: string, members: readonly GraphResult[]): RatioGroup => ({
    group,
    graphs: members.length,
    ratios: Object.fromEntries(MODES.map((mode) => [mode, ratioStats(members.map((result) => result.ratios[mode]))])) as Record<Mode, RatioStats>,
    gatedShare: { mean: round(members.reduce((sum, result) => sum + result.gatedShare, 0) / members.length, 3), max: round(Math.max(...members.map((result) => result.gatedShare)), 3) },
  });
  const seriesParallel = results.filter((result) => result.family === 'series-parallel');
  const all = groupOf('all', results);
  const byFamily = (family: GraphFamily) => results.filter((result) => result.family === family);
  const timeGroup = (group: string, members: readonly GraphResult[], mode: 'lossless' | 'sp') => {
    const times = members.map((result) => result.ms[mode]);
    return { group, mode, median: round(median(times), 2), p95: round(quantile(times, 0.95), 2), max: round(Math.max(...times), 2) };
  };
  const sizes = results.map((result) => result.actions);
  const totalSeconds = (mode: 'lossless' | 'sp') => round(results.reduce((sum, result) => sum + result.ms[mode], 0) / 1000, 2);
  return {
    seed,
    graphs: results.length,
    actions: { min: Math.min(...sizes), max: Math.max(...sizes), mean: round(sizes.reduce((a, b) => a + b, 0) / sizes.length, 1) },
    groups: [groupOf('series-parallel', seriesParallel), all, groupOf('  of which sparse', byFamily('sparse')), groupOf('  of which dense', byFamily('dense'))],
    targets: { mean: RANDOM_MEAN_RATIO_TARGET, max: RANDOM_MAX_RATIO_TARGET },
    losslessMeanMet: all.ratios.lossless.mean <= RANDOM_MEAN_RATIO_TARGET,
    losslessMaxMet: results.every((result) => result.ratios.lossless <= RANDOM_MAX_RATIO_TARGET),
    losslessOverMax: results.filter((result) => result.ratios.lossless > RANDOM_MAX_RATIO_TARGET).length,
    lateStarts: results.filter((result) => result.lateStarts > 0).length,
    seriesParallelGated: seriesParallel.filter((result) => result.gatedShare > 0).length,
    seriesParallelLosses: {
      lossless: seriesParallel.filter((result) => result.ratios.lossless > 1 + EXACT).length,
      sp: seriesParallel.filter((result) => result.ratios.sp > 1 + EXACT).length,
    },
    invalidStructures,
    addedOrdering,
    gateChecks: [...gateChecks].map(([family, counts]) => ({ family, ...counts })),
    structureMs: (['lossless', 'sp'] as const).flatMap((mode) => [timeGroup('series-parallel', seriesParallel, mode), ...(['sparse', 'dense'] as const).map((family) => timeGroup(family, byFamily(family), mode))]),
    structureSeconds: { lossless: totalSeconds('lossless'), sp: totalSeconds('sp') },
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
 * an edge must be a sequence with the dependency in an earlier step, unless the action's gate waits for it
 * (`gates`, the lossless structure's). (A makespan is meaningless otherwise.)
 */
export function isValidStructure(structure: Structure, nodes: readonly GraphNode[], gates: ReadonlyMap<string, readonly string[]> = new Map()): boolean {
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
  const upstream = transitiveDependencies(nodes);
  for (const node of nodes) {
    const after = paths.get(node.action_id);
    if (!after) return false;
    for (const dep of node.depends_on) {
      if (gates.get(node.action_id)?.includes(dep)) continue;
      // Implied: another dependency (itself ordered or gated) depends on it, so it has finished before that one did.
      if (node.depends_on.some((other) => other !== dep && upstream.get(other)?.has(dep))) continue;
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

/** The STG files, or none when the shared benchmark directory is not there (4b is then empty). */
async function stgFiles(): Promise<string[]> {
  try {
    return (await readdir(STG_DIRECTORY)).filter((file) => file.endsWith('.stg')).sort();
  } catch {
    return [];
  }
}

async function measureStg(files: readonly string[]): Promise<StgFileResult[]> {
  const results: StgFileResult[] = [];
  for (const file of files) {
    const graph = await readStg(join(STG_DIRECTORY, file), file);
    const durationOf: DurationOf = (id) => graph.cost.get(id)!;
    const critical = criticalPath(graph.nodes, durationOf);
    const runs = graph.nodes.length > 1000 ? 1 : STG_TIMING_RUNS;
    const losslessRuns = Array.from({ length: runs }, () => runLossless(graph.nodes, durationOf));
    const lossless = losslessRuns[0]!;
    const spTimes: number[] = [];
    let sp: Structure | undefined;
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      sp = seriesParallelStructure(graph.nodes);
      spTimes.push(since(started));
    }
    const levels = topologicalLevelsStructure(graph.nodes);
    const ratios: Record<Mode, number> = {
      lossless: round(lossless.makespan / critical, 3),
      sp: round(makespan(sp!, durationOf) / critical, 3),
      levels: round(makespan(levels, durationOf) / critical, 3),
    };
    results.push({
      file,
      tasks: graph.nodes.length,
      edges: graph.nodes.reduce((sum, node) => sum + node.depends_on.length, 0),
      criticalPath: critical,
      ratios,
      losslessWithinTarget: ratios.lossless <= STG_RATIO_TARGET,
      gatedActions: lossless.lossless.gates.size,
      structureMs: { lossless: round(median(losslessRuns.map((each) => each.ms)), 1), sp: round(median(spTimes), 1) },
      timingRuns: runs,
      validStructures: isValidStructure(lossless.lossless.structure, graph.nodes, lossless.lossless.gates) && isValidStructure(sp!, graph.nodes) && isValidStructure(levels, graph.nodes),
      addsNoOrdering: addsNoOrdering(graph.nodes, lossless.lossless.structure),
      lateStarts: lossless.lateStarts,
    });
  }
  return results;
}
