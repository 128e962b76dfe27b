import type { GraphNode } from '../core/workflow/graph.ts';

/**
 * Inputs for the compiler section: a seeded PRNG, random dependency DAGs (some series-parallel by
 * construction), random durations, and service_call workflows built from a graph.
 */

export type Random = () => number;

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [low, high]. */
export function randomInt(random: Random, low: number, high: number): number {
  return low + Math.floor(random() * (high - low + 1));
}

function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Sparse random DAGs: p = 1..4 / n (about 0.5..2 dependencies per action). */
export const SPARSE_EDGES_PER_NODE = [1, 4] as const;
/** Dense random DAGs: p = 0.05..0.25 (up to ~25 dependencies per action at 200 actions). */
export const DENSE_EDGE_PROBABILITY = [0.05, 0.25] as const;

export type GraphFamily = 'series-parallel' | 'sparse' | 'dense';
export type DurationModel = 'uniform 1..10' | 'log-normal';

export interface RandomGraph {
  readonly family: GraphFamily;
  readonly durationModel: DurationModel;
  /** Edge probability (random families) or share of redundant transitive edges added (series-parallel). */
  readonly density: number;
  readonly nodes: GraphNode[];
  readonly edges: number;
  readonly duration: Map<string, number>;
}

/**
 * A random DAG over `size` nodes. `sparse` and `dense` are ordered Erdos-Renyi DAGs (each earlier node is a
 * dependency with probability p: see SPARSE_EDGES_PER_NODE and DENSE_EDGE_PROBABILITY). `series-parallel` is a
 * random series/parallel composition (series joins every sink of one part to every source of the next),
 * sometimes with redundant transitive edges added, which keep the order series-parallel. Node ids are
 * numbered in creation order but declared shuffled, so the compiler cannot lean on declaration order.
 * `edgeProbability` fixes p for the random families.
 */
export function randomGraph(random: Random, family: GraphFamily, size: number, edgeProbability?: number): RandomGraph {
  const preds: Set<number>[] = Array.from({ length: size }, () => new Set<number>());
  let density: number;
  if (family === 'series-parallel') {
    composeSeriesParallel(random, preds, 0, size);
    density = random() < 0.5 ? 0 : 0.1 + random() * 0.4;
    addTransitiveEdges(random, preds, density);
  } else {
    const [low, high] = family === 'sparse' ? SPARSE_EDGES_PER_NODE.map((edges) => edges / size) : DENSE_EDGE_PROBABILITY;
    density = edgeProbability ?? low! + random() * (high! - low!);
    for (let node = 1; node < size; node++) {
      for (let earlier = 0; earlier < node; earlier++) if (random() < density) preds[node]!.add(earlier);
    }
  }
  const durationModel: DurationModel = random() < 0.5 ? 'uniform 1..10' : 'log-normal';
  const duration = new Map<string, number>();
  const nodes = preds.map((set, node) => {
    duration.set(nodeId(node), randomDuration(random, durationModel));
    return { action_id: nodeId(node), depends_on: [...set].map(nodeId) };
  });
  return { family, durationModel, density, nodes: shuffle(random, nodes), edges: preds.reduce((sum, set) => sum + set.size, 0), duration };
}

function nodeId(node: number): string {
  return `a${node}`;
}

/** Uniform integers 1..10, or log-normal (median 3, sigma 1: a long tail of slow actions). */
export function randomDuration(random: Random, model: DurationModel): number {
  if (model === 'uniform 1..10') return randomInt(random, 1, 10);
  const u = 1 - random();
  const v = random();
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return 3 * Math.exp(normal);
}

/**
 * Builds a series-parallel order over nodes [first, first + size) into `preds`; returns its sources and sinks.
 * Node numbers increase along every edge, so the result is acyclic.
 */
function composeSeriesParallel(random: Random, preds: Set<number>[], first: number, size: number): { sources: number[]; sinks: number[] } {
  if (size === 1) return { sources: [first], sinks: [first] };
  const parts = Math.min(size, randomInt(random, 2, 4));
  // Random sizes >= 1 that add up to `size`.
  const cuts = new Set<number>();
  while (cuts.size < parts - 1) cuts.add(randomInt(random, 1, size - 1));
  const bounds = [0, ...[...cuts].sort((a, b) => a - b), size];
  const pieces = bounds.slice(1).map((end, index) => composeSeriesParallel(random, preds, first + bounds[index]!, end - bounds[index]!));
  if (random() < 0.5) {
    return { sources: pieces.flatMap((piece) => piece.sources), sinks: pieces.flatMap((piece) => piece.sinks) };
  }
  pieces.slice(1).forEach((piece, index) => {
    for (const source of piece.sources) for (const sink of pieces[index]!.sinks) preds[source]!.add(sink);
  });
  return { sources: pieces[0]!.sources, sinks: pieces[pieces.length - 1]!.sinks };
}

/** Adds edges u -> v where u already precedes v: the order (and so the ideal schedule) is unchanged. */
function addTransitiveEdges(random: Random, preds: Set<number>[], share: number): void {
  if (share === 0) return;
  const ancestors: Set<number>[] = [];
  preds.forEach((direct, node) => {
    const all = new Set<number>();
    for (const pred of direct) {
      all.add(pred);
      for (const indirect of ancestors[pred]!) all.add(indirect);
    }
    ancestors[node] = all;
  });
  preds.forEach((direct, node) => {
    const indirect = [...ancestors[node]!].filter((ancestor) => !direct.has(ancestor));
    for (const ancestor of indirect) if (random() < share / 4) direct.add(ancestor);
  });
}

/**
 * Service-call actions for a graph, as a user would write them (parsed by the caller). Each action reads the
 * response of its first dependency, so the compiled definition carries results between states as real
 * workflows do; `hints` become `expected_duration_seconds`.
 */
export function serviceCallActions(nodes: readonly GraphNode[], hints?: ReadonlyMap<string, number>): Record<string, unknown>[] {
  return nodes.map((node, index) => {
    const upstream = node.depends_on[0];
    const hint = hints?.get(node.action_id);
    return {
      action_id: node.action_id,
      action_type: 'service_call',
      depends_on: [...node.depends_on],
      ...(hint === undefined ? {} : { expected_duration_seconds: hint }),
      config: {
        service: 's',
        endpoint: '/x',
        method: 'POST',
        parameters: { run: '{{run_id}}', step: index, ...(upstream === undefined ? {} : { input: `{{${upstream}.response.value}}` }) },
      },
    } satisfies Record<string, unknown>;
  });
}

/** The workflow-level fields every benchmark workflow shares. */
export const BENCH_PARAMETERS = [{ name: 'run_id', type: 'string', required: false }] as const;

