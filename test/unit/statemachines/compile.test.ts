import { describe, expect, it } from 'vitest';
import type { ChoiceState, PassState, TaskState } from '../../../statemachines/asl.ts';
import { executionInput } from '../../../statemachines/compile.ts';
import { renderEndpoint } from '../../../functions/workers/service-url.ts';
import { simulatedStarts } from '../../../statemachines/lossless.ts';
import { definitionIssues } from '../../../core/workflow/validate.ts';
import { WorkflowDefinitionSchema } from '../../../core/workflow/definition.ts';
import {
  allStates,
  aslErrors,
  compileChecked,
  compileDefinition,
  execute,
  lambdaResult,
  parseWorkflow,
  payloadOf,
  statesEntered,
  WORKFLOW_ID,
  WORKFLOW_VERSION,
  type JsonObject,
} from './support/harness.ts';
import { compensationCall, foreach, notification, param, serviceCall, transform, wait, workflow } from './support/workflows.ts';

/** The compiled definition itself: naming, data kept in state, structure, placeholders; and reproductions of bugs. */

describe('compiled definition', () => {
  it('names states after action ids, with the documented auxiliary states', () => {
    const compiled = compileChecked(
      workflow(
        [
          serviceCall('a', {}, [], { compensation: compensationCall() }),
          serviceCall('b', { x: '{{a.response}}' }, ['a'], { condition: { ref: '{{go}}', equals: true }, on_failure: 'continue' }),
          serviceCall('c', {}, ['a'], { on_failure: 'compensate' }),
          foreach('d', '{{items}}', { action_type: 'transform', config: { output: '{{item}}' } }, 2, ['b', 'c']),
        ],
        [param('go', 'boolean'), param('items', 'array')],
      ),
    );
    const names = [...allStates(compiled.definition).keys()];
    expect(names).toEqual(
      expect.arrayContaining(['a', 'a: dead letter', 'a: compensate?', 'a: compensate', 'a: compensation dead letter', 'b: run?', 'b', 'b: skipped', 'b: dead letter', 'b: dead letter event', 'b: record failure', 'c', 'c: record failure', 'd', 'd: each item', 'a: held', 'b: held', 'c: held', 'fork 1']),
    );
    expect((allStates(compiled.definition).get('a') as TaskState).Type).toBe('Task');
    expect((allStates(compiled.definition).get('b: run?') as ChoiceState).Type).toBe('Choice');
    expect((allStates(compiled.definition).get('b: skipped') as PassState).Result).toEqual({ outcome: 'skipped', status_code: null, response: null });
    // Anything else is the compiler's own, and can never be mistaken for an action id (ids have no spaces or colons).
    const documented = /^(?:[a-d](?:: (?:run\?|skipped|dead letter|dead letter event|failed|describe failure|record failure|compensate\?|compensate|compensation dead letter|compensation done|each item|held|item held))?|(?:compensate )?fork \d+|saga: .+|initialize|done)$/;
    expect(names.filter((name) => !documented.test(name))).toEqual([]);
  });

  it('expects the input runtimes build with executionInput: params, and empty results and failures', () => {
    expect(executionInput({ a: 1 })).toEqual({ params: { a: 1 }, results: {}, failures: {}, trace_id: '' });
    expect(executionInput({}, '4bf92f3577b34da6a3ce929d0e0e4736').trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('compiles a rerun variant that takes reused results from the input, through forks, and runs only the rest', async () => {
    const definition = workflow([
      serviceCall('a'),
      serviceCall('b', { from_a: '{{a.response}}' }, ['a']),
      serviceCall('c', {}, ['a']),
      wait('w', { seconds: 5 }, ['a']),
      serviceCall('d', { from_b: '{{b.response}}', from_c: '{{c.response}}' }, ['b', 'c', 'w']),
    ]);
    const plain = compileChecked(definition);
    const variant = compileChecked(definition, { reuse: true });
    expect([...allStates(plain.definition).keys()].some((name) => name.includes('reuse'))).toBe(false);
    const reuse = { a: { outcome: 'completed', status_code: 200, response: { n: 'a-before' } }, b: { outcome: 'completed', status_code: 200, response: { n: 'b-before' } }, w: {} };
    const result = await execute(variant.definition, {}, { extraInput: { reuse }, waitTimeOverrides: { w: 60_000 } });
    expect(result.status).toBe('succeeded');
    // a, b and the wait were reused (the wait would have taken a minute); c and d ran, d with b's reused result.
    expect(result.recorder.calls.map((call) => call.state).filter((state) => !state.includes(': ')).sort()).toEqual(['c', 'd']);
    expect(JSON.stringify(result.recorder.only('d').input)).toContain('b-before');
    expect(statesEntered(result)).toEqual(expect.arrayContaining(['a: reused', 'b: reused', 'w: reused', 'c: reuse?', 'c', 'd']));
  });

  it('lists the runtime placeholders it uses', () => {
    // A failure that ends the run passes the runner's redrive gate, so every such action needs the runner.
    expect(compileChecked(workflow([notification('n', 'hi')])).placeholders).toEqual(['${ActionRunnerFunctionArn}', '${EventBusName}']);
    expect(compileChecked(workflow([notification('n', 'hi', [], { on_failure: 'continue' })])).placeholders).toEqual(['${EventBusName}']);
    expect(compileChecked(workflow([serviceCall('s')])).placeholders).toEqual(['${ActionRunnerFunctionArn}', '${DeadLetterQueueUrl}']);
  });

  it('keeps in state data only the results read later or returned at the end', () => {
    const compiled = compileChecked(workflow([serviceCall('a'), serviceCall('b', {}, ['a']), serviceCall('c', { from_a: '{{a.response}}' }, ['b'])]));
    const states = allStates(compiled.definition);
    expect((states.get('a') as TaskState).ResultPath).toBe('$.results.a');
    expect((states.get('b') as TaskState).ResultPath).toBeNull();
    expect((states.get('c') as TaskState).ResultPath).toBe('$.results.c');
  });

  it('returns the params and the sinks at the end, and never a result nobody reads', async () => {
    const compiled = compileChecked(workflow([serviceCall('a'), serviceCall('b', {}, ['a']), serviceCall('c', { from_a: '{{a.response}}' }, ['b'])]));
    const run = await execute(compiled.definition, { extra: 1 }, { handlers: { a: () => lambdaResult({ v: 1 }) } });
    expect(run.output!.params).toEqual({ extra: 1 });
    expect(run.output!.results).toMatchObject({ c: { outcome: 'completed', status_code: 200, response: { state: 'c' } } });
    expect(run.output!.results).not.toHaveProperty('b');
    expect(payloadOf(run.recorder.only('c')).parameters).toEqual({ from_a: { v: 1 } });
  });

  it('needs no duration hints: an N is compiled the same whatever they say, with a gate instead of an added order', () => {
    // a -> c, b -> c, b -> d is not series-parallel: no nesting of Parallel states runs it without waiting too long somewhere.
    const actions = (hints: readonly number[]) => [
      serviceCall('a', {}, [], { expected_duration_seconds: hints[0] }),
      serviceCall('b', {}, [], { expected_duration_seconds: hints[1] }),
      serviceCall('c', {}, ['a', 'b'], { expected_duration_seconds: hints[2] }),
      serviceCall('d', {}, ['b'], { expected_duration_seconds: hints[3] }),
    ];
    const slowA = compileDefinition(parseWorkflow(workflow(actions([10, 1, 1, 10]))));
    const slowB = compileDefinition(parseWorkflow(workflow(actions([1, 10, 10, 1]))));
    expect(slowA.definition).toEqual(slowB.definition);
    expect(Object.fromEntries(slowA.gates)).toEqual({ c: ['b'] });
    for (const hints of [[10, 1, 1, 10], [1, 10, 10, 1]]) {
      const duration = (id: string) => hints['abcd'.indexOf(id)]!;
      const starts = simulatedStarts(slowA, duration);
      expect(starts.get('c')).toBe(Math.max(duration('a'), duration('b')));
      expect(starts.get('d')).toBe(duration('b'));
    }
    expect(aslErrors(slowA.definition)).toEqual([]);
  });

  it('escapes literal text in intrinsic functions (quote, braces) and keeps the references as arguments', () => {
    const compiled = compileChecked(workflow([serviceCall('s', { text: `it's {x} "q" {{name}}!`, list: [`a'{b}`, '{{name}}'] })], [param('name', 'string')]));
    const parameters = ((allStates(compiled.definition).get('s') as TaskState).Parameters!.Payload as JsonObject).parameters as JsonObject;
    expect(parameters['text.$']).toBe(`States.Format('it\\'s \\{x\\} "q" {}!', $.params.name)`);
    expect(parameters['list.$']).toBe(`States.StringToJson(States.Format('["a\\'\\{b\\}",{}]', States.JsonToString($.params.name)))`);
  });
});

describe('compiler bugs (reproductions)', () => {
  const diamond = (suffix: string, extra: Record<string, unknown> = {}) => [
    serviceCall(`a${suffix}`, {}, [], extra),
    serviceCall(`b${suffix}`, {}, [`a${suffix}`], extra),
    serviceCall(`c${suffix}`, {}, [`a${suffix}`], extra),
    serviceCall(`d${suffix}`, {}, [`b${suffix}`, `c${suffix}`]),
  ];

  // Regression: Parallel states in different branches once shared `fork N` names (the counter was copied into
  // each branch's context).
  it('gives every Parallel state a unique name (two independent diamonds)', () => {
    const compiled = compileDefinition(parseWorkflow(workflow([...diamond('1'), ...diamond('2')])));
    expect(aslErrors(compiled.definition)).toEqual([]);
    expect([...allStates(compiled.definition).keys()].filter((name) => name.startsWith('fork '))).toHaveLength(3);
  });

  it('gives every compensation Parallel state a unique name', () => {
    const compensated = { compensation: compensationCall() };
    const actions = [...diamond('1', compensated), ...diamond('2', compensated)].map((action) => (action.action_id.startsWith('d') ? { ...action, on_failure: 'compensate' } : action));
    const compiled = compileDefinition(parseWorkflow(workflow(actions)));
    expect(aslErrors(compiled.definition)).toEqual([]);
  });

  it("retries a compensation's notification on PutEvents' transient errors, like its service call", () => {
    const undoNotice = { action_type: 'notification', config: { message: 'rolled back' } };
    const compiled = compileChecked(
      workflow([serviceCall('a', {}, [], { compensation: undoNotice }), serviceCall('b', {}, ['a'], { compensation: compensationCall(), on_failure: 'compensate' })]),
    );
    const states = allStates(compiled.definition);
    const notice = states.get('a: compensate') as TaskState;
    const call = states.get('b: compensate') as TaskState;
    expect(notice.Retry?.[0]?.ErrorEquals).toEqual(expect.arrayContaining(['EventBridge.ThrottlingException', 'EventBridge.InternalException']));
    expect(notice.Retry?.[0]?.MaxAttempts).toBe(call.Retry?.[0]?.MaxAttempts);
  });

  it('accepts an action named initialize', async () => {
    const compiled = compileChecked(workflow([serviceCall('initialize'), serviceCall('next', {}, ['initialize'])]));
    const run = await execute(compiled.definition, {});
    expect(run.recorder.calls.map((call) => call.state)).toEqual(['initialize', 'next']);
  });

  // `done` is the saga's fixed Succeed state: an action with that id in a workflow with compensation overwrites
  // it (compile.ts `states.done = { Type: 'Succeed' }`), and validation does not reserve the id. The run then
  // "succeeds" without ever calling the action.
  it('accepts an action named done in a workflow with compensation, or refuses it at validation', async () => {
    const input = workflow([serviceCall('a', {}, [], { compensation: compensationCall() }), serviceCall('done', {}, ['a'], { on_failure: 'compensate' })]);
    const parsed = WorkflowDefinitionSchema.parse(input);
    if (definitionIssues(parsed).length > 0) return;
    const compiled = compileDefinition(parsed);
    expect(aslErrors(compiled.definition)).toEqual([]);
    const run = await execute(compiled.definition, {});
    expect(run.recorder.to('done')).toHaveLength(1);
  });

  // paths.ts payloadTemplate says keys ending in `.$` "are refused by validation upstream"; validate.ts does not
  // refuse them, so a user key `x.$` becomes a JSONPath field and the definition is invalid.
  it('refuses a parameter key ending in .$ at validation, or compiles it to a valid definition', () => {
    const parsed = WorkflowDefinitionSchema.parse(workflow([serviceCall('a', { 'x.$': 'literal' })]));
    if (definitionIssues(parsed).length > 0) return;
    expect(aslErrors(compileDefinition(parsed).definition)).toEqual([]);
  });

  // asl-validator's payload-template schema refuses null and "" as array items (they are valid JSON and valid ASL);
  // the compiler emits literal arrays verbatim, so a workflow with such a literal fails the "every definition passes
  // asl-validator" requirement. The compiler could emit such arrays through States.StringToJson instead.
  it.fails('compiles literal arrays holding null or "" to definitions asl-validator accepts', () => {
    const compiled = compileDefinition(parseWorkflow(workflow([serviceCall('a', { list: [1, null, ''] }), transform('t', ['', null])])));
    expect(aslErrors(compiled.definition)).toEqual([]);
  });

  // The same requirement for text: the compiler escapes a backslash in intrinsic string literals as `\\` (right per
  // the ASL spec), but asl-validator's intrinsic grammar (asl-path-validator: `escaped = "\\" [^\\n]`) accepts no
  // escaped backslash. So text with a backslash next to a template, or a `"` / `\` in a literal string of an array
  // that also holds templates (JSON-escaped, then intrinsic-escaped), fails asl-validator.
  it.fails('compiles text with a backslash, and arrays with quoted strings, next to templates to definitions asl-validator accepts', () => {
    const compiled = compileDefinition(
      parseWorkflow(workflow([serviceCall('a', { path: 'C:\\docs\\{{name}}', list: ['say "hi"', '{{name}}'] })], [param('name', 'string')])),
    );
    expect(aslErrors(compiled.definition)).toEqual([]);
  });

  // paths.ts compileArray: an array whose only templates are compile-time constants ({{execution.workflow_id}},
  // {{execution.workflow_version}}) has no arguments left, but the call is still written with the separator:
  // `States.StringToJson(States.Format('["wf",1]', ))`, an invalid intrinsic (asl-validator refuses it; the
  // emulator throws).
  it('compiles an array holding only constant templates', async () => {
    const compiled = compileDefinition(parseWorkflow(workflow([serviceCall('a', { tags: ['{{execution.workflow_id}}', '{{execution.workflow_version}}', 'x'] })])));
    expect(aslErrors(compiled.definition)).toEqual([]);
    const run = await execute(compiled.definition, {});
    expect(payloadOf(run.recorder.only('a')).parameters).toEqual({ tags: [WORKFLOW_ID, WORKFLOW_VERSION, 'x'] });
  });

  // conditions.ts constantRule only understands equals / not_equals: any other operator on a compile-time constant
  // ({{execution.workflow_id}}, {{execution.workflow_version}}) compiles to a rule that never holds.
  it('evaluates conditions on compile-time constants with every operator', async () => {
    const compiled = compileChecked(
      workflow([
        serviceCall('version_above_zero', {}, [], { condition: { ref: '{{execution.workflow_version}}', greater_than: 0 } }),
        serviceCall('version_at_most_99', {}, [], { condition: { ref: '{{execution.workflow_version}}', less_than_or_equal: 99 } }),
        serviceCall('id_present', {}, [], { condition: { ref: '{{execution.workflow_id}}', is_present: true } }),
        serviceCall('id_not_null', {}, [], { condition: { ref: '{{execution.workflow_id}}', is_null: false } }),
      ]),
    );
    const run = await execute(compiled.definition, {});
    expect(run.recorder.calls.map((call) => call.state).sort()).toEqual(['id_not_null', 'id_present', 'version_above_zero', 'version_at_most_99']);
  });

  // ADR 0003: "compensate records the failure, lets independent work finish". compile.ts treats compensate like
  // continue: an action that depends on the failed one without reading its output still runs (and is then
  // compensated). Here ship depends on charge, charge fails with on_failure compensate, and ship is called.
  it('does not run the dependents of an action that failed with on_failure compensate', async () => {
    const compiled = compileChecked(
      workflow([
        serviceCall('reserve', {}, [], { compensation: compensationCall() }),
        serviceCall('charge', {}, ['reserve'], { on_failure: 'compensate' }),
        serviceCall('ship', {}, ['charge'], { compensation: compensationCall() }),
      ]),
    );
    const run = await execute(compiled.definition, {}, { handlers: { charge: () => Promise.reject(Object.assign(new Error('card declined'), { name: 'ServiceRejectedError' })) } });
    expect(run.error).toBe('WorkflowCompensated');
    expect(run.recorder.to('ship')).toHaveLength(0);
  });

  // paths.ts formatCall wraps only *declared* object/array parameters in States.JsonToString; an action output
  // (or a field of an object parameter) that is an object goes to States.Format as is, which accepts only
  // strings, numbers, booleans and null: the execution fails with States.Runtime (here and on AWS).
  it.fails('renders an object-valued action output inside text as a string (or refuses the template at validation)', async () => {
    const input = workflow([serviceCall('fetch'), notification('tell', 'fetched: {{fetch.response}}', ['fetch'])]);
    const parsed = WorkflowDefinitionSchema.parse(input);
    if (definitionIssues(parsed).length > 0) return;
    const run = await execute(compileChecked(input).definition, {}, { handlers: { fetch: () => lambdaResult({ pages: 2 }) } });
    expect(run.status, `${run.error}: ${run.cause}`).toBe('succeeded');
    expect(typeof (run.recorder.only('tell').input as { Entries: { Detail: { message: unknown } }[] }).Entries[0]!.Detail.message).toBe('string');
  });

  // A skipped output is null, so with on_skipped_input: run only whole outputs can be read; a field path would
  // point at nothing at run time, so validation refuses it up front.
  it('refuses an action with on_skipped_input: run that reads a field of another action\'s output', () => {
    const parsed = WorkflowDefinitionSchema.parse(
      workflow([serviceCall('a', {}, [], { condition: { ref: '{{go}}', equals: true } }), serviceCall('b', { x: '{{a.response.x}}', whole: '{{a.response}}' }, ['a'], { on_skipped_input: 'run' })], [param('go', 'boolean')]),
    );
    expect(definitionIssues(parsed)).toEqual([
      { field: 'actions[1].config.parameters.x', message: expect.stringContaining("{{a.response.x}} reads a field of 'a', whose output is null when it is skipped") },
    ]);
  });

  it('runs an action with on_skipped_input: run that reads a whole skipped output as null', async () => {
    const compiled = compileChecked(
      workflow([serviceCall('a', {}, [], { condition: { ref: '{{go}}', equals: true } }), serviceCall('b', { whole: '{{a.response}}' }, ['a'], { on_skipped_input: 'run' })], [param('go', 'boolean')]),
    );
    const run = await execute(compiled.definition, { go: false });
    expect(run.status, `${run.error}: ${run.cause}`).toBe('succeeded');
    expect(payloadOf(run.recorder.only('b')).parameters).toEqual({ whole: null });
  });
});

describe('templated endpoints', () => {
  const templated = (endpoint: string) =>
    compileChecked(workflow([{ action_id: 'get', action_type: 'service_call', config: { service: 'svc', endpoint, method: 'GET' } }], [param('p', 'string'), param('n', 'number')]));

  it('pass each referenced value beside the endpoint, for the runner to percent-encode; constants are encoded here', () => {
    const task = allStates(templated('/items/{{p}}/n/{{n}}/{{execution.workflow_id}}{x}').definition).get('get') as TaskState;
    const payload = (task.Parameters as { Payload: JsonObject }).Payload;
    expect(payload['endpoint']).toBe(`/items/{}/n/{}/${WORKFLOW_ID}%7Bx%7D`);
    expect(payload['endpoint_values']).toEqual({ '0.$': '$.params.p', '1.$': '$.params.n' });
    expect(payload).not.toHaveProperty('endpoint.$');
  });

  it('run: the state machine hands the raw values to the runner, which keeps them inside their segment', async () => {
    const run = await execute(templated('/items/{{p}}/n/{{n}}').definition, { p: '../../admin/secret', n: 7 });
    expect(run.status, `${run.error}: ${run.cause}`).toBe('succeeded');
    const payload = payloadOf(run.recorder.only('get'));
    expect(payload).toMatchObject({ endpoint: '/items/{}/n/{}', endpoint_values: { '0': '../../admin/secret', '1': 7 } });
    expect(renderEndpoint(payload as never)).toEqual({ path: '/items/..%2F..%2Fadmin%2Fsecret/n/7' });
  });

  it('leave an endpoint without references as it is', () => {
    const task = allStates(templated('/items/all').definition).get('get') as TaskState;
    expect((task.Parameters as { Payload: JsonObject }).Payload).toMatchObject({ endpoint: '/items/all' });
    expect((task.Parameters as { Payload: JsonObject }).Payload).not.toHaveProperty('endpoint_values');
  });
});
