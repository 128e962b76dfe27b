import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CursorCodec } from '../../adapters/aws/dynamo/cursor-codec.ts';
import { DynamoEventHistory } from '../../adapters/aws/dynamo/dynamo-event-history.ts';
import { EVENT_TABLE } from '../../adapters/aws/dynamo/event-table.ts';
import { InvalidCursorError, ValidationError } from '../../core/errors.ts';
import { EVENT_SOURCES, type EventEnvelope, type EventType } from '../../core/events/envelope.ts';
import type { EventHistoryQuery } from '../../core/events/history.ts';
import { freshTable } from '../support/dynamo.ts';

const NOW = '2026-11-25T12:00:00.000Z';
const clock = { now: () => NOW };

/** `minutes` before NOW, as an ISO time. */
const ago = (minutes: number) => new Date(Date.parse(NOW) - minutes * 60_000).toISOString();

function event(id: string, overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    event_id: id,
    type: 'orchestrator.run.started',
    source: EVENT_SOURCES.runs,
    time: ago(1),
    tenant: 'acme',
    data: {},
    ...overrides,
  };
}

/** Every page of `query`, following cursors; fails if it takes more than `maxPages`. */
async function allPages(history: DynamoEventHistory, query: EventHistoryQuery, maxPages = 20): Promise<EventEnvelope[][]> {
  const pages: EventEnvelope[][] = [];
  let cursor: string | undefined;
  do {
    const page = await history.query({ ...query, ...(cursor === undefined ? {} : { cursor }) });
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages.length < maxPages);
  expect(cursor).toBeUndefined();
  return pages;
}

const ids = (items: readonly EventEnvelope[]) => items.map((item) => item.event_id);

/** The EventHistory contract, run against the DynamoDB adapter on the dynalite emulator. */
describe('DynamoEventHistory on the DynamoDB emulator', () => {
  const cursors = new CursorCodec(randomBytes(32));
  let history: DynamoEventHistory;
  let commands: string[];
  let table: Awaited<ReturnType<typeof freshTable>>;

  beforeEach(async () => {
    table = await freshTable(EVENT_TABLE, 'events');
    commands = table.commands;
    history = new DynamoEventHistory(table.client, table.tableName, { cursors, clock });
  });

  afterEach(() => {
    // Every read is a Query on a key, whatever the test did.
    expect(commands).not.toContain('ScanCommand');
  });

  describe('record', () => {
    it('stores an event and reads it back unchanged, any JSON data included', async () => {
      let deep: unknown = 'bottom';
      for (let level = 0; level < 40; level++) deep = { level: deep };
      const stored = event('ev-1', {
        type: 'orchestrator.action.failed',
        time: '2026-11-25T12:59:30.123+01:00',
        subject: 'executions/exec-1/actions/charge',
        trace_id: 'a'.repeat(32),
        correlation_id: 'order-7',
        data: { execution_id: 'exec-1', huge: 1.7e308, tiny: -1.0088714151858335e-150, list: [1, null, 'x', { deep }], empty: '' },
      });
      await history.record(stored);
      expect((await history.query({ tenant: 'acme', limit: 10 })).items).toEqual([stored]);
      expect((await history.query({ execution_id: 'exec-1', limit: 10 })).items).toEqual([stored]);
      expect((await history.query({ correlation_id: 'order-7', limit: 10 })).items).toEqual([stored]);
    });

    it('costs exactly one DynamoDB command per event, a repeated one included', async () => {
      await history.record(event('ev-1', { data: { execution_id: 'exec-1', workflow_id: 'orders' }, correlation_id: 'c' }));
      expect(commands).toEqual(['PutItemCommand']);
      commands.length = 0;
      await history.record(event('ev-1'));
      expect(commands).toEqual(['PutItemCommand']);
    });

    it('keeps one event when the same event_id is recorded twice, the first as it was', async () => {
      const first = event('ev-1', { data: { n: 1 } });
      await history.record(first);
      await expect(history.record(event('ev-1', { data: { n: 2 }, time: ago(0) }))).resolves.toBeUndefined();
      expect((await history.query({ limit: 10 })).items).toEqual([first]);
    });
  });

  describe('query', () => {
    it('returns the newest first', async () => {
      for (const [id, minutes] of [['ev-b', 5], ['ev-a', 30], ['ev-d', 1], ['ev-c', 10]] as const) await history.record(event(id, { time: ago(minutes) }));
      expect(ids((await history.query({ tenant: 'acme', limit: 10 })).items)).toEqual(['ev-d', 'ev-b', 'ev-c', 'ev-a']);
      expect(ids((await history.query({ limit: 10 })).items)).toEqual(['ev-d', 'ev-b', 'ev-c', 'ev-a']);
    });

    describe('filters', () => {
      const type = (value: EventType) => ({ type: value });
      beforeEach(async () => {
        const recorded: EventEnvelope[] = [
          event('run-started', { ...type('orchestrator.run.started'), time: ago(50), subject: 'executions/exec-1', correlation_id: 'order-1', data: { workflow_id: 'orders' } }),
          event('action-done', { ...type('orchestrator.action.completed'), time: ago(40), subject: 'executions/exec-1/actions/charge', correlation_id: 'order-1', data: { workflow_id: 'orders' } }),
          event('run-done', { ...type('orchestrator.run.completed'), time: ago(30), data: { execution_id: 'exec-2', workflow_id: 'orders' }, correlation_id: 'order-2' }),
          event('wf-created', { ...type('orchestrator.workflow.created'), source: EVENT_SOURCES.workflows, time: ago(20), subject: 'workflows/billing' }),
          event('svc', { ...type('orchestrator.service.registered'), source: EVENT_SOURCES.registry, time: ago(10), subject: 'services/pay' }),
          event('other-tenant', { ...type('orchestrator.run.started'), tenant: 'globex', time: ago(5), subject: 'executions/exec-9', correlation_id: 'order-1', data: { workflow_id: 'orders' } }),
        ];
        for (const item of recorded) await history.record(item);
        commands.length = 0;
      });

      const cases: Array<[string, Omit<EventHistoryQuery, 'limit'>, string[]]> = [
        ['type, exactly', { tenant: 'acme', type: 'orchestrator.run.started' }, ['run-started']],
        ['type, by prefix', { tenant: 'acme', type: 'orchestrator.run.*' }, ['run-done', 'run-started']],
        ['type prefix matching nothing', { tenant: 'acme', type: 'orchestrator.dlq.*' }, []],
        ['source', { tenant: 'acme', source: EVENT_SOURCES.workflows }, ['wf-created']],
        ['execution_id from the subject', { tenant: 'acme', execution_id: 'exec-1' }, ['action-done', 'run-started']],
        ['execution_id from the data', { tenant: 'acme', execution_id: 'exec-2' }, ['run-done']],
        ['workflow_id from the data', { tenant: 'acme', workflow_id: 'orders' }, ['run-done', 'action-done', 'run-started']],
        ['workflow_id from the subject', { tenant: 'acme', workflow_id: 'billing' }, ['wf-created']],
        ['correlation_id', { tenant: 'acme', correlation_id: 'order-1' }, ['action-done', 'run-started']],
        ['since, inclusive', { tenant: 'acme', since: ago(20) }, ['svc', 'wf-created']],
        ['until, inclusive', { tenant: 'acme', until: ago(40) }, ['action-done', 'run-started']],
        ['since and until, in another offset', { tenant: 'acme', since: '2026-11-25T12:20:00+01:00', until: '2026-11-25T11:30:00.000Z' }, ['run-done', 'action-done']],
        ['several filters at once', { tenant: 'acme', workflow_id: 'orders', type: 'orchestrator.run.*', since: ago(45) }, ['run-done']],
        ['the other tenant, through an index without tenant in its key', { tenant: 'globex', correlation_id: 'order-1' }, ['other-tenant']],
        ['admins, every tenant', { correlation_id: 'order-1' }, ['other-tenant', 'action-done', 'run-started']],
        ['admins, everything', {}, ['other-tenant', 'svc', 'wf-created', 'run-done', 'action-done', 'run-started']],
      ];
      it.each(cases)('by %s', async (_name, filters, expected) => {
        expect(ids((await history.query({ ...filters, limit: 10 })).items)).toEqual(expected);
        expect(commands.every((command) => command === 'QueryCommand')).toBe(true);
      });

      it("never shows a tenant another tenant's events, whichever index answers", async () => {
        const seen = [
          await history.query({ tenant: 'acme', limit: 50 }),
          await history.query({ tenant: 'acme', execution_id: 'exec-9', limit: 50 }),
          await history.query({ tenant: 'acme', workflow_id: 'orders', limit: 50 }),
          await history.query({ tenant: 'acme', correlation_id: 'order-1', limit: 50 }),
          await history.query({ tenant: 'acme', type: 'orchestrator.*', limit: 50 }),
        ].flatMap((page) => page.items);
        expect(seen.length).toBeGreaterThan(0);
        expect(seen.every((item) => item.tenant === 'acme')).toBe(true);
        expect((await history.query({ tenant: 'globex', limit: 50 })).items.map((item) => item.tenant)).toEqual(['globex']);
        expect((await history.query({ tenant: 'initech', limit: 50 })).items).toEqual([]);
      });

      it('refuses a time that is not one', async () => {
        await expect(history.query({ since: 'yesterday-ish', limit: 10 })).rejects.toBeInstanceOf(ValidationError);
      });
    });

    it('never returns an event past its retention, by any index', async () => {
      const shortLived = new DynamoEventHistory(table.client, table.tableName, { cursors, clock, retentionDays: 1 });
      await shortLived.record(event('fresh', { time: ago(60), correlation_id: 'c', data: { execution_id: 'exec-1' } }));
      await shortLived.record(event('expired', { time: ago(25 * 60), correlation_id: 'c', data: { execution_id: 'exec-1' } }));
      await shortLived.record(event('long-expired', { time: ago(3 * 24 * 60), correlation_id: 'c', data: { execution_id: 'exec-1' } }));
      for (const query of [{}, { tenant: 'acme' }, { execution_id: 'exec-1' }, { correlation_id: 'c' }, { since: ago(5 * 24 * 60) }]) {
        expect(ids((await shortLived.query({ ...query, limit: 10 })).items)).toEqual(['fresh']);
      }
      // The same items, read a day earlier, were all still within their retention.
      const earlier = new DynamoEventHistory(table.client, table.tableName, { cursors, clock: { now: () => ago(3 * 24 * 60 - 1) }, retentionDays: 1 });
      expect(ids((await earlier.query({ limit: 10 })).items)).toEqual(['fresh', 'expired', 'long-expired']);
    });
  });

  describe('paging', () => {
    it('pages through 25 events with limit 10: every event exactly once, newest first', async () => {
      const recorded = Array.from({ length: 25 }, (_, position) => event(`ev-${String(position).padStart(2, '0')}`, { time: ago(100 - position) }));
      await Promise.all(recorded.map((item) => history.record(item)));
      for (const tenant of ['acme', undefined]) {
        const pages = await allPages(history, { ...(tenant === undefined ? {} : { tenant }), limit: 10 });
        expect(pages.map((page) => page.length).slice(0, 3)).toEqual([10, 10, 5]);
        expect(ids(pages.flat())).toEqual(ids(recorded).reverse());
      }
    });

    it('fills each page when a filter drops most events, within 10 Query calls a page', async () => {
      const recorded = Array.from({ length: 60 }, (_, position) =>
        event(`ev-${String(position).padStart(2, '0')}`, { time: ago(100 - position), type: position % 6 === 0 ? 'orchestrator.run.failed' : 'orchestrator.action.completed' }),
      );
      await Promise.all(recorded.map((item) => history.record(item)));
      const expected = ids(recorded.filter((item) => item.type === 'orchestrator.run.failed')).reverse();
      commands.length = 0;
      const first = await history.query({ tenant: 'acme', type: 'orchestrator.run.*', limit: 4 });
      expect(commands.length).toBeLessThanOrEqual(10);
      expect(ids(first.items)).toEqual(expected.slice(0, 4));
      const pages = await allPages(history, { tenant: 'acme', type: 'orchestrator.run.*', limit: 4 });
      expect(pages.slice(0, 2).map((page) => page.length)).toEqual([4, 4]);
      expect(ids(pages.flat())).toEqual(expected);
    });

    it('ends the history on a page filled by its very last event, after a read that found too few', async () => {
      // Reads of 2 then 4 events: the first finds none, the second fills the page with the oldest event.
      const recorded = Array.from({ length: 5 }, (_, position) => event(`ev-${position}`, { time: ago(10 - position), source: position % 2 === 0 && position < 4 ? '/rare' : EVENT_SOURCES.runs }));
      for (const item of recorded) await history.record(item);
      const page = await history.query({ tenant: 'acme', source: '/rare', limit: 2 });
      expect(ids(page.items)).toEqual(['ev-2', 'ev-0']);
      expect(page.nextCursor).toBeUndefined();
    });

    it('stops after 10 Query calls and hands back a cursor that goes on from there', async () => {
      // Slices double from the page size (1, 2, 4 ... 512): 10 reads look at 1,023 events.
      const recorded = Array.from({ length: 1030 }, (_, position) => event(`ev-${String(position).padStart(4, '0')}`, { time: ago(2000 - position), source: position < 3 ? '/rare' : EVENT_SOURCES.runs }));
      for (let start = 0; start < recorded.length; start += 50) await Promise.all(recorded.slice(start, start + 50).map((item) => history.record(item)));
      commands.length = 0;
      const first = await history.query({ source: '/rare', limit: 1 });
      expect(commands).toEqual(Array.from({ length: 10 }, () => 'QueryCommand'));
      expect(first.items).toEqual([]);
      expect(first.nextCursor).toBeDefined();
      const rest = await allPages(history, { source: '/rare', limit: 1, ...(first.nextCursor === undefined ? {} : { cursor: first.nextCursor }) });
      expect(ids(rest.flat())).toEqual(['ev-0002', 'ev-0001', 'ev-0000']);
    });

    it('refuses a tampered cursor, and a cursor reused with other filters or another tenant', async () => {
      await Promise.all(Array.from({ length: 5 }, (_, position) => history.record(event(`ev-${position}`, { time: ago(10 - position), correlation_id: 'c' }))));
      const page = await history.query({ tenant: 'acme', type: 'orchestrator.run.*', limit: 2 });
      const cursor = page.nextCursor!;
      expect(cursor).toBeDefined();
      const tampered = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`;
      await expect(history.query({ tenant: 'acme', type: 'orchestrator.run.*', limit: 2, cursor: tampered })).rejects.toBeInstanceOf(InvalidCursorError);
      for (const other of [{ tenant: 'acme', type: 'orchestrator.run.started' }, { tenant: 'acme' }, { tenant: 'globex', type: 'orchestrator.run.*' }, { type: 'orchestrator.run.*' }, { tenant: 'acme', type: 'orchestrator.run.*', since: ago(60) }, { tenant: 'acme', type: 'orchestrator.run.*', correlation_id: 'c' }]) {
        await expect(history.query({ ...other, limit: 2, cursor })).rejects.toBeInstanceOf(InvalidCursorError);
      }
      // A cursor another store signed with the same key is not one of these.
      await expect(history.query({ tenant: 'acme', limit: 2, cursor: cursors.encode({ p: 'T#acme', f: '[]', k: {} }) })).rejects.toBeInstanceOf(InvalidCursorError);
      // The same filters with another page size go on.
      expect((await history.query({ tenant: 'acme', type: 'orchestrator.run.*', limit: 10, cursor })).items).toHaveLength(3);
    });
  });

  describe('clear', () => {
    beforeEach(async () => {
      const recorded = [
        event('acme-old-run', { time: ago(300), type: 'orchestrator.run.started' }),
        event('acme-old-action', { time: ago(200), type: 'orchestrator.action.completed' }),
        event('acme-new-run', { time: ago(10), type: 'orchestrator.run.completed' }),
        event('globex-old-run', { time: ago(250), type: 'orchestrator.run.failed', tenant: 'globex' }),
        event('globex-new-action', { time: ago(5), type: 'orchestrator.action.failed', tenant: 'globex' }),
      ];
      for (const item of recorded) await history.record(item);
      commands.length = 0;
    });

    const remaining = async () => ids((await history.query({ limit: 50 })).items);

    it('deletes every event before a time, strictly, and counts them', async () => {
      expect(await history.clear({ before: ago(200) })).toBe(2);
      expect(await remaining()).toEqual(['globex-new-action', 'acme-new-run', 'acme-old-action']);
      expect(commands).toContain('BatchWriteItemCommand');
      expect(await history.clear({ before: ago(200) })).toBe(0);
    });

    it('deletes only the given types, exact or by prefix', async () => {
      expect(await history.clear({ before: NOW, types: ['orchestrator.run.*'] })).toBe(3);
      expect(await remaining()).toEqual(['globex-new-action', 'acme-old-action']);
      expect(await history.clear({ before: NOW, types: ['orchestrator.action.failed', 'orchestrator.dlq.added'] })).toBe(1);
      expect(await remaining()).toEqual(['acme-old-action']);
    });

    it("deletes only one tenant's events when told", async () => {
      expect(await history.clear({ before: ago(100), tenant: 'acme' })).toBe(2);
      expect(await remaining()).toEqual(['globex-new-action', 'acme-new-run', 'globex-old-run']);
      expect(await history.clear({ before: NOW, tenant: 'globex', types: ['orchestrator.action.*'] })).toBe(1);
      expect(await remaining()).toEqual(['acme-new-run', 'globex-old-run']);
    });

    it('deletes more than one batch of 25', async () => {
      await Promise.all(Array.from({ length: 60 }, (_, position) => history.record(event(`bulk-${position}`, { time: ago(1000 + position), tenant: 'bulk' }))));
      commands.length = 0;
      expect(await history.clear({ before: ago(500), tenant: 'bulk' })).toBe(60);
      expect(commands.filter((command) => command === 'BatchWriteItemCommand')).toHaveLength(3);
      expect((await history.query({ tenant: 'bulk', limit: 10 })).items).toEqual([]);
    });
  });
});
