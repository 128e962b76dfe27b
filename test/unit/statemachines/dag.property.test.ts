import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { transitiveDependencies } from '../../../core/workflow/graph.ts';
import {
  compileChecked,
  detailOf,
  eventsResult,
  execute,
  lambdaResult,
  payloadOf,
  sleep,
  type Json,
  type JsonObject,
  type RunResult,
} from './support/harness.ts';
import { evaluate, referencedIds, render, type ConditionInput, type RenderContext } from './support/render.ts';
import { notification, param, serviceCall, transform, workflow, type ActionInput } from './support/workflows.ts';

/**
 * Random workflows, compiled, validated with asl-validator and executed on aws-local-stepfunctions with
 * handlers that take a few milliseconds each. The expected run is computed independently (render.ts): which
 * actions run or are skipped, what each receives (values and types), and that nothing starts before every
 * action it depends on, directly or not, has ended.
 */

// ~100 ms a run (asl-validator alone takes most of it). DAG_RUNS=1000 for a deeper search; endOnFailure
// reports the first counterexample as found (shrinking a 40-action execution would outlast the test timeout).
const RUNS = { numRuns: Number(process.env.DAG_RUNS ?? 50), endOnFailure: true };

// Strings the emulator passes through intrinsic functions faithfully: it drops every backslash from intrinsic
// results and splits intrinsic arguments on parentheses even inside quotes, so `\`, `"`, `(` and `)` are left out.
const SAFE_CHARACTERS = [...`abcxyzAQ019 -_:.,'{}é$/#`];
// Braces only inside the text: next to a template they would form `{{` once validation takes the template out.
const textArb = fc.string({ unit: fc.constantFrom(...SAFE_CHARACTERS), maxLength: 8 }).filter((text) => !text.includes('{{') && !text.includes('}}') && !/^[{}]|[{}]$/.test(text));

const PARAMETERS = [param('s1', 'string'), param('n1', 'integer'), param('n2', 'integer'), param('flag', 'boolean'), param('obj', 'object'), param('list', 'array')];
const PARAMETER_NAMES = new Set(PARAMETERS.map((parameter) => String(parameter.name)));

const paramsArb: fc.Arbitrary<JsonObject> = fc.record({
  s1: textArb,
  n1: fc.integer({ min: -1000, max: 1000 }),
  n2: fc.integer({ min: -1000, max: 1000 }),
  flag: fc.boolean(),
  obj: fc.record({ name: textArb, count: fc.integer({ min: -1000, max: 1000 }), tags: fc.array(textArb, { minLength: 2, maxLength: 3 }) }),
  list: fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 4 }),
});

const outputArb = fc.record({
  status: fc.constantFrom(200, 201, 202),
  n: fc.integer({ min: -1000, max: 1000 }),
  s: textArb,
  k: fc.integer({ min: -9, max: 9 }),
  deep: textArb,
  list: fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 3 }),
});
type Generated<A> = A extends fc.Arbitrary<infer T> ? T : never;
type OutputSpec = Generated<typeof outputArb>;

const valueSpecArb = fc.record({ form: fc.nat({ max: 17 }), a: fc.nat(), b: fc.nat(), t1: textArb, t2: textArb, lit: fc.integer({ min: -99, max: 99 }) });
type ValueSpec = Generated<typeof valueSpecArb>;

const leafArb = fc.record({ form: fc.nat({ max: 5 }), a: fc.nat(), c: fc.integer({ min: -10, max: 10 }), flag: fc.boolean(), t: textArb });
type LeafSpec = Generated<typeof leafArb>;
type ConditionSpec = { leaf: LeafSpec } | { all: ConditionSpec[] } | { any: ConditionSpec[] } | { not: ConditionSpec };
const conditionArb: fc.Arbitrary<ConditionSpec> = fc.letrec<{ node: ConditionSpec }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb.map((leaf) => ({ leaf })),
    fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((all) => ({ all })),
    fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((any) => ({ any })),
    tie('node').map((not) => ({ not })),
  ),
})).node;

const actionSpecArb = fc.record({
  kind: fc.constantFrom('service_call', 'service_call', 'service_call', 'service_call', 'notification', 'transform'),
  hyphenated: fc.nat({ max: 4 }).map((n) => n === 0),
  deps: fc.uniqueArray(fc.nat(), { maxLength: 3 }),
  values: fc.array(valueSpecArb, { minLength: 1, maxLength: 4 }),
  condition: fc.option(conditionArb, { freq: 4 }),
  delay: fc.integer({ min: 1, max: 15 }),
  output: outputArb,
});
type ActionSpec = Generated<typeof actionSpecArb>;

interface Model {
  readonly kinds: ReadonlyMap<string, string>;
  readonly delays: ReadonlyMap<string, number>;
  readonly outputs: ReadonlyMap<string, OutputSpec>;
  /** Direct dependencies, by id. */
  readonly deps: ReadonlyMap<string, readonly string[]>;
  readonly actions: readonly ActionInput[];
}

const responseOf = (output: OutputSpec): JsonObject => ({ n: output.n, s: output.s, obj: { k: output.k, deep: [output.k, output.deep] }, list: output.list });


function buildValue(spec: ValueSpec, services: readonly string[], others: readonly string[]): unknown {
  const service = services.length > 0 ? services[spec.a % services.length] : undefined;
  const any = [...services, ...others];
  const anyone = any.length > 0 ? any[spec.a % any.length] : undefined;
  switch (spec.form) {
    case 0:
      return spec.t1;
    case 1:
      return spec.lit;
    case 2:
      // No null or empty string inside a literal array: asl-validator's payload template schema refuses both
      // (see the asl-validator test in templates.test.ts).
      return { lit: [spec.lit, `x${spec.t1}`, true, { n: null }], nested: { x: spec.t2, y: null } };
    case 3:
      return '{{s1}}';
    case 4:
      return '{{n1}}';
    case 5:
      return '{{obj}}';
    case 6:
      return spec.b % 2 === 0 ? '{{obj.name}}' : '{{obj.tags[1]}}';
    case 7:
      return '{{list}}';
    case 8:
      return anyone ? `{{${anyone}.response}}` : '{{n2}}';
    case 9:
      return service ? `{{${service}.response.n}}` : '{{flag}}';
    case 10:
      return service ? `{{${service}.response.obj}}` : '{{obj.count}}';
    case 11:
      return service ? `{{${service}.response.obj.deep[1]}}` : spec.t1;
    case 12:
      return service ? `{{${service}.status_code}}` : '{{execution.workflow_version}}';
    case 13:
      return `${spec.t1}{{n1}}${spec.t2}${service ? `{{${service}.response.s}}!` : ''}${spec.b % 3 === 0 ? ' {{obj}}' : ''}${spec.b % 3 === 1 ? ' {{list}}' : ''}`;
    case 14:
      return ['{{n1}}', spec.t1, service ? `{{${service}.response.obj}}` : '{{obj}}', spec.lit, null, ['{{flag}}', { deep: '{{s1}}' }], `${spec.t2} {{n2}}`];
    case 15:
      return service ? `  {{${service}.response.n}} ` : ' {{n2}}';
    case 16:
      return spec.b % 2 === 0 ? `run {{execution.id}} of {{execution.workflow_id}} v{{execution.workflow_version}}` : '{{execution.workflow_version}}';
    default:
      return { inner: service ? `{{${service}.response.list}}` : '{{list}}', lit: spec.lit, text: `${spec.t1}{{s1}}` };
  }
}

function buildCondition(spec: ConditionSpec, services: readonly string[]): ConditionInput {
  if ('all' in spec) return { all: spec.all.map((rule) => buildCondition(rule, services)) };
  if ('any' in spec) return { any: spec.any.map((rule) => buildCondition(rule, services)) };
  if ('not' in spec) return { not: buildCondition(spec.not, services) };
  const { form, a, c, flag, t } = spec.leaf;
  const service = services.length > 0 ? services[a % services.length] : undefined;
  switch (form) {
    case 0:
      return { ref: '{{flag}}', equals: flag };
    case 1:
      return { ref: '{{n1}}', greater_than: c * 100 };
    case 2:
      return { ref: '{{s1}}', not_equals: t };
    case 3:
      return service ? { ref: `{{${service}.response.n}}`, less_than_or_equal: c * 100 } : { ref: '{{n2}}', less_than: c * 100 };
    case 4:
      return service ? { ref: `{{${service}.status_code}}`, equals: 200 } : { ref: '{{flag}}', not_equals: flag };
    default:
      return { ref: '{{obj.count}}', greater_than_or_equal: c * 100 };
  }
}

function buildModel(specs: readonly ActionSpec[], order: readonly number[]): Model {
  const ids = specs.map((spec, i) => (spec.hyphenated ? `step-${i}` : `a${i}`));
  const deps = new Map(ids.map((id, i) => [id, [...new Set(i === 0 ? [] : specs[i]!.deps.map((d) => d % i))].map((d) => ids[d]!)]));
  const ancestors = ancestorsOf(ids, deps);
  const kinds = new Map(ids.map((id, i) => [id, specs[i]!.kind]));
  const actions = ids.map((id, i): ActionInput => {
    const spec = specs[i]!;
    const upstream = [...ancestors.get(id)!].sort();
    const services = upstream.filter((other) => kinds.get(other) === 'service_call');
    // Field references only into service call responses, whose shape is known; whole responses from anyone.
    const others = upstream.filter((other) => kinds.get(other) !== 'service_call');
    const extra = spec.condition ? { condition: buildCondition(spec.condition, services) } : {};
    const values = spec.values.map((value) => buildValue(value, services, others));
    if (spec.kind === 'notification') {
      const [first] = spec.values;
      const message = `msg ${first!.t1}{{n1}}${services.length > 0 ? ` {{${services[first!.a % services.length]}.response.s}}` : ''}${first!.t2}`;
      return notification(id, message, deps.get(id)!, extra);
    }
    if (spec.kind === 'transform') return transform(id, values.length === 1 ? values[0] : Object.fromEntries(values.map((value, k) => [`v${k}`, value])), deps.get(id)!, extra);
    return serviceCall(id, Object.fromEntries(values.map((value, k) => [`p${k}`, value])), deps.get(id)!, extra);
  });
  const declared = order.map((i) => actions[i]!);
  // Transforms have no handler to record what they built: a last transform collects every transform's whole
  // response (null for a skipped one, as it says on_skipped_input: run), so the final state shows them all.
  const transforms = ids.filter((id) => kinds.get(id) === 'transform');
  if (transforms.length > 0) {
    declared.push(transform('collect', Object.fromEntries(transforms.map((id) => [id, `{{${id}.response}}`])), transforms, { on_skipped_input: 'run' }));
    kinds.set('collect', 'transform');
    deps.set('collect', transforms);
  }
  return {
    kinds,
    delays: new Map(ids.map((id, i) => [id, specs[i]!.delay])),
    outputs: new Map(ids.map((id, i) => [id, specs[i]!.output])),
    deps,
    actions: declared,
  };
}

interface Expected {
  readonly ran: ReadonlySet<string>;
  /** What each action that ran received: a service call's parameters, a notification's message, a transform's output. */
  readonly inputs: ReadonlyMap<string, Json>;
  /** The result recorded for every action. */
  readonly results: ReadonlyMap<string, JsonObject>;
}

function expectedRun(model: Model, params: JsonObject): Expected {
  const byId = new Map(model.actions.map((action) => [action.action_id, action]));
  const ids = [...model.deps.keys()];
  const completed = new Set<string>();
  /** `{ status_code, response }` of every action so far; a skipped one has nulls (what on_skipped_input: run reads). */
  const recorded = new Map<string, { status_code: Json; response: Json }>();
  const ran = new Set<string>();
  const inputs = new Map<string, Json>();
  const results = new Map<string, JsonObject>();
  for (const id of ids) {
    const action = byId.get(id)!;
    const context: RenderContext = { params, results: recorded };
    const condition = action.condition as ConditionInput | undefined;
    const reads = referencedIds([action.config, condition ?? null], PARAMETER_NAMES);
    const guarded = action.on_skipped_input !== 'run' && [...reads].some((read) => !completed.has(read));
    if (guarded || (condition !== undefined && !evaluate(condition, context))) {
      recorded.set(id, { status_code: null, response: null });
      results.set(id, { outcome: 'skipped', status_code: null, response: null });
      continue;
    }
    ran.add(id);
    let result: { status_code: Json; response: Json };
    if (action.action_type === 'service_call') {
      inputs.set(id, render((action.config as { parameters: unknown }).parameters, context));
      const output = model.outputs.get(id)!;
      result = { status_code: output.status, response: responseOf(output) };
    } else if (action.action_type === 'notification') {
      inputs.set(id, render((action.config as { message: unknown }).message, context));
      result = { status_code: 200, response: { event_id: `event-${id}` } };
    } else {
      const output = render((action.config as { output: unknown }).output, context);
      inputs.set(id, output);
      result = { status_code: null, response: output };
    }
    completed.add(id);
    recorded.set(id, result);
    results.set(id, { outcome: 'completed', ...result });
  }
  return { ran, inputs, results };
}

async function run(model: Model, params: JsonObject): Promise<RunResult> {
  const compiled = compileChecked(workflow(model.actions, PARAMETERS));
  const handlers = Object.fromEntries(
    [...model.kinds]
      .filter(([, kind]) => kind !== 'transform')
      .map(([id, kind]) => [
        id,
        async (): Promise<Json> => {
          await sleep(model.delays.get(id)!);
          const output = model.outputs.get(id)!;
          return kind === 'notification' ? eventsResult(`event-${id}`) : lambdaResult(responseOf(output), output.status);
        },
      ]),
  );
  return execute(compiled.definition, params, { handlers });
}

/** fast-check builds some records without a prototype; state data is plain JSON. */
const plain = (value: JsonObject): JsonObject => JSON.parse(JSON.stringify(value)) as JsonObject;

// Sizes drawn uniformly from 1..40 (fc.array alone prefers small arrays).
const modelArb = fc
  .integer({ min: 1, max: 40 })
  .chain((size) => fc.array(actionSpecArb, { minLength: size, maxLength: size }))
  .chain((specs) => fc.tuple(fc.constant(specs), fc.shuffledSubarray([...specs.keys()], { minLength: specs.length, maxLength: specs.length })))
  .map(([specs, order]) => buildModel(specs, order));

describe('random workflows, compiled and executed', () => {
  it('run every action once (or skip it exactly when it should), after everything it depends on, with correctly typed inputs', async () => {
    await fc.assert(
      fc.asyncProperty(modelArb, paramsArb, async (model, generated) => {
        const params = plain(generated);
        const expected = expectedRun(model, params);
        const result = await run(model, params);
        expect(result.status, `${result.error}: ${result.cause}`).toBe('succeeded');
        expect(result.output!.params).toEqual(params);

        const ancestors = ancestorsOf([...model.deps.keys()], model.deps);
        for (const [id, kind] of model.kinds) {
          if (kind === 'transform') continue;
          const runs = expected.ran.has(id) ? 1 : 0;
          const calls = result.recorder.to(id);
          expect(calls, id).toHaveLength(runs);
          if (runs === 0) continue;
          const call = calls[0]!;
          const received = kind === 'service_call' ? payloadOf(call).parameters : detailOf(call).message;
          expect(received, `${id} received`).toStrictEqual(expected.inputs.get(id));
          for (const ancestor of ancestors.get(id)!) {
            for (const before of result.recorder.to(ancestor)) {
              expect(call.startSeq, `${id} started before ${ancestor} ended`).toBeGreaterThan(before.endSeq);
              expect(call.start).toBeGreaterThanOrEqual(before.end);
            }
          }
        }
        // Sinks are the workflow's outputs: their results are in the final state, whatever their outcome.
        for (const id of model.kinds.keys()) {
          const isSink = ![...model.deps.values()].some((deps) => deps.includes(id));
          if (isSink) expect(result.output!.results, `result of ${id}`).toHaveProperty([id], expected.results.get(id));
        }
      }),
      RUNS,
    );
  });

  it('keeps a transform output identical to the independently rendered value', async () => {
    // Transforms only: every value lands in the final state, so types are compared without any handler in between.
    await fc.assert(
      fc.asyncProperty(fc.array(valueSpecArb, { minLength: 1, maxLength: 8 }), paramsArb, async (values, generated) => {
        const params = plain(generated);
        // A chain t0 -> t1 -> ... where each may use the previous one's output, and a sink collecting them all.
        const actions = values.map((value, i) => transform(`t${i}`, buildValue(value, [], i === 0 ? [] : [`t${i - 1}`]), i === 0 ? [] : [`t${i - 1}`]));
        const ids = actions.map((action) => action.action_id);
        actions.push(transform('all', Object.fromEntries(ids.map((id) => [id, `{{${id}.response}}`])), ids));
        const model: Model = { kinds: new Map(actions.map((action) => [action.action_id, 'transform'])), delays: new Map(), outputs: new Map(), deps: new Map(actions.map((action) => [action.action_id, action.depends_on ?? []])), actions };
        const expected = expectedRun(model, params);
        const result = await run(model, params);
        expect(result.status, `${result.error}: ${result.cause}`).toBe('succeeded');
        expect((result.output!.results as JsonObject).all).toStrictEqual(expected.results.get('all'));
      }),
      { numRuns: 50 },
    );
  });
});

/** Every action's transitive dependencies, from the production graph code. */
function ancestorsOf(ids: readonly string[], deps: ReadonlyMap<string, readonly string[]>): Map<string, Set<string>> {
  return transitiveDependencies(ids.map((id) => ({ action_id: id, depends_on: deps.get(id) ?? [] })));
}
