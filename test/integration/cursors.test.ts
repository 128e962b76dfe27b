import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CursorCodec } from '../../adapters/aws/dynamo/cursor-codec.ts';
import { CURSOR_SECRET_FILE, type LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';
import { documentAnalysis } from '../support/workflows.ts';

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
let runtime: LocalRuntime;
let call: Call;
let workflowId: string;

/** The API's cursor key, so that tests can sign cursors with content this API would never issue. */
const CURSOR_SECRET = randomBytes(32).toString('base64url');
const cursors = new CursorCodec(CURSOR_SECRET);
/** A token's last 22 characters are its MAC (adapters/aws/dynamo/cursor-codec.ts). */
const MAC_CHARS = 22;
const unsigned = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const anyObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
/** The content of a token this API issued. */
const contentOf = (token: string) => cursors.decode(token, anyObject);
/** `token` with its content replaced by `value`, keeping its MAC: what a client editing a cursor sends. */
const tampered = (token: string, value: unknown) => `${unsigned(value)}${token.slice(-MAC_CHARS)}`;

beforeAll(async () => {
  ({ runtime, call } = await startTestApi({ cursorSecret: CURSOR_SECRET }));
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

/** The first page's next_token of a listing (`path` asks for pages small enough to have a second). */
async function nextTokenOf(path: string): Promise<string> {
  const reply = await call<{ next_token: string | null }>('GET', path);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  const token = reply.body.data.next_token;
  if (!token) throw new Error(`${path} gave no next_token`);
  return token;
}

const withToken = (path: string, token: string) => `${path}${path.includes('?') ? '&' : '?'}next_token=${token}`;

describe('cursors a client forged or reused', () => {
  it('refuses a well-formed JSON cursor this API never issued, unsigned or signed, on every listing (400, never 500)', async () => {
    for (const path of ['/workflows/history', `/workflows/${workflowId}/executions`, '/workflows', '/audit']) {
      expectInvalidCursor(await call('GET', withToken(path, unsigned({ a: 'b' }))));
      expectInvalidCursor(await call('GET', withToken(path, cursors.encode({ a: 'b' }))));
    }
  });

  it('refuses a next_token from GET /workflows whose payload was edited (another offset), which unedited pages on', async () => {
    const token = await nextTokenOf('/workflows?page_size=1');
    expect(contentOf(token)).toMatchObject({ o: 1, l: 1 });
    expectInvalidCursor(await call('GET', withToken('/workflows', tampered(token, { ...contentOf(token), o: 1000 }))));
    expectInvalidCursor(await call('GET', withToken('/workflows', tampered(token, { ...contentOf(token), l: 100 }))));
    const next = await call<{ page: number; page_size: number }>('GET', withToken('/workflows', token));
    expect(next.status).toBe(200);
    expect(next.body.data).toMatchObject({ page: 2, page_size: 1 });
  });

  it('refuses an edited next_token on the run listings and the audit trail too', async () => {
    const listings = [`/workflows/${workflowId}/executions?limit=1`, '/workflows/history?limit=1', '/audit?limit=1'];
    for (const listing of listings) {
      const token = await nextTokenOf(listing);
      const { k, ...rest } = contentOf(token) as { k: Record<string, string> };
      expectInvalidCursor(await call('GET', withToken(listing, tampered(token, { ...rest, k: { ...k, sk: `${k.sk ?? ''}x` } }))));
      expect((await call('GET', withToken(listing, token))).status).toBe(200);
    }
  });

  it("refuses a next_token of another orchestrator (another key), even for the same listing", async () => {
    const token = await nextTokenOf('/workflows?page_size=1');
    const other = new CursorCodec(randomBytes(32)).encode(contentOf(token));
    expectInvalidCursor(await call('GET', withToken('/workflows', other)));
  });

  it("refuses a signed cursor whose start key is not the listing's: other attributes, or another partition", async () => {
    // Signed with the API's key: past the MAC, only the structural checks can refuse these.
    const history = await nextTokenOf('/workflows/history?limit=1');
    const wrongKeys = cursors.encode({ ...contentOf(history), k: { pk: 'x', sk: 'y' } });
    expectInvalidCursor(await call('GET', `/workflows/history?limit=1&next_token=${wrongKeys}`));
    const runs = await nextTokenOf(`/workflows/${workflowId}/executions?limit=1`);
    const runsCursor = contentOf(runs) as { k: Record<string, string> };
    const otherWorkflow = cursors.encode({ ...runsCursor, k: { ...runsCursor.k, gsi_wf_pk: 'WF#someone-else' } });
    expectInvalidCursor(await call('GET', `/workflows/${workflowId}/executions?limit=1&next_token=${otherWorkflow}`));
    const otherPartition = cursors.encode({ ...runsCursor, p: 'WF#someone-else' });
    expectInvalidCursor(await call('GET', `/workflows/${workflowId}/executions?limit=1&next_token=${otherPartition}`));
  });

  it('refuses a cursor from created_by=a replayed with created_by=b, and pages with it unchanged', async () => {
    const first = await call<{ next_token: string | null }>('GET', '/workflows?created_by=a&page_size=1');
    const next = first.body.data.next_token!;
    expect(next).toBeTruthy();
    expectInvalidCursor(await call('GET', `/workflows?created_by=b&page_size=1&next_token=${next}`));
    expect((await call('GET', `/workflows?created_by=a&page_size=1&next_token=${next}`)).status).toBe(200);
  });

  it('refuses a run history cursor replayed with another status filter', async () => {
    const token = await nextTokenOf(`/workflows/${workflowId}/executions?limit=1`);
    expectInvalidCursor(await call('GET', `/workflows/${workflowId}/executions?limit=1&status=completed&next_token=${token}`));
  });

  it('pages a run history with its own cursor', async () => {
    const first = await call<{ next_token: string | null; executions: unknown[] }>('GET', `/workflows/${workflowId}/executions?limit=2`);
    expect(first.body.data.executions).toHaveLength(2);
    const second = await call<{ executions: unknown[] }>('GET', `/workflows/${workflowId}/executions?limit=2&next_token=${first.body.data.next_token!}`);
    expect(second.status).toBe(200);
    expect(second.body.data.executions).toHaveLength(1);
  });
});

describe('the cursor key of the local runtime', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'orchestrator-cursors-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('is made on first start, kept in the data directory (mode 0600), and pages on after a restart', async () => {
    // The emulators stay the shared ones (startTestApi's endpoints): the data directory holds the key only.
    const workflowsTableName = `api-${randomUUID()}`;
    const first = await startTestApi({ dataDir, workflowsTableName });
    let token: string;
    try {
      for (let index = 0; index < 2; index++) await first.call('POST', '/workflows', { body: documentAnalysis() });
      const page = await first.call<{ next_token: string | null }>('GET', '/workflows?page_size=1');
      token = page.body.data.next_token!;
      expect(token).toBeTruthy();
    } finally {
      await first.runtime.close();
    }
    const file = await stat(join(dataDir, CURSOR_SECRET_FILE));
    expect(file.mode & 0o777).toBe(0o600);
    const second = await startTestApi({ dataDir, workflowsTableName });
    try {
      const next = await second.call<{ workflows: unknown[] }>('GET', `/workflows?next_token=${token}`);
      expect(next.status, JSON.stringify(next.body)).toBe(200);
      expect(next.body.data.workflows).toHaveLength(1);
    } finally {
      await second.runtime.close();
    }
    // Without a data directory, each process has a key of its own: the same token is refused.
    const inMemory = await startTestApi({ workflowsTableName });
    try {
      expectInvalidCursor(await inMemory.call('GET', `/workflows?next_token=${token}`));
    } finally {
      await inMemory.runtime.close();
    }
  });

  it('is ORCHESTRATOR_CURSOR_SECRET when given, and then no file is made; a short one is refused before anything starts', async () => {
    const given = await mkdtemp(join(tmpdir(), 'orchestrator-cursors-given-'));
    try {
      const api = await startTestApi({ dataDir: given, cursorSecret: CURSOR_SECRET });
      await api.runtime.close();
      await expect(stat(join(given, CURSOR_SECRET_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(startTestApi({ cursorSecret: 'too-short' })).rejects.toThrow(/at least 32 bytes/);
    } finally {
      await rm(given, { recursive: true, force: true });
    }
  });
});
