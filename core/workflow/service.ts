import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { DEFAULT_TENANT, inScope, type TenantScope } from '../auth/model.ts';
import type { Clock, EventPublisher, IdGenerator, WorkflowCompilerCheck, WorkflowPage, WorkflowStore } from '../ports.ts';
import { createEventEmitter } from '../events/emitter.ts';
import type { EventEnvelope, EventType } from '../events/envelope.ts';
import type { Action, ExecutionMode, Parameter, WorkflowDefinition, WorkflowStatus } from './definition.ts';
import { atVersion, DEFAULT_PAGE_SIZE, summarize, type Workflow, type WorkflowSummary, type WorkflowVersion } from './model.ts';
import { jsonEqual } from './parameters.ts';
import { assertValidDefinition } from './validate.ts';
import { lookupWord, scoreMatch } from './search.ts';

export interface WorkflowServiceDeps {
  readonly store: WorkflowStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Refuses definitions that cannot run within Step Functions' limits; omitted, nothing beyond validation. */
  readonly compiler?: WorkflowCompilerCheck;
  /**
   * Where lifecycle events go (`orchestrator.workflow.*`): the bus in AWS, where a published version is
   * deployed as a state machine version; the in-process bus locally. Omitted, none are published.
   */
  readonly events?: EventPublisher;
  /**
   * A failed publish never fails the change, which is stored by then: it is reported here. The version is
   * still deployed on its first run (the engine deploys what it starts).
   */
  readonly onPublishFailure?: (event: EventEnvelope, error: unknown) => void;
  /**
   * How an update without a precondition retries its conditional write after losing a race: re-read,
   * re-apply, write again, at most `attempts` times, pausing `pause(attempt)` before each retry (jittered in
   * the runtimes, so that many concurrent writers spread out). Default: 3 attempts, no pause.
   */
  readonly updateRetry?: { readonly attempts: number; readonly pause: (attempt: number) => Promise<void> };
  /**
   * Ids a new workflow must not get: the fixed path words beside `/workflows/{workflow_id}` (`history`,
   * `templates`...), which the route table's fixed paths would shadow (functions/fixed-path-words.ts). The
   * id generator is asked again when it returns one.
   */
  readonly reservedIds?: readonly string[];
}

/** Draws from the id generator at most this many times for one new workflow before giving up. */
const MAX_ID_DRAWS = 10;

/** What notification actions put on the bus (statemachines/compile.ts); the status listener reads them back. */
export const WORKFLOW_EVENTS = {
  source: 'orchestrator.workflows',
  /** What a notification action sends, with its execution and action ids. */
  notification: 'Workflow Notification',
} as const;

/** A partial update: any metadata field, and parameters/actions (which create a new version). */
export interface WorkflowPatch {
  readonly name?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly status?: WorkflowStatus;
  readonly execution_mode?: ExecutionMode;
  readonly parameters?: readonly Parameter[];
  readonly strict_parameters?: boolean;
  readonly actions?: readonly Action[];
}

export interface Preconditions {
  /** From `If-Match`: the revision the caller last saw. */
  readonly revision?: number;
  /** The definition version the caller based its change on. */
  readonly version?: number;
}

export interface ListWorkflowsQuery {
  readonly page: number;
  /** Absent: the size of the cursor's listing, or DEFAULT_PAGE_SIZE. */
  readonly pageSize?: number;
  readonly status?: WorkflowStatus;
  readonly createdBy?: string;
  readonly cursor?: string;
}

export interface SearchHit {
  readonly workflow: WorkflowSummary;
  readonly score: number;
  readonly matched: readonly ('name' | 'tags' | 'description')[];
}

export interface WorkflowStatistics {
  readonly total_workflows: number;
  readonly total_actions: number;
  readonly average_actions_per_workflow: number;
  readonly by_status: Record<string, number>;
  readonly by_action_type: Record<string, { actions: number; workflows: number }>;
  readonly by_creator: Record<string, number>;
}

/** Without a precondition, an update that loses a race re-reads and re-applies the patch (see updateRetry). */
const DEFAULT_UPDATE_RETRY = { attempts: 3, pause: async () => undefined };

/** Workflow management use cases. Pure orchestration of validation and the store; no I/O of its own. */
export function createWorkflowService({ store, clock, ids, compiler, events, onPublishFailure, updateRetry = DEFAULT_UPDATE_RETRY, reservedIds = [] }: WorkflowServiceDeps) {
  /** A new workflow's id: never a fixed path word, so that GET /workflows/<id> always reaches it. */
  function newWorkflowId(): string {
    for (let draw = 0; draw < MAX_ID_DRAWS; draw += 1) {
      const id = ids.next();
      if (!reservedIds.includes(id)) return id;
    }
    throw new Error(`the id generator returned only reserved path words (${reservedIds.join(', ')}) in ${MAX_ID_DRAWS} draws`);
  }

  const emit = createEventEmitter({ publisher: events, clock, ids, onFailure: onPublishFailure });
  /** Published after the change is stored; awaited (a Lambda freezes once it answers), never failing the change. */
  const publish = (type: EventType, workflow: Pick<Workflow, 'workflow_id' | 'tenant'>, data: Record<string, unknown>) =>
    emit({ type, tenant: workflow.tenant, subject: `workflows/${workflow.workflow_id}`, data: { workflow_id: workflow.workflow_id, ...data } });

  /** A new version exists: the deployer (AWS) makes it a state machine version. */
  const versionPublished = (workflow: Workflow) =>
    publish('orchestrator.workflow.version_published', workflow, {
      version: workflow.version,
      name: workflow.name,
      execution_mode: workflow.execution_mode,
      published_by: workflow.version_created_by,
      published_at: workflow.version_created_at,
    });

  function assertCompilable(workflow: Workflow): void {
    const { errors } = compiler?.check(workflow) ?? { errors: [] };
    if (errors.length > 0) throw new ValidationError(errors);
  }

  /** Another tenant's workflow is not found, exactly like one that does not exist (no trace of it leaks). */
  async function requireWorkflow(workflowId: string, scope: TenantScope): Promise<Workflow> {
    const workflow = await store.get(workflowId);
    if (!workflow || !inScope(scope, workflow.tenant)) throw notFound(workflowId);
    return workflow;
  }

  /** Stores version 1 of a new workflow under `workflowId` and publishes its lifecycle events. */
  async function insert(workflowId: string, definition: WorkflowDefinition, actor: string, tenant: string): Promise<Workflow> {
    assertValidDefinition(definition);
    const now = clock.now();
    const workflow: Workflow = {
      workflow_id: workflowId,
      ...definition,
      tenant,
      version: 1,
      revision: 1,
      created_by: actor,
      created_at: now,
      updated_by: actor,
      updated_at: now,
      version_created_by: actor,
      version_created_at: now,
    };
    assertCompilable(workflow);
    await store.create(workflow);
    await publish('orchestrator.workflow.created', workflow, { name: workflow.name, version: 1, created_by: actor });
    await versionPublished(workflow);
    return workflow;
  }

  const service = {
    // Async, so that an id that cannot be drawn is a rejection like every other failure, not a throw.
    async createWorkflow(definition: WorkflowDefinition, actor: string, tenant: string = DEFAULT_TENANT): Promise<Workflow> {
      return insert(newWorkflowId(), definition, actor, tenant);
    },

    /**
     * A workflow the platform itself owns (core/ecosystem/system-workflows.ts), under a fixed id: created the
     * first time it is needed, and brought back to `definition` (a new version) when it differs, e.g. after an
     * upgrade changed it or someone edited it. Concurrent callers converge: the loser of the create re-reads.
     */
    async ensureWorkflow(workflowId: string, definition: WorkflowDefinition, actor: string, tenant: string): Promise<Workflow> {
      for (let attempt = 1; ; attempt++) {
        const current = await store.get(workflowId);
        if (current && current.tenant !== tenant) throw new Error(`workflow ${workflowId} belongs to tenant ${current.tenant}, not ${tenant}`);
        try {
          if (!current) return await insert(workflowId, definition, actor, tenant);
          const patch: WorkflowPatch = { ...definition, status: 'active' };
          // The common case, unchanged, costs the one read above; only a change goes through the update.
          const { definitionChanged, metadataChanged } = changesOf(current, patch);
          if (!definitionChanged && !metadataChanged) return current;
          return (await service.updateWorkflow(workflowId, patch, actor, {}, { tenant })).workflow;
        } catch (error) {
          if (!(error instanceof ConflictError) || attempt >= 3) throw error;
        }
      }
    },

    /**
     * A workflow with the definition of `version` (default: the latest) and its current metadata, plus the
     * latest version number.
     */
    async getWorkflow(workflowId: string, version?: number, scope: TenantScope = {}): Promise<{ workflow: Workflow; latest_version: number }> {
      const current = await requireWorkflow(workflowId, scope);
      if (version === undefined || version === current.version) return { workflow: current, latest_version: current.version };
      const snapshot = version >= 1 && version < current.version ? await store.getVersion(workflowId, version) : undefined;
      if (!snapshot) {
        throw new NotFoundError(`workflow ${workflowId} has no version ${version} (latest is ${current.version})`, [
          { field: 'version', message: `no version ${version}; versions run from 1 to ${current.version}` },
        ]);
      }
      return { workflow: atVersion(current, snapshot), latest_version: current.version };
    },

    async listVersions(workflowId: string, scope: TenantScope = {}): Promise<WorkflowVersion[]> {
      if (scope.tenant !== undefined) await requireWorkflow(workflowId, scope);
      const versions = await store.listVersions(workflowId);
      if (!versions) throw notFound(workflowId);
      return versions;
    },

    async updateWorkflow(workflowId: string, patch: WorkflowPatch, actor: string, preconditions: Preconditions = {}, scope: TenantScope = {}): Promise<{ workflow: Workflow; changed: boolean; new_version: boolean }> {
      const conditional = preconditions.revision !== undefined || preconditions.version !== undefined;
      for (let attempt = 1; ; attempt++) {
        const current = await requireWorkflow(workflowId, scope);
        if (preconditions.revision !== undefined && preconditions.revision !== current.revision) {
          throw new ConflictError(`workflow ${workflowId} changed since revision ${preconditions.revision}; it is now at revision ${current.revision}`, [
            { field: 'If-Match', message: `expected revision ${preconditions.revision}, current is ${current.revision}` },
          ]);
        }
        if (preconditions.version !== undefined && preconditions.version !== current.version) {
          throw new ConflictError(`workflow ${workflowId} is at version ${current.version}, not ${preconditions.version}`, [
            { field: 'expected_version', message: `expected version ${preconditions.version}, current is ${current.version}` },
          ]);
        }
        const { merged, definitionChanged, metadataChanged } = changesOf(current, patch);
        if (!definitionChanged && !metadataChanged) return { workflow: current, changed: false, new_version: false };
        if (definitionChanged) assertValidDefinition(merged);
        const now = clock.now();
        const next: Workflow = {
          ...merged,
          revision: current.revision + 1,
          updated_by: actor,
          updated_at: now,
          ...(definitionChanged ? { version: current.version + 1, version_created_by: actor, version_created_at: now } : {}),
        };
        if (definitionChanged) assertCompilable(next);
        try {
          await store.update(next, current);
          await publish('orchestrator.workflow.updated', next, { name: next.name, revision: next.revision, version: next.version, new_version: definitionChanged, updated_by: actor });
          if (definitionChanged) await versionPublished(next);
          return { workflow: next, changed: true, new_version: definitionChanged };
        } catch (error) {
          if (!(error instanceof ConflictError) || conditional || attempt >= updateRetry.attempts) throw error;
          await updateRetry.pause(attempt);
        }
      }
    },

    async deleteWorkflow(workflowId: string, preconditions: Preconditions = {}, scope: TenantScope = {}, actor = 'unknown'): Promise<void> {
      // A workflow never changes tenant, so reading it (scope check, the event's tenant) before the
      // conditional delete cannot race.
      const existing = await requireWorkflow(workflowId, scope);
      try {
        if (!(await store.delete(workflowId, preconditions.revision))) throw notFound(workflowId);
        await publish('orchestrator.workflow.deleted', existing, { name: existing.name, deleted_by: actor });
      } catch (error) {
        if (error instanceof ConflictError && preconditions.revision !== undefined) {
          throw new ConflictError(`workflow ${workflowId} changed since revision ${preconditions.revision}`, [
            { field: 'If-Match', message: `revision ${preconditions.revision} is no longer current` },
          ]);
        }
        throw error;
      }
    },

    async listWorkflows(query: ListWorkflowsQuery, scope: TenantScope = {}): Promise<WorkflowPage> {
      return store.list({
        tenant: scope.tenant,
        status: query.status,
        createdBy: query.createdBy,
        limit: query.pageSize,
        cursor: query.cursor,
        offset: query.cursor ? undefined : (query.page - 1) * (query.pageSize ?? DEFAULT_PAGE_SIZE),
      });
    },

    /**
     * Workflows whose name, tags or description contain `text` (case-insensitive), best first: name matches
     * rank first, then tags. Reads only the workflows having a word that starts with the query's longest word
     * (core/workflow/search.ts), so its cost follows the matches, not the number of workflows.
     */
    async searchWorkflows(text: string, limit: number, scope: TenantScope = {}): Promise<{ hits: SearchHit[]; total_matches: number }> {
      const query = text.trim();
      const word = lookupWord(query);
      if (word === undefined) throw new ValidationError([{ field: 'q', message: 'q must contain at least one letter or digit (search finds words)' }]);
      const hits: SearchHit[] = [];
      for await (const workflow of store.searchCandidates(word, scope.tenant)) {
        if (!inScope(scope, workflow.tenant)) continue;
        const match = scoreMatch(workflow, query);
        if (match) hits.push({ workflow, ...match });
      }
      // Newest first among equal scores, whatever order the index returned them in.
      hits.sort((a, b) => b.score - a.score || compareNewestFirst(a.workflow, b.workflow));
      return { hits: hits.slice(0, limit), total_matches: hits.length };
    },

    /** From the store's maintained counts: a few reads, whatever the number of workflows. */
    async statistics(scope: TenantScope = {}): Promise<WorkflowStatistics> {
      const counts = await store.counts(scope.tenant);
      return {
        total_workflows: counts.workflows,
        total_actions: counts.actions,
        average_actions_per_workflow: counts.workflows === 0 ? 0 : Math.round((counts.actions / counts.workflows) * 100) / 100,
        by_status: { ...counts.byStatus },
        by_action_type: Object.fromEntries(Object.entries(counts.byActionType).map(([type, entry]) => [type, { ...entry }])),
        by_creator: { ...counts.byCreator },
      };
    },

    summarize,
  };
  return service;
}

export type WorkflowService = ReturnType<typeof createWorkflowService>;

function compareNewestFirst(a: WorkflowSummary, b: WorkflowSummary): number {
  const keyA = `${a.created_at}#${a.workflow_id}`;
  const keyB = `${b.created_at}#${b.workflow_id}`;
  return keyA < keyB ? 1 : keyA > keyB ? -1 : 0;
}

function notFound(workflowId: string): NotFoundError {
  return new NotFoundError(`workflow ${workflowId} not found`, [{ field: 'workflow_id', message: `no workflow with id ${workflowId}` }]);
}

/** What `patch` changes of `current`: its definition (a new version) or only its metadata. */
function changesOf(current: Workflow, patch: WorkflowPatch): { merged: Workflow; definitionChanged: boolean; metadataChanged: boolean } {
  const merged: Workflow = { ...current, ...definedFields(patch) };
  const definitionChanged =
    merged.execution_mode !== current.execution_mode ||
    merged.strict_parameters !== current.strict_parameters ||
    !jsonEqual(merged.parameters, current.parameters) || !jsonEqual(merged.actions, current.actions);
  const metadataChanged = (['name', 'description', 'tags', 'status'] as const).some((key) => !jsonEqual(merged[key], current[key]));
  return { merged, definitionChanged, metadataChanged };
}

function definedFields(patch: WorkflowPatch): Partial<Workflow> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<Workflow>;
}
