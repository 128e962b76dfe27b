import { randomBytes } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CursorCodec } from '../../adapters/aws/dynamo/cursor-codec.ts';
import { DynamoScheduleStore } from '../../adapters/aws/dynamo/dynamo-schedule-store.ts';
import { DynamoWorkflowStore } from '../../adapters/aws/dynamo/dynamo-workflow-store.ts';
import { scheduleItem } from '../../adapters/aws/dynamo/schedule-items.ts';
import type { ScheduleStore } from '../../core/ports.ts';
import type { ScheduleFiring, WorkflowSchedule } from '../../core/schedules/model.ts';
import { freshTable, freshWorkflowTable } from '../support/dynamo.ts';
import { WORKFLOW_TABLE, WorkflowIndex } from '../../adapters/aws/dynamo/workflow-table.ts';
import { InMemoryScheduleStore } from '../support/in-memory-schedule-store.ts';
import { storedWorkflow } from '../support/workflows.ts';

/** A schedule with every optional field absent. */
function schedule(workflowId: string, scheduleId: string, overrides: Partial<WorkflowSchedule> = {}): WorkflowSchedule {
  return {
    schedule_id: scheduleId,
    workflow_id: workflowId,
    tenant: 'acme',
    expression: 'rate(15 minutes)',
    timezone: 'UTC',
    parameters: {},
    enabled: true,
    overlap_policy: 'allow',
    created_at: '2027-01-01T09:00:00.000Z',
    created_by: 'alice',
    updated_at: '2027-01-01T09:00:00.000Z',
    updated_by: 'alice',
    revision: 1,
    ...overrides,
  };
}

const firing: ScheduleFiring = { trigger: 'schedule', outcome: 'started', due_at: '2027-01-01T09:15:00Z', fired_at: '2027-01-01T09:15:00.120Z', execution_id: 'ex-1' };
const ids = (schedules: readonly WorkflowSchedule[]) => schedules.map((item) => `${item.workflow_id}/${item.schedule_id}`);

async function collect(iterable: AsyncIterable<WorkflowSchedule>): Promise<WorkflowSchedule[]> {
  const all: WorkflowSchedule[] = [];
  for await (const item of iterable) all.push(item);
  return all;
}

interface Subject {
  readonly store: ScheduleStore;
  /** DynamoDB commands sent since the store was made (none for the memory store). */
  readonly commands: string[];
}

/** The ScheduleStore contract, run against every adapter (the DynamoDB one reads `all()` in pages of 2). */
function contract(name: string, make: () => Promise<Subject>): void {
  describe(name, () => {
    let store: ScheduleStore;
    let commands: string[];

    beforeEach(async () => {
      ({ store, commands } = await make());
    });

    afterEach(() => {
      // A workflow's schedules are a Query of its collection, every schedule pages of an index: never a Scan.
      expect(commands).not.toContain('ScanCommand');
    });

    it('gives back a schedule exactly as created, with every optional field or with none', async () => {
      const full = schedule('wf-1', 'sch-full', {
        expression: 'cron(0 9 ? * MON-FRI *)',
        timezone: 'Europe/Paris',
        parameters: { region: 'eu', limits: { max: 1.5, tags: ['a', null] }, '': '' },
        version: 3,
        enabled: false,
        overlap_policy: 'cancel_previous',
        description: 'weekday mornings',
        last_firing: { trigger: 'manual', outcome: 'skipped', due_at: '2027-01-01T09:00:00Z', fired_at: '2027-01-01T09:00:01Z', execution_id: 'ex-0', cancelled_execution_id: 'ex-prev', reason: 'still running' },
      });
      const bare = schedule('wf-1', 'sch-bare');
      await store.create(full);
      await store.create(bare);
      expect(await store.get('wf-1', 'sch-full')).toStrictEqual(full);
      expect(await store.get('wf-1', 'sch-bare')).toStrictEqual(bare);
      expect(await store.get('wf-1', 'sch-missing')).toBeUndefined();
      expect(await store.get('wf-2', 'sch-full')).toBeUndefined();
    });

    it('refuses a second schedule with a taken id, keeping the first', async () => {
      await store.create(schedule('wf-1', 'sch-1'));
      await expect(store.create(schedule('wf-1', 'sch-1', { expression: 'rate(1 hour)' }))).rejects.toMatchObject({ name: 'ConflictError' });
      expect((await store.get('wf-1', 'sch-1'))?.expression).toBe('rate(15 minutes)');
    });

    it('replaces a schedule only at the revision the caller read, naming both revisions when it is stale', async () => {
      await store.create(schedule('wf-1', 'sch-1', { description: 'old', version: 2 }));
      const next = schedule('wf-1', 'sch-1', { expression: 'rate(1 hour)', enabled: false, revision: 2, updated_by: 'bob' });
      await store.replace(next, 1);
      // The optional fields the new definition lacks are gone, not kept from the old one.
      expect(await store.get('wf-1', 'sch-1')).toStrictEqual(next);
      const stale = store.replace({ ...next, expression: 'rate(2 hours)', revision: 2 }, 1);
      await expect(stale).rejects.toMatchObject({ name: 'ConflictError', message: expect.stringMatching(/revision 1\b.*revision 2\b/) });
      expect((await store.get('wf-1', 'sch-1'))?.expression).toBe('rate(1 hour)');
    });

    it('refuses to replace a deleted schedule as not found, without bringing it back', async () => {
      await store.create(schedule('wf-1', 'sch-1'));
      await store.delete('wf-1', 'sch-1');
      await expect(store.replace(schedule('wf-1', 'sch-1', { revision: 2 }), 1)).rejects.toMatchObject({ name: 'NotFoundError' });
      expect(await store.get('wf-1', 'sch-1')).toBeUndefined();
    });

    it('records a firing on the schedule without changing its revision, and on a missing one says false', async () => {
      await store.create(schedule('wf-1', 'sch-1'));
      expect(await store.recordFiring('wf-1', 'sch-1', firing)).toBe(true);
      expect(await store.get('wf-1', 'sch-1')).toStrictEqual(schedule('wf-1', 'sch-1', { last_firing: firing }));
      const later: ScheduleFiring = { trigger: 'schedule', outcome: 'failed', due_at: '2027-01-01T09:30:00Z', fired_at: '2027-01-01T09:30:00.050Z', reason: 'workflow is archived' };
      expect(await store.recordFiring('wf-1', 'sch-1', later)).toBe(true);
      expect((await store.get('wf-1', 'sch-1'))?.last_firing).toStrictEqual(later);
      expect(await store.recordFiring('wf-1', 'sch-missing', firing)).toBe(false);
      expect(await store.get('wf-1', 'sch-missing')).toBeUndefined();
    });

    it('keeps the last firing through an edit made from a copy read before it', async () => {
      const read = schedule('wf-1', 'sch-1');
      await store.create(read);
      await store.recordFiring('wf-1', 'sch-1', firing);
      await store.replace({ ...read, expression: 'rate(1 hour)', revision: 2 }, 1);
      expect(await store.get('wf-1', 'sch-1')).toStrictEqual({ ...read, expression: 'rate(1 hour)', revision: 2, last_firing: firing });
    });

    it("lists a workflow's schedules only, oldest first", async () => {
      await store.create(schedule('wf-1', 'sch-c', { created_at: '2027-01-01T10:00:00.000Z' }));
      await store.create(schedule('wf-1', 'sch-a', { created_at: '2027-01-01T12:00:00.000Z' }));
      await store.create(schedule('wf-2', 'sch-b', { created_at: '2027-01-01T11:00:00.000Z' }));
      await store.create(schedule('wf-1', 'sch-b', { created_at: '2027-01-01T11:00:00.000Z' }));
      expect(ids(await store.listByWorkflow('wf-1'))).toEqual(['wf-1/sch-c', 'wf-1/sch-b', 'wf-1/sch-a']);
      expect(ids(await store.listByWorkflow('wf-2'))).toEqual(['wf-2/sch-b']);
      expect(await store.listByWorkflow('wf-3')).toEqual([]);
    });

    it("gives every workflow's schedules, by workflow and id, however many pages they take", async () => {
      const created = [
        ['wf-b', 'sch-2'],
        ['wf-a', 'sch-1'],
        ['wf-c', 'sch-1'],
        ['wf-b', 'sch-1'],
        ['wf-a', 'sch-3'],
      ] as const;
      for (const [workflowId, scheduleId] of created) await store.create(schedule(workflowId, scheduleId));
      await store.recordFiring('wf-c', 'sch-1', firing);
      const all = await collect(store.all());
      expect(ids(all)).toEqual(['wf-a/sch-1', 'wf-a/sch-3', 'wf-b/sch-1', 'wf-b/sch-2', 'wf-c/sch-1']);
      expect(all[4]).toStrictEqual(schedule('wf-c', 'sch-1', { last_firing: firing }));
      await store.delete('wf-b', 'sch-1');
      expect(ids(await collect(store.all()))).toEqual(['wf-a/sch-1', 'wf-a/sch-3', 'wf-b/sch-2', 'wf-c/sch-1']);
    });

    it('deletes a schedule once', async () => {
      await store.create(schedule('wf-1', 'sch-1'));
      expect(await store.delete('wf-1', 'sch-1')).toBe(true);
      expect(await store.delete('wf-1', 'sch-1')).toBe(false);
      expect(await store.get('wf-1', 'sch-1')).toBeUndefined();
      expect(await collect(store.all())).toEqual([]);
    });
  });
}

contract('InMemoryScheduleStore', async () => ({ store: new InMemoryScheduleStore(), commands: [] }));

contract('DynamoScheduleStore on the DynamoDB emulator', async () => {
  const table = await freshWorkflowTable();
  return { store: new DynamoScheduleStore(table.client, table.tableName, { pageSize: 2 }), commands: table.commands };
});

describe('DynamoScheduleStore specifics', () => {
  it("shares the workflow's item collection without disturbing its reads, listings or search", async () => {
    const table = await freshWorkflowTable();
    const schedules = new DynamoScheduleStore(table.client, table.tableName);
    const workflows = new DynamoWorkflowStore(table.client, table.tableName, { cursors: new CursorCodec(randomBytes(32)) });
    const workflow = storedWorkflow('wf-1');
    await workflows.create(workflow);
    await workflows.update({ ...workflow, version: 2, revision: 2 }, workflow);
    await schedules.create(schedule('wf-1', 'sch-1'));
    expect(ids(await schedules.listByWorkflow('wf-1'))).toEqual(['wf-1/sch-1']);
    expect((await workflows.listVersions('wf-1'))?.map((version) => version.version)).toEqual([1, 2]);
    expect(await workflows.list({})).toMatchObject({ total: 1, items: [{ workflow_id: 'wf-1' }] });
    expect(ids(await collect(schedules.all()))).toEqual(['wf-1/sch-1']);
  });

  it('finds every schedule of a table kept from before the schedules index, by a scan, when told the index is missing', async () => {
    const table = await freshTable({ ...WORKFLOW_TABLE, indexes: WORKFLOW_TABLE.indexes.filter((index) => index.indexName !== WorkflowIndex.schedules.indexName) }, 'old-workflows');
    const store = new DynamoScheduleStore(table.client, table.tableName, { withoutIndex: true });
    await store.create(schedule('wf-1', 'sch-1'));
    await store.create(schedule('wf-2', 'sch-2'));
    await new DynamoWorkflowStore(table.client, table.tableName, { cursors: new CursorCodec(randomBytes(32)) }).create(storedWorkflow('wf-1'));
    expect(ids(await collect(store.all())).sort()).toEqual(['wf-1/sch-1', 'wf-2/sch-2']);
    // The index itself is not there: a store expecting it fails to list.
    await expect(collect(new DynamoScheduleStore(table.client, table.tableName).all())).rejects.toThrow();
  });

  it('reads a schedule with one GetItem and a workflow’s schedules with one Query', async () => {
    const table = await freshWorkflowTable();
    const store = new DynamoScheduleStore(table.client, table.tableName);
    await store.create(schedule('wf-1', 'sch-1'));
    table.commands.length = 0;
    await store.get('wf-1', 'sch-1');
    await store.listByWorkflow('wf-1');
    expect(table.commands).toEqual(['GetItemCommand', 'QueryCommand']);
  });

  it('reads every schedule a page of the index at a time, each page whole by key in one batch', async () => {
    const table = await freshWorkflowTable();
    const store = new DynamoScheduleStore(table.client, table.tableName, { pageSize: 2 });
    for (const workflowId of ['wf-1', 'wf-2', 'wf-3']) await store.create(schedule(workflowId, 'sch-1'));
    table.commands.length = 0;
    expect(await collect(store.all())).toHaveLength(3);
    const count = (name: string) => table.commands.filter((command) => command === name).length;
    // Pages of 2 and 1 (DynamoDB may need a further Query to learn the end: it reads nothing by key).
    expect(count('QueryCommand')).toBeGreaterThanOrEqual(2);
    expect(count('BatchGetItemCommand')).toBe(2);
  });

  it('refuses an item whose parameters are not JSON as corrupt, naming the attribute', async () => {
    const table = await freshWorkflowTable();
    const store = new DynamoScheduleStore(table.client, table.tableName);
    await table.client.send(new PutCommand({ TableName: table.tableName, Item: { ...scheduleItem(schedule('wf-1', 'sch-1')), parameters: '{nope' } }));
    await expect(store.get('wf-1', 'sch-1')).rejects.toMatchObject({ name: 'CorruptItemError', message: expect.stringMatching(/parameters/) });
  });

  it('refuses a page size DynamoDB cannot read by key in one batch', () => {
    expect(() => new DynamoScheduleStore({} as never, 'table', { pageSize: 101 })).toThrow(/1 to 100/);
  });
});
