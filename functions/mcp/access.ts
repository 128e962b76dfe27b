import type { z } from 'zod';
import type { ToolDescription } from '../../core/ai/workflow-tools.ts';
import type { WorkflowStatus } from '../../core/workflow/definition.ts';
import type { ExecutionResponse } from '../http/execution-schemas.ts';
import type { WorkflowResponse, WorkflowSummaryResponse } from '../http/workflow-schemas.ts';

/**
 * What the MCP server may do in the orchestrator, on behalf of one caller (issue 17). The server never reads
 * stores or starts engines itself: everything goes through this interface, so that the same server runs over
 * stdio against a remote API (client-access.ts: the typed HTTP client with the user's credential) and at
 * `/mcp` on the orchestrator itself (an implementation over the use cases, with the request's principal).
 * Either way the caller's own rights apply: an implementation must act with the caller's credential, never
 * with one of its own.
 *
 * Documents are the API's own shapes (the route table's response schemas), so an agent reads a workflow or a
 * run exactly as `GET /workflows/{id}` and `GET /workflows/executions/{id}` show them.
 */

export type WorkflowSummary = z.output<typeof WorkflowSummaryResponse>;
export type WorkflowDocument = z.output<typeof WorkflowResponse>;
export type RunDocument = z.output<typeof ExecutionResponse>;

/** A service's operation offered as a tool (the `GET /tools` listing's `service_operation` entries). */
export interface ServiceTool extends ToolDescription {
  readonly kind: 'service_operation';
}

export interface WorkflowPage {
  readonly workflows: readonly WorkflowSummary[];
  /** Where the next page starts; absent on the last page. Opaque: only the implementation reads it. */
  readonly nextCursor?: string;
}

export interface OrchestratorAccess {
  /** One page of the workflows the caller may see, newest first. */
  listWorkflows(query: { readonly status?: WorkflowStatus; readonly cursor?: string; readonly signal?: AbortSignal }): Promise<WorkflowPage>;
  /** A workflow's latest version. AccessError `not_found` when there is none the caller may see. */
  getWorkflow(workflowId: string, signal?: AbortSignal): Promise<WorkflowDocument>;
  /** Starts a run of the workflow's latest version. AccessError `invalid` (with each field) for bad parameters. */
  startRun(workflowId: string, parameters: Readonly<Record<string, unknown>>, signal?: AbortSignal): Promise<RunDocument>;
  getRun(executionId: string, signal?: AbortSignal): Promise<RunDocument>;
  /** The caller's most recent runs across workflows, newest first. */
  listRuns(query: { readonly limit: number; readonly signal?: AbortSignal }): Promise<readonly RunDocument[]>;
  /** Stops a run; a run that already ended is an AccessError `conflict`. */
  cancelRun(executionId: string): Promise<RunDocument>;
  /**
   * Something happened to the run (each item is a hint to read it again, never the state itself), from its
   * creation on, until the run ends, the source closes or `signal` aborts. Absent, or ending early (API
   * Gateway answers what was recorded and closes): the server polls `getRun` instead.
   */
  followRun?(executionId: string, options: { readonly since: string; readonly signal: AbortSignal }): AsyncIterable<unknown>;
  /** The services' operations as tools (from `GET /tools`); absent where that listing does not exist. */
  listServiceTools?(signal?: AbortSignal): Promise<readonly ServiceTool[]>;
  /** Calls one service operation tool; absent: service tools are listed but answer that they cannot be called here. */
  callServiceTool?(name: string, args: Readonly<Record<string, unknown>>, signal?: AbortSignal): Promise<unknown>;
}

/** Why an access call was refused, in terms the server turns into MCP answers (the API's 4xx, or the use cases' errors). */
export type AccessErrorKind = 'invalid' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'unavailable' | 'failed';

/** A refused or failed access call: its kind, a message fit for the caller, and each field at fault. */
export class AccessError extends Error {
  override readonly name = 'AccessError';
  readonly kind: AccessErrorKind;
  readonly details: readonly { readonly field: string; readonly message: string }[];

  constructor(kind: AccessErrorKind, message: string, options: { readonly details?: readonly { field: string; message: string }[]; readonly cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.details = options.details ?? [];
  }
}

/** Statuses after which a run changes no more. */
export const FINAL_RUN_STATUSES: readonly RunDocument['status'][] = ['completed', 'failed', 'cancelled', 'timed_out'];
export const isFinalRun = (run: Pick<RunDocument, 'status'>): boolean => FINAL_RUN_STATUSES.includes(run.status);
