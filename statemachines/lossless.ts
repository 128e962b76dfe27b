import type { GraphNode } from '../core/workflow/graph.ts';
import { topologicalOrder } from '../core/workflow/graph.ts';
import { actionsOf, type DurationOf, type Structure } from './structure.ts';

/**
 * A structure that loses no concurrency on any DAG (ADR 0016). The dependency order is decomposed the way a
 * series-parallel order is: pieces with no dependency between them run in parallel, and a piece whose every
 * action depends on every action of an earlier piece runs after it. Neither adds any ordering, so on a
 * series-parallel graph this is the whole structure and there is no gate. A piece that is neither (its order
 * is "prime", like the N: a→c, b→c, b→d) becomes a forest: each action under one of its producers, its
 * subtree after it, siblings in parallel; the producers the forest does not put before an action are waited
 * for by a dependency gate. Nothing is searched, so compiling is fast and the result does not depend on
 * durations.
 */
export interface LosslessStructure {
  readonly structure: Structure;
  /** Waiting action -> the producers its gate waits for (sorted). Empty on series-parallel graphs. */
  readonly gates: ReadonlyMap<string, readonly string[]>;
  /**
   * Of `upstream` (actions `action` depends on, directly or not), those the structure does not run before it:
   * only actions of the same prime piece that are not above it in that piece's forest. Their results are not
   * in the action's state data; they reach it with its gate's release.
   */
  notBefore(action: string, upstream: Iterable<string>): string[];
}

/**
 * `reads`: the upstream actions whose outputs an action reads. Where two producers would gate an action
 * equally, it goes under one whose output it reads, so that the output is in its state data rather than in
 * a release (which only a `<W>: gate` state can receive: gates.ts waitsInItsCall).
 */
export function losslessStructure(nodes: readonly GraphNode[], reads: (action: string) => Iterable<string> = () => []): LosslessStructure {
  const order = new Order(nodes);
  const gates = new Map<string, string[]>();
  /** Per action of a prime piece: the piece, and the action's ancestors in its forest. */
  const forestPlace = new Map<string, { readonly piece: ReadonlySet<string>; readonly above: ReadonlySet<string> }>();

  const decompose = (members: readonly number[]): Structure => {
    if (members.length === 1) return { kind: 'action', id: order.ids[members[0]!]! };
    const components = order.components(members);
    if (components.length > 1) return { kind: 'parallel', branches: components.map(decompose) };
    const blocks = order.seriesBlocks(members);
    if (blocks.length > 1) return { kind: 'sequence', steps: blocks.map(decompose) };
    return gatedForest(order, members, gates, forestPlace, reads);
  };

  const structure: Structure = order.ids.length === 0 ? { kind: 'sequence', steps: [] } : decompose(order.ids.map((_, index) => index));
  return {
    structure,
    gates,
    notBefore: (action, upstream) => {
      const place = forestPlace.get(action);
      if (!place) return [];
      return [...new Set(upstream)].filter((id) => place.piece.has(id) && !place.above.has(id)).sort();
    },
  };
}

/** The dependency order, indexed in a topological order, with every action's ancestors as a bit set. */
class Order {
  readonly ids: readonly string[];
  /** Direct producers, by index. */
  readonly preds: readonly (readonly number[])[];
  private readonly ancestors: readonly Uint32Array[];

  constructor(nodes: readonly GraphNode[]) {
    this.ids = topologicalOrder(nodes);
    if (this.ids.length !== new Set(nodes.map((node) => node.action_id)).size) throw new Error('the dependency graph has a cycle; validate the definition first');
    const index = new Map(this.ids.map((id, i) => [id, i]));
    const byId = new Map(nodes.map((node) => [node.action_id, node]));
    this.preds = this.ids.map((id) => [...new Set(byId.get(id)!.depends_on)].filter((dep) => index.has(dep)).map((dep) => index.get(dep)!));
    const words = Math.ceil(this.ids.length / 32);
    this.ancestors = this.preds.reduce<Uint32Array[]>((sets, preds, node) => {
      const set = new Uint32Array(words);
      for (const pred of preds) {
        const theirs = sets[pred]!;
        for (let word = 0; word < words; word++) set[word]! |= theirs[word]!;
        set[pred >>> 5]! |= 1 << (pred & 31);
      }
      sets[node] = set;
      return sets;
    }, []);
  }

  /** Whether `later` depends on `earlier`, directly or not. */
  dependsOn(later: number, earlier: number): boolean {
    return (this.ancestors[later]![earlier >>> 5]! & (1 << (earlier & 31))) !== 0;
  }

  /** Members connected by dependencies among them, each sorted, in the order of their first member. */
  components(members: readonly number[]): number[][] {
    const inside = new Set(members);
    const root = new Map(members.map((member) => [member, member]));
    const find = (node: number): number => {
      let top = node;
      while (root.get(top) !== top) top = root.get(top)!;
      root.set(node, top);
      return top;
    };
    for (const member of members) for (const pred of this.preds[member]!) if (inside.has(pred)) root.set(find(member), find(pred));
    const groups = new Map<number, number[]>();
    for (const member of members) {
      const top = find(member);
      (groups.get(top) ?? groups.set(top, []).get(top)!).push(member);
    }
    return [...groups.values()];
  }

  /**
   * The series blocks of connected members (sorted topologically): cuts after which every member depends on
   * every member before the cut. Any topological order puts such a prefix first, so the cuts are found in one.
   */
  seriesBlocks(members: readonly number[]): number[][] {
    // firstMissing[j]: the first position before j whose member j does not depend on (j when there is none).
    const firstMissing = members.map((member, position) => {
      let at = 0;
      while (at < position && this.dependsOn(member, members[at]!)) at++;
      return at;
    });
    const blocks: number[][] = [];
    let start = 0;
    let suffixMin = Infinity;
    const cutAfter = new Array<boolean>(members.length).fill(false);
    for (let position = members.length - 1; position > 0; position--) {
      suffixMin = Math.min(suffixMin, firstMissing[position]!);
      // A cut before `position`: every member from it on depends on all of 0..position-1.
      cutAfter[position - 1] = suffixMin >= position;
    }
    members.forEach((_, position) => {
      if (position === members.length - 1 || cutAfter[position]) {
        blocks.push(members.slice(start, position + 1));
        start = position + 1;
      }
    });
    return blocks;
  }
}

/**
 * A prime piece as a forest. Each action goes under the producer (in the piece) that already brings the most
 * of its other producers before it: fewer gated edges, and often none. A subtree runs after its root, its
 * children's subtrees in parallel; the piece's sources run in parallel. Producers outside the piece always
 * run before it (an earlier step of an enclosing sequence), so gates only wait inside it.
 */
function gatedForest(
  order: Order,
  members: readonly number[],
  gates: Map<string, string[]>,
  forestPlace: Map<string, { readonly piece: ReadonlySet<string>; readonly above: ReadonlySet<string> }>,
  reads: (action: string) => Iterable<string>,
): Structure {
  const inside = new Set(members);
  const piece = new Set(members.map((member) => order.ids[member]!));
  const indexOf = new Map(members.map((member) => [order.ids[member]!, member]));
  const parent = new Map<number, number>();
  const above = new Map<number, Set<number>>();
  for (const member of members) {
    // A producer that another producer depends on has finished before that one did: waiting for it adds nothing.
    const direct = order.preds[member]!.filter((pred) => inside.has(pred));
    const producers = direct.filter((pred) => !direct.some((other) => other !== pred && order.dependsOn(other, pred)));
    const read = [...reads(order.ids[member]!)].map((id) => indexOf.get(id)).filter((index): index is number => index !== undefined);
    let best: number | undefined;
    let bestScore: readonly number[] = [];
    for (const candidate of producers) {
      const ancestors = above.get(candidate)!;
      const holds = (producer: number) => producer === candidate || ancestors.has(producer);
      const covered = producers.filter(holds).length;
      const readsHeld = read.filter(holds).length;
      // No gate first; then, when it waits anyway, every output it reads in its state data (its call can wait
      // in its own state); then the fewest producers to wait for; then the most outputs in its state data.
      const score = [covered === producers.length ? 1 : 0, readsHeld === read.length ? 1 : 0, covered, readsHeld];
      if (best === undefined || isGreater(score, bestScore)) [best, bestScore] = [candidate, score];
    }
    const ancestors = new Set(best === undefined ? [] : above.get(best)!);
    if (best !== undefined) {
      ancestors.add(best);
      parent.set(member, best);
    }
    above.set(member, ancestors);
    forestPlace.set(order.ids[member]!, { piece, above: new Set([...ancestors].map((ancestor) => order.ids[ancestor]!)) });
    const gated = producers.filter((producer) => !ancestors.has(producer)).map((producer) => order.ids[producer]!);
    if (gated.length > 0) gates.set(order.ids[member]!, gated.sort());
  }
  const children = new Map<number, number[]>();
  for (const member of members) {
    const up = parent.get(member);
    if (up !== undefined) (children.get(up) ?? children.set(up, []).get(up)!).push(member);
  }
  const subtree = (member: number): Structure => {
    const below = (children.get(member) ?? []).map(subtree);
    const leaf: Structure = { kind: 'action', id: order.ids[member]! };
    if (below.length === 0) return leaf;
    return { kind: 'sequence', steps: [leaf, below.length === 1 ? below[0]! : { kind: 'parallel', branches: below }] };
  };
  const roots = members.filter((member) => !parent.has(member)).map(subtree);
  return roots.length === 1 ? roots[0]! : { kind: 'parallel', branches: roots };
}

/** Lexicographic comparison of two scores of the same length. */
function isGreater(score: readonly number[], than: readonly number[]): boolean {
  for (let index = 0; index < score.length; index++) if (score[index] !== than[index]) return score[index]! > than[index]!;
  return false;
}

/** Whether every ordering the structure imposes is one the dependencies already imply (then it loses nothing). */
export function addsNoOrdering(nodes: readonly GraphNode[], structure: Structure): boolean {
  const order = new Order(nodes);
  const index = new Map(order.ids.map((id, i) => [id, i]));
  const check = (piece: Structure): boolean => {
    if (piece.kind === 'action') return true;
    if (piece.kind === 'parallel') return piece.branches.every(check);
    // In a sequence, every action of a step comes after every action of the steps before it.
    const before: number[] = [];
    for (const step of piece.steps) {
      if (!check(step)) return false;
      const members = actionsOf(step).map((id) => index.get(id)!);
      for (const later of members) for (const earlier of before) if (!order.dependsOn(later, earlier)) return false;
      before.push(...members);
    }
    return true;
  };
  return check(structure);
}

/**
 * When each action starts if it starts as soon as the structure and its gate let it (each action taking
 * `durationOf(id)`): what a run of the compiled state machine does. Lossless means each start equals the
 * latest finish of the action's dependencies.
 */
export function simulatedStarts(lossless: Pick<LosslessStructure, 'structure' | 'gates'>, durationOf: DurationOf): Map<string, number> {
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
