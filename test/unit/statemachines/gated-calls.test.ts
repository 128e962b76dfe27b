import { describe, expect, it } from 'vitest';
import { GATE_UNAVAILABLE_ERROR } from '../../../core/errors.ts';
import { Resource, type TaskState } from '../../../statemachines/asl.ts';
import { allStates, compileChecked, execute, lambdaResult, payloadOf, type JsonObject } from './support/harness.ts';
import { param, serviceCall, transform, workflow } from './support/workflows.ts';

/**
 * Gated calls (ADR 0016): a service call that waits at its dependency gate in its own state, so that waiting
 * costs no transition. The N (a->c, b->c, b->d) puts c under a and gates it on b.
 */

const nShape = (c: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => [serviceCall('a'), serviceCall('b'), serviceCall('c', c, ['a', 'b'], extra), serviceCall('d', {}, ['b'])];
const stateOf = (compiled: ReturnType<typeof compileChecked>, name: string) => allStates(compiled.definition).get(name) as TaskState | undefined;

describe('a gated call', () => {
  it('waits in its own state: waitForTaskToken with its producers and token beside the call, no gate state, no time limit of its own', () => {
    const compiled = compileChecked(workflow(nShape()));
    expect(Object.fromEntries(compiled.gates)).toEqual({ c: ['b'] });
    expect(stateOf(compiled, 'c: gate')).toBeUndefined();
    const c = stateOf(compiled, 'c')!;
    expect(c.Resource).toBe(Resource.lambdaInvokeCallback);
    expect(c.TimeoutSeconds).toBeUndefined();
    expect((c.Parameters!.Payload as JsonObject).gate_wait).toEqual({ producers: ['b'], 'task_token.$': '$$.Task.Token' });
    expect(c.Retry!.some((retrier) => retrier.ErrorEquals.includes(GATE_UNAVAILABLE_ERROR))).toBe(true);
    // A call that does not wait is as it was.
    expect(stateOf(compiled, 'd')).toMatchObject({ Resource: Resource.lambdaInvoke, TimeoutSeconds: 35 });
  });

  it('leaves the values that read released outputs for the runner, with what Step Functions resolves beside them', () => {
    const compiled = compileChecked(workflow(nShape({ from_b: '{{b.response.v}}', label: '{{name}}: {{b.response.v}} after {{a.response.v}}', from_a: '{{a.response.v}}', nested: { list: ['{{b.response.v}}', 2] } }), [param('name', 'string')]));
    const payload = stateOf(compiled, 'c')!.Parameters!.Payload as JsonObject;
    expect((payload.gate_wait as JsonObject).deferred).toEqual([['parameters', 'from_b'], ['parameters', 'label'], ['parameters', 'nested', 'list']]);
    const parameters = payload.parameters as JsonObject;
    expect(parameters.from_b).toEqual({ template: '{{b.response.v}}', values: {} });
    expect(parameters.label).toEqual({ template: '{{name}}: {{b.response.v}} after {{a.response.v}}', values: { 'r0.$': '$.params.name', 'r2.$': '$.results.a.response.v' } });
    expect(parameters['from_a.$']).toBe('$.results.a.response.v');
  });

  it('is made after both producers, with every value it reads rendered with its type, whichever finishes last', async () => {
    const compiled = compileChecked(workflow(nShape({ from_b: '{{b.response.v}}', label: '{{name}}: {{b.response.v}} after {{a.response.v}}', nested: { list: ['{{b.response.v}}', 2] } }), [param('name', 'string')]));
    for (const slow of ['a', 'b']) {
      const delayed = (value: string | number) => async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        return lambdaResult({ v: value });
      };
      const run = await execute(compiled.definition, { name: 'x' }, { handlers: { a: slow === 'a' ? delayed('A') : () => lambdaResult({ v: 'A' }), b: slow === 'b' ? delayed(7) : () => lambdaResult({ v: 7 }) } });
      expect(run.status).toBe('succeeded');
      const c = run.recorder.only('c');
      expect(c.start).toBeGreaterThanOrEqual(Math.max(run.recorder.only('a').end, run.recorder.only('b').end));
      expect(payloadOf(c).parameters).toEqual({ from_b: 7, label: 'x: 7 after A', nested: { list: [7, 2] } });
      expect(payloadOf(c)).not.toHaveProperty('gate_wait');
    }
  });

  it('goes under the producer whose output it reads when that gates it no more, so that the output is in its state data', () => {
    const readsB = compileChecked(workflow(nShape({ from_b: '{{b.response.v}}' })));
    expect(Object.fromEntries(readsB.gates)).toEqual({ c: ['a'] });
    expect((stateOf(readsB, 'c')!.Parameters!.Payload as JsonObject).gate_wait).not.toHaveProperty('deferred');
    expect(Object.fromEntries(compileChecked(workflow(nShape({ from_a: '{{a.response.v}}' }))).gates)).toEqual({ c: ['b'] });
  });

  it('is not used where something stands between the gate and the call, or where a value the failure states read comes from the release', () => {
    const guarded = compileChecked(workflow(nShape({}, { condition: { ref: '{{flag}}', equals: true } }), [param('flag', 'boolean')]));
    expect(stateOf(guarded, 'c: gate')).toBeDefined();
    expect(stateOf(guarded, 'c')!.Resource).toBe(Resource.lambdaInvoke);

    // It reads both producers in its endpoint: whichever it goes under, the other's output comes with the release.
    const method = workflow(nShape());
    (method.actions[2] as { config: Record<string, unknown> }).config.endpoint = '/c/{{a.response.v}}/{{b.response.v}}';
    expect(stateOf(compileChecked(method), 'c: gate')).toBeDefined();

    const notACall = compileChecked(workflow([serviceCall('a'), serviceCall('b'), transform('c', { v: 1 }, ['a', 'b']), serviceCall('d', {}, ['b'])]));
    expect(stateOf(notACall, 'c: gate')).toBeDefined();
  });
});
