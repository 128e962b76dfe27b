import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GraphNode } from '../../../core/workflow/graph.ts';
import { addsNoOrdering, losslessStructure, simulatedStarts } from '../../../statemachines/lossless.ts';
import { actionsOf, seriesParallelStructure } from '../../../statemachines/structure.ts';

/** A random DAG: node i may depend on any j < i. */
const dags = fc.integer({ min: 1, max: 40 }).chain((size) =>
  fc
    .array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: size, maxLength: size }), { minLength: size, maxLength: size })
    .chain((matrix) =>
      fc.double({ min: 0.02, max: 0.5, noNaN: true }).map((p) =>
        Array.from({ length: size }, (_, i): GraphNode => ({ action_id: `a${i}`, depends_on: Array.from({ length: i }, (_, j) => j).filter((j) => matrix[i]![j]! < p).map((j) => `a${j}`) })),
      ),
    ),
);

/** Shapes no series-parallel structure holds exactly. */
const N: GraphNode[] = [
  { action_id: 'a', depends_on: [] },
  { action_id: 'b', depends_on: [] },
  { action_id: 'c', depends_on: ['a', 'b'] },
  { action_id: 'd', depends_on: ['b'] },
];
const crown = (k: number): GraphNode[] => [
  ...Array.from({ length: k }, (_, i) => ({ action_id: `u${i}`, depends_on: [] })),
  ...Array.from({ length: k }, (_, i) => ({ action_id: `v${i}`, depends_on: [`u${i}`, `u${(i + 1) % k}`] })),
];
const bipartite = (left: number, right: number): GraphNode[] => [
  ...Array.from({ length: left }, (_, i) => ({ action_id: `l${i}`, depends_on: [] })),
  ...Array.from({ length: right }, (_, i) => ({ action_id: `r${i}`, depends_on: Array.from({ length: left }, (_, j) => `l${j}`).filter((_, j) => (i + j) % 3 !== 0) })),
];

/** Each action's earliest possible start: the latest finish of its dependencies. */
function earliestStarts(nodes: readonly GraphNode[], duration: (id: string) => number): Map<string, number> {
  const byId = new Map(nodes.map((node) => [node.action_id, node]));
  const finish = new Map<string, number>();
  const starts = new Map<string, number>();
  const visit = (id: string): number => {
    const known = finish.get(id);
    if (known !== undefined) return known;
    const start = Math.max(0, ...byId.get(id)!.depends_on.map(visit));
    starts.set(id, start);
    finish.set(id, start + duration(id));
    return start + duration(id);
  };
  nodes.forEach((node) => visit(node.action_id));
  return starts;
}

function expectLossless(nodes: readonly GraphNode[], durations: readonly number[]) {
  const duration = (id: string) => durations[Number(id.replace(/\D/g, '')) % durations.length] ?? 1;
  const lossless = losslessStructure(nodes);
  expect(actionsOf(lossless.structure).sort()).toEqual(nodes.map((node) => node.action_id).sort());
  expect(Object.fromEntries(simulatedStarts(lossless, duration))).toEqual(Object.fromEntries(earliestStarts(nodes, duration)));
  // A gate only waits for real producers of its action.
  for (const [waiter, producers] of lossless.gates) {
    const declared = nodes.find((node) => node.action_id === waiter)!.depends_on;
    for (const producer of producers) expect(declared).toContain(producer);
  }
  return lossless;
}

describe('the lossless structure', () => {
  it('starts every action as soon as its dependencies finish, on random DAGs with random durations', () => {
    fc.assert(
      fc.property(dags, fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 13 }), (nodes, durations) => {
        expectLossless(nodes, durations);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['an N', N],
    ['a crown of 4', crown(4)],
    ['a crown of 7', crown(7)],
    ['bipartite layers', bipartite(5, 6)],
  ])('gates what the structure cannot hold in %s, losing nothing', (_name, nodes) => {
    for (const durations of [[1], [1, 5, 2, 9, 3], [7, 1, 1, 1, 13, 2]]) expectLossless(nodes, durations);
    expect(losslessStructure(nodes).gates.size).toBeGreaterThan(0);
  });

  it('keeps the series-parallel structure, with no gate, on series-parallel graphs', () => {
    const diamond: GraphNode[] = [
      { action_id: 'a', depends_on: [] },
      { action_id: 'b', depends_on: ['a'] },
      { action_id: 'c', depends_on: ['a'] },
      { action_id: 'd', depends_on: ['b', 'c'] },
      { action_id: 'e', depends_on: ['d'] },
      { action_id: 'f', depends_on: [] },
    ];
    const lossless = losslessStructure(diamond);
    expect(lossless.gates.size).toBe(0);
    expect(lossless.structure).toEqual(seriesParallelStructure(diamond));
    expect(addsNoOrdering(N, seriesParallelStructure(N))).toBe(false);
  });
});
