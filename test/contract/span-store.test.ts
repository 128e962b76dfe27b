import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CursorCodec } from '../../adapters/aws/dynamo/cursor-codec.ts';
import { DynamoSpanStore } from '../../adapters/aws/dynamo/dynamo-span-store.ts';
import { SPAN_TABLE } from '../../adapters/aws/dynamo/span-table.ts';
import { InvalidCursorError } from '../../core/errors.ts';
import type { Span } from '../../core/observability/spans.ts';
import type { LogEntry } from '../../core/ports.ts';
import { freshTable } from '../support/dynamo.ts';

const NOW = '2026-11-25T12:30:00.000Z';
const clock = { now: () => NOW };
const TRACE = 'a1'.repeat(16);
const OTHER_TRACE = 'b2'.repeat(16);

/** `minutes` before NOW, as an ISO time. */
const ago = (minutes: number) => new Date(Date.parse(NOW) - minutes * 60_000).toISOString();
/** A span id from a small number (16 hex digits, never zero). */
const sid = (n: number) => (n + 1).toString(16).padStart(16, '0');

/** A service call of `pay` by tenant acme that ended `minutes` ago and took 10 ms, unless overridden. */
function span(n: number, minutes: number, overrides: Partial<Span> = {}): Span {
  const end = ago(minutes);
  return {
    trace_id: TRACE,
    span_id: sid(n),
    name: `call ${n}`,
    kind: 'client',
    category: 'service_call',
    service: 'pay',
    start: new Date(Date.parse(end) - 10).toISOString(),
    end,
    duration_ms: 10,
    status: 'ok',
    tenant: 'acme',
    workflow_id: 'orders',
    execution_id: 'exec-1',
    attributes: { action_id: 'charge', attempt: 1, 'http.status_code': 200, 'http.method': 'POST', url: 'http://pay.internal/charge', retried: false },
    ...overrides,
  };
}

const spanIds = (spans: readonly Span[]) => spans.map((item) => item.span_id);

/**
 * The SpanStore contract, run against the DynamoDB adapter on the dynalite emulator (the only adapter: the
 * local runtime keeps spans in the emulator too).
 */
describe('DynamoSpanStore on the DynamoDB emulator', () => {
  const cursors = new CursorCodec(randomBytes(32));
  let store: DynamoSpanStore;
  let commands: string[];
  let logged: LogEntry[];
  let table: Awaited<ReturnType<typeof freshTable>>;

  beforeEach(async () => {
    table = await freshTable(SPAN_TABLE, 'spans');
    commands = table.commands;
    logged = [];
    store = new DynamoSpanStore(table.client, table.tableName, { cursors, clock, log: (entry) => logged.push(entry) });
  });

  afterEach(() => {
    // Every read is a Query on a key, whatever the test did.
    expect(commands).not.toContain('ScanCommand');
  });

  describe('record and trace', () => {
    it('returns every span of a trace oldest first, exactly as recorded, and nothing of other traces', async () => {
      const root = span(0, 10, { name: 'POST /workflows/orders/execute', kind: 'server', category: 'request', service: 'orchestrator', start: ago(12), end: ago(2), duration_ms: 600_000 });
      const run = span(1, 3, { name: 'run', kind: 'internal', category: 'run', service: 'orchestrator', parent_span_id: root.span_id, start: ago(11), attributes: { status: 'completed' } });
      const call = span(2, 5, { parent_span_id: run.span_id, attributes: { action_id: 'charge', 'error.name': 'ServiceTimeoutError', ratio: 0.25, flag: true, empty: '' }, status: 'error' });
      const platform = span(3, 4, { category: 'notification', service: 'orchestrator', kind: 'producer', tenant: undefined, parent_span_id: run.span_id });
      const elsewhere = span(4, 1, { trace_id: OTHER_TRACE });
      await store.record([call, elsewhere, platform, run, root]);
      const read = await store.trace(TRACE, {});
      expect(read).toEqual([root, run, call, platform].sort((a, b) => Date.parse(a.start) - Date.parse(b.start)));
      expect(spanIds(read)).toEqual([root.span_id, run.span_id, call.span_id, platform.span_id]);
      expect(await store.trace(OTHER_TRACE, {})).toEqual([elsewhere]);
      expect(await store.trace('c3'.repeat(16), {})).toEqual([]);
    });

    it('keeps a span recorded twice once, in one call or in two', async () => {
      const once = span(0, 5);
      await store.record([once, once, span(1, 4)]);
      await store.record([once]);
      expect(spanIds(await store.trace(TRACE, {}))).toEqual([sid(0), sid(1)]);
      expect(spanIds((await store.serviceCalls('pay', { limit: 10 })).items)).toEqual([sid(1), sid(0)]);
    });

    it('writes 60 spans in three batches of at most 25 and reads them all back, or the oldest `limit`', async () => {
      const many = Array.from({ length: 60 }, (_, n) => span(n, 60 - n));
      await store.record(many);
      expect(commands.filter((name) => name === 'BatchWriteItemCommand')).toHaveLength(3);
      expect(spanIds(await store.trace(TRACE, {}))).toEqual(spanIds(many));
      expect(spanIds(await store.trace(TRACE, {}, 7))).toEqual(spanIds(many.slice(0, 7)));
    });

    it('sends again, with back-off, what DynamoDB leaves unprocessed', async () => {
      // The emulator never throttles: the first batch answers half of its puts as unprocessed without storing them.
      let calls = 0;
      table.client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName !== 'BatchWriteItemCommand' || calls++ > 0) return next(args);
          const input = args.input as { RequestItems: Record<string, unknown[]> };
          const [name, requests] = Object.entries(input.RequestItems)[0]!;
          const kept = requests.slice(0, 10);
          const left = requests.slice(10);
          const result = await next({ ...args, input: { ...input, RequestItems: { [name]: kept } } });
          (result.output as { UnprocessedItems?: unknown }).UnprocessedItems = { [name]: left };
          return result;
        },
        { step: 'initialize', name: 'leaveUnprocessed' },
      );
      await store.record(Array.from({ length: 25 }, (_, n) => span(n, 30 - n)));
      expect(commands.filter((name) => name === 'BatchWriteItemCommand')).toHaveLength(2);
      expect(await store.trace(TRACE, {})).toHaveLength(25);
    });

    it("hides other tenants' spans, and the platform's, from a tenant; admins see them all", async () => {
      await store.record([span(0, 5), span(1, 4, { tenant: 'globex' }), span(2, 3, { tenant: undefined }), span(3, 2)]);
      expect(spanIds(await store.trace(TRACE, { tenant: 'acme' }))).toEqual([sid(0), sid(3)]);
      expect(spanIds(await store.trace(TRACE, { tenant: 'globex' }))).toEqual([sid(1)]);
      expect(await store.trace(TRACE, { tenant: 'initech' })).toEqual([]);
      expect(spanIds(await store.trace(TRACE, {}))).toEqual([sid(0), sid(1), sid(2), sid(3)]);
      // The same limit counts visible spans only.
      expect(spanIds(await store.trace(TRACE, { tenant: 'acme' }, 1))).toEqual([sid(0)]);
      expect(spanIds((await store.serviceCalls('pay', { tenant: 'acme', limit: 10 })).items)).toEqual([sid(3), sid(0)]);
      expect(spanIds((await store.serviceCalls('pay', { tenant: 'globex', limit: 10 })).items)).toEqual([sid(1)]);
      expect(spanIds((await store.window({ tenant: 'acme', since: ago(60), limit: 10 })).spans)).toEqual([sid(3), sid(0)]);
      expect(spanIds((await store.window({ since: ago(60), limit: 10 })).spans)).toEqual([sid(3), sid(2), sid(1), sid(0)]);
    });

    it('sets the TTL attribute to the span’s end plus the retention, and stops returning a span once it expired', async () => {
      const retained = new DynamoSpanStore(table.client, table.tableName, { cursors, clock, retentionDays: 2 });
      const stored = span(0, 5);
      await retained.record([stored]);
      const { Item } = await table.client.send(new GetCommand({ TableName: table.tableName, Key: { pk: `TRACE#${TRACE}`, sk: `${stored.start}#${stored.span_id}` } }));
      expect(Item?.['expires_at']).toBe(Date.parse(stored.end) / 1000 + 2 * 86_400);

      const later = { now: () => new Date(Date.parse(stored.end) + 2 * 86_400_000 + 1000).toISOString() };
      const expired = new DynamoSpanStore(table.client, table.tableName, { cursors, clock: later, retentionDays: 2 });
      expect(await expired.trace(TRACE, {})).toEqual([]);
      expect((await expired.serviceCalls('pay', { since: '2026-01-01T00:00:00Z', limit: 10 })).items).toEqual([]);
      expect((await expired.window({ since: '2026-01-01T00:00:00Z', limit: 10 })).spans).toEqual([]);
    });

    it('skips a stored item that does not parse, says so, and returns the rest', async () => {
      await store.record([span(0, 5), span(2, 3)]);
      const bad = { ...span(1, 4), kind: 'sideways' };
      const { attributes, ...fields } = bad;
      await table.client.send(
        new PutCommand({
          TableName: table.tableName,
          Item: {
            ...fields,
            attributes_json: JSON.stringify(attributes),
            pk: `TRACE#${TRACE}`,
            sk: `${bad.start}#${bad.span_id}`,
            gsi_end_sk: `${bad.end}#${bad.span_id}`,
            gsi_svc_pk: 'SVC#pay',
            gsi_win_pk: `WIN#${bad.end.slice(0, 13)}`,
            expires_at: 4_000_000_000,
          },
        }),
      );
      await table.client.send(new PutCommand({ TableName: table.tableName, Item: { pk: `TRACE#${TRACE}`, sk: `${ago(3.5)}#x`, attributes_json: '{not json' } }));
      expect(spanIds(await store.trace(TRACE, {}))).toEqual([sid(0), sid(2)]);
      expect(spanIds((await store.serviceCalls('pay', { limit: 10 })).items)).toEqual([sid(2), sid(0)]);
      expect(spanIds((await store.window({ since: ago(60), limit: 10 })).spans)).toEqual([sid(2), sid(0)]);
      expect(logged.filter((entry) => entry.message === 'stored span skipped').length).toBe(4);
      expect(logged[0]?.['reason']).toMatch(/kind/);
    });

    it('drops a span whose times cannot be keyed, says so, and stores the others', async () => {
      await store.record([span(0, 5), { ...span(1, 4), start: 'yesterday' }]);
      expect(spanIds(await store.trace(TRACE, {}))).toEqual([sid(0)]);
      expect(logged).toEqual([expect.objectContaining({ message: 'span not stored', span_id: sid(1) })]);
    });
  });

  describe('serviceCalls', () => {
    beforeEach(async () => {
      await store.record([
        span(0, 50),
        span(1, 40, { category: 'proxy', kind: 'server' }),
        span(2, 30, { status: 'error' }),
        span(3, 20),
        span(4, 10),
        span(5, 5, { category: 'action', kind: 'internal' }),
        span(6, 5, { service: 'ship' }),
        span(7, 1, { category: 'run', service: 'pay' }),
      ]);
      commands.length = 0;
    });

    it("returns one service's calls and proxied requests, newest first, only those ended at or after since", async () => {
      expect(spanIds((await store.serviceCalls('pay', { limit: 10 })).items)).toEqual([sid(4), sid(3), sid(2), sid(1), sid(0)]);
      expect(spanIds((await store.serviceCalls('pay', { since: ago(30), limit: 10 })).items)).toEqual([sid(4), sid(3), sid(2)]);
      expect(spanIds((await store.serviceCalls('ship', { limit: 10 })).items)).toEqual([sid(6)]);
      expect((await store.serviceCalls('unknown', { limit: 10 })).items).toEqual([]);
      expect(commands.every((name) => name === 'QueryCommand')).toBe(true);
    });

    it('pages by a signed cursor, each page one Query, the last without a cursor', async () => {
      const first = await store.serviceCalls('pay', { limit: 2 });
      expect(spanIds(first.items)).toEqual([sid(4), sid(3)]);
      expect(first.nextCursor).toBeDefined();
      const second = await store.serviceCalls('pay', { limit: 2, cursor: first.nextCursor! });
      expect(spanIds(second.items)).toEqual([sid(2), sid(1)]);
      const third = await store.serviceCalls('pay', { limit: 2, cursor: second.nextCursor! });
      expect(spanIds(third.items)).toEqual([sid(0)]);
      expect(third.nextCursor).toBeUndefined();
      expect(commands).toEqual(['QueryCommand', 'QueryCommand', 'QueryCommand']);
    });

    it('refuses a tampered cursor, and a cursor of another service, since or tenant', async () => {
      const { nextCursor: cursor } = await store.serviceCalls('pay', { limit: 2 });
      const tampered = `${cursor!.slice(0, 5)}${cursor![5] === 'A' ? 'B' : 'A'}${cursor!.slice(6)}`;
      await expect(store.serviceCalls('pay', { limit: 2, cursor: tampered })).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(store.serviceCalls('ship', { limit: 2, cursor: cursor! })).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(store.serviceCalls('pay', { since: ago(45), limit: 2, cursor: cursor! })).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(store.serviceCalls('pay', { tenant: 'acme', limit: 2, cursor: cursor! })).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(store.serviceCalls('pay', { limit: 2, cursor: 'not-a-token-at-all-really-not' })).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('refuses to list without a cursor codec', async () => {
      const writer = new DynamoSpanStore(table.client, table.tableName, { clock });
      await expect(writer.serviceCalls('pay', { limit: 2 })).rejects.toThrow(/CursorCodec/);
    });
  });

  describe('window', () => {
    // Three spans in each of the hours 12:xx, 11:xx and 10:xx (NOW is 12:30).
    const hours = [
      span(0, 5), span(1, 10, { category: 'run', service: 'orchestrator' }), span(2, 20, { category: 'proxy' }),
      span(3, 35), span(4, 45), span(5, 55),
      span(6, 95), span(7, 105), span(8, 115),
    ];

    beforeEach(async () => {
      await store.record([...hours, span(9, 2, { category: 'action', kind: 'internal' }), span(10, 3, { category: 'request', kind: 'server' })]);
      commands.length = 0;
    });

    it('holds service calls and runs ended at or after since, newest first, across hour buckets', async () => {
      const window = await store.window({ since: ago(50), limit: 100 });
      expect(spanIds(window.spans)).toEqual([sid(0), sid(1), sid(2), sid(3), sid(4)]);
      expect(window.truncated).toBe(false);
      // One Query for each hour the window covers: 12:xx and 11:xx.
      expect(commands).toEqual(['QueryCommand', 'QueryCommand']);
    });

    it('stops at the limit, reading no older hour, and says it truncated', async () => {
      const window = await store.window({ since: ago(150), limit: 4 });
      expect(spanIds(window.spans)).toEqual([sid(0), sid(1), sid(2), sid(3)]);
      expect(window.truncated).toBe(true);
      expect(commands).toEqual(['QueryCommand', 'QueryCommand']);
    });

    it('is not truncated when the window holds exactly the limit', async () => {
      const window = await store.window({ since: ago(150), limit: 9 });
      expect(spanIds(window.spans)).toEqual(spanIds(hours));
      expect(window.truncated).toBe(false);
    });

    it('never reads further back than the retention, however old since is', async () => {
      const short = new DynamoSpanStore(table.client, table.tableName, { cursors, clock, retentionDays: 1 });
      const window = await short.window({ since: '2020-01-01T00:00:00Z', limit: 100 });
      expect(window.spans).toHaveLength(9);
      // The hours from now back to a day ago: 25 buckets at most.
      expect(commands.length).toBeLessThanOrEqual(25);
    });
  });
});
