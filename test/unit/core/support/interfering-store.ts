import type { WorkflowCounts, WorkflowListQuery, WorkflowPage, WorkflowStore } from '../../../../core/ports.ts';
import type { Workflow, WorkflowSummary, WorkflowVersion } from '../../../../core/workflow/model.ts';

/**
 * Delegates to another store, counting updates; before each of the first `interferences` updates it runs
 * `interfere` (a concurrent writer), so that the update then meets the real store's revision check.
 */
export class InterferingStore implements WorkflowStore {
  updates = 0;
  private readonly inner: WorkflowStore;
  private readonly interfere: () => Promise<void>;
  private remaining: number;

  constructor(inner: WorkflowStore, interfere: () => Promise<void> = async () => {}, interferences = 0) {
    this.inner = inner;
    this.interfere = interfere;
    this.remaining = interferences;
  }

  async update(next: Workflow, previous: Workflow): Promise<void> {
    this.updates++;
    if (this.remaining > 0) {
      this.remaining--;
      await this.interfere();
    }
    return this.inner.update(next, previous);
  }

  create(workflow: Workflow): Promise<void> {
    return this.inner.create(workflow);
  }
  get(workflowId: string): Promise<Workflow | undefined> {
    return this.inner.get(workflowId);
  }
  delete(workflowId: string, expectedRevision?: number): Promise<boolean> {
    return this.inner.delete(workflowId, expectedRevision);
  }
  getVersion(workflowId: string, version: number): Promise<WorkflowVersion | undefined> {
    return this.inner.getVersion(workflowId, version);
  }
  listVersions(workflowId: string): Promise<WorkflowVersion[] | undefined> {
    return this.inner.listVersions(workflowId);
  }
  list(query: WorkflowListQuery): Promise<WorkflowPage> {
    return this.inner.list(query);
  }
  searchCandidates(word: string, tenant?: string): AsyncIterable<WorkflowSummary> {
    return this.inner.searchCandidates(word, tenant);
  }
  counts(tenant?: string): Promise<WorkflowCounts> {
    return this.inner.counts(tenant);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
}
