import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WorkflowDefinitionSchema } from '../../../core/workflow/definition.ts';
import { findCycles, longestPath, topologicalOrder, transitiveDependencies, type GraphNode } from '../../../core/workflow/graph.ts';
import { definitionIssues, zodIssues } from '../../../core/workflow/validate.ts';
import { parseDefinition, serviceCall } from './support/definitions.ts';

const RUNS = { numRuns: 150 };

/** Node i may depend only on nodes with a lower index, so the graph is acyclic; declared in shuffled order. */
const dagArb: fc.Arbitrary<GraphNode[]> = fc.integer({ min: 1, max: 60 }).chain((size) =>
  fc
    .tuple(
      fc.tuple(
        ...Array.from({ length: size }, (_, i) =>
          fc.subarray(
            Array.from({ length: i }, (_, j) => j),
            { maxLength: Math.min(i, 6) },
          ),
        ),
      ),
      fc.shuffledSubarray(
        Array.from({ length: size }, (_, i) => i),
        { minLength: size, maxLength: size },
      ),
    )
    .map(([deps, order]) => order.map((i) => ({ action_id: `n${i}`, depends_on: (deps[i] ?? []).map((j) => `n${j}`) }))),
);

function edgesOf(nodes: readonly GraphNode[]): Map<string, readonly string[]> {
  return new Map(nodes.map((node) => [node.action_id, node.depends_on]));
}

/** Everything reachable from `start` along depends_on, by plain depth-first search (start itself only via a cycle). */
function reachable(nodes: readonly GraphNode[], start: string): Set<string> {
  const edges = edgesOf(nodes);
  const seen = new Set<string>();
  const stack = [...(edges.get(start) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next) || !edges.has(next)) continue;
    seen.add(next);
    stack.push(...(edges.get(next) ?? []));
  }
  return seen;
}

/** Strongly connected components that hold a cycle, by mutual reachability. */
function cyclicComponents(nodes: readonly GraphNode[]): Set<string>[] {
  const reach = new Map(nodes.map((node) => [node.action_id, reachable(nodes, node.action_id)]));
  const components: Set<string>[] = [];
  for (const node of nodes) {
    const own = reach.get(node.action_id)!;
    if (!own.has(node.action_id) || components.some((component) => component.has(node.action_id))) continue;
    components.push(new Set([...own].filter((other) => reach.get(other)!.has(node.action_id))));
  }
  return components;
}

/** A DAG plus 1..3 extra edges, each from a node to one of its own ancestors (or itself), so each closes a cycle. */
const cyclicArb: fc.Arbitrary<GraphNode[]> = dagArb.chain((dag) =>
  fc
    .array(fc.tuple(fc.nat({ max: dag.length - 1 }), fc.nat()), { minLength: 1, maxLength: 3 })
    .map((picks) => {
      const nodes = dag.map((node) => ({ action_id: node.action_id, depends_on: [...node.depends_on] }));
      for (const [which, choice] of picks) {
        const ancestor = nodes[which]!;
        const below = [ancestor.action_id, ...reachable(nodes, ancestor.action_id)];
        const descendant = nodes.find((node) => node.action_id === below[choice % below.length])!;
        if (!descendant.depends_on.includes(ancestor.action_id)) descendant.depends_on.push(ancestor.action_id);
      }
      return nodes;
    }),
);

describe('graph over random DAGs', () => {
  it('findCycles finds no cycle', () => {
    fc.assert(
      fc.property(dagArb, (nodes) => {
        expect(findCycles(nodes)).toEqual([]);
      }),
      RUNS,
    );
  });

  it('topologicalOrder lists every node once, each after all of its dependencies', () => {
    fc.assert(
      fc.property(dagArb, (nodes) => {
        const order = topologicalOrder(nodes);
        expect([...order].sort()).toEqual(nodes.map((node) => node.action_id).sort());
        const position = new Map(order.map((id, index) => [id, index]));
        for (const node of nodes) {
          for (const dep of node.depends_on) expect(position.get(dep)!).toBeLessThan(position.get(node.action_id)!);
        }
      }),
      RUNS,
    );
  });

  it('topologicalOrder keeps declaration order among nodes that are ready together', () => {
    fc.assert(
      fc.property(dagArb, (nodes) => {
        const roots = nodes.filter((node) => node.depends_on.length === 0).map((node) => node.action_id);
        expect(topologicalOrder(nodes).slice(0, roots.length)).toEqual(roots);
      }),
      RUNS,
    );
  });

  it('transitiveDependencies equals brute-force reachability', () => {
    fc.assert(
      fc.property(dagArb, (nodes) => {
        const computed = transitiveDependencies(nodes);
        expect(new Set(computed.keys())).toEqual(new Set(nodes.map((node) => node.action_id)));
        for (const node of nodes) expect(computed.get(node.action_id)).toEqual(reachable(nodes, node.action_id));
      }),
      RUNS,
    );
  });

  it('ignores dependencies on unknown ids', () => {
    fc.assert(
      fc.property(dagArb, fc.nat(), (dag, pick) => {
        const nodes = dag.map((node, index) => (index === pick % dag.length ? { ...node, depends_on: [...node.depends_on, 'ghost'] } : node));
        expect(findCycles(nodes)).toEqual([]);
        expect(topologicalOrder(nodes)).toHaveLength(dag.length);
        expect(transitiveDependencies(nodes)).toEqual(transitiveDependencies(dag));
      }),
      RUNS,
    );
  });
});

describe('graph over random graphs with injected back edges', () => {
  it('findCycles reports each cyclic component once, as a closed walk along real depends_on edges', () => {
    fc.assert(
      fc.property(cyclicArb, (nodes) => {
        const cycles = findCycles(nodes);
        expect(cycles.length).toBeGreaterThanOrEqual(1);
        const edges = edgesOf(nodes);
        for (const cycle of cycles) {
          expect(cycle.length).toBeGreaterThanOrEqual(2);
          expect(cycle[cycle.length - 1]).toBe(cycle[0]);
          for (let i = 0; i + 1 < cycle.length; i++) expect(edges.get(cycle[i]!)).toContain(cycle[i + 1]);
        }
        const components = cyclicComponents(nodes);
        expect(cycles).toHaveLength(components.length);
        const owners = cycles.map((cycle) => components.findIndex((component) => cycle.every((id) => component.has(id))));
        expect(owners).not.toContain(-1);
        expect(new Set(owners).size).toBe(components.length);
      }),
      RUNS,
    );
  });

  it('topologicalOrder leaves out exactly the nodes on or downstream of a cycle', () => {
    fc.assert(
      fc.property(cyclicArb, (nodes) => {
        const onCycle = new Set(cyclicComponents(nodes).flatMap((component) => [...component]));
        const expected = nodes
          .filter((node) => !onCycle.has(node.action_id) && ![...reachable(nodes, node.action_id)].some((id) => onCycle.has(id)))
          .map((node) => node.action_id);
        const order = topologicalOrder(nodes);
        expect([...order].sort()).toEqual(expected.sort());
      }),
      RUNS,
    );
  });

  it('definitionIssues names a cycle and skips reference checks, never throwing', () => {
    fc.assert(
      fc.property(cyclicArb, (nodes) => {
        const definition = parseDefinition({ name: 'w', actions: nodes.map((node) => serviceCall(node.action_id, {}, node.depends_on)) });
        const issues = definitionIssues(definition);
        const cycleIssues = issues.filter((issue) => issue.message.startsWith('dependency cycle: '));
        expect(cycleIssues).toHaveLength(findCycles(nodes).length);
        for (const issue of cycleIssues) expect(issue.field).toMatch(/^actions\[\d+\]\.depends_on$/);
      }),
      RUNS,
    );
  });
});

describe('references over random DAGs', () => {
  it('accepts a reference to any upstream action and refuses one to any other action, naming both', () => {
    fc.assert(
      fc.property(dagArb, fc.nat(), fc.nat(), (nodes, fromPick, toPick) => {
        const from = nodes[fromPick % nodes.length]!;
        const to = nodes[toPick % nodes.length]!;
        if (from === to) return;
        const actions = nodes.map((node) => serviceCall(node.action_id, node === from ? { value: `{{${to.action_id}.response.value}}` } : {}, node.depends_on));
        const issues = definitionIssues(parseDefinition({ name: 'w', actions }));
        if (reachable(nodes, from.action_id).has(to.action_id)) {
          expect(issues).toEqual([]);
        } else {
          expect(issues).toEqual([
            {
              field: `actions[${nodes.indexOf(from)}].config.parameters.value`,
              message: `{{${to.action_id}.response.value}} refers to action '${to.action_id}', which '${from.action_id}' does not depend on (add '${to.action_id}' to its depends_on)`,
            },
          ]);
        }
      }),
      RUNS,
    );
  });
});

describe('validation never throws', () => {
  function checkAnything(value: unknown): void {
    const parsed = WorkflowDefinitionSchema.safeParse(value);
    const issues = parsed.success ? definitionIssues(parsed.data) : zodIssues(parsed.error);
    if (!parsed.success) expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) {
      expect(issue.field.length).toBeGreaterThan(0);
      expect(issue.message.length).toBeGreaterThan(0);
    }
  }

  it('on arbitrary values', () => {
    fc.assert(fc.property(fc.anything(), checkAnything), { numRuns: 200 });
  });

  it('on arbitrary JSON text', () => {
    fc.assert(fc.property(fc.json(), (text) => checkAnything(JSON.parse(text))), { numRuns: 200 });
  });

  /** Definitions that are often structurally valid, so that the whole-definition checks run on odd input. */
  const idArb = fc.constantFrom('a', 'b', 'c', 'execution', 'p', 'q', 'fetch');
  const textArb = fc.oneof(
    fc.string(),
    fc.constantFrom('{{a.response}}', '{{p}}', '{{execution.id}}', '{{b.status_code.x}}', '{{', '}}', '{{ }}', '{{a[0]}}', '{{q.x[2]}}', '{{{p}}}', '{{nope}}'),
    fc.array(fc.constantFrom('{{', '}}', 'a', '.', '[0]', ' ', 'p', 'response', 'execution'), { maxLength: 8 }).map((parts) => parts.join('')),
  );
  const nearlyValidArb = fc.record({
    name: fc.constant('w'),
    parameters: fc.array(
      fc.record(
        { name: idArb, type: fc.constantFrom('string', 'integer', 'number', 'boolean', 'array', 'object'), default: fc.jsonValue(), enum: fc.array(fc.jsonValue(), { minLength: 1, maxLength: 3 }) },
        { requiredKeys: ['name', 'type'] },
      ),
      { maxLength: 3 },
    ),
    actions: fc.array(
      fc.oneof(
        fc.record({
          action_id: idArb,
          action_type: fc.constant('notification'),
          depends_on: fc.array(fc.oneof(idArb, fc.constant('ghost')), { maxLength: 3 }),
          config: fc.record({ message: textArb.filter((text) => text.length > 0), recipients: fc.array(textArb, { maxLength: 2 }) }, { requiredKeys: ['message'] }),
        }),
        fc.record({
          action_id: idArb,
          action_type: fc.constant('service_call'),
          depends_on: fc.array(idArb, { maxLength: 3 }),
          config: fc.record({
            service: fc.constant('s'),
            endpoint: fc.constant('/e'),
            method: fc.constant('GET'),
            parameters: fc.dictionary(fc.oneof(fc.string(), textArb), fc.oneof(textArb, fc.jsonValue()), { maxKeys: 3 }),
          }),
        }),
      ),
      { minLength: 1, maxLength: 6 },
    ),
  });

  it('on nearly valid definitions, with every whole-definition issue pointing into parameters or actions', () => {
    fc.assert(
      fc.property(nearlyValidArb, (input) => {
        const parsed = WorkflowDefinitionSchema.safeParse(input);
        if (!parsed.success) return;
        for (const issue of definitionIssues(parsed.data)) {
          expect(issue.field).toMatch(/^(parameters|actions)\[\d+\]/);
          expect(issue.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('longestPath', () => {
  it('is the heaviest chain of dependencies, zero weights allowed, as a memoised recursion finds it', () => {
    fc.assert(
      fc.property(dagArb, fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 60, maxLength: 60 }), (nodes, weights) => {
        const weightOf = (id: string) => weights[Number(id.replace(/\D/g, '')) % weights.length]!;
        const byId = new Map(nodes.map((node) => [node.action_id, node]));
        // The heaviest path ending at each node, by memoised recursion over its dependencies (no order needed).
        const memo = new Map<string, number>();
        const heaviest = (id: string): number => {
          if (!memo.has(id)) memo.set(id, weightOf(id) + Math.max(0, ...(byId.get(id)?.depends_on ?? []).map(heaviest)));
          return memo.get(id)!;
        };
        expect(longestPath(nodes, weightOf)).toBe(Math.max(0, ...nodes.map((node) => heaviest(node.action_id))));
      }),
      RUNS,
    );
  });

  it('weighs a dependency outside the graph as nothing and leaves cyclic members out', () => {
    expect(longestPath([{ action_id: 'a', depends_on: ['elsewhere'] }], () => 2)).toBe(2);
    expect(longestPath([{ action_id: 'a', depends_on: [] }, { action_id: 'b', depends_on: ['c'] }, { action_id: 'c', depends_on: ['b'] }], () => 5)).toBe(5);
  });
});
