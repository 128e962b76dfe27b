import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';
import { documentAnalysis } from '../support/workflows.ts';

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
let runtime: LocalRuntime;
let call: Call;
let workflowId: string;

const token = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

beforeAll(async () => {
  ({ runtime, call } = await startTestApi());
  for (const user of ['a', 'a', 'a', 'b']) {
    const reply = await call('POST', '/workflows', { body: documentAnalysis(), headers: { 'x-user-id': user } });
    workflowId = reply.body.data.workflow_id as string;
  }
  const notify = await call('POST', '/workflows', { body: { name: 'runs', actions: [{ action_id: 'n', action_type: 'notification', config: { message: 'hi' } }] } });
  workflowId = notify.body.data.workflow_id as string;
  for (let index = 0; index < 3; index++) await call('POST', `/workflows/${workflowId}/execute`, { body: {} });
});
afterAll(() => runtime.close());

function expectInvalidCursor(reply: ApiReply): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(400);
  expect(reply.body.error_code).toBe('INVALID_CURSOR');
  expect(reply.body.details?.[0]?.field).toBe('next_token');
}

describe('cursors a client forged or reused', () => {
  it('refuses a well-formed JSON cursor this API never issued, on every listing (400, never 500)', async () => {
    const forged = token({ a: 'b' });
    for (const path of ['/workflows/history', `/workflows/${workflowId}/executions`, '/workflows', '/audit']) {
      expectInvalidCursor(await call('GET', `${path}?next_token=${forged}`));
    }
  });

  it("refuses a cursor whose start key is not the listing's: other attributes, or another partition", async () => {
    const wrongKeys = token({ p: 'EXECUTION', k: { pk: 'x', sk: 'y' } });
    expectInvalidCursor(await call('GET', `/workflows/history?next_token=${wrongKeys}`));
    const otherWorkflow = token({ p: `WF#${workflowId}`, k: { pk: 'EX#1', sk: 'EX', gsi_wf_pk: 'WF#someone-else', gsi_wf_sk: 'z' } });
    expectInvalidCursor(await call('GET', `/workflows/${workflowId}/executions?next_token=${otherWorkflow}`));
  });

  it('refuses a cursor from created_by=a replayed with created_by=b, and pages with it unchanged', async () => {
    const first = await call<{ next_token: string | null }>('GET', '/workflows?created_by=a&page_size=1');
    const next = first.body.data.next_token!;
    expect(next).toBeTruthy();
    expectInvalidCursor(await call('GET', `/workflows?created_by=b&page_size=1&next_token=${next}`));
    expect((await call('GET', `/workflows?created_by=a&page_size=1&next_token=${next}`)).status).toBe(200);
  });

  it('pages a run history with its own cursor', async () => {
    const first = await call<{ next_token: string | null; executions: unknown[] }>('GET', `/workflows/${workflowId}/executions?limit=2`);
    expect(first.body.data.executions).toHaveLength(2);
    const second = await call<{ executions: unknown[] }>('GET', `/workflows/${workflowId}/executions?limit=2&next_token=${first.body.data.next_token!}`);
    expect(second.status).toBe(200);
    expect(second.body.data.executions).toHaveLength(1);
  });
});
