import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoWordIndex } from '../../adapters/aws/dynamo/dynamo-word-index.ts';
import { DynamoWorkflowStore } from '../../adapters/aws/dynamo/dynamo-workflow-store.ts';
import { CursorCodec } from '../../adapters/aws/dynamo/cursor-codec.ts';
import { summarize } from '../../core/workflow/model.ts';
import { ConflictError, InvalidCursorError } from '../../core/errors.ts';
import type { WorkflowStore } from '../../core/ports.ts';
import type { Workflow } from '../../core/workflow/model.ts';
import { freshWorkflowTable } from '../support/dynamo.ts';
import { documentAnalysis, storedWorkflow } from '../support/workflows.ts';

/** The WorkflowStore contract, run against the DynamoDB adapter on the dynalite emulator. */
describe('DynamoWorkflowStore on the DynamoDB emulator', () => {
  const cursors = new CursorCodec(randomBytes(32));
  let store: WorkflowStore;
  let commands: string[];
  let table: Awaited<ReturnType<typeof freshWorkflowTable>>;

  beforeEach(async () => {
    table = await freshWorkflowTable();
    store = new DynamoWorkflowStore(table.client, table.tableName, { cursors });
    commands = table.commands;
  });

  const nextVersion = (workflow: Workflow, changes: Partial<Workflow> = {}): Workflow => ({
    ...workflow,
    actions: [...workflow.actions, { action_id: `step_${workflow.version + 1}`, action_type: 'notification', depends_on: [], config: { message: 'done', severity: 'info', channels: ['log'] } }],
    version: workflow.version + 1,
    revision: workflow.revision + 1,
    updated_at: `2026-11-0${workflow.version + 1}T00:00:00.000Z`,
    version_created_at: `2026-11-0${workflow.version + 1}T00:00:00.000Z`,
    ...changes,
  });

  it('round-trips a workflow exactly, definition included', async () => {
    const workflow = storedWorkflow('wf-1', { tags: ['a', 'b'], parameters: [{ name: 'deep', type: 'object', required: false, default: { a: { b: { c: [1, null, 'x'] } } } }] });
    await store.create(workflow);
    expect(await store.get('wf-1')).toEqual(workflow);
  });

  it('refuses to create a workflow whose id exists, leaving the first intact', async () => {
    const first = storedWorkflow('wf-1');
    await store.create(first);
    await expect(store.create(storedWorkflow('wf-1', { name: 'Impostor' }))).rejects.toBeInstanceOf(ConflictError);
    expect((await store.get('wf-1'))?.name).toBe(first.name);
  });

  it('returns undefined for a workflow that does not exist', async () => {
    expect(await store.get('missing')).toBeUndefined();
    expect(await store.listVersions('missing')).toBeUndefined();
  });

  it('applies an update only when the stored revision is the one the caller read', async () => {
    const original = storedWorkflow('wf-1');
    await store.create(original);
    const winner = { ...original, description: 'winner', revision: 2 };
    await store.update(winner, original);
    const loser = { ...original, description: 'loser', revision: 2 };
    await expect(store.update(loser, original)).rejects.toBeInstanceOf(ConflictError);
    expect((await store.get('wf-1'))?.description).toBe('winner');
  });

  it('lets exactly one of many concurrent updates from the same revision win', async () => {
    const original = storedWorkflow('wf-1');
    await store.create(original);
    const attempts = Array.from({ length: 8 }, (_, index) => store.update({ ...original, description: `writer ${index}`, revision: 2 }, original));
    const results = await Promise.allSettled(attempts);
    const winners = results.filter((result) => result.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    expect(results.filter((result) => result.status === 'rejected').every((result) => (result as PromiseRejectedResult).reason instanceof ConflictError)).toBe(true);
    const stored = await store.get('wf-1');
    expect(stored?.revision).toBe(2);
    expect(stored?.description).toMatch(/^writer \d$/);
  });

  it('keeps every superseded version readable and immutable', async () => {
    const v1 = storedWorkflow('wf-1');
    await store.create(v1);
    const v2 = nextVersion(v1);
    await store.update(v2, v1);
    const v2Renamed = { ...v2, name: 'Renamed', revision: v2.revision + 1 };
    await store.update(v2Renamed, v2);
    const v3 = nextVersion(v2Renamed);
    await store.update(v3, v2Renamed);

    const versions = await store.listVersions('wf-1');
    expect(versions?.map((version) => version.version)).toEqual([1, 2, 3]);
    expect(versions?.[0]?.actions).toEqual(v1.actions);
    expect(versions?.[1]?.actions).toEqual(v2.actions);
    expect(versions?.[2]?.actions).toEqual(v3.actions);
    expect((await store.getVersion('wf-1', 1))?.actions).toEqual(v1.actions);
    expect((await store.getVersion('wf-1', 2))?.created_at).toBe(v2.version_created_at);
  });

  it('deletes a workflow with all its versions', async () => {
    let workflow = storedWorkflow('wf-1');
    await store.create(workflow);
    for (let i = 0; i < 30; i++) {
      const next = nextVersion(workflow, { updated_at: '2026-11-02T00:00:00.000Z', version_created_at: '2026-11-02T00:00:00.000Z' });
      await store.update(next, workflow);
      workflow = next;
    }
    expect(await store.delete('wf-1')).toBe(true);
    expect(await store.get('wf-1')).toBeUndefined();
    expect(await store.getVersion('wf-1', 5)).toBeUndefined();
    expect(await store.listVersions('wf-1')).toBeUndefined();
    expect(await store.delete('wf-1')).toBe(false);
  });

  it('refuses a delete whose expected revision is stale', async () => {
    const workflow = storedWorkflow('wf-1');
    await store.create(workflow);
    await expect(store.delete('wf-1', 7)).rejects.toBeInstanceOf(ConflictError);
    expect(await store.get('wf-1')).toBeDefined();
  });

  describe('listing', () => {
    beforeEach(async () => {
      for (let i = 0; i < 23; i++) {
        await store.create(
          storedWorkflow(`wf-${String(i).padStart(2, '0')}`, {
            created_at: `2026-11-01T00:00:${String(i).padStart(2, '0')}.000Z`,
            created_by: i % 2 === 0 ? 'alice' : 'bob',
            status: i % 3 === 0 ? 'paused' : 'active',
          }),
        );
      }
      commands.length = 0;
    });

    it('pages newest first with a total, by page number', async () => {
      const page1 = await store.list({ limit: 10, offset: 0 });
      const page3 = await store.list({ limit: 10, offset: 20 });
      expect(page1.total).toBe(23);
      expect(page1.items.map((item) => item.workflow_id)).toEqual(Array.from({ length: 10 }, (_, i) => `wf-${String(22 - i).padStart(2, '0')}`));
      expect(page3.items.map((item) => item.workflow_id)).toEqual(['wf-02', 'wf-01', 'wf-00']);
      expect(page3.nextCursor).toBeUndefined();
    });

    it('walks every workflow exactly once by cursor', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({ limit: 7, cursor });
        seen.push(...page.items.map((item) => item.workflow_id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(4);
      expect(new Set(seen).size).toBe(23);
      expect(seen).toEqual([...seen].sort().reverse());
    });

    it('filters by status, by creator and by both, through indexes, never a Scan', async () => {
      const paused = await store.list({ limit: 50, status: 'paused' });
      const bob = await store.list({ limit: 50, createdBy: 'bob' });
      const bobPaused = await store.list({ limit: 50, createdBy: 'bob', status: 'paused' });
      expect(paused.total).toBe(8);
      expect(paused.items.every((item) => item.status === 'paused')).toBe(true);
      expect(bob.total).toBe(11);
      expect(bob.items.every((item) => item.created_by === 'bob')).toBe(true);
      expect(bobPaused.items.map((item) => item.workflow_id).sort()).toEqual(['wf-03', 'wf-09', 'wf-15', 'wf-21']);
      expect(commands).not.toContain('ScanCommand');
    });

    it('lists summaries without the definition body', async () => {
      const { items } = await store.list({ limit: 1 });
      expect(items[0]).not.toHaveProperty('actions');
      expect(items[0]?.action_count).toBe(2);
      expect(items[0]?.action_types).toEqual({ service_call: 2 });
    });

    it('refuses a cursor from another filter, and a forged one', async () => {
      const { nextCursor } = await store.list({ limit: 5 });
      await expect(store.list({ limit: 5, status: 'active', cursor: nextCursor })).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(store.list({ limit: 5, cursor: 'not-a-token' })).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('refuses its own cursor altered, one signed with another key, or one made without a codec; a store without a codec does not list', async () => {
      const { nextCursor } = await store.list({ limit: 5 });
      const cursor = cursors.decode(nextCursor!, (value): value is Record<string, unknown> => typeof value === 'object' && value !== null);
      // The same cursor with another offset, keeping the MAC it had: the MAC is the token's last 22 characters.
      const altered = `${Buffer.from(JSON.stringify({ ...cursor, o: 0 })).toString('base64url')}${nextCursor!.slice(-22)}`;
      const otherKey = new CursorCodec(randomBytes(32)).encode(cursor);
      const unsigned = Buffer.from(JSON.stringify(cursor)).toString('base64url');
      for (const token of [altered, otherKey, unsigned]) await expect(store.list({ limit: 5, cursor: token })).rejects.toBeInstanceOf(InvalidCursorError);
      expect((await store.list({ limit: 5, cursor: nextCursor })).offset).toBe(5);
      await expect(new DynamoWorkflowStore(table.client, table.tableName).list({ limit: 5 })).rejects.toThrow(/without a CursorCodec/);
    });

    it("refuses a signed cursor whose content is not this listing's (what the signature cannot check: its index, partition, filters and key)", async () => {
      const { nextCursor } = await store.list({ limit: 5 });
      const cursor = cursors.decode(nextCursor!, (value): value is { i: string; p: string; k: Record<string, string> } => typeof value === 'object' && value !== null);
      const forged = [{ ...cursor, p: `${cursor.p}?status=active` }, { ...cursor, i: 'other-index' }, { ...cursor, k: { pk: 'x' } }, { ...cursor, l: 1000 }];
      for (const value of forged) await expect(store.list({ limit: 5, cursor: cursors.encode(value) })).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('pages by cursor with the same totals, and says where each page starts', async () => {
      const first = await store.list({ limit: 10 });
      const second = await store.list({ limit: 10, cursor: first.nextCursor });
      const last = await store.list({ limit: 10, cursor: second.nextCursor });
      expect([first.offset, second.offset, last.offset]).toEqual([0, 10, 20]);
      expect([first.total, second.total, last.total]).toEqual([23, 23, 23]);
      expect(last.items).toHaveLength(3);
      expect(last.nextCursor).toBeUndefined();
    });

    it('costs the same reads for a page whatever the number of workflows: a total is a maintained count, not a count of the partition', async () => {
      await store.list({ limit: 5 });
      commands.length = 0;
      await store.list({ limit: 5 });
      // One Query for the page, one GetItem for the total.
      expect(commands.sort()).toEqual(['GetItemCommand', 'QueryCommand']);
    });
  });

  describe("an admin's listing across tenants, filtered", () => {
    it('answers a filter nothing matches from its count, and finds a rare creator in a few reads', async () => {
      // Established on the empty table, as at start-up, so that the first listing below does not index the 200.
      await (store as DynamoWorkflowStore).ready();
      for (let index = 0; index < 200; index++) await store.create(storedWorkflow(`wf-many-${index}`, { created_by: index % 100 === 0 ? 'rare' : 'common', tenant: index % 2 === 0 ? 'default' : 'acme' }));
      commands.length = 0;
      const none = await store.list({ limit: 5, createdBy: 'nobody' });
      expect(none).toMatchObject({ items: [], total: 0 });
      expect(commands).toEqual(['GetItemCommand']);
      commands.length = 0;
      const rare = await store.list({ limit: 5, createdBy: 'rare' });
      expect(rare.items.map((item) => item.workflow_id).sort()).toEqual(['wf-many-0', 'wf-many-100']);
      // Reads double (6, 12, 24, ...): some 6 Queries for 200 items, where one per 6 items would be 30 or more.
      expect(commands.filter((command) => command === 'QueryCommand').length).toBeLessThanOrEqual(8);
    });
  });

  describe('counts', () => {
    it('counts workflows and actions by status, creator and action type, across creations, updates and deletions', async () => {
      const first = storedWorkflow('wf-1', { created_by: 'alice', status: 'active' });
      const second = storedWorkflow('wf-2', { created_by: 'bob', status: 'draft', tenant: 'acme' });
      await store.create(first);
      await store.create(second);
      await store.update({ ...nextVersion(second), status: 'active' }, second);
      await store.create(storedWorkflow('wf-3', { created_by: 'bob' }));
      await store.delete('wf-3');

      const all = await store.counts();
      expect(all).toEqual({
        workflows: 2,
        actions: 5,
        byStatus: { active: 2 },
        byCreator: { alice: 1, bob: 1 },
        byActionType: { service_call: { actions: 4, workflows: 2 }, notification: { actions: 1, workflows: 1 } },
      });
      expect((await store.counts('acme')).byCreator).toEqual({ bob: 1 });
      expect((await store.list({ limit: 10, status: 'draft' })).total).toBe(0);
      expect((await store.list({ limit: 10, tenant: 'acme', createdBy: 'bob', status: 'active' })).total).toBe(1);
    });

    it('counts a table written before counts existed, once, on its first read', async () => {
      await store.create(storedWorkflow('wf-1'));
      await store.create(storedWorkflow('wf-2', { status: 'paused' }));
      // What a table from before counts existed looks like: workflows, and no counts or search words.
      const legacyTable = await freshWorkflowTable();
      const legacy = new DynamoWorkflowStore(legacyTable.client, legacyTable.tableName, { cursors });
      for (const id of ['wf-1', 'wf-2']) {
        const { Item } = await table.client.send(new GetCommand({ TableName: table.tableName, Key: { pk: `WF#${id}`, sk: 'HEAD' } }));
        await legacyTable.client.send(new PutCommand({ TableName: legacyTable.tableName, Item }));
      }
      expect((await legacy.counts()).byStatus).toEqual({ active: 1, paused: 1 });
      expect((await legacy.list({ limit: 1 })).total).toBe(2);
      const found: string[] = [];
      for await (const summary of legacy.searchCandidates('document')) found.push(summary.workflow_id);
      expect(found.sort()).toEqual(['wf-1', 'wf-2']);
    });
  });

  describe('search candidates', () => {
    it('finds the workflows having a word that starts with the word asked, in one tenant or all', async () => {
      await store.create(storedWorkflow('wf-1', { name: 'Invoice Approval', tags: ['finance'] }));
      await store.create(storedWorkflow('wf-2', { name: 'Document Intake', description: 'Reads invoices', tenant: 'acme' }));
      await store.create(storedWorkflow('wf-3', { name: 'Nightly report', description: '' }));
      const candidates = async (word: string, tenant?: string) => {
        const ids: string[] = [];
        for await (const summary of store.searchCandidates(word, tenant)) ids.push(summary.workflow_id);
        return ids.sort();
      };
      expect(await candidates('invoic')).toEqual(['wf-1', 'wf-2']);
      expect(await candidates('invoic', 'acme')).toEqual(['wf-2']);
      expect(await candidates('fin')).toEqual(['wf-1']);
      expect(await candidates('voice')).toEqual([]);
      expect(commands).not.toContain('ScanCommand');
    });

    it('follows renames and deletions: a removed word no longer finds the workflow', async () => {
      const workflow = storedWorkflow('wf-1', { name: 'Invoice Approval' });
      await store.create(workflow);
      await store.update({ ...workflow, name: 'Payment Approval', revision: 2 }, workflow);
      const ids = async (word: string) => {
        const found: string[] = [];
        for await (const summary of store.searchCandidates(word)) found.push(summary.workflow_id);
        return found;
      };
      expect(await ids('invoice')).toEqual([]);
      expect(await ids('payment')).toEqual(['wf-1']);
      expect(await ids('approval')).toEqual(['wf-1']);
      await store.delete('wf-1');
      expect(await ids('payment')).toEqual([]);
      // The deleted workflow's words are gone too, not only filtered out.
      const { Items } = await table.client.send(new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'WF#wf-1' } }));
      expect(Items).toEqual([]);
    });

    it('keeps a word that a later change wrote again when an earlier change removes it late', async () => {
      const first = storedWorkflow('wf-1', { name: 'Invoice Approval' });
      await store.create(first);
      const renamed = { ...first, name: 'Payment Approval', revision: 2 };
      const back = { ...renamed, name: 'Invoice Payment', revision: 3 };
      await store.update(renamed, first);
      await store.update(back, renamed);
      // The first change's removal of "invoice" arrives after the third change wrote it again.
      const index = new DynamoWordIndex(table.client, table.tableName);
      await index.removeWords(summarize(renamed), summarize(first));
      const found: string[] = [];
      for await (const summary of store.searchCandidates('invoice')) found.push(summary.workflow_id);
      expect(found).toEqual(['wf-1']);
    });
  });

  it('moves a workflow between status indexes when its status changes', async () => {
    const workflow = storedWorkflow('wf-1', { status: 'draft' });
    await store.create(workflow);
    await store.update({ ...workflow, status: 'active', revision: 2 }, workflow);
    expect((await store.list({ limit: 10, status: 'draft' })).total).toBe(0);
    expect((await store.list({ limit: 10, status: 'active' })).items.map((item) => item.workflow_id)).toEqual(['wf-1']);
  });

  it('accepts a definition near the size limit', async () => {
    const big = storedWorkflow('wf-big', {}, documentAnalysis({ description: 'x'.repeat(3000) }));
    const padded = { ...big, parameters: [{ name: 'blob', type: 'string' as const, required: false, default: 'y'.repeat(340 * 1024) }] };
    await store.create(padded);
    expect((await store.get('wf-big'))?.parameters[0]?.default).toHaveLength(340 * 1024);
  });
});
