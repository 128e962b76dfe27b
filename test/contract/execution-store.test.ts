import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CursorCodec } from '../../adapters/aws/dynamo/cursor-codec.ts';
import { DynamoExecutionStore, MAX_STORED_RESPONSE_BYTES } from '../../adapters/aws/dynamo/dynamo-execution-store.ts';
import { EXECUTION_TABLE, ExecutionIndex } from '../../adapters/aws/dynamo/execution-table.ts';
import { ConflictError, InvalidCursorError } from '../../core/errors.ts';
import type { ActionProgress, Execution, ExecutionStatus } from '../../core/execution/model.ts';
import type { ExecutionStore } from '../../core/ports.ts';
import { freshTable } from '../support/dynamo.ts';

function action(id: string, overrides: Partial<ActionProgress> = {}): ActionProgress {
  return { action_id: id, action_type: 'service_call', status: 'pending', attempts: 0, ...overrides };
}

function execution(id: string, overrides: Partial<Execution> = {}): Execution {
  return {
    execution_id: id,
    workflow_id: 'orders',
    workflow_version: 1,
    tenant: 'default',
    status: 'pending',
    parameters: { amount: 42, nested: { list: [1, null, 'x'] } },
    trace_id: '0'.repeat(32),
    started_by: 'alice',
    created_at: '2026-11-25T10:00:00.000Z',
    actions: [action('charge'), action('notify', { action_type: 'notification' })],
    ...overrides,
  };
}

const actionOf = (stored: Execution | undefined, id: string) => stored?.actions.find((candidate) => candidate.action_id === id);

/** The ExecutionStore contract, run against the DynamoDB adapter on the dynalite emulator. */
describe('DynamoExecutionStore on the DynamoDB emulator', () => {
  const cursors = new CursorCodec(randomBytes(32));
  let store: ExecutionStore;
  let commands: string[];
  let table: Awaited<ReturnType<typeof freshTable>>;

  beforeEach(async () => {
    const fresh = await freshTable(EXECUTION_TABLE, 'executions');
    table = fresh;
    commands = fresh.commands;
    store = new DynamoExecutionStore(fresh.client, fresh.tableName, { cursors });
  });

  describe('retries and checkpoints', () => {
    it('reopens a failed run once: running again, counted and recorded, its end cleared, listed as unfinished', async () => {
      const failed = execution('exec-r', { status: 'failed', ended_at: '2026-11-25T10:05:00.000Z', error: { action_id: 'charge', error: 'ActionFailed', cause: 'down' }, actions: [action('charge', { status: 'failed', attempts: 2 }), action('notify', { status: 'not_run', reason: 'the run failed' })] });
      await store.create(failed);
      const reset = [action('charge', { attempts: 2 }), action('notify', { action_type: 'notification' })];
      const redrive = { at: '2026-11-25T11:00:00.000Z', by: 'alice', from_status: 'failed' as const };
      expect(await store.reopen(failed, redrive, reset)).toBe(true);
      const reopened = await store.get('exec-r');
      expect(reopened).toMatchObject({ status: 'running', redrive_count: 1, redrives: [redrive], actions: reset });
      expect(reopened?.ended_at).toBeUndefined();
      expect(reopened?.error).toBeUndefined();
      const unfinished: string[] = [];
      for await (const item of store.unfinished()) unfinished.push(item.execution_id);
      expect(unfinished).toContain('exec-r');
      // A second retry from the same read finds the run moved on: refused, nothing changed.
      expect(await store.reopen(failed, { ...redrive, by: 'bob' }, reset)).toBe(false);
      expect((await store.get('exec-r'))?.redrives).toEqual([redrive]);
      // After it fails again, a second retry counts 2.
      expect(await store.transition('exec-r', ['running'], 'failed', { ended_at: '2026-11-25T11:05:00.000Z' })).toBe(true);
      const again = (await store.get('exec-r'))!;
      expect(await store.reopen(again, { ...redrive, by: 'bob' }, reset)).toBe(true);
      expect((await store.get('exec-r'))?.redrive_count).toBe(2);
    });

    it("keeps each task's result as a checkpoint beside its run, any JSON, and reads them all back by key", async () => {
      await store.create(execution('exec-c'));
      let deep: unknown = 'bottom';
      for (let level = 0; level < 40; level++) deep = { level: deep };
      await store.saveCheckpoint('exec-c', 'charge', { Payload: { status_code: 200, response: { deep, huge: 1.7e308 } } });
      await store.saveCheckpoint('exec-c', 'each: each item#3', { status_code: 200 });
      await store.saveCheckpoint('exec-other', 'charge', { other: true });
      const found = await store.checkpoints('exec-c');
      expect(found).toEqual(new Map<string, unknown>([['charge', { Payload: { status_code: 200, response: { deep, huge: 1.7e308 } } }], ['each: each item#3', { status_code: 200 }]]));
      // Checkpoints are not executions: reads and listings of runs do not see them.
      expect((await store.get('exec-c'))?.execution_id).toBe('exec-c');
      expect((await store.list({ limit: 10 })).items.map((item) => item.execution_id)).toEqual(['exec-c']);
    });
  });

  describe('runs of many actions: one item per action beside the run', () => {
    it('creates a run of 1,000 actions, records every attempt of each in parallel, and reads it back whole and in order', async () => {
      // Declared in an order their ids do not sort in: the order comes from the run, not the sort keys.
      const ids = Array.from({ length: 1000 }, (_, index) => `step_${String((index * 7919) % 1000).padStart(3, '0')}`);
      const created = execution('exec-big', { status: 'running', actions: ids.map((id) => action(id)) });
      expect(await store.create(created)).toEqual({ execution: created, created: true });
      // About 1 KB per response: 1,000 of them are 1 MB, which one 400 KB item could never hold.
      const response = (id: string) => ({ id, blob: 'r'.repeat(1000) });
      for (let index = 0; index < ids.length; index += 100) {
        await Promise.all(
          ids.slice(index, index + 100).map(async (id) => {
            await store.startAttempt('exec-big', id, `start-${id}`);
            await store.finishAttempt('exec-big', id, { status: 'completed', ended_at: `end-${id}`, output: { status_code: 200, response: response(id) } });
          }),
        );
      }
      const stored = await store.get('exec-big');
      expect(stored?.actions.map((entry) => entry.action_id)).toEqual(ids);
      expect(stored?.actions).toEqual(ids.map((id) => action(id, { status: 'completed', attempts: 1, started_at: `start-${id}`, ended_at: `end-${id}`, output: { status_code: 200, response: response(id) } })));
      // The run's own item stays small however many actions progress.
      const { Item } = await table.client.send(new GetCommand({ TableName: table.tableName, Key: { pk: 'EX#exec-big', sk: 'EXECUTION' } }));
      expect(Item).not.toHaveProperty('actions');
      expect(JSON.stringify(Item).length).toBeLessThan(2048);
      // Listings show its actions too, and no index holds an action item.
      expect((await store.list({ limit: 10 })).items.map((item) => item.actions.length)).toEqual([1000]);
      for (const index of Object.values(ExecutionIndex)) {
        const { Items } = await table.client.send(new QueryCommand({ TableName: table.tableName, IndexName: index.indexName, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': index.partitionKey }, ExpressionAttributeValues: { ':pk': index === ExecutionIndex.byWorkflow ? 'WF#orders' : index === ExecutionIndex.byTenant ? 'T#default' : index === ExecutionIndex.active ? 'ACTIVE' : 'EXECUTION' } }));
        expect(Items?.map((item) => item.sk)).toEqual(['EXECUTION']);
      }
    }, 120_000);

    it('creates a run of 1,000 actions once: a repeated create returns it, progress and all, writing nothing', async () => {
      const ids = Array.from({ length: 1000 }, (_, index) => `a${index}`);
      await store.create(execution('exec-again', { actions: ids.map((id) => action(id)) }));
      await store.startAttempt('exec-again', 'a500', 't1');
      commands.length = 0;
      const again = await store.create(execution('exec-again', { started_by: 'mallory', actions: ids.map((id) => action(id)) }));
      expect(again.created).toBe(false);
      expect(again.execution.started_by).toBe('alice');
      expect(actionOf(again.execution, 'a500')).toMatchObject({ status: 'running', attempts: 1 });
      expect(commands.filter((command) => command !== 'GetItemCommand' && command !== 'QueryCommand')).toEqual([]);
    }, 60_000);

    it('shows no run for action items whose run item was never written (a create that crashed), and creates it on the next try', async () => {
      await table.client.send(new PutCommand({ TableName: table.tableName, Item: { pk: 'EX#exec-crash', sk: 'EXECUTION#ACT#charge', position: 0, progress: action('charge') } }));
      expect(await store.get('exec-crash')).toBeUndefined();
      await store.startAttempt('exec-crash', 'charge', 't1');
      expect(await store.get('exec-crash')).toBeUndefined();
      const created = execution('exec-crash');
      expect(await store.create(created)).toEqual({ execution: created, created: true });
      expect(await store.get('exec-crash')).toEqual(created);
    });

    it('refuses the progress of a run that does not exist, as before, creating nothing', async () => {
      await expect(store.updateAction('missing', action('charge', { status: 'completed' }))).rejects.toBeInstanceOf(ConflictError);
      await store.startAttempt('missing', 'charge', 't1');
      await store.finishAttempt('missing', 'charge', { status: 'completed', ended_at: 't2', output: { status_code: 200, response: null } });
      const { Items } = await table.client.send(new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'EX#missing' } }));
      expect(Items).toEqual([]);
    });

    it('reopens a run with actions as given, dropping one no longer given', async () => {
      const failed = execution('exec-drop', { status: 'failed', actions: [action('charge', { status: 'failed', attempts: 1 }), action('refund', { status: 'not_run' }), action('notify', { status: 'not_run' })] });
      await store.create(failed);
      const reset = [action('notify'), action('charge', { attempts: 1 })];
      expect(await store.reopen(failed, { at: 't', by: 'alice', from_status: 'failed' }, reset)).toBe(true);
      expect((await store.get('exec-drop'))?.actions).toEqual(reset);
    });
  });

  describe('runs written before action items: their progress in the run item', () => {
    // Exactly what the store wrote before: every action in the run's item, in a map, ordered by action_order.
    const oldItem = (stored: Execution): Record<string, unknown> => {
      const sortKey = `${stored.created_at}#${stored.execution_id}`;
      return {
        pk: `EX#${stored.execution_id}`,
        sk: 'EXECUTION',
        ...stored,
        parameters: JSON.stringify(stored.parameters),
        actions: Object.fromEntries(stored.actions.map(({ output, ...rest }) => [rest.action_id, output ? { ...rest, output: { status_code: output.status_code, response_json: JSON.stringify(output.response) } } : rest])),
        action_order: stored.actions.map((entry) => entry.action_id),
        gsi_wf_pk: `WF#${stored.workflow_id}`,
        gsi_wf_sk: sortKey,
        gsi_all_pk: 'EXECUTION',
        gsi_all_sk: sortKey,
        gsi_tenant_pk: `T#${stored.tenant}`,
        gsi_tenant_sk: sortKey,
        gsi_active_pk: 'ACTIVE',
        gsi_active_sk: sortKey,
      };
    };
    const actionItemsOf = async (executionId: string) =>
      (await table.client.send(new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :actions)', ExpressionAttributeValues: { ':pk': `EX#${executionId}`, ':actions': 'EXECUTION#ACT#' } }))).Items;

    it('reads, lists and updates such a run in its own layout, through its end and a retry', async () => {
      const old = execution('exec-old', { status: 'running', actions: [action('z_charge', { status: 'completed', attempts: 1, output: { status_code: 200, response: { id: 1 } } }), action('a_notify', { action_type: 'notification' }), action('m_ship')] });
      await table.client.send(new PutCommand({ TableName: table.tableName, Item: oldItem(old) }));
      expect(await store.get('exec-old')).toEqual(old);
      expect((await store.list({ limit: 5 })).items).toMatchObject([{ execution_id: 'exec-old', actions: old.actions }]);
      expect((await collect(store.unfinished())).map((item) => item.actions)).toEqual([old.actions]);

      await store.startAttempt('exec-old', 'a_notify', 't1');
      await store.finishAttempt('exec-old', 'a_notify', { status: 'completed', ended_at: 't2', output: { status_code: 202, response: { sent: true } } });
      await store.updateAction('exec-old', action('m_ship', { status: 'failed', attempts: 2, error: { error: 'ActionFailed', cause: 'no truck' } }));
      const updated = await store.get('exec-old');
      expect(updated?.actions).toEqual([
        old.actions[0],
        action('a_notify', { action_type: 'notification', status: 'completed', attempts: 1, started_at: 't1', ended_at: 't2', output: { status_code: 202, response: { sent: true } } }),
        action('m_ship', { status: 'failed', attempts: 2, error: { error: 'ActionFailed', cause: 'no truck' } }),
      ]);
      // A late report after its end changes nothing.
      expect(await store.transition('exec-old', ['running'], 'failed', { ended_at: 't3' })).toBe(true);
      const ended = await store.get('exec-old');
      await store.startAttempt('exec-old', 'm_ship', 't4');
      expect(await store.get('exec-old')).toEqual(ended);
      // A retry keeps it in its layout: no action items appear.
      const reset = [old.actions[0]!, updated!.actions[1]!, action('m_ship', { attempts: 2 })];
      expect(await store.reopen(ended!, { at: 't5', by: 'alice', from_status: 'failed' }, reset)).toBe(true);
      expect(await store.get('exec-old')).toMatchObject({ status: 'running', actions: reset, redrive_count: 1 });
      await store.startAttempt('exec-old', 'm_ship', 't6');
      expect(actionOf(await store.get('exec-old'), 'm_ship')).toMatchObject({ status: 'running', attempts: 3, started_at: 't6' });
      expect(await actionItemsOf('exec-old')).toEqual([]);
      // An unknown action of such a run: quiet, as before.
      await store.startAttempt('exec-old', 'ghost', 't7');
      expect((await store.get('exec-old'))?.actions.map((entry) => entry.action_id)).toEqual(['z_charge', 'a_notify', 'm_ship']);
    });
  });

  describe('create and get', () => {
    it('round-trips an execution exactly, parameters and action order included', async () => {
      const stored = execution('exec-1', { actions: [action('z_last'), action('a_first'), action('m_middle')] });
      expect(await store.create(stored)).toEqual({ execution: stored, created: true });
      expect(await store.get('exec-1')).toEqual(stored);
    });

    it('stores any JSON a caller or a service sends: numbers DynamoDB cannot hold, nesting deeper than its 32 levels', async () => {
      let deep: unknown = 'bottom';
      for (let level = 0; level < 40; level++) deep = { level: deep };
      const odd = { tiny: -1.0088714151858335e-150, huge: 1.7e308, digits: 1.2345678901234567e49, deep };
      const stored = execution('exec-odd', { parameters: odd });
      await store.create(stored);
      expect(await store.get('exec-odd')).toEqual(stored);
      await store.finishAttempt('exec-odd', 'charge', { status: 'completed', ended_at: '2026-11-25T10:00:01.000Z', output: { status_code: 200, response: odd } });
      expect(actionOf(await store.get('exec-odd'), 'charge')?.output).toEqual({ status_code: 200, response: odd });
    });

    it('returns the existing execution instead of overwriting it when the id is taken', async () => {
      const first = execution('exec-1');
      await store.create(first);
      const second = execution('exec-1', { started_by: 'mallory', parameters: { amount: 1 } });
      expect(await store.create(second)).toEqual({ execution: first, created: false });
      expect(await store.get('exec-1')).toEqual(first);
    });

    it('returns undefined for an execution that does not exist', async () => {
      expect(await store.get('missing')).toBeUndefined();
    });
  });

  describe('updateAction', () => {
    it("replaces one action's entry and leaves the others alone", async () => {
      await store.create(execution('exec-1'));
      const progress = action('charge', { status: 'completed', attempts: 2, started_at: 't1', ended_at: 't2', output: { status_code: 200, response: { id: 7 } } });
      await store.updateAction('exec-1', progress);
      const stored = await store.get('exec-1');
      expect(stored?.actions).toEqual([progress, action('notify', { action_type: 'notification' })]);
    });

    it('caps a response larger than the limit, keeping its size and a preview', async () => {
      await store.create(execution('exec-1'));
      const response = { blob: 'x'.repeat(MAX_STORED_RESPONSE_BYTES + 10) };
      await store.updateAction('exec-1', action('charge', { status: 'completed', output: { status_code: 200, response } }));
      const output = actionOf(await store.get('exec-1'), 'charge')?.output;
      expect(output?.status_code).toBe(200);
      expect(output?.response).toMatchObject({ truncated: true, size_bytes: JSON.stringify(response).length });
      expect((output?.response as { preview: string }).preview).toBe(JSON.stringify(response).slice(0, 1024));
    });
  });

  describe('transition', () => {
    it('moves the execution when its status is one of `from`, storing the given fields', async () => {
      await store.create(execution('exec-1'));
      expect(await store.transition('exec-1', ['pending'], 'running', { started_at: '2026-11-25T10:00:01.000Z' })).toBe(true);
      const output = { results: { charge: { status_code: 200 } }, list: [1, 'two', null] };
      expect(await store.transition('exec-1', ['running'], 'completed', { ended_at: '2026-11-25T10:00:09.000Z', output })).toBe(true);
      expect(await store.get('exec-1')).toMatchObject({ status: 'completed', started_at: '2026-11-25T10:00:01.000Z', ended_at: '2026-11-25T10:00:09.000Z', output });
    });

    it('returns false and changes nothing when the status is not one of `from`', async () => {
      const original = execution('exec-1');
      await store.create(original);
      expect(await store.transition('exec-1', ['running'], 'failed', { ended_at: 't', error: { error: 'Boom', cause: 'late' } })).toBe(false);
      expect(await store.get('exec-1')).toEqual(original);
    });

    it('returns false for an execution that does not exist, without creating it', async () => {
      expect(await store.transition('missing', ['pending'], 'running')).toBe(false);
      expect(await store.get('missing')).toBeUndefined();
    });

    it('lets exactly one of many concurrent transitions from the same status win', async () => {
      await store.create(execution('exec-1'));
      const targets: ExecutionStatus[] = ['failed', 'cancelled', 'running', 'failed', 'cancelled', 'running'];
      const results = await Promise.all(targets.map((target) => store.transition('exec-1', ['pending'], target)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.get('exec-1'))?.status).toBe(targets[results.indexOf(true)]);
    });

    it('drops an execution from unfinished() when it reaches a terminal status, not before', async () => {
      await store.create(execution('exec-1'));
      await store.transition('exec-1', ['pending'], 'running');
      expect((await collect(store.unfinished())).map((item) => item.execution_id)).toEqual(['exec-1']);
      await store.transition('exec-1', ['running'], 'timed_out');
      expect(await collect(store.unfinished())).toEqual([]);
    });
  });

  describe('list and unfinished', () => {
    // 12 executions a minute apart: even ones of workflow "orders", odd ones of "billing"; every third completed.
    const seeded = Array.from({ length: 12 }, (_, index) =>
      execution(`exec-${String(index).padStart(2, '0')}`, {
        workflow_id: index % 2 === 0 ? 'orders' : 'billing',
        created_at: `2026-11-25T10:${String(index).padStart(2, '0')}:00.000Z`,
      }),
    );
    const newestFirst = (items: readonly Execution[]) => [...items].sort((a, b) => b.created_at.localeCompare(a.created_at)).map((item) => item.execution_id);

    beforeEach(async () => {
      for (const item of seeded) await store.create(item);
      for (const item of seeded.filter((_, index) => index % 3 === 0)) await store.transition(item.execution_id, ['pending'], 'completed');
      commands.length = 0;
    });

    it('lists newest first', async () => {
      const { items, nextCursor } = await store.list({ limit: 50 });
      expect(items.map((item) => item.execution_id)).toEqual(newestFirst(seeded));
      expect(nextCursor).toBeUndefined();
      expect(items.find((item) => item.execution_id === 'exec-03')?.actions).toEqual(seeded[3]?.actions);
    });

    it('filters by workflow, status and creation time, through indexes, never a Scan', async () => {
      const orders = await store.list({ limit: 50, workflowId: 'orders' });
      expect(orders.items.map((item) => item.execution_id)).toEqual(newestFirst(seeded.filter((item) => item.workflow_id === 'orders')));
      const completed = await store.list({ limit: 50, status: 'completed' });
      expect(completed.items.map((item) => item.execution_id)).toEqual(['exec-09', 'exec-06', 'exec-03', 'exec-00']);
      const recent = await store.list({ limit: 50, since: '2026-11-25T10:09:00.000Z' });
      expect(recent.items.map((item) => item.execution_id)).toEqual(['exec-11', 'exec-10', 'exec-09']);
      const combined = await store.list({ limit: 50, workflowId: 'orders', status: 'completed', since: '2026-11-25T10:03:00.000Z' });
      expect(combined.items.map((item) => item.execution_id)).toEqual(['exec-06']);
      expect(commands).not.toContain('ScanCommand');
    });

    it('pages with a cursor: pages are full, never overlap, and together hold every execution in order', async () => {
      const seen = await walk(store, { limit: 5 });
      expect(seen.pages.map((page) => page.length)).toEqual([5, 5, 2]);
      expect(seen.pages.flat()).toEqual(newestFirst(seeded));
    });

    it('fills each page of a status filter with matching executions only', async () => {
      const seen = await walk(store, { limit: 3, status: 'pending' });
      expect(seen.pages.map((page) => page.length)).toEqual([3, 3, 2]);
      expect(seen.pages.flat()).toEqual(newestFirst(seeded.filter((_, index) => index % 3 !== 0)));
    });

    it('finds a rare status in a few reads, not one per page-sized slice of the index, and pages on from the last one returned', async () => {
      const many = Array.from({ length: 300 }, (_, index) => execution(`rare-${String(index).padStart(3, '0')}`, { workflow_id: 'rare', status: index % 100 === 0 ? 'failed' : 'completed', created_at: `2026-11-26T10:00:${String(index % 60).padStart(2, '0')}.${String(index).padStart(3, '0')}Z` }));
      for (const each of many) await store.create(each);
      commands.length = 0;
      const first = await store.list({ limit: 2, workflowId: 'rare', status: 'failed' });
      expect(first.items.map((item) => item.execution_id)).toHaveLength(2);
      // Doubling reads: 2, 4, 8, ..., so some 8 Queries for 300 items; one per 2 items would be 100 or more.
      expect(commands.filter((command) => command === 'QueryCommand').length).toBeLessThanOrEqual(10);
      const second = await store.list({ limit: 2, workflowId: 'rare', status: 'failed', cursor: first.nextCursor });
      expect([...first.items, ...second.items].map((item) => item.execution_id).sort()).toEqual(['rare-000', 'rare-100', 'rare-200']);
      expect(second.nextCursor).toBeUndefined();
    });

    it('refuses a cursor it did not issue: not a token, unsigned, signed with another key, or altered', async () => {
      await expect(store.list({ limit: 5, cursor: 'not-a-token' })).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(store.list({ limit: 5, cursor: Buffer.from('[1,2]').toString('base64url') })).rejects.toBeInstanceOf(InvalidCursorError);
      const { nextCursor } = await store.list({ limit: 5 });
      const cursor = cursors.decode(nextCursor!, (value): value is Record<string, unknown> => typeof value === 'object' && value !== null);
      const unsigned = Buffer.from(JSON.stringify(cursor)).toString('base64url');
      const altered = `${Buffer.from(JSON.stringify({ ...cursor, f: JSON.stringify(['completed', null]) })).toString('base64url')}${nextCursor!.slice(-22)}`;
      for (const token of [unsigned, altered, new CursorCodec(randomBytes(32)).encode(cursor)]) await expect(store.list({ limit: 5, cursor: token })).rejects.toBeInstanceOf(InvalidCursorError);
      expect((await store.list({ limit: 5, cursor: nextCursor })).items).toHaveLength(5);
    });

    it('refuses a cursor of another listing: another workflow, or the same one with other filters (signed, so what remains to check)', async () => {
      const { nextCursor } = await store.list({ limit: 5, workflowId: 'orders' });
      await expect(store.list({ limit: 5, workflowId: 'orders', status: 'pending', cursor: nextCursor })).rejects.toThrow(/belongs to another listing/);
      await expect(store.list({ limit: 5, cursor: nextCursor })).rejects.toBeInstanceOf(InvalidCursorError);
      const cursor = cursors.decode(nextCursor!, (value): value is { p: string; k: Record<string, string> } => typeof value === 'object' && value !== null);
      // Signed with the store's own key: only the structural checks stand between it and another partition.
      const otherPartition = cursors.encode({ ...cursor, p: 'WF#someone-else' });
      await expect(store.list({ limit: 5, workflowId: 'someone-else', cursor: otherPartition })).rejects.toThrow(/another listing/);
      const wrongKey = cursors.encode({ ...cursor, k: { pk: 'x', sk: 'y' } });
      await expect(store.list({ limit: 5, workflowId: 'orders', cursor: wrongKey })).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(new DynamoExecutionStore(table.client, table.tableName).list({ limit: 5 })).rejects.toThrow(/without a CursorCodec/);
    });

    it('streams exactly the pending and running executions from unfinished()', async () => {
      await store.transition('exec-01', ['pending'], 'running');
      await store.transition('exec-02', ['pending'], 'cancelled');
      const unfinished = await collect(store.unfinished());
      const expected = seeded.filter((_, index) => index % 3 !== 0 && index !== 2).map((item) => item.execution_id);
      expect(unfinished.map((item) => item.execution_id).sort()).toEqual(expected);
      expect(unfinished.find((item) => item.execution_id === 'exec-01')?.status).toBe('running');
      expect(commands).not.toContain('ScanCommand');
    });
  });

  describe('attempts', () => {
    beforeEach(async () => {
      await store.create(execution('exec-1', { status: 'running' }));
      commands.length = 0;
    });

    it('starts an attempt in one update: running, one attempt, started now, other actions untouched', async () => {
      await store.startAttempt('exec-1', 'charge', 't1');
      // The run's status is read first: it is on the run's item, the progress on the action's (no transactions).
      expect(commands).toEqual(['GetItemCommand', 'UpdateItemCommand']);
      const stored = await store.get('exec-1');
      expect(actionOf(stored, 'charge')).toEqual(action('charge', { status: 'running', attempts: 1, started_at: 't1' }));
      expect(actionOf(stored, 'notify')).toEqual(action('notify', { action_type: 'notification' }));
    });

    it("keeps the first attempt's start time and clears an earlier attempt's error on a retry", async () => {
      await store.startAttempt('exec-1', 'charge', 't1');
      await store.finishAttempt('exec-1', 'charge', { status: 'running', ended_at: 't2', error: { error: 'ServiceUnavailableError', cause: '503' } });
      expect(actionOf(await store.get('exec-1'), 'charge')).toMatchObject({ status: 'running', attempts: 1, ended_at: 't2', error: { error: 'ServiceUnavailableError', cause: '503' } });
      await store.startAttempt('exec-1', 'charge', 't3');
      const retried = actionOf(await store.get('exec-1'), 'charge');
      expect(retried).toMatchObject({ status: 'running', attempts: 2, started_at: 't1' });
      expect(retried).not.toHaveProperty('error');
    });

    it('finishes an attempt with its output, keeping attempts and start time and dropping a stale error', async () => {
      await store.updateAction('exec-1', action('charge', { status: 'running', attempts: 2, started_at: 't1', error: { error: 'Old', cause: 'old' } }));
      await store.finishAttempt('exec-1', 'charge', { status: 'completed', ended_at: 't9', output: { status_code: 201, response: { id: 7, tags: ['a'] } } });
      expect(actionOf(await store.get('exec-1'), 'charge')).toEqual(
        action('charge', { status: 'completed', attempts: 2, started_at: 't1', ended_at: 't9', output: { status_code: 201, response: { id: 7, tags: ['a'] } } }),
      );
    });

    it('finishes a failed attempt with its error, dropping a stale output', async () => {
      await store.updateAction('exec-1', action('charge', { status: 'running', attempts: 1, started_at: 't1', output: { status_code: 200, response: 'old' } }));
      await store.finishAttempt('exec-1', 'charge', { status: 'failed', ended_at: 't9', error: { error: 'ActionFailed', cause: 'boom' } });
      expect(actionOf(await store.get('exec-1'), 'charge')).toEqual(action('charge', { status: 'failed', attempts: 1, started_at: 't1', ended_at: 't9', error: { error: 'ActionFailed', cause: 'boom' } }));
    });

    it('caps a large output the same way updateAction does', async () => {
      const response = { blob: 'é'.repeat(MAX_STORED_RESPONSE_BYTES) };
      await store.finishAttempt('exec-1', 'charge', { status: 'completed', ended_at: 't9', output: { status_code: 200, response } });
      const output = actionOf(await store.get('exec-1'), 'charge')?.output;
      expect(output).toEqual({ status_code: 200, response: { truncated: true, size_bytes: Buffer.byteLength(JSON.stringify(response)), preview: JSON.stringify(response).slice(0, 1024) } });
    });

    it('counts every one of 20 concurrent attempts at the same action', async () => {
      await Promise.all(Array.from({ length: 20 }, (_, index) => store.startAttempt('exec-1', 'charge', `t${String(index).padStart(2, '0')}`)));
      const charge = actionOf(await store.get('exec-1'), 'charge');
      expect(charge?.attempts).toBe(20);
      expect(charge?.started_at).toMatch(/^t\d\d$/);
    });

    it('records 20 concurrent attempts at different actions without clobbering any of them', async () => {
      const ids = Array.from({ length: 20 }, (_, index) => `action_${index}`);
      await store.create(execution('exec-wide', { status: 'running', actions: ids.map((id) => action(id)) }));
      await Promise.all(ids.map((id) => store.startAttempt('exec-wide', id, `start-${id}`)));
      await Promise.all(ids.map((id, index) =>
        index % 2 === 0
          ? store.finishAttempt('exec-wide', id, { status: 'completed', ended_at: `end-${id}`, output: { status_code: 200, response: { id } } })
          : store.finishAttempt('exec-wide', id, { status: 'failed', ended_at: `end-${id}`, error: { error: 'ActionFailed', cause: id } }),
      ));
      const stored = await store.get('exec-wide');
      expect(stored?.actions.map((entry) => entry.action_id)).toEqual(ids);
      stored?.actions.forEach((entry, index) => {
        expect(entry).toMatchObject({ status: index % 2 === 0 ? 'completed' : 'failed', attempts: 1, started_at: `start-${entry.action_id}`, ended_at: `end-${entry.action_id}` });
        expect(entry).toHaveProperty(index % 2 === 0 ? 'output' : 'error');
      });
    });

    it('leaves a finished execution untouched: a late report does not reopen an action', async () => {
      await store.startAttempt('exec-1', 'charge', 't1');
      await store.transition('exec-1', ['running'], 'cancelled', { ended_at: 't5' });
      const settled = await store.get('exec-1');
      await expect(store.startAttempt('exec-1', 'charge', 't6')).resolves.toBeUndefined();
      await expect(store.startAttempt('exec-1', 'notify', 't6')).resolves.toBeUndefined();
      await expect(store.finishAttempt('exec-1', 'charge', { status: 'completed', ended_at: 't7', output: { status_code: 200, response: null } })).resolves.toBeUndefined();
      expect(await store.get('exec-1')).toEqual(settled);
    });

    it('applies attempts while the execution is still pending', async () => {
      await store.create(execution('exec-pending'));
      await store.startAttempt('exec-pending', 'charge', 't1');
      expect(actionOf(await store.get('exec-pending'), 'charge')).toMatchObject({ status: 'running', attempts: 1 });
    });

    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('resolves quietly for an unknown execution or action, creating nothing and logging nothing', async () => {
      const logged = (['log', 'info', 'warn', 'error'] as const).map((level) => vi.spyOn(console, level).mockImplementation(() => undefined));
      await expect(store.startAttempt('missing', 'charge', 't1')).resolves.toBeUndefined();
      await expect(store.finishAttempt('missing', 'charge', { status: 'failed', ended_at: 't2', error: { error: 'E', cause: 'c' } })).resolves.toBeUndefined();
      expect(await store.get('missing')).toBeUndefined();
      const before = await store.get('exec-1');
      await expect(store.startAttempt('exec-1', 'ghost', 't1')).resolves.toBeUndefined();
      await expect(store.finishAttempt('exec-1', 'ghost', { status: 'completed', ended_at: 't2', output: { status_code: 200, response: {} } })).resolves.toBeUndefined();
      expect(await store.get('exec-1')).toEqual(before);
      for (const spy of logged) expect(spy).not.toHaveBeenCalled();
    });
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** Follows nextCursor to the end; a guard stops a cursor that never ends. */
async function walk(store: ExecutionStore, query: { limit: number; status?: ExecutionStatus }): Promise<{ pages: string[][] }> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ ...query, ...(cursor ? { cursor } : {}) });
    pages.push(page.items.map((item) => item.execution_id));
    cursor = page.nextCursor;
  } while (cursor && pages.length < 20);
  return { pages };
}
