import { describe, expect, it } from 'vitest';
import { answerOfModelBody, checkLlmAnswer, OutputSchemaMismatchError, parseAnswer, repairRequest } from '../../../../core/execution/llm-check.ts';
import { thrownBy } from '../support/errors.ts';

/** The action runner's `llm_check` (the same function answers it in AWS and in the local engine). */

const SCHEMA = { type: 'object', properties: { n: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['n'], additionalProperties: false };
const usage = { input_tokens: 30, output_tokens: 4 };
const check = (text: string, attempt: 1 | 2, extra: Record<string, unknown> = {}) =>
  checkLlmAnswer({ llm_check: { action_id: 'count', execution_id: 'run-1', schema: SCHEMA, answer: { text, usage }, attempt, ...extra } });

describe('checkLlmAnswer', () => {
  it('makes a valid answer the result, with its parsed json and the tokens of every call', () => {
    expect(check('{"n": 3}', 1)).toEqual({ outcome: 'completed', status_code: null, response: { text: '{"n": 3}', json: { n: 3 }, usage } });
    expect(check(' {"n": 3, "tags": ["a"]} ', 2, { earlier_usage: { input_tokens: 100, output_tokens: 50 } })).toMatchObject({ outcome: 'completed', response: { json: { n: 3, tags: ['a'] }, usage: { input_tokens: 130, output_tokens: 54 } } });
  });

  it('answers a first invalid answer with the two turns of the repair call: the answer, then every schema error', () => {
    const result = check('{"n": "three", "extra": true}', 1);
    expect(result.outcome).toBe('invalid');
    if (result.outcome !== 'invalid') return;
    expect(result.response.assistant).toEqual({ role: 'assistant', content: '{"n": "three", "extra": true}' });
    expect(result.response.feedback.role).toBe('user');
    expect(result.response.feedback.content).toBe(
      "Your answer does not match the JSON Schema:\n- the answer: must NOT have additional properties ('extra')\n- /n: must be integer\nAnswer again with only the corrected JSON value.",
    );
    expect(result.response.errors.map((error) => error.keyword)).toEqual(['additionalProperties', 'type']);
  });

  it('fails a second invalid answer with OutputSchemaMismatchError, the ajv errors in its JSON message', () => {
    const error = thrownBy(() => check('{"n": 1.5}', 2)) as Error;
    expect(error).toBeInstanceOf(OutputSchemaMismatchError);
    expect(error.name).toBe('OutputSchemaMismatchError');
    const detail = JSON.parse(error.message) as Record<string, unknown>;
    expect(detail).toEqual({
      action_id: 'count',
      reason: 'the answer does not match output_schema, after one repair',
      errors: [{ instancePath: '/n', schemaPath: '#/properties/n/type', keyword: 'type', params: { type: 'integer' }, message: 'must be integer' }],
      answer: '{"n": 1.5}',
    });
  });

  it('reads JSON inside one code fence, and calls anything else that does not parse "not JSON"', () => {
    expect(parseAnswer('```json\n{"n": 1}\n```')).toEqual({ value: { n: 1 } });
    expect(parseAnswer('```\n[1, 2]\n```')).toEqual({ value: [1, 2] });
    expect(parseAnswer('Here it is: {"n": 1}')).toHaveProperty('reason');
    const result = check('Sure! {"n": 1}', 1);
    expect(result.outcome === 'invalid' && result.response.feedback.content).toMatch(/^Your answer does not match the JSON Schema:\n- the answer: is not JSON \(/);
    expect(repairRequest([{ instancePath: '/a', schemaPath: '#/properties/a/enum', keyword: 'enum', params: { allowedValues: ['x', 1] }, message: 'must be equal to one of the allowed values' }])).toContain('- /a: must be equal to one of the allowed values ("x", 1)');
  });

  it('refuses a payload that is not a check as InvalidPayloadError', () => {
    const error = thrownBy(() => checkLlmAnswer({ llm_check: { action_id: 'a', schema: SCHEMA, attempt: 3 } })) as Error;
    expect(error.name).toBe('InvalidPayloadError');
    expect(error.message).toContain('execution_id');
  });
});

describe('answerOfModelBody', () => {
  it('takes the first content block and the usage of a Messages response, as the compiled ResultSelector does', () => {
    expect(answerOfModelBody({ content: [{ type: 'text', text: 'hi' }, { type: 'text', text: 'ignored' }], usage: { input_tokens: 1, output_tokens: 2, cache_read_input_tokens: 0 } })).toEqual({ text: 'hi', usage: { input_tokens: 1, output_tokens: 2 } });
    expect(answerOfModelBody({ content: [], usage: { input_tokens: 1, output_tokens: 2 } })).toBeUndefined();
    expect(answerOfModelBody(undefined)).toBeUndefined();
  });
});
