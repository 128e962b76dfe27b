import { ConflictError } from '../../../../core/errors.ts';
import type { Clock, IdGenerator, WorkflowCounts, WorkflowListQuery, WorkflowPage, WorkflowStore } from '../../../../core/ports.ts';
import { indexedWords } from '../../../../core/workflow/search.ts';
import { DEFAULT_PAGE_SIZE, summarize, versionOf, type Workflow, type WorkflowSummary, type WorkflowVersion } from '../../../../core/workflow/model.ts';

/**
 * A WorkflowStore held in memory, for unit tests of the use cases. It keeps the port's contract the way the
 * DynamoDB store does: conditional writes on the stored revision (ConflictError when stale), the superseded
 * definition kept as an immutable version when `next.version > previous.version`, newest-first listings
 * ordered by `created_at` then `workflow_id`. Everything going in or out is copied, so callers can never
 * change stored state by mutating what they hold.
 */
export class InMemoryWorkflowStore implements WorkflowStore {
  private readonly heads = new Map<string, Workflow>();
  /** Superseded versions per workflow, oldest first. */
  private readonly versions = new Map<string, WorkflowVersion[]>();

  async create(workflow: Workflow): Promise<void> {
    if (this.heads.has(workflow.workflow_id)) throw new ConflictError(`workflow ${workflow.workflow_id} already exists`);
    this.heads.set(workflow.workflow_id, structuredClone(workflow));
    this.versions.set(workflow.workflow_id, []);
  }

  async get(workflowId: string): Promise<Workflow | undefined> {
    const head = this.heads.get(workflowId);
    return head ? structuredClone(head) : undefined;
  }

  async update(next: Workflow, previous: Workflow): Promise<void> {
    const stored = this.heads.get(next.workflow_id);
    if (!stored || stored.revision !== previous.revision) {
      throw new ConflictError(`workflow ${next.workflow_id} was changed concurrently (expected revision ${previous.revision})`);
    }
    if (next.version > previous.version) {
      const superseded = this.versions.get(next.workflow_id) ?? [];
      superseded.push(structuredClone(versionOf(previous)));
      this.versions.set(next.workflow_id, superseded);
    }
    this.heads.set(next.workflow_id, structuredClone(next));
  }

  async delete(workflowId: string, expectedRevision?: number): Promise<boolean> {
    const stored = this.heads.get(workflowId);
    if (!stored) return false;
    if (expectedRevision !== undefined && stored.revision !== expectedRevision) {
      throw new ConflictError(`workflow ${workflowId} was changed concurrently (expected revision ${expectedRevision})`);
    }
    this.heads.delete(workflowId);
    this.versions.delete(workflowId);
    return true;
  }

  async getVersion(workflowId: string, version: number): Promise<WorkflowVersion | undefined> {
    const found = this.versions.get(workflowId)?.find((candidate) => candidate.version === version);
    return found ? structuredClone(found) : undefined;
  }

  async listVersions(workflowId: string): Promise<WorkflowVersion[] | undefined> {
    const head = this.heads.get(workflowId);
    if (!head) return undefined;
    return structuredClone([...(this.versions.get(workflowId) ?? []), versionOf(head)]);
  }

  async list(query: WorkflowListQuery): Promise<WorkflowPage> {
    const matching = this.newestFirst().filter(
      (workflow) =>
        (query.tenant === undefined || workflow.tenant === query.tenant) &&
        (query.status === undefined || workflow.status === query.status) &&
        (query.createdBy === undefined || workflow.created_by === query.createdBy),
    );
    // The cursor is `<position>:<page size>`.
    const [position, size] = query.cursor !== undefined ? query.cursor.split(':').map(Number) : [];
    const start = position ?? query.offset ?? 0;
    const limit = query.limit ?? size ?? DEFAULT_PAGE_SIZE;
    const items = matching.slice(start, start + limit).map((workflow) => structuredClone(summarize(workflow)));
    const end = start + items.length;
    return { items, total: matching.length, offset: start, limit, ...(end < matching.length && items.length > 0 ? { nextCursor: `${end}:${limit}` } : {}) };
  }

  async *searchCandidates(word: string, tenant?: string): AsyncIterable<WorkflowSummary> {
    for (const workflow of this.newestFirst()) {
      if (tenant !== undefined && workflow.tenant !== tenant) continue;
      if (indexedWords(workflow).some((indexed) => indexed.startsWith(word))) yield structuredClone(summarize(workflow));
    }
  }

  /** Counted on each call: fine for tests, whose stores hold a few workflows. */
  async counts(tenant?: string): Promise<WorkflowCounts> {
    const byStatus: Record<string, number> = {};
    const byCreator: Record<string, number> = {};
    const byActionType: Record<string, { actions: number; workflows: number }> = {};
    let workflows = 0;
    let actions = 0;
    for (const workflow of this.heads.values()) {
      if (tenant !== undefined && workflow.tenant !== tenant) continue;
      const summary = summarize(workflow);
      workflows++;
      actions += summary.action_count;
      byStatus[summary.status] = (byStatus[summary.status] ?? 0) + 1;
      byCreator[summary.created_by] = (byCreator[summary.created_by] ?? 0) + 1;
      for (const [type, count] of Object.entries(summary.action_types)) {
        const entry = (byActionType[type] ??= { actions: 0, workflows: 0 });
        entry.actions += count ?? 0;
        entry.workflows += 1;
      }
    }
    return { workflows, actions, byStatus, byCreator, byActionType };
  }

  async ping(): Promise<void> {}

  private newestFirst(): Workflow[] {
    const sortKey = (workflow: Workflow) => `${workflow.created_at}#${workflow.workflow_id}`;
    return [...this.heads.values()].sort((a, b) => (sortKey(a) < sortKey(b) ? 1 : sortKey(a) > sortKey(b) ? -1 : 0));
  }
}

/** A clock that stands still until told to move. */
export interface FixedClock extends Clock {
  advance(seconds: number): void;
}

export function fixedClock(start = '2025-01-01T00:00:00.000Z'): FixedClock {
  let current = Date.parse(start);
  return {
    now: () => new Date(current).toISOString(),
    advance: (seconds) => {
      current += seconds * 1000;
    },
  };
}

/** wf-0001, wf-0002, ...: sortable, so newer workflows created at the same instant list first. */
export function sequentialIds(prefix = 'wf-'): IdGenerator {
  let counter = 0;
  return { next: () => `${prefix}${String(++counter).padStart(4, '0')}` };
}
