/**
 * The dependency graph of a workflow's actions. Pure functions over `{ action_id, depends_on }`, shared by
 * validation (cycles, reachability) and, later, the compiler.
 */

export interface GraphNode {
  readonly action_id: string;
  readonly depends_on: readonly string[];
}

/**
 * One entry per id, declaration order kept. Duplicate ids are a validation error reported elsewhere; here
 * their dependencies are merged so that graph checks still terminate and still see every edge.
 */
function uniqueNodes(nodes: readonly GraphNode[]): GraphNode[] {
  const merged = new Map<string, Set<string>>();
  for (const node of nodes) {
    const deps = merged.get(node.action_id) ?? new Set<string>();
    node.depends_on.forEach((dep) => deps.add(dep));
    merged.set(node.action_id, deps);
  }
  return [...merged].map(([action_id, deps]) => ({ action_id, depends_on: [...deps] }));
}

/**
 * Strongly connected components that form cycles (size > 1, or a node that depends on itself), each given
 * as a closed walk `a -> b -> c -> a` in dependency order so that the message shows the loop as written.
 */
export function findCycles(declared: readonly GraphNode[]): string[][] {
  const nodes = uniqueNodes(declared);
  const known = new Set(nodes.map((node) => node.action_id));
  const edges = new Map(nodes.map((node) => [node.action_id, node.depends_on.filter((dep) => known.has(dep))]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  // Iterative Tarjan: workflows may hold thousands of actions, deeper than a comfortable call stack.
  for (const start of edges.keys()) {
    if (index.has(start)) continue;
    const work: { node: string; next: number }[] = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const successors = edges.get(frame.node) ?? [];
      if (frame.next < successors.length) {
        const next = successors[frame.next++]!;
        if (!index.has(next)) {
          index.set(next, counter);
          low.set(next, counter++);
          stack.push(next);
          onStack.add(next);
          work.push({ node: next, next: 0 });
        } else if (onStack.has(next)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(next)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = component.length === 1 && (edges.get(frame.node) ?? []).includes(frame.node);
        if (component.length > 1 || selfLoop) components.push(closedWalk(component, edges));
      }
    }
  }
  return components;
}

/** A cycle through every member of a strongly connected component is not always simple; show one loop. */
function closedWalk(component: string[], edges: Map<string, string[]>): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0]!;
  // Breadth-first search inside the component for the shortest way back to `start`.
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const next of edges.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const loop = [start];
        for (let at = node; at !== start; at = previous.get(at)!) loop.splice(1, 0, at);
        loop.push(start);
        return loop;
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

/**
 * For each action, every action it depends on directly or transitively. Assumes no cycles (callers check
 * first); unknown ids are ignored.
 */
export function transitiveDependencies(declared: readonly GraphNode[]): Map<string, Set<string>> {
  const nodes = uniqueNodes(declared);
  const byId = new Map(nodes.map((node) => [node.action_id, node]));
  const result = new Map<string, Set<string>>();
  for (const id of topologicalOrder(nodes)) {
    const all = new Set<string>();
    for (const dep of byId.get(id)?.depends_on ?? []) {
      if (!byId.has(dep)) continue;
      all.add(dep);
      for (const indirect of result.get(dep) ?? []) all.add(indirect);
    }
    result.set(id, all);
  }
  return result;
}

/** Kahn's algorithm, stable with respect to the order actions were declared in. Cyclic members are left out. */
export function topologicalOrder(declared: readonly GraphNode[]): string[] {
  // uniqueNodes merges a repeated id and drops a repeated dependency, so each edge below counts once.
  const nodes = uniqueNodes(declared);
  const index = new Map(nodes.map((node, position) => [node.action_id, position]));
  const waitingFor = new Int32Array(nodes.length);
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((node, position) => {
    for (const dep of node.depends_on) {
      const producer = index.get(dep);
      if (producer === undefined) continue;
      waitingFor[position]!++;
      dependents[producer]!.push(position);
    }
  });
  const ready: number[] = [];
  for (let position = 0; position < nodes.length; position++) if (waitingFor[position] === 0) ready.push(position);
  for (let i = 0; i < ready.length; i++) {
    for (const dependent of dependents[ready[i]!]!) if (--waitingFor[dependent]! === 0) ready.push(dependent);
  }
  return ready.map((position) => nodes[position]!.action_id);
}

/**
 * The heaviest dependency path: each action weighs `weightOf` (zero allowed), a dependency outside `nodes`
 * weighs nothing, and cyclic members are left out (as topologicalOrder leaves them).
 */
export function longestPath(nodes: readonly GraphNode[], weightOf: (id: string) => number): number {
  const byId = new Map(nodes.map((node) => [node.action_id, node]));
  const finish = new Map<string, number>();
  let longest = 0;
  for (const id of topologicalOrder(nodes)) {
    let start = 0;
    for (const dep of byId.get(id)?.depends_on ?? []) start = Math.max(start, finish.get(dep) ?? 0);
    const end = start + weightOf(id);
    finish.set(id, end);
    longest = Math.max(longest, end);
  }
  return longest;
}
