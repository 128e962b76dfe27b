import type { Action, ActionType, ExecutionMode, Parameter, WorkflowStatus } from './definition.ts';

/** A workflow as stored: current metadata plus the current version's definition. */
export interface Workflow {
  readonly workflow_id: string;
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly status: WorkflowStatus;
  /** The current definition version; a new one is created whenever parameters or actions change. */
  readonly version: number;
  /** Increases with every change, metadata included: the optimistic-concurrency token (ETag). */
  readonly revision: number;
  readonly execution_mode: ExecutionMode;
  readonly parameters: readonly Parameter[];
  /** Undeclared run parameters are refused (400) rather than kept with a warning. */
  readonly strict_parameters: boolean;
  readonly actions: readonly Action[];
  /** The tenant the workflow belongs to: only its members (and admins) see it, its versions and its runs. */
  readonly tenant: string;
  readonly created_by: string;
  readonly created_at: string;
  readonly updated_by: string;
  readonly updated_at: string;
  /** Who created the current version, and when (metadata changes do not touch these). */
  readonly version_created_by: string;
  readonly version_created_at: string;
}

/** An immutable snapshot of a definition. */
export interface WorkflowVersion {
  readonly workflow_id: string;
  readonly version: number;
  readonly name: string;
  readonly execution_mode: ExecutionMode;
  readonly parameters: readonly Parameter[];
  /** Undeclared run parameters are refused (400) rather than kept with a warning. */
  readonly strict_parameters: boolean;
  readonly actions: readonly Action[];
  readonly created_by: string;
  readonly created_at: string;
}

/** What lists, search and statistics need, without the definition body. */
export interface WorkflowSummary {
  readonly workflow_id: string;
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly status: WorkflowStatus;
  readonly version: number;
  readonly revision: number;
  readonly action_count: number;
  readonly action_types: Readonly<Partial<Record<ActionType, number>>>;
  readonly tenant: string;
  readonly created_by: string;
  readonly created_at: string;
  readonly updated_by: string;
  readonly updated_at: string;
}

/** Workflows per listing page when the request names no size. */
export const DEFAULT_PAGE_SIZE = 50;

export function summarize(workflow: Workflow): WorkflowSummary {
  const action_types: Partial<Record<ActionType, number>> = {};
  for (const action of workflow.actions) action_types[action.action_type] = (action_types[action.action_type] ?? 0) + 1;
  return {
    workflow_id: workflow.workflow_id,
    name: workflow.name,
    description: workflow.description,
    tags: workflow.tags,
    status: workflow.status,
    version: workflow.version,
    revision: workflow.revision,
    action_count: workflow.actions.length,
    action_types,
    tenant: workflow.tenant,
    created_by: workflow.created_by,
    created_at: workflow.created_at,
    updated_by: workflow.updated_by,
    updated_at: workflow.updated_at,
  };
}

export function versionOf(workflow: Workflow): WorkflowVersion {
  return {
    workflow_id: workflow.workflow_id,
    version: workflow.version,
    name: workflow.name,
    execution_mode: workflow.execution_mode,
    parameters: workflow.parameters,
    strict_parameters: workflow.strict_parameters,
    actions: workflow.actions,
    created_by: workflow.version_created_by,
    created_at: workflow.version_created_at,
  };
}

/** The workflow as it was at `snapshot`'s version: that version's definition, today's metadata. */
export function atVersion(current: Workflow, snapshot: WorkflowVersion): Workflow {
  return {
    ...current,
    version: snapshot.version,
    execution_mode: snapshot.execution_mode,
    parameters: snapshot.parameters,
    strict_parameters: snapshot.strict_parameters,
    actions: snapshot.actions,
    version_created_by: snapshot.created_by,
    version_created_at: snapshot.created_at,
  };
}
