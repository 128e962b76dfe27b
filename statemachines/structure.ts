import type { GraphNode } from '../core/workflow/graph.ts';
import { longestPath, topologicalOrder } from '../core/workflow/graph.ts';

/**
 * Turning a dependency DAG into what Step Functions can run: a series-parallel tree (a `sequence` is a
 * chain of states in one branch, a `parallel` is a Parallel state). See docs/adr/0003-dag-compilation.md.
 *
 * Series-parallel DAGs are decomposed exactly (no concurrency lost, whatever the durations). Other DAGs
 * cannot be expressed without adding some ordering; there we add the ordering that minimises the critical
 * path under the duration estimates (equal durations unless the workflow gives hints).
 */
export type Structure =
  | { readonly kind: 'action'; readonly id: string }
  | { readonly kind: 'sequence'; readonly steps: readonly Structure[] }
  | { readonly kind: 'parallel'; readonly branches: readonly Structure[] };

export type DurationOf = (actionId: string) => number;

const EQUAL_DURATIONS: DurationOf = () => 1;

interface Graph {
  readonly ids: readonly string[];
  readonly indexOf: ReadonlyMap<string, number>;
  readonly preds: readonly (readonly number[])[];
  readonly succs: readonly (readonly number[])[];
  readonly duration: readonly number[];
  /** When durations are unknown: sampled duration vectors used to compare candidate structures. */
  readonly samples?: readonly (readonly number[])[];
}

function toGraph(nodes: readonly GraphNode[], durationOf: DurationOf): Graph {
  const ids = topologicalOrder(nodes);
  if (ids.length !== nodes.length) throw new Error('the dependency graph has a cycle; validate the definition first');
  const index = new Map(ids.map((id, i) => [id, i]));
  const byId = new Map(nodes.map((node) => [node.action_id, node]));
  const preds = ids.map((id) => [...new Set(byId.get(id)!.depends_on)].filter((dep) => index.has(dep)).map((dep) => index.get(dep)!));
  const succs: number[][] = ids.map(() => []);
  preds.forEach((list, node) => list.forEach((pred) => succs[pred]!.push(node)));
  const duration = ids.map((id) => knownDuration(durationOf(id)));
  return { ids, indexOf: index, preds, succs, duration };
}

/** How many duration vectors are sampled to compare structures when durations are unknown. */
const UNKNOWN_DURATION_SAMPLES = 8;

/** Deterministic samples (fixed seed): the same workflow always compiles to the same definition. */
function withSamples(graph: Graph, count: number): Graph {
  let seed = 0x2545f491;
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const samples = Array.from({ length: count }, () => graph.ids.map(() => 1 + Math.floor(random() * 10)));
  return { ...graph, samples };
}

/**
 * The series-parallel structure that loses the least concurrency. With `durationOf` (hints), cuts are
 * chosen for those durations; without it, durations are unknown and candidate structures are compared by
 * their mean makespan over sampled durations (1 to 10 units each), which favours structures that stay
 * good whichever actions turn out slow.
 */
export function seriesParallelStructure(nodes: readonly GraphNode[], durationOf?: DurationOf): Structure {
  if (nodes.length === 0) return { kind: 'sequence', steps: [] };
  const unknown = withSamples(toGraph(nodes, EQUAL_DURATIONS), UNKNOWN_DURATION_SAMPLES);
  const robust = decompose(unknown, unknown.ids.map((_, i) => i), LOOKAHEAD, { remaining: LOOKAHEAD_BUDGET_PER_ACTION * nodes.length });
  if (!durationOf) return robust;
  const graph = toGraph(nodes, durationOf);
  const hinted = decompose(graph, graph.ids.map((_, i) => i), LOOKAHEAD, { remaining: LOOKAHEAD_BUDGET_PER_ACTION * nodes.length });
  // The greedy search can be misled by very uneven hints; the structure built without them is a safe floor.
  return makespanOf(graph, robust) < makespanOf(graph, hinted) ? robust : hinted;
}

/** How many of the cheapest cuts are tried with a full (greedy) decomposition before one is chosen. */
const LOOKAHEAD = 4;
/**
 * Trying cuts costs a greedy decomposition of the piece each; the total work is capped at this many
 * action-visits per action, so compile time stays near-linear on very large workflows (the rest is greedy).
 */
const LOOKAHEAD_BUDGET_PER_ACTION = 400;

/**
 * The baseline the compiler is measured against: one Parallel per topological level (longest path from
 * a source), levels in sequence.
 */
export function topologicalLevelsStructure(nodes: readonly GraphNode[]): Structure {
  const graph = toGraph(nodes, EQUAL_DURATIONS);
  const level: number[] = [];
  graph.ids.forEach((_, node) => {
    level[node] = Math.max(-1, ...graph.preds[node]!.map((pred) => level[pred]!)) + 1;
  });
  const levels: number[][] = [];
  level.forEach((value, node) => (levels[value] ??= []).push(node));
  return sequence(levels.map((members) => parallel(members.map((node) => leaf(graph, node)))));
}

/** How long the structure takes when each action takes `durationOf(id)`: sequences add, parallels wait for all. */
export function makespan(structure: Structure, durationOf: DurationOf): number {
  switch (structure.kind) {
    case 'action':
      return durationOf(structure.id);
    case 'sequence':
      return structure.steps.reduce((total, step) => total + makespan(step, durationOf), 0);
    case 'parallel':
      return Math.max(0, ...structure.branches.map((branch) => makespan(branch, durationOf)));
  }
}

/** The DAG's critical path: no structure can finish sooner. */
export function criticalPath(nodes: readonly GraphNode[], durationOf: DurationOf): number {
  if (topologicalOrder(nodes).length !== nodes.length) throw new Error('the dependency graph has a cycle; validate the definition first');
  return longestPath(nodes, (id) => knownDuration(durationOf(id)));
}

/** A duration the structures can weigh: an unknown or non-positive one counts as 1. */
function knownDuration(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 1;
}


/** Every action id in the structure, in the order the compiler emits them. */
export function actionsOf(structure: Structure): string[] {
  switch (structure.kind) {
    case 'action':
      return [structure.id];
    case 'sequence':
      return structure.steps.flatMap(actionsOf);
    case 'parallel':
      return structure.branches.flatMap(actionsOf);
  }
}

// --- decomposition -------------------------------------------------------------------------------------

/**
 * `members` is convex (it holds every node on a path between two of its nodes) and in topological order;
 * every piece the recursion creates is convex again, so edges inside a piece are all the ordering it needs.
 */
function decompose(graph: Graph, members: number[], lookahead: number, budget: { remaining: number }): Structure {
  budget.remaining -= members.length;
  if (members.length === 1) return leaf(graph, members[0]!);
  const components = weakComponents(graph, members);
  if (components.length > 1) return parallel(components.map((component) => decompose(graph, component, lookahead, budget)));

  const times = schedule(graph, members);
  const thresholds = [...new Set(members.map((node) => times.finish.get(node)!))].sort((a, b) => a - b);
  thresholds.pop(); // cutting after the last finish time leaves nothing on the other side
  const lossless = losslessCuts(graph, members, times, thresholds);
  if (lossless.length > 0) {
    const blocks: number[][] = Array.from({ length: lossless.length + 1 }, () => []);
    for (const node of members) blocks[cutsBefore(lossless, times.finish.get(node)!)]!.push(node);
    return sequence(blocks.map((block) => decompose(graph, block, lookahead, budget)));
  }
  const candidates = candidateCuts(graph, members, times);
  let best = sides(members, candidates[0]!);
  const tried = candidates.slice(0, lookahead);
  if (tried.length > 1 && budget.remaining > 0) {
    let bestSpan = Number.POSITIVE_INFINITY;
    for (const candidate of tried) {
      const split = sides(members, candidate);
      const span = makespanOf(graph, sequence([decompose(graph, split.before, 0, budget), decompose(graph, split.after, 0, budget)]));
      if (span < bestSpan) {
        bestSpan = span;
        best = split;
      }
    }
  }
  return sequence([decompose(graph, best.before, lookahead, budget), decompose(graph, best.after, lookahead, budget)]);
}

/** How many of the ascending `cuts` lie strictly below `finish` (binary search). */
function cutsBefore(cuts: readonly number[], finish: number): number {
  let low = 0;
  let high = cuts.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (cuts[middle]! < finish) low = middle + 1;
    else high = middle;
  }
  return low;
}

interface Schedule {
  /** Earliest finish inside the piece (as soon as possible, unlimited parallelism). */
  readonly finish: Map<number, number>;
  /** Latest finish that does not delay the piece's critical path (as late as possible). */
  readonly latestFinish: Map<number, number>;
  /** Longest path from the node (its own duration included) to the end of the piece. */
  readonly tail: Map<number, number>;
  /** Latest finish of the node's predecessors inside the piece (0 for the piece's sources). */
  readonly ready: Map<number, number>;
}

function schedule(graph: Graph, members: number[]): Schedule {
  const inside = new Set(members);
  const finish = new Map<number, number>();
  const ready = new Map<number, number>();
  for (const node of members) {
    const start = Math.max(0, ...graph.preds[node]!.filter((pred) => inside.has(pred)).map((pred) => finish.get(pred)!));
    ready.set(node, start);
    finish.set(node, start + graph.duration[node]!);
  }
  const tail = new Map<number, number>();
  for (let i = members.length - 1; i >= 0; i--) {
    const node = members[i]!;
    tail.set(node, graph.duration[node]! + Math.max(0, ...graph.succs[node]!.filter((succ) => inside.has(succ)).map((succ) => tail.get(succ)!)));
  }
  const length = Math.max(...members.map((node) => finish.get(node)!));
  const latestFinish = new Map(members.map((node) => [node, length - tail.get(node)! + graph.duration[node]!]));
  return { finish, latestFinish, tail, ready };
}

/**
 * Every "before/after" split of a connected piece is a set of nodes finishing by some time t (such sets
 * are closed under predecessors). A split loses nothing when each node of the "after" side that has no
 * predecessor on its own side already depends, directly or not, on *every* node of the "before" side.
 */
function losslessCuts(graph: Graph, members: number[], times: Schedule, thresholds: number[]): number[] {
  const ancestorCounts = countAncestors(graph, members);
  // Node v is on the "after" side with no predecessor there for every cut in [ready(v), finish(v)). All of
  // its ancestors are then before the cut, so the cut is lossless exactly when the before side is no larger
  // than the ancestor count of every such v: a sweep over cuts with a running minimum, O(n log n).
  const byReady = [...members].sort((a, b) => times.ready.get(a)! - times.ready.get(b)!);
  const byFinish = [...members].sort((a, b) => times.finish.get(a)! - times.finish.get(b)!);
  const active = new MinHeap();
  const cuts: number[] = [];
  let entered = 0;
  let beforeSize = 0;
  for (const cut of thresholds) {
    while (entered < byReady.length && times.ready.get(byReady[entered]!)! <= cut) {
      const node = byReady[entered++]!;
      active.push(ancestorCounts.get(node)!, times.finish.get(node)!);
    }
    while (beforeSize < byFinish.length && times.finish.get(byFinish[beforeSize]!)! <= cut) beforeSize++;
    active.dropExpired(cut);
    if (active.size() === 0 || active.min() >= beforeSize) cuts.push(cut);
  }
  return cuts;
}

/** Ancestor counts of the nodes whose "first after the cut" interval is still open, smallest on top. */
class MinHeap {
  private readonly items: { count: number; until: number }[] = [];

  push(count: number, until: number): void {
    this.items.push({ count, until });
    let i = this.items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.items[parent]!.count <= this.items[i]!.count) break;
      [this.items[parent], this.items[i]] = [this.items[i]!, this.items[parent]!];
      i = parent;
    }
  }

  /** Lazily removes intervals that ended at or before `cut` from the top. */
  dropExpired(cut: number): void {
    while (this.items.length > 0 && this.items[0]!.until <= cut) this.pop();
  }

  min(): number {
    return this.items[0]!.count;
  }

  size(): number {
    return this.items.length;
  }

  private pop(): void {
    const last = this.items.pop()!;
    if (this.items.length === 0) return;
    this.items[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.items.length && this.items[left]!.count < this.items[smallest]!.count) smallest = left;
      if (right < this.items.length && this.items[right]!.count < this.items[smallest]!.count) smallest = right;
      if (smallest === i) return;
      [this.items[smallest], this.items[i]] = [this.items[i]!, this.items[smallest]!];
      i = smallest;
    }
  }
}

/** For each member, how many members are its ancestors (bitsets, since pieces can hold thousands of nodes). */
function countAncestors(graph: Graph, members: number[]): Map<number, number> {
  const position = new Map(members.map((node, i) => [node, i]));
  const words = Math.ceil(members.length / 32);
  const ancestors = members.map(() => new Uint32Array(words));
  const counts = new Map<number, number>();
  members.forEach((node, i) => {
    const own = ancestors[i]!;
    for (const pred of graph.preds[node]!) {
      const p = position.get(pred);
      if (p === undefined) continue;
      const theirs = ancestors[p]!;
      for (let w = 0; w < words; w++) own[w]! |= theirs[w]!;
      own[p >>> 5]! |= 1 << (p & 31);
    }
    let count = 0;
    for (let w = 0; w < words; w++) count += popcount(own[w]!);
    counts.set(node, count);
  });
  return counts;
}

function popcount(word: number): number {
  let value = word - ((word >>> 1) & 0x55555555);
  value = (value & 0x33333333) + ((value >>> 2) & 0x33333333);
  return (((value + (value >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * No split is free: take the one whose two sides' critical paths add up to the least. For a split at t,
 * the "before" side's critical path is its latest finish and the "after" side's is its longest tail, so
 * each candidate costs O(1) after sorting.
 */
function makespanOf(graph: Graph, structure: Structure): number {
  const index = graph.indexOf;
  if (!graph.samples) return makespan(structure, (id) => graph.duration[index.get(id)!]!);
  // Durations unknown: score a structure by its mean makespan over sampled durations, which favours
  // structures that stay good whichever actions turn out slow.
  let total = 0;
  for (const sample of graph.samples) total += makespan(structure, (id) => sample[index.get(id)!]!);
  return total / graph.samples.length;
}

interface Cut {
  /** Members in the order of the schedule that produced the cut; the first `size` are before it. */
  readonly ordered: readonly number[];
  readonly size: number;
  /** Critical path of the before side plus that of the after side: a lower bound on the split's makespan. */
  readonly cost: number;
}

/**
 * Candidate splits, cheapest first. A split is "everything that finishes by t" under some schedule; any
 * schedule that respects dependencies gives sets closed under predecessors. Three schedules are tried: as
 * soon as possible, as late as possible and halfway, so that actions with slack can land on either side.
 * Costs come from prefix/suffix maxima, so listing every candidate is O(n log n) per schedule.
 */
function candidateCuts(graph: Graph, members: number[], times: Schedule): Cut[] {
  const seen = new Set<number>();
  const cuts: Cut[] = [];
  for (const lateness of SCHEDULE_LATENESS) {
    const finishOf = (node: number) => times.finish.get(node)! + lateness * (times.latestFinish.get(node)! - times.finish.get(node)!);
    const ordered = [...members].sort((a, b) => finishOf(a) - finishOf(b));
    const suffixTail: number[] = new Array(ordered.length + 1).fill(0);
    for (let i = ordered.length - 1; i >= 0; i--) suffixTail[i] = Math.max(suffixTail[i + 1]!, times.tail.get(ordered[i]!)!);
    let beforeSpan = 0;
    let fingerprint = 0;
    for (let size = 1; size < ordered.length; size++) {
      const added = ordered[size - 1]!;
      beforeSpan = Math.max(beforeSpan, times.finish.get(added)!);
      fingerprint = (fingerprint + fingerprintOf(graph, added)) >>> 0;
      // Only split between different finish times: equal ones may depend on nothing but must stay together.
      if (finishOf(ordered[size]!) === finishOf(added)) continue;
      // The same set from another schedule is the same split (a rare fingerprint collision only drops a candidate).
      const key = fingerprint * 4096 + size;
      if (seen.has(key)) continue;
      seen.add(key);
      cuts.push({ ordered, size, cost: beforeSpan + suffixTail[size]! });
    }
  }
  return cuts.sort((a, b) => a.cost - b.cost);
}

/** A fixed pseudo-random number per node, summed to fingerprint sets of nodes. */
function fingerprintOf(graph: Graph, node: number): number {
  let value = (node + 1) * 0x9e3779b1;
  value = Math.imul(value ^ (value >>> 16), 0x85ebca6b);
  value = Math.imul(value ^ (value >>> 13), 0xc2b2ae35);
  return (value ^ (value >>> 16) ^ graph.ids.length) >>> 0;
}

function sides(members: number[], cut: Cut): { before: number[]; after: number[] } {
  const before = new Set(cut.ordered.slice(0, cut.size));
  return { before: members.filter((node) => before.has(node)), after: members.filter((node) => !before.has(node)) };
}

const SCHEDULE_LATENESS = [0, 0.5, 1] as const;

function weakComponents(graph: Graph, members: number[]): number[][] {
  const inside = new Set(members);
  const component = new Map<number, number>();
  let count = 0;
  for (const start of members) {
    if (component.has(start)) continue;
    const stack = [start];
    component.set(start, count);
    while (stack.length > 0) {
      const node = stack.pop()!;
      for (const next of [...graph.preds[node]!, ...graph.succs[node]!]) {
        if (inside.has(next) && !component.has(next)) {
          component.set(next, count);
          stack.push(next);
        }
      }
    }
    count++;
  }
  const groups: number[][] = Array.from({ length: count }, () => []);
  for (const node of members) groups[component.get(node)!]!.push(node);
  return groups;
}

function leaf(graph: Graph, node: number): Structure {
  return { kind: 'action', id: graph.ids[node]! };
}

function sequence(steps: Structure[]): Structure {
  const flat = steps.flatMap((step) => (step.kind === 'sequence' ? step.steps : [step]));
  return flat.length === 1 ? flat[0]! : { kind: 'sequence', steps: flat };
}

function parallel(branches: Structure[]): Structure {
  return branches.length === 1 ? branches[0]! : { kind: 'parallel', branches };
}
