import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * The action runner Lambda's entry answers the compiled `<id>: check` and `<id>: recheck` states of llm actions
 * (`llm_check` payloads) with the same check the local engine uses, before anything reads the payload as a
 * service call. Loaded in a process of its own with the environment CDK gives the function (no AWS call is made).
 */

const ENTRY = fileURLToPath(new URL('../../../../functions/workers/action-runner-entry.ts', import.meta.url));
const ENVIRONMENT = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'action-runner',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_EC2_METADATA_DISABLED: 'true',
  REGISTRY_TABLE_NAME: 'registry-table',
  EXECUTIONS_TABLE_NAME: 'executions-table',
  PAYLOAD_BUCKET_NAME: 'payload-bucket',
  WORKFLOW_EVENT_BUS_NAME: 'workflow-bus',
  ORCHESTRATOR_TRACING_ENABLED: 'false',
  LOG_LEVEL: 'SILENT',
};

/** Invokes the entry's handler with each event; what it returned or threw, in order. */
async function invoke(events: readonly unknown[]): Promise<({ result: unknown } | { error: string; message: string })[]> {
  const script = `
    const { handler } = await import(${JSON.stringify(ENTRY)});
    const out = [];
    for (const [index, event] of ${JSON.stringify(events)}.entries()) {
      try { out.push({ result: await handler(event, { functionName: 'action-runner', awsRequestId: 'request-' + index }) }); }
      catch (error) { out.push({ error: error.name, message: error.message }); }
    }
    process.stdout.write(JSON.stringify(out));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: ENVIRONMENT });
  return JSON.parse(stdout) as ({ result: unknown } | { error: string; message: string })[];
}

describe('the action runner entry, llm_check', () => {
  it('answers a valid answer with the result, an invalid first one with the repair turns, and fails an invalid repair with OutputSchemaMismatchError', async () => {
    const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
    const check = (text: string, attempt: number) => ({ llm_check: { action_id: 'count', execution_id: 'run-1', schema, answer: { text, usage: { input_tokens: 3, output_tokens: 1 } }, attempt } });
    const [valid, invalid, mismatch] = await invoke([check('{"n": 2}', 1), check('{"n": "two"}', 1), check('{}', 2)]);
    expect(valid).toEqual({ result: { outcome: 'completed', status_code: null, response: { text: '{"n": 2}', json: { n: 2 }, usage: { input_tokens: 3, output_tokens: 1 } } } });
    expect(invalid).toMatchObject({ result: { outcome: 'invalid', status_code: null, response: { assistant: { role: 'assistant', content: '{"n": "two"}' }, feedback: { role: 'user' } } } });
    expect(mismatch).toMatchObject({ error: 'OutputSchemaMismatchError' });
    expect(JSON.parse((mismatch as { message: string }).message)).toMatchObject({ action_id: 'count', errors: [{ keyword: 'required', params: { missingProperty: 'n' } }] });
  });
});
