import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoWorkflowStore } from '../../adapters/aws/dynamo/dynamo-workflow-store.ts';
import { ConflictError, InvalidCursorError } from '../../core/errors.ts';
import type { WorkflowStore } from '../../core/ports.ts';
import type { Workflow } from '../../core/workflow/model.ts';
import { freshWorkflowTable } from '../support/dynamo.ts';
import { documentAnalysis, storedWorkflow } from '../support/workflows.ts';

/** The WorkflowStore contract, run against the DynamoDB adapter on the dynalite emulator. */
describe('DynamoWorkflowStore on the DynamoDB emulator', () => {
  let store: WorkflowStore;
  let commands: string[];

  beforeEach(async () => {
    const table = await freshWorkflowTable();
    store = new DynamoWorkflowStore(table.client, table.tableName);
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

    it('streams every summary for search and statistics', async () => {
      const all: string[] = [];
      for await (const summary of store.summaries()) all.push(summary.workflow_id);
      expect(all).toHaveLength(23);
      expect(commands.every((command) => command === 'QueryCommand')).toBe(true);
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
