import { describe, expect, it } from 'vitest';
import { LLM_TRANSIENT_ERRORS } from '../../../core/execution/llm-check.ts';
import type { TaskState } from '../../../statemachines/asl.ts';
import { actionError, allStates, compileChecked, execute, lambdaResult, modelAnswer, type Json, type JsonObject } from './support/harness.ts';
import { LABEL_SCHEMA, llm, param, serviceCall, workflow } from './support/workflows.ts';

/**
 * llm actions compiled (statemachines/actions/llm.ts) and run on the ASL interpreter: the model call is a native
 * bedrock:invokeModel Task (here a handler answering as Bedrock does), the output_schema check is the action
 * runner's own code (the harness's default for `llm_check` payloads), so what is tested is the definition and
 * the check together.
 */

const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';

/** The Messages body a model call was sent. */
function bodyOf(input: Json): { system?: string; messages: { role: string; content: string }[]; max_tokens: number; temperature?: number; anthropic_version: string } {
  return (input as { Body: never }).Body;
}

/** A model that answers each call with the next of `answers`. */
function scripted(...answers: string[]): (input: Json) => Json {
  let call = 0;
  return () => modelAnswer(answers[Math.min(call++, answers.length - 1)]!, { input_tokens: 100 + call, output_tokens: 10 + call });
}

const labelled = (extra: Record<string, unknown> = {}) =>
  workflow([llm('classify', { system: 'You label things.', prompt: 'Label {{thing}}', output_schema: LABEL_SCHEMA }, [], extra)], [param('thing', 'string')]);

describe('an llm action without output_schema', () => {
  const flow = workflow(
    [
      serviceCall('fetch', { url: '{{url}}' }),
      llm('summarize', { system: 'Audience: {{audience}}.', prompt: 'Summarise "{{fetch.response.title}}":\n{{fetch.response.content}}', max_tokens: 300, temperature: 0.3 }, ['fetch']),
    ],
    [param('url', 'string'), param('audience', 'string')],
  );

  it('compiles to a native bedrock:invokeModel Task with the Anthropic Messages body, Bedrock retries and the failure catch', () => {
    const { definition } = compileChecked(flow);
    const states = allStates(definition);
    expect(states.get('summarize')).toMatchObject({ Type: 'Pass', ResultPath: '$.results.summarize', Next: 'summarize: call' });
    const call = states.get('summarize: call') as TaskState;
    expect(call.Resource).toBe('arn:aws:states:::bedrock:invokeModel');
    expect(call.Parameters).toEqual({
      ModelId: MODEL,
      Body: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 300, temperature: 0.3, 'system.$': '$.results.summarize.prompt.system', 'messages.$': 'States.Array($.results.summarize.prompt.turns.m0)' },
    });
    expect(call.ResultSelector).toEqual({ outcome: 'completed', status_code: null, response: { 'text.$': '$.Body.content[0].text', usage: { 'input_tokens.$': '$.Body.usage.input_tokens', 'output_tokens.$': '$.Body.usage.output_tokens' } } });
    expect(call.Retry).toEqual([{ ErrorEquals: [...LLM_TRANSIENT_ERRORS, 'States.Timeout'], IntervalSeconds: 2, MaxAttempts: 2, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: 'FULL' }]);
    expect(call.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failures.summarize', Next: 'summarize: describe failure' }]);
    // No Lambda is involved in the call.
    expect(JSON.stringify(call)).not.toContain('ActionRunnerFunctionArn');
  });

  it('sends the prompt templated from parameters and earlier outputs, and records { outcome, status_code: null, response: { text, usage } }', async () => {
    const { definition } = compileChecked(flow);
    const result = await execute(definition, { url: 'https://example.com/a', audience: 'engineers' }, {
      handlers: {
        fetch: () => lambdaResult({ title: 'On "quotes"', content: 'line one\nline two' }),
        'summarize: call': () => modelAnswer('A short summary.', { input_tokens: 42, output_tokens: 7 }),
      },
    });
    expect(result.status, result.cause).toBe('succeeded');
    const body = bodyOf(result.recorder.only('summarize: call').input);
    expect(body).toMatchObject({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 300, temperature: 0.3, system: 'Audience: engineers.' });
    expect(body.messages).toEqual([{ role: 'user', content: 'Summarise "On "quotes"":\nline one\nline two' }]);
    expect((result.output!['results'] as JsonObject)['summarize']).toEqual({ outcome: 'completed', status_code: null, response: { text: 'A short summary.', usage: { input_tokens: 42, output_tokens: 7 } } });
  });

  it('sends messages in order, the system messages joined into the system text', async () => {
    const conversation = workflow(
      [llm('chat', { system: 'Be brief.', messages: [{ role: 'system', content: 'Speak {{language}}.' }, { role: 'user', content: 'Hello {{name}}' }, { role: 'assistant', content: 'Hi!' }, { role: 'user', content: 'And {{name}} again' }] })],
      [param('language', 'string'), param('name', 'string')],
    );
    const result = await execute(compileChecked(conversation).definition, { language: 'French', name: 'Ada' }, { handlers: { 'chat: call': () => modelAnswer('Bonjour') } });
    expect(result.status, result.cause).toBe('succeeded');
    const body = bodyOf(result.recorder.only('chat: call').input);
    expect(body.system).toBe('Be brief.\n\nSpeak French.');
    expect(body.messages).toEqual([
      { role: 'user', content: 'Hello Ada' },
      { role: 'assistant', content: 'Hi!' },
      { role: 'user', content: 'And Ada again' },
    ]);
  });

  it("retries Bedrock's throttling with the action's policy, and fails at once on a refusal", async () => {
    const { definition } = compileChecked(workflow([llm('ask', { prompt: 'hi' }, [], { retry: { max_attempts: 3, interval_seconds: 1 } })]));
    let calls = 0;
    const retried = await execute(definition, {}, { handlers: { 'ask: call': () => (++calls < 3 ? Promise.reject(actionError('Bedrock.ThrottlingException', 'Too many requests')) : modelAnswer('ok')) } });
    expect(retried.status, retried.cause).toBe('succeeded');
    expect(retried.recorder.to('ask: call')).toHaveLength(3);

    const refused = await execute(definition, {}, { handlers: { 'ask: call': () => Promise.reject(actionError('Bedrock.ValidationException', 'max_tokens too large')) } });
    expect(refused).toMatchObject({ status: 'failed', error: 'ActionFailed' });
    expect(refused.cause).toContain('action ask failed: Bedrock.ValidationException: max_tokens too large');
    expect(refused.recorder.to('ask: call')).toHaveLength(1);
  });
});

describe('an llm action with output_schema', () => {
  it('tells the model the schema, checks the answer in the action runner, and records it with its parsed json', async () => {
    const { definition } = compileChecked(labelled());
    const states = allStates(definition);
    expect([...states.keys()].filter((name) => name.startsWith('classify'))).toEqual([
      'classify',
      'classify: call',
      'classify: check',
      'classify: valid?',
      'classify: answer',
      'classify: repair',
      'classify: recheck',
      'classify: describe failure',
      'classify: failed',
    ]);
    const check = states.get('classify: check') as TaskState;
    expect(check.Resource).toBe('arn:aws:states:::lambda:invoke');
    expect((check.Parameters!['Payload'] as JsonObject)['llm_check']).toMatchObject({ action_id: 'classify', attempt: 1, schema: LABEL_SCHEMA, 'answer.$': '$.results.classify.answer' });

    const result = await execute(definition, { thing: 'a sunny day' }, { handlers: { 'classify: call': scripted('{"label": "good", "confidence": 0.9}') } });
    expect(result.status, result.cause).toBe('succeeded');
    const system = bodyOf(result.recorder.only('classify: call').input).system!;
    expect(system.startsWith('You label things.\n\nAnswer with a single JSON value')).toBe(true);
    expect(system).toContain('"required": [');
    expect(result.recorder.to('classify: repair')).toHaveLength(0);
    expect((result.output!['results'] as JsonObject)['classify']).toEqual({
      outcome: 'completed',
      status_code: null,
      response: { text: '{"label": "good", "confidence": 0.9}', json: { label: 'good', confidence: 0.9 }, usage: { input_tokens: 101, output_tokens: 11 } },
    });
  });

  it('asks once more with its answer and the schema errors when the answer does not match, and takes the repaired answer', async () => {
    const { definition } = compileChecked(labelled());
    const result = await execute(definition, { thing: 'rain' }, {
      handlers: { 'classify: call': scripted('{"label": "meh"}'), 'classify: repair': scripted('```json\n{"label": "bad", "confidence": 0.4}\n```') },
    });
    expect(result.status, result.cause).toBe('succeeded');
    const repair = bodyOf(result.recorder.only('classify: repair').input);
    expect(repair.system).toBe(bodyOf(result.recorder.only('classify: call').input).system);
    expect(repair.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(repair.messages[0]).toEqual({ role: 'user', content: 'Label rain' });
    expect(repair.messages[1]).toEqual({ role: 'assistant', content: '{"label": "meh"}' });
    // The schema errors: the value outside the enum and the missing property.
    expect(repair.messages[2]!.content).toContain('/label: must be equal to one of the allowed values ("good", "bad")');
    expect(repair.messages[2]!.content).toContain("the answer: must have required property 'confidence'");
    const recorded = (result.output!['results'] as JsonObject)['classify'] as JsonObject;
    // Both calls' tokens.
    expect(recorded).toMatchObject({ outcome: 'completed', status_code: null, response: { json: { label: 'bad', confidence: 0.4 }, usage: { input_tokens: 101 + 101, output_tokens: 11 + 11 } } });
  });

  it('fails the action with OutputSchemaMismatchError and the schema errors when the repaired answer still does not match', async () => {
    const { definition } = compileChecked(labelled());
    const result = await execute(definition, { thing: 'fog' }, { handlers: { 'classify: call': scripted('not json at all'), 'classify: repair': scripted('{"label": "good", "confidence": 7}') } });
    expect(result).toMatchObject({ status: 'failed', error: 'ActionFailed' });
    expect(result.cause).toMatch(/^action classify failed: OutputSchemaMismatchError: /);
    // The cause is the error's JSON (the interpreter drops its backslashes in States.Format, so it is read as text here;
    // core/execution/llm-check.test.ts parses it).
    expect(result.cause).toContain('"action_id":"classify"');
    expect(result.cause).toContain('"instancePath":"/confidence","schemaPath":"#/properties/confidence/maximum","keyword":"maximum"');
    // The first answer was not JSON: the repair request said so.
    expect(bodyOf(result.recorder.only('classify: repair').input).messages[2]!.content).toContain('the answer: is not JSON');
  });

  it('records the mismatch as its failure and goes on with on_failure continue', async () => {
    const { definition } = compileChecked(workflow([llm('classify', { prompt: 'Label it', output_schema: LABEL_SCHEMA }, [], { on_failure: 'continue' }), serviceCall('after', { label: '{{classify.response.json.label}}' }, ['classify'], { on_skipped_input: 'skip' })]));
    const result = await execute(definition, {}, { handlers: { 'classify: call': scripted('{}'), 'classify: repair': scripted('{}') } });
    expect(result.status, result.cause).toBe('succeeded');
    expect((result.output!['results'] as JsonObject)['classify']).toMatchObject({ outcome: 'failed', status_code: null, response: null, error: 'OutputSchemaMismatchError' });
    expect(result.recorder.to('after')).toHaveLength(0);
  });
});

describe('llm actions at dependency gates', () => {
  it('wait at their gate and read the released outputs of producers that ran in another branch (the N: a->c, b->c, b->d)', async () => {
    const n = workflow([serviceCall('a'), serviceCall('b'), llm('c', { prompt: 'Compare {{a.response.v}} with {{b.response.v}}' }, ['a', 'b']), serviceCall('d', {}, ['b'])]);
    const compiled = compileChecked(n);
    expect(compiled.gates.get('c')?.length).toBeGreaterThan(0);
    const result = await execute(compiled.definition, {}, {
      handlers: { a: () => lambdaResult({ v: 'apples' }), b: () => lambdaResult({ v: 'pears' }), 'c: call': () => modelAnswer('different') },
    });
    expect(result.status, result.cause).toBe('succeeded');
    expect(bodyOf(result.recorder.only('c: call').input).messages).toEqual([{ role: 'user', content: 'Compare apples with pears' }]);
  });
});

describe('llm definitions', () => {
  it('leave output_schema out of templating: a {{...}} in a description is text, and reaches the model and the check as written', async () => {
    const schema = { type: 'object', description: 'Fill {{these}} in', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
    const { definition } = compileChecked(workflow([llm('ask', { system: 'Context: {{context}}', prompt: 'Go', output_schema: schema })], [param('context', 'string')]));
    const result = await execute(definition, { context: 'tests' }, { handlers: { 'ask: call': scripted('{"ok": true}') } });
    expect(result.status, result.cause).toBe('succeeded');
    expect(bodyOf(result.recorder.only('ask: call').input).system).toContain('"description": "Fill {{these}} in"');
    expect(result.recorder.only('ask: check').input).toMatchObject({ Payload: { llm_check: { schema } } });
  });
});
