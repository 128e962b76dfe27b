import { describe, expect, it } from 'vitest';
import { progressFromHistory } from '../../../statemachines/progress.ts';
import { allStates, compileChecked, modelAnswer } from './support/harness.ts';
import { History } from './support/history.ts';
import { LABEL_SCHEMA, llm, workflow } from './support/workflows.ts';

/**
 * An llm action's progress read back from a Step Functions history (what the status listener settles a run
 * with in AWS): state names from the real compiled definition, events as GetExecutionHistory gives them.
 */

const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const callParameters = { ModelId: MODEL, Body: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 1024, messages: [{ role: 'user', content: 'Label it' }] } };

function compiled(withSchema: boolean) {
  const input = workflow([llm('classify', { prompt: 'Label it', ...(withSchema ? { output_schema: LABEL_SCHEMA } : {}) })]);
  const machine = compileChecked(input);
  return { actions: [{ action_id: 'classify', action_type: 'llm' }], history: new History(allStates(machine.definition).keys()) };
}

/** The conversation state, entered and exited; returns the id of its exit. */
function prompted(history: History, data: boolean): number {
  const entered = history.entered('Pass', 'classify');
  return history.exited('Pass', 'classify', data ? { results: { classify: { prompt: { turns: { m0: { role: 'user', content: 'Label it' } } } } } } : undefined, entered);
}

describe('progressFromHistory, llm actions', () => {
  it('counts each model call as an attempt, adds its tokens, and completes with the call’s answer (no output_schema)', () => {
    const { actions, history } = compiled(false);
    const call = history.entered('Task', 'classify: call', prompted(history, true));
    const throttled = history.attempt(call, callParameters, { error: 'Bedrock.ThrottlingException', cause: 'Too many requests' });
    const answered = history.attempt(throttled, callParameters, { output: modelAnswer('good', { input_tokens: 12, output_tokens: 3 }) });
    const response = { text: 'good', usage: { input_tokens: 12, output_tokens: 3 } };
    history.exited('Task', 'classify: call', { results: { classify: { outcome: 'completed', status_code: null, response } } }, answered);
    history.add('ExecutionSucceeded', undefined, {});

    const [classify] = progressFromHistory(actions, history.events);
    expect(classify).toMatchObject({ status: 'completed', attempts: 2, output: { status_code: null, response }, usage: { model: MODEL, input_tokens: 12, output_tokens: 3 } });
    expect(classify!.error).toBeUndefined();
    expect(classify!.started_at! < classify!.ended_at!).toBe(true);
  });

  it('goes on through the check and the repair call, and completes with the repaired answer and the tokens of both calls', () => {
    const { actions, history } = compiled(true);
    const call = history.entered('Task', 'classify: call', prompted(history, true));
    const first = history.attempt(call, callParameters, { output: modelAnswer('{"label": "meh"}', { input_tokens: 20, output_tokens: 5 }) });
    const answer = { text: '{"label": "meh"}', usage: { input_tokens: 20, output_tokens: 5 } };
    const afterCall = history.exited('Task', 'classify: call', { results: { classify: { prompt: {}, answer } } }, first);
    const check = history.entered('Task', 'classify: check', afterCall);
    const invalid = { outcome: 'invalid', status_code: null, response: { errors: [], assistant: { role: 'assistant', content: answer.text }, feedback: { role: 'user', content: 'fix it' } } };
    const checked = history.attempt(check, { FunctionName: 'runner', Payload: { llm_check: { attempt: 1 } } }, { output: { Payload: invalid, StatusCode: 200 } });
    const afterCheck = history.exited('Task', 'classify: check', { results: { classify: { prompt: {}, answer, check: invalid } } }, checked);
    const choice = history.exited('Choice', 'classify: valid?', undefined, history.entered('Choice', 'classify: valid?', afterCheck));
    const repair = history.entered('Task', 'classify: repair', choice);
    const second = history.attempt(repair, callParameters, { output: modelAnswer('{"label": "bad", "confidence": 0.2}', { input_tokens: 40, output_tokens: 9 }) });
    const afterRepair = history.exited('Task', 'classify: repair', undefined, second);
    const recheck = history.entered('Task', 'classify: recheck', afterRepair);
    const final = { text: '{"label": "bad", "confidence": 0.2}', json: { label: 'bad', confidence: 0.2 }, usage: { input_tokens: 60, output_tokens: 14 } };
    const rechecked = history.attempt(recheck, { FunctionName: 'runner', Payload: { llm_check: { attempt: 2 } } }, { output: { Payload: { outcome: 'completed', status_code: null, response: final }, StatusCode: 200 } });
    history.exited('Task', 'classify: recheck', { results: { classify: { outcome: 'completed', status_code: null, response: final } } }, rechecked);
    history.add('ExecutionSucceeded', undefined, {});

    const [classify] = progressFromHistory(actions, history.events);
    expect(classify).toMatchObject({ status: 'completed', attempts: 2, output: { status_code: null, response: final }, usage: { model: MODEL, input_tokens: 60, output_tokens: 14 } });
  });

  it('fails with OutputSchemaMismatchError when the recheck fails, keeping the tokens the calls took', () => {
    const { actions, history } = compiled(true);
    const call = history.entered('Task', 'classify: call', prompted(history, false));
    const first = history.exited('Task', 'classify: call', undefined, history.attempt(call, callParameters, { output: modelAnswer('{}', { input_tokens: 20, output_tokens: 2 }) }));
    const check = history.entered('Task', 'classify: check', first);
    const invalid = { outcome: 'invalid', status_code: null, response: { errors: [] } };
    const afterCheck = history.exited('Task', 'classify: check', undefined, history.attempt(check, {}, { output: { Payload: invalid, StatusCode: 200 } }));
    const repair = history.entered('Task', 'classify: repair', history.exited('Choice', 'classify: valid?', undefined, history.entered('Choice', 'classify: valid?', afterCheck)));
    const afterRepair = history.exited('Task', 'classify: repair', undefined, history.attempt(repair, callParameters, { output: modelAnswer('{}', { input_tokens: 30, output_tokens: 2 }) }));
    const recheck = history.entered('Task', 'classify: recheck', afterRepair);
    const cause = '{"errorType":"OutputSchemaMismatchError","errorMessage":"{\\"action_id\\":\\"classify\\"}"}';
    const failed = history.attempt(recheck, {}, { error: 'OutputSchemaMismatchError', cause });
    history.exited('Pass', 'classify: describe failure', undefined, history.entered('Pass', 'classify: describe failure', failed));
    history.entered('Task', 'classify: failed');
    history.add('ExecutionFailed', undefined, { error: 'ActionFailed', cause: `action classify failed: OutputSchemaMismatchError: ${cause}` });

    const [classify] = progressFromHistory(actions, history.events, true);
    // Without data in the history, the first call's exit completed it for a moment; the failure states settle it.
    expect(classify).toMatchObject({ status: 'failed', attempts: 2, error: { error: 'OutputSchemaMismatchError', cause }, usage: { model: MODEL, input_tokens: 50, output_tokens: 4 } });
  });

  it('completes through the answer state when the first answer is valid, from the check’s result when the history has no data', () => {
    const { actions, history } = compiled(true);
    const call = history.entered('Task', 'classify: call', prompted(history, false));
    const afterCall = history.exited('Task', 'classify: call', undefined, history.attempt(call, callParameters, { output: modelAnswer('{"label":"good","confidence":1}') }));
    const check = history.entered('Task', 'classify: check', afterCall);
    const valid = { outcome: 'completed', status_code: null, response: { text: '{"label":"good","confidence":1}', json: { label: 'good', confidence: 1 }, usage: { input_tokens: 10, output_tokens: 5 } } };
    const afterCheck = history.exited('Task', 'classify: check', undefined, history.attempt(check, {}, { output: { Payload: valid, StatusCode: 200 } }));
    const choice = history.exited('Choice', 'classify: valid?', undefined, history.entered('Choice', 'classify: valid?', afterCheck));
    history.exited('Pass', 'classify: answer', undefined, history.entered('Pass', 'classify: answer', choice));
    history.add('ExecutionSucceeded', undefined, {});

    const [classify] = progressFromHistory(actions, history.events);
    expect(classify).toMatchObject({ status: 'completed', attempts: 1, output: { status_code: null, response: valid.response }, usage: { model: MODEL, input_tokens: 10, output_tokens: 5 } });
  });
});
