import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { DEFAULT_TENANT, inScope, type TenantScope } from '../auth/model.ts';
import type { Clock, DomainEvent, EventPublisher, IdGenerator, WorkflowCompilerCheck, WorkflowStore } from '../ports.ts';
import type { Action, ActionType, ExecutionMode, Parameter, WorkflowDefinition, WorkflowStatus } from './definition.ts';
import { atVersion, summarize, type Workflow, type WorkflowSummary, type WorkflowVersion } from './model.ts';
import { jsonEqual } from './parameters.ts';
import { assertValidDefinition } from './validate.ts';

export interface WorkflowServiceDeps {
  readonly store: WorkflowStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Refuses definitions that cannot run within Step Functions' limits; omitted, nothing beyond validation. */
  readonly compiler?: WorkflowCompilerCheck;
  /**
   * Where lifecycle events go (WORKFLOW_EVENTS): the bus in AWS, where a new version is deployed as a state
   * machine version when it is published; the event log locally. Omitted, none are published.
   */
  readonly events?: EventPublisher;
  /**
   * A failed publish never fails the change, which is stored by then: it is reported here. The version is
   * still deployed on its first run (the engine deploys what it starts).
   */
  readonly onPublishFailure?: (event: DomainEvent, error: unknown) => void;
  /**
   * How an update without a precondition retries its conditional write after losing a race: re-read,
   * re-apply, write again, at most `attempts` times, pausing `pause(attempt)` before each retry (jittered in
   * the runtimes, so that many concurrent writers spread out). Default: 3 attempts, no pause.
   */
  readonly updateRetry?: { readonly attempts: number; readonly pause: (attempt: number) => Promise<void> };
}

/** Lifecycle events of workflows, on the bus under source `orchestrator.workflows`. */
export const WORKFLOW_EVENTS = {
  source: 'orchestrator.workflows',
  /** A new version exists (creation, or an update that changed parameters, actions or execution mode). */
  versionPublished: 'Workflow Version Published',
  deleted: 'Workflow Deleted',
  /** What a notification action sends (statemachines/compile.ts), with its execution and action ids. */
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
  readonly pageSize: number;
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
export function createWorkflowService({ store, clock, ids, compiler, events, onPublishFailure, updateRetry = DEFAULT_UPDATE_RETRY }: WorkflowServiceDeps) {
  /** Published after the change is stored; awaited (a Lambda freezes once it answers), never failing the change. */
  async function publish(detailType: string, detail: Record<string, unknown>): Promise<void> {
    if (!events) return;
    const event: DomainEvent = { source: WORKFLOW_EVENTS.source, detailType, detail };
    try {
      await events.publish(event);
    } catch (error) {
      onPublishFailure?.(event, error);
    }
  }

  const versionPublished = (workflow: Workflow) =>
    publish(WORKFLOW_EVENTS.versionPublished, {
      workflow_id: workflow.workflow_id,
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

  return {
    async createWorkflow(definition: WorkflowDefinition, actor: string, tenant: string = DEFAULT_TENANT): Promise<Workflow> {
      assertValidDefinition(definition);
      const now = clock.now();
      const workflow: Workflow = {
        workflow_id: ids.next(),
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
      await versionPublished(workflow);
      return workflow;
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
        const merged: Workflow = { ...current, ...definedFields(patch) };
        const definitionChanged =
          merged.execution_mode !== current.execution_mode || !jsonEqual(merged.parameters, current.parameters) || !jsonEqual(merged.actions, current.actions);
        const metadataChanged = (['name', 'description', 'tags', 'status'] as const).some((key) => !jsonEqual(merged[key], current[key]));
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
          if (definitionChanged) await versionPublished(next);
          return { workflow: next, changed: true, new_version: definitionChanged };
        } catch (error) {
          if (!(error instanceof ConflictError) || conditional || attempt >= updateRetry.attempts) throw error;
          await updateRetry.pause(attempt);
        }
      }
    },

    async deleteWorkflow(workflowId: string, preconditions: Preconditions = {}, scope: TenantScope = {}): Promise<void> {
      // A workflow never changes tenant, so checking it before the (conditional) delete cannot race.
      if (scope.tenant !== undefined) await requireWorkflow(workflowId, scope);
      try {
        if (!(await store.delete(workflowId, preconditions.revision))) throw notFound(workflowId);
        await publish(WORKFLOW_EVENTS.deleted, { workflow_id: workflowId });
      } catch (error) {
        if (error instanceof ConflictError && preconditions.revision !== undefined) {
          throw new ConflictError(`workflow ${workflowId} changed since revision ${preconditions.revision}`, [
            { field: 'If-Match', message: `revision ${preconditions.revision} is no longer current` },
          ]);
        }
        throw error;
      }
    },

    async listWorkflows(query: ListWorkflowsQuery, scope: TenantScope = {}) {
      const page = await store.list({
        tenant: scope.tenant,
        status: query.status,
        createdBy: query.createdBy,
        limit: query.pageSize,
        cursor: query.cursor,
        offset: query.cursor ? undefined : (query.page - 1) * query.pageSize,
      });
      return page;
    },

    /** Case-insensitive substring search over name, tags and description; name matches rank first, then tags. */
    async searchWorkflows(text: string, limit: number, scope: TenantScope = {}): Promise<{ hits: SearchHit[]; total_matches: number }> {
      const needle = text.trim().toLowerCase();
      if (!needle) throw new ValidationError([{ field: 'q', message: 'q must contain at least one non-space character' }]);
      const hits: SearchHit[] = [];
      for await (const workflow of store.summaries()) {
        if (!inScope(scope, workflow.tenant)) continue;
        const matched: SearchHit['matched'][number][] = [];
        let score = 0;
        const name = workflow.name.toLowerCase();
        // Any name match outranks any combination of tag and description matches.
        if (name.includes(needle)) {
          matched.push('name');
          score += name === needle ? 1000 : name.startsWith(needle) ? 600 : 400;
        }
        if (workflow.tags.some((tag) => tag.toLowerCase().includes(needle))) {
          matched.push('tags');
          score += workflow.tags.some((tag) => tag.toLowerCase() === needle) ? 30 : 20;
        }
        if (workflow.description.toLowerCase().includes(needle)) {
          matched.push('description');
          score += 10;
        }
        if (matched.length > 0) hits.push({ workflow, score, matched });
      }
      // Stable: equal scores keep the store's newest-first order.
      hits.sort((a, b) => b.score - a.score);
      return { hits: hits.slice(0, limit), total_matches: hits.length };
    },

    async statistics(scope: TenantScope = {}): Promise<WorkflowStatistics> {
      const by_status: Record<string, number> = {};
      const by_creator: Record<string, number> = {};
      const by_action_type: Record<string, { actions: number; workflows: number }> = {};
      let total_workflows = 0;
      let total_actions = 0;
      for await (const workflow of store.summaries()) {
        if (!inScope(scope, workflow.tenant)) continue;
        total_workflows++;
        total_actions += workflow.action_count;
        by_status[workflow.status] = (by_status[workflow.status] ?? 0) + 1;
        by_creator[workflow.created_by] = (by_creator[workflow.created_by] ?? 0) + 1;
        for (const [type, count] of Object.entries(workflow.action_types) as [ActionType, number][]) {
          const entry = (by_action_type[type] ??= { actions: 0, workflows: 0 });
          entry.actions += count;
          entry.workflows += 1;
        }
      }
      return {
        total_workflows,
        total_actions,
        average_actions_per_workflow: total_workflows === 0 ? 0 : Math.round((total_actions / total_workflows) * 100) / 100,
        by_status,
        by_action_type,
        by_creator,
      };
    },

    summarize,
  };
}

export type WorkflowService = ReturnType<typeof createWorkflowService>;

function notFound(workflowId: string): NotFoundError {
  return new NotFoundError(`workflow ${workflowId} not found`, [{ field: 'workflow_id', message: `no workflow with id ${workflowId}` }]);
}

function definedFields(patch: WorkflowPatch): Partial<Workflow> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<Workflow>;
}
