import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GraphNode } from '../../../core/workflow/graph.ts';
import { actionsOf, criticalPath, makespan, seriesParallelStructure, topologicalLevelsStructure, type DurationOf, type Structure } from '../../../statemachines/structure.ts';

/**
 * The DAG-to-nested-Parallel structure. On series-parallel DAGs (built by recursive series / parallel
 * composition) it must lose no concurrency whatever the durations: its makespan is the critical path. On any
 * DAG it must hold every action once and never let an action start before one of its dependencies ended.
 */

const RUNS = { numRuns: 100 };

// --- series-parallel DAGs by composition -------------------------------------------------------------------

type Term = { leaf: true } | { series: Term[] } | { parallel: Term[] };

const termArb: fc.Arbitrary<Term> = fc.letrec<{ term: Term }>((tie) => ({
  term: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant<Term>({ leaf: true }),
    fc.array(tie('term'), { minLength: 2, maxLength: 4 }).map((series): Term => ({ series })),
    fc.array(tie('term'), { minLength: 2, maxLength: 4 }).map((parallel): Term => ({ parallel })),
  ),
})).term;

interface Built {
  readonly sources: string[];
  readonly sinks: string[];
}

/** Vertex series-parallel composition: in `series`, every sink of a part precedes every source of the next. */
function buildSeriesParallel(term: Term): GraphNode[] {
  const deps = new Map<string, Set<string>>();
  const build = (node: Term): Built => {
    if ('leaf' in node) {
      const id = `n${deps.size}`;
      deps.set(id, new Set());
      return { sources: [id], sinks: [id] };
    }
    const parts = ('series' in node ? node.series : node.parallel).map(build);
    if ('parallel' in node) return { sources: parts.flatMap((part) => part.sources), sinks: parts.flatMap((part) => part.sinks) };
    parts.slice(1).forEach((part, i) => {
      for (const source of part.sources) for (const sink of parts[i]!.sinks) deps.get(source)!.add(sink);
    });
    return { sources: parts[0]!.sources, sinks: parts[parts.length - 1]!.sinks };
  };
  build(term);
  return [...deps].map(([action_id, set]) => ({ action_id, depends_on: [...set] }));
}

function ancestors(nodes: readonly GraphNode[]): Map<string, Set<string>> {
  const byId = new Map(nodes.map((node) => [node.action_id, node]));
  const memo = new Map<string, Set<string>>();
  const visit = (id: string): Set<string> => {
    const known = memo.get(id);
    if (known) return known;
    const all = new Set<string>();
    for (const dep of byId.get(id)!.depends_on) {
      all.add(dep);
      for (const indirect of visit(dep)) all.add(indirect);
    }
    memo.set(id, all);
    return all;
  };
  nodes.forEach((node) => visit(node.action_id));
  return memo;
}

/** A series-parallel DAG, optionally with redundant (transitive) edges, declared in a shuffled order, with durations. */
const seriesParallelArb = (transitiveEdges: boolean) =>
  termArb
    .map(buildSeriesParallel)
    .filter((nodes) => nodes.length <= 60)
    .chain((nodes) =>
      fc.record({
        nodes: fc.constant(nodes),
        order: fc.shuffledSubarray([...nodes.keys()], { minLength: nodes.length, maxLength: nodes.length }),
        extra: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: transitiveEdges ? 10 : 0 }),
        durations: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: nodes.length, maxLength: nodes.length }),
      }),
    )
    .map(({ nodes, order, extra, durations }) => {
      const upstream = ancestors(nodes);
      const withEdges = nodes.map((node) => ({ action_id: node.action_id, depends_on: [...node.depends_on] }));
      for (const [a, b] of extra) {
        const node = withEdges[a % withEdges.length]!;
        const candidates = [...upstream.get(node.action_id)!].sort();
        const pick = candidates[b % Math.max(1, candidates.length)];
        if (pick !== undefined && !node.depends_on.includes(pick)) node.depends_on.push(pick);
      }
      const duration = new Map(nodes.map((node, i) => [node.action_id, durations[i]!]));
      return { nodes: order.map((i) => withEdges[i]!), durationOf: ((id: string) => duration.get(id)!) as DurationOf };
    });

// --- any DAG --------------------------------------------------------------------------------------------------

/** Node i depends only on lower indexes (acyclic), declared in shuffled order, with durations. */
const dagArb = fc
  .integer({ min: 1, max: 60 })
  .chain((size) =>
    fc.record({
      deps: fc.tuple(...Array.from({ length: size }, (_, i) => fc.subarray([...Array(i).keys()], { maxLength: Math.min(i, 4) }))),
      order: fc.shuffledSubarray([...Array(size).keys()], { minLength: size, maxLength: size }),
      durations: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: size, maxLength: size }),
    }),
  )
  .map(({ deps, order, durations }) => ({
    nodes: order.map((i) => ({ action_id: `n${i}`, depends_on: deps[i]!.map((j) => `n${j}`) })),
    durationOf: ((id: string) => durations[Number(id.slice(1))]!) as DurationOf,
  }));

/**
 * Checks a structure against its DAG: every action exactly once, and for every dependency d -> x, the smallest
 * subtree holding both is a sequence with d's step before x's. Then no schedule of the structure, whatever the
 * durations, can start x before d ends.
 */
function checkStructure(structure: Structure, nodes: readonly GraphNode[]): void {
  const ids = actionsOf(structure);
  expect([...ids].sort()).toEqual(nodes.map((node) => node.action_id).sort());
  expect(new Set(ids).size).toBe(ids.length);
  // Path from the root to each action: the child index taken at each sequence / parallel.
  const paths = new Map<string, { node: Structure; index: number }[]>();
  const walk = (node: Structure, path: { node: Structure; index: number }[]) => {
    if (node.kind === 'action') {
      paths.set(node.id, path);
      return;
    }
    (node.kind === 'sequence' ? node.steps : node.branches).forEach((child, index) => walk(child, [...path, { node, index }]));
  };
  walk(structure, []);
  for (const node of nodes) {
    for (const dep of node.depends_on) {
      const from = paths.get(dep)!;
      const to = paths.get(node.action_id)!;
      let k = 0;
      while (k < from.length && k < to.length && from[k]!.node === to[k]!.node && from[k]!.index === to[k]!.index) k++;
      const split = from[k];
      expect(split, `${dep} -> ${node.action_id}: one contains the other`).toBeDefined();
      expect(split!.node.kind, `${dep} -> ${node.action_id} split by a parallel`).toBe('sequence');
      expect(split!.index, `${dep} -> ${node.action_id}`).toBeLessThan(to[k]!.index);
    }
  }
  // Nothing trivial is left in: no empty or single-child sequence / parallel, no sequence directly in a sequence.
  const tidy = (node: Structure, parent?: Structure['kind']) => {
    if (node.kind === 'action') return;
    const children = node.kind === 'sequence' ? node.steps : node.branches;
    expect(children.length).toBeGreaterThan(1);
    expect(node.kind === parent).toBe(false);
    children.forEach((child) => tidy(child, node.kind));
  };
  if (nodes.length > 0) tidy(structure);
}

/** Start and end of every action when the structure runs with these durations. */
function scheduleOf(structure: Structure, durationOf: DurationOf): Map<string, { start: number; end: number }> {
  const times = new Map<string, { start: number; end: number }>();
  const run = (node: Structure, start: number): number => {
    switch (node.kind) {
      case 'action': {
        const end = start + durationOf(node.id);
        times.set(node.id, { start, end });
        return end;
      }
      case 'sequence':
        return node.steps.reduce((at, step) => run(step, at), start);
      case 'parallel':
        return Math.max(start, ...node.branches.map((branch) => run(branch, start)));
    }
  };
  run(structure, 0);
  return times;
}

describe('seriesParallelStructure on series-parallel DAGs', () => {
  it('is exact without hints: makespan equals the critical path for any durations', () => {
    fc.assert(
      fc.property(seriesParallelArb(false), ({ nodes, durationOf }) => {
        const structure = seriesParallelStructure(nodes);
        checkStructure(structure, nodes);
        expect(makespan(structure, durationOf)).toBe(criticalPath(nodes, durationOf));
        expect(makespan(structure, () => 1)).toBe(criticalPath(nodes, () => 1));
      }),
      RUNS,
    );
  });

  it('is exact with duration hints', () => {
    fc.assert(
      fc.property(seriesParallelArb(false), ({ nodes, durationOf }) => {
        const structure = seriesParallelStructure(nodes, durationOf);
        checkStructure(structure, nodes);
        expect(makespan(structure, durationOf)).toBe(criticalPath(nodes, durationOf));
      }),
      RUNS,
    );
  });

  it('stays exact when redundant (transitive) edges are declared too', () => {
    fc.assert(
      fc.property(seriesParallelArb(true), ({ nodes, durationOf }) => {
        const structure = seriesParallelStructure(nodes);
        checkStructure(structure, nodes);
        expect(makespan(structure, durationOf)).toBe(criticalPath(nodes, durationOf));
      }),
      RUNS,
    );
  });

  it('does not depend on declaration order', () => {
    fc.assert(
      fc.property(seriesParallelArb(false), ({ nodes, durationOf }) => {
        const reversed = [...nodes].reverse();
        expect(makespan(seriesParallelStructure(reversed), durationOf)).toBe(makespan(seriesParallelStructure(nodes), durationOf));
      }),
      { numRuns: 50 },
    );
  });
});

describe('structures on any DAG', () => {
  it('hold every action once and respect every dependency (seriesParallelStructure, with and without hints)', () => {
    fc.assert(
      fc.property(dagArb, ({ nodes, durationOf }) => {
        for (const structure of [seriesParallelStructure(nodes), seriesParallelStructure(nodes, durationOf)]) {
          checkStructure(structure, nodes);
          const times = scheduleOf(structure, durationOf);
          for (const node of nodes) for (const dep of node.depends_on) expect(times.get(node.action_id)!.start).toBeGreaterThanOrEqual(times.get(dep)!.end);
          expect(makespan(structure, durationOf)).toBeGreaterThanOrEqual(criticalPath(nodes, durationOf));
          expect(makespan(structure, durationOf)).toBe(Math.max(0, ...[...times.values()].map((time) => time.end)));
        }
      }),
      RUNS,
    );
  });

  it('topologicalLevelsStructure (the baseline) is valid too', () => {
    fc.assert(
      fc.property(dagArb, ({ nodes, durationOf }) => {
        const structure = topologicalLevelsStructure(nodes);
        checkStructure(structure, nodes);
        expect(makespan(structure, durationOf)).toBeGreaterThanOrEqual(criticalPath(nodes, durationOf));
      }),
      RUNS,
    );
  });

  it('is deterministic: the same DAG gives the same structure', () => {
    fc.assert(
      fc.property(dagArb, ({ nodes, durationOf }) => {
        expect(seriesParallelStructure(nodes)).toEqual(seriesParallelStructure(nodes.map((node) => ({ ...node, depends_on: [...node.depends_on] }))));
        expect(seriesParallelStructure(nodes, durationOf)).toEqual(seriesParallelStructure(nodes, durationOf));
      }),
      { numRuns: 50 },
    );
  });

  it('handles the small cases: one action, a chain, independent actions, an N', () => {
    expect(seriesParallelStructure([{ action_id: 'a', depends_on: [] }])).toEqual({ kind: 'action', id: 'a' });
    expect(seriesParallelStructure([{ action_id: 'b', depends_on: ['a'] }, { action_id: 'a', depends_on: [] }])).toEqual({ kind: 'sequence', steps: [{ kind: 'action', id: 'a' }, { kind: 'action', id: 'b' }] });
    expect(seriesParallelStructure([{ action_id: 'a', depends_on: [] }, { action_id: 'b', depends_on: [] }])).toEqual({ kind: 'parallel', branches: [{ kind: 'action', id: 'a' }, { kind: 'action', id: 'b' }] });
    const n = [
      { action_id: 'a', depends_on: [] },
      { action_id: 'b', depends_on: [] },
      { action_id: 'c', depends_on: ['a', 'b'] },
      { action_id: 'd', depends_on: ['b'] },
    ];
    const structure = seriesParallelStructure(n);
    checkStructure(structure, n);
    expect(makespan(structure, () => 1)).toBe(2);
  });

  it('structures a 1000-action DAG in reasonable time (ten times the workflow action limit)', () => {
    const size = 1000;
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const nodes = Array.from({ length: size }, (_, i) => ({
      action_id: `n${i}`,
      depends_on: i === 0 ? [] : [...new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => `n${Math.max(0, i - 1 - Math.floor(random() * 20))}`))],
    }));
    const started = performance.now();
    const structure = seriesParallelStructure(nodes);
    expect(performance.now() - started).toBeLessThan(10_000);
    checkStructure(structure, nodes);
  });
});
