import type { FieldIssue } from './errors.ts';
import type { ServiceRegistration } from './registry/model.ts';
import type { WorkflowStatus } from './workflow/definition.ts';
import type { Workflow, WorkflowSummary, WorkflowVersion } from './workflow/model.ts';

/** The interfaces the domain needs from the world. Adapters implement them; tests run every adapter. */

export interface Clock {
  /** ISO-8601 UTC timestamp. */
  now(): string;
}

export interface IdGenerator {
  next(): string;
}

export interface WorkflowListQuery {
  readonly status?: WorkflowStatus;
  readonly createdBy?: string;
  readonly limit: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  readonly cursor?: string;
  /** Items to skip before the page starts, for page-number paging (cursor paging is cheaper). */
  readonly offset?: number;
}

export interface WorkflowPage {
  readonly items: readonly WorkflowSummary[];
  /** Every workflow matching the filter, across all pages. */
  readonly total: number;
  readonly nextCursor?: string;
}

/**
 * Stores workflows (current state) and their immutable versions. Every write is conditional: a stale
 * `expectedRevision` fails with ConflictError rather than overwriting a concurrent change.
 */
export interface WorkflowStore {
  /** Stores a new workflow and its first version. ConflictError if the id exists. */
  create(workflow: Workflow): Promise<void>;
  get(workflowId: string): Promise<Workflow | undefined>;
  /**
   * Replaces `previous` (as the caller read it) with `next` if nobody changed it since: ConflictError when
   * the stored revision is no longer `previous.revision`. When `next.version` is greater, `previous` stays
   * readable as an immutable version.
   */
  update(next: Workflow, previous: Workflow): Promise<void>;
  /** Deletes the workflow and its versions. Returns false when there was nothing to delete. */
  delete(workflowId: string, expectedRevision?: number): Promise<boolean>;
  /** A superseded version; the current one is the workflow itself. */
  getVersion(workflowId: string, version: number): Promise<WorkflowVersion | undefined>;
  /** Oldest first; undefined when the workflow does not exist. */
  listVersions(workflowId: string): Promise<WorkflowVersion[] | undefined>;
  /** Newest first (by creation time). */
  list(query: WorkflowListQuery): Promise<WorkflowPage>;
  /** Every workflow's summary, newest first, streamed in pages: search and statistics read this. */
  summaries(): AsyncIterable<WorkflowSummary>;
  /** Cheap reachability probe for health checks; throws when the store cannot be reached. */
  ping(): Promise<void>;
}

/**
 * Checks that a workflow can become a state machine within the platform's limits (definition size, express
 * duration...). The compiler implements it; the domain only needs the verdict.
 */
export interface WorkflowCompilerCheck {
  check(workflow: Workflow): { errors: readonly FieldIssue[]; warnings: readonly string[] };
}

/** Where services are found by name. Registering an existing name replaces it (upsert). */
export interface ServiceRegistry {
  register(service: ServiceRegistration): Promise<void>;
  get(name: string): Promise<ServiceRegistration | undefined>;
  list(): Promise<ServiceRegistration[]>;
}
