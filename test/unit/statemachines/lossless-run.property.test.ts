import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileChecked, execute, lambdaResult, payloadOf, sleep, type Handler, type Json } from './support/harness.ts';
import { serviceCall, transform, workflow, type ActionInput } from './support/workflows.ts';

/**
 * Lossless execution, observed on the compiled machine itself (ADR 0016). The test holds every service call
 * until it decides to finish it, in an order it picks at random (any order is what some durations give).
 * Whenever the run has settled, the calls in flight must be exactly the actions whose dependencies have all
 * finished: none started early, and none is held back by anything but its own dependencies. Each call also
 * reads an upstream output, from its own branch or from its gate's release, and must get it with its type.
 */

/** Node i may depend on any j < i; every action reads the output of one of its upstream actions, when it has one. */
const dags = fc.integer({ min: 2, max: 24 }).chain((size) =>
  fc.tuple(
    fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: size, maxLength: size }), { minLength: size, maxLength: size }),
    fc.double({ min: 0.08, max: 0.5, noNaN: true }),
    fc.array(fc.nat(), { minLength: size, maxLength: size }),
    fc.array(fc.nat(), { minLength: 4 * size, maxLength: 4 * size }),
  ).map(([matrix, p, readChoice, finishChoice]) => {
    const deps = Array.from({ length: size }, (_, i) => Array.from({ length: i }, (_, j) => j).filter((j) => matrix[i]![j]! < p));
    return { deps, readChoice, finishChoice };
  }),
);

/** Shapes no series-parallel structure holds: an N, a crown, bipartite layers, each with a tail. */
const shapes: Record<string, number[][]> = {
  N: [[], [], [0, 1], [1]],
  'crown of 5': [[], [], [], [], [], [0, 1], [1, 2], [2, 3], [3, 4], [4, 0]],
  'bipartite layers': [[], [], [], [0, 1], [1, 2], [0, 2], [3, 4], [4, 5], [3, 5]],
};

function ancestors(deps: readonly (readonly number[])[]): Set<number>[] {
  const all: Set<number>[] = [];
  deps.forEach((list, node) => {
    const set = new Set<number>();
    for (const dep of list) {
      set.add(dep);
      for (const indirect of all[dep]!) set.add(indirect);
    }
    all[node] = set;
  });
  return all;
}

async function runHeld(deps: readonly (readonly number[])[], readChoice: readonly number[], finishChoice: readonly number[]) {
  const upstream = ancestors(deps);
  const reads = deps.map((_, node) => {
    const candidates = [...upstream[node]!].sort((a, b) => a - b);
    return candidates.length === 0 ? undefined : candidates[readChoice[node]! % candidates.length]!;
  });
  const actions: ActionInput[] = deps.map((list, node) =>
    serviceCall(`a${node}`, reads[node] === undefined ? {} : { from: `{{a${reads[node]}.response.value}}`, label: `{{a${reads[node]}.response.label}}` }, list.map((dep) => `a${dep}`)),
  );
  const compiled = compileChecked(workflow(actions));

  const started = new Set<number>();
  const finished = new Set<number>();
  const release = new Map<number, () => void>();
  const early: string[] = [];
  const handlers: Record<string, Handler> = {};
  deps.forEach((list, node) => {
    handlers[`a${node}`] = async () => {
      if (list.some((dep) => !finished.has(dep))) early.push(`a${node} started before ${list.filter((dep) => !finished.has(dep)).map((dep) => `a${dep}`).join(', ')} finished`);
      started.add(node);
      await new Promise<void>((resolve) => release.set(node, resolve));
      return lambdaResult({ value: node * 10, label: `output of a${node}` });
    };
  });
  const run = execute(compiled.definition, {}, { handlers });

  const ready = () => deps.map((list, node) => node).filter((node) => !finished.has(node) && deps[node]!.every((dep) => finished.has(dep)));
  for (let step = 0; finished.size < deps.length; step++) {
    const expected = ready();
    // Settled: every ready action has started (the interpreter takes a few ms per state; seconds on a loaded machine), and nothing else has.
    for (let waited = 0; expected.some((node) => !started.has(node)) && waited < 15_000; waited += 2) await sleep(2);
    const inFlight = [...started].filter((node) => !finished.has(node)).sort((a, b) => a - b);
    expect(early).toEqual([]);
    expect(inFlight.map((node) => `a${node}`)).toEqual(expected.map((node) => `a${node}`));
    const chosen = expected[finishChoice[step % finishChoice.length]! % expected.length]!;
    finished.add(chosen);
    release.get(chosen)!();
  }
  const result = await run;
  expect(result.status).toBe('succeeded');
  deps.forEach((_, node) => {
    const read = reads[node];
    const parameters = payloadOf(result.recorder.only(`a${node}`)).parameters as Record<string, Json> | undefined;
    if (read === undefined) expect(parameters).toBeUndefined();
    else expect(parameters).toEqual({ from: read * 10, label: `output of a${read}` });
  });
  return compiled;
}

describe('lossless execution of any DAG, in the interpreter', () => {
  it('starts each action as soon as its dependencies finish, in any finishing order, and passes every output it reads', async () => {
    let gated = 0;
    await fc.assert(
      fc.asyncProperty(dags, async ({ deps, readChoice, finishChoice }) => {
        const compiled = await runHeld(deps, readChoice, finishChoice);
        if (compiled.gates.size > 0) gated++;
      }),
      // A fixed seed (LOSSLESS_SEED picks another): with a random one, 40 DAGs now and then held no gate, and the
      // check below failed although nothing was wrong; the named shapes below always have gates.
      { numRuns: Number(process.env.LOSSLESS_RUNS ?? 40), seed: Number(process.env.LOSSLESS_SEED ?? 20_261_207), endOnFailure: true },
    );
    // The property must have exercised gates, not only series-parallel graphs.
    expect(gated).toBeGreaterThan(0);
  });

  it.each(Object.entries(shapes))('runs %s without an added order, in every finishing order tried', async (_name, deps) => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { minLength: 12, maxLength: 12 }), async (finishChoice) => {
        const compiled = await runHeld(deps, deps.map((_, node) => node), finishChoice);
        expect(compiled.gates.size).toBeGreaterThan(0);
      }),
      { numRuns: 8, endOnFailure: true },
    );
  });

  it('releases a waiter that reads a producer in another branch with what it recorded, also when it was skipped or failed', async () => {
    // An N and more: c reads a transform and a call in two branches; d fails and continues; e reads d (a guard) and c.
    const actions = [
      transform('a', { n: 7, text: 'seven' }),
      serviceCall('b', {}, []),
      serviceCall('c', { from_a: '{{a.response.text}}', n: '{{a.response.n}}', from_b: '{{b.response.v}}' }, ['a', 'b']),
      serviceCall('d', {}, ['b'], { on_failure: 'continue' }),
      serviceCall('e', { d: '{{d.response}}', c: '{{c.response.v}}' }, ['d', 'c']),
      serviceCall('f', { d: '{{d.response}}' }, ['a', 'd'], { on_skipped_input: 'run' }),
    ];
    const compiled = compileChecked(workflow(actions));
    expect(compiled.gates.size).toBeGreaterThan(0);
    const result = await execute(compiled.definition, {}, {
      handlers: {
        b: () => lambdaResult({ v: 'from b' }),
        c: () => lambdaResult({ v: 3 }),
        d: () => {
          const error = new Error('no');
          error.name = 'ServiceRejectedError';
          throw error;
        },
      },
    });
    expect(result.status).toBe('succeeded');
    expect(payloadOf(result.recorder.only('c')).parameters).toEqual({ from_a: 'seven', n: 7, from_b: 'from b' });
    // e reads d, which failed: skipped, whether its gate released d's outcome or its branch held it.
    expect(result.recorder.to('e')).toHaveLength(0);
    expect(result.output!.results).toMatchObject({ e: { outcome: 'skipped' } });
    expect(payloadOf(result.recorder.only('f')).parameters).toEqual({ d: null });
  });
});
