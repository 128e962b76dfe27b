import type { GraphNode } from '../core/workflow/graph.ts';
import { topologicalOrder, transitiveDependencies } from '../core/workflow/graph.ts';
import { actionsOf, seriesParallelStructure, type DurationOf, type Structure } from './structure.ts';

/**
 * A structure that loses no concurrency on any DAG (ADR 0016): the series-parallel structure where it adds no
 * ordering (every SP graph: no gate, the definition as before), otherwise a forest of dependency edges the
 * structure expresses, each action under one of its producers, and a dependency gate for each action whose
 * other producers that forest does not already put before it.
 */
export interface LosslessStructure {
  readonly structure: Structure;
  /** Waiting action -> the producers its gate waits for (sorted). Empty on series-parallel graphs. */
  readonly gates: ReadonlyMap<string, readonly string[]>;
}

export function losslessStructure(nodes: readonly GraphNode[], durationOf?: DurationOf): LosslessStructure {
  const sp = seriesParallelStructure(nodes, durationOf);
  if (addsNoOrdering(nodes, sp)) return { structure: sp, gates: new Map() };
  return gatedForest(nodes);
}

/** Whether every ordering the structure imposes is one the dependencies already imply (then it loses nothing). */
export function addsNoOrdering(nodes: readonly GraphNode[], structure: Structure): boolean {
  const dependsOn = transitiveDependencies(nodes);
  const check = (piece: Structure): boolean => {
    if (piece.kind === 'action') return true;
    if (piece.kind === 'parallel') return piece.branches.every(check);
    // In a sequence, every action of a step comes after every action of the steps before it.
    const before: string[] = [];
    for (const step of piece.steps) {
      if (!check(step)) return false;
      const members = actionsOf(step);
      for (const later of members) for (const earlier of before) if (!dependsOn.get(later)!.has(earlier)) return false;
      before.push(...members);
    }
    return true;
  };
  return check(structure);
}

/**
 * Each action goes under the producer that already brings the most of its other producers before it (its
 * ancestors in the forest): fewer gated edges, and often none. A subtree runs after its root, its children's
 * subtrees in parallel. Roots (no producer) run in parallel.
 */
function gatedForest(nodes: readonly GraphNode[]): LosslessStructure {
  const order = topologicalOrder(nodes);
  const preds = new Map(nodes.map((node) => [node.action_id, [...new Set(node.depends_on)]]));
  const parent = new Map<string, string>();
  /** Each placed action's ancestors in the forest, itself included. */
  const above = new Map<string, Set<string>>();
  const gates = new Map<string, string[]>();
  for (const id of order) {
    const producers = preds.get(id) ?? [];
    let best: string | undefined;
    let covered = -1;
    for (const candidate of producers) {
      const ancestors = above.get(candidate)!;
      const count = producers.filter((producer) => ancestors.has(producer)).length;
      if (count > covered) [best, covered] = [candidate, count];
    }
    const ancestors = new Set(best === undefined ? [] : above.get(best)!);
    ancestors.add(id);
    above.set(id, ancestors);
    if (best === undefined) continue;
    parent.set(id, best);
    const gated = producers.filter((producer) => !ancestors.has(producer)).sort();
    if (gated.length > 0) gates.set(id, gated);
  }
  const children = new Map<string, string[]>();
  for (const id of order) {
    const up = parent.get(id);
    if (up !== undefined) (children.get(up) ?? children.set(up, []).get(up)!).push(id);
  }
  const subtree = (id: string): Structure => {
    const below = (children.get(id) ?? []).map(subtree);
    const leaf: Structure = { kind: 'action', id };
    if (below.length === 0) return leaf;
    return { kind: 'sequence', steps: [leaf, below.length === 1 ? below[0]! : { kind: 'parallel', branches: below }] };
  };
  const roots = order.filter((id) => !parent.has(id)).map(subtree);
  return { structure: roots.length === 1 ? roots[0]! : { kind: 'parallel', branches: roots }, gates };
}

/**
 * When each action starts if it starts as soon as the structure and its gate let it (each action taking
 * `durationOf(id)`): what a run of the compiled state machine does. Lossless means each start equals the
 * latest finish of the action's dependencies.
 */
export function simulatedStarts(lossless: LosslessStructure, durationOf: DurationOf): Map<string, number> {
  const starts = new Map<string, number>();
  const finish = new Map<string, number>();
  // Gates may wait for actions in other branches, which finish in any order: iterate until stable.
  for (let changed = true; changed; ) {
    changed = false;
    const walk = (piece: Structure, from: number): number => {
      if (piece.kind === 'action') {
        const gated = lossless.gates.get(piece.id) ?? [];
        const start = Math.max(from, ...gated.map((producer) => finish.get(producer) ?? Infinity));
        if (starts.get(piece.id) !== start) {
          starts.set(piece.id, start);
          finish.set(piece.id, start + durationOf(piece.id));
          changed = true;
        }
        return start + durationOf(piece.id);
      }
      if (piece.kind === 'sequence') return piece.steps.reduce((at, step) => walk(step, at), from);
      return Math.max(from, ...piece.branches.map((branch) => walk(branch, from)));
    };
    walk(lossless.structure, 0);
  }
  return starts;
}
