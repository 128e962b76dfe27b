import { scopeOf } from '../../core/auth/model.ts';
import type { Secured } from './services.ts';
import { progressOf, type Execution } from '../../core/execution/model.ts';
import { handlerFactory, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import type { ExecutionService } from '../../core/execution/service.ts';
import { ValidationError } from '../../core/errors.ts';

/** The executions context's handlers. No side effects until called. */
export function createExecutionHandlers({ executions, security }: { executions: ExecutionService } & Secured) {
  const handle = handlerFactory(security);
  return {
    executeWorkflow: handle(routes.executeWorkflow, async ({ params, body, headers, actor, caller, trace }) => {
      const key = idempotencyKey(headers['idempotency-key']);
      // The run continues the request's trace (the caller's, when it sent a traceparent), as a child of its span.
      const request = { parameters: body.parameters, version: body.version, idempotencyKey: key, ...runTrace(trace) };
      const { execution, created } = await executions.startExecution(params.workflow_id, request, actor, scopeOf(caller));
      return {
        message: created ? `execution ${execution.execution_id} started` : `execution ${execution.execution_id} already exists for this Idempotency-Key`,
        data: present(execution),
        status: 202,
        headers: { location: `/workflows/executions/${execution.execution_id}` },
      };
    }),

    getExecution: handle(routes.getExecution, async ({ params, caller }) => {
      const execution = await executions.getExecution(params.execution_id, scopeOf(caller));
      return { message: `execution ${execution.status}`, data: present(execution) };
    }),

    listWorkflowExecutions: handle(routes.listWorkflowExecutions, async ({ params, query, caller }) => {
      const page = await executions.listExecutions({ workflowId: params.workflow_id, status: query.status, limit: query.limit, cursor: query.next_token }, scopeOf(caller));
      return { message: `${page.items.length} execution${page.items.length === 1 ? '' : 's'}`, data: { executions: page.items.map(present), count: page.items.length, next_token: page.nextCursor ?? null } };
    }),

    executionHistory: handle(routes.executionHistory, async ({ query, caller }) => {
      const page = await executions.listExecutions({ status: query.status, since: query.since, limit: query.limit, cursor: query.next_token }, scopeOf(caller, query.tenant));
      return { message: `${page.items.length} execution${page.items.length === 1 ? '' : 's'}`, data: { executions: page.items.map(present), count: page.items.length, next_token: page.nextCursor ?? null } };
    }),

    retryExecution: handle(routes.retryExecution, async ({ params, body, actor, caller }) => {
      const { execution, rerun } = await executions.retryExecution(params.execution_id, { fromAction: body.from_action, parameters: body.parameters }, actor, scopeOf(caller));
      return {
        message: rerun
          ? `execution ${execution.execution_id} reruns ${params.execution_id} from ${body.from_action ?? ''}`
          : `execution ${execution.execution_id} retried (redrive ${execution.redrive_count ?? 1})`,
        data: present(execution),
        status: 202,
        headers: { location: `/workflows/executions/${execution.execution_id}` },
      };
    }),

    pauseExecution: handle(routes.pauseExecution, async ({ params, caller }) => {
      const execution = await executions.pauseExecution(params.execution_id, scopeOf(caller));
      return { message: `execution ${execution.execution_id} ${execution.status}`, data: present(execution) };
    }),

    resumeExecution: handle(routes.resumeExecution, async ({ params, caller }) => {
      const execution = await executions.resumeExecution(params.execution_id, scopeOf(caller));
      return { message: `execution ${execution.execution_id} ${execution.status}`, data: present(execution) };
    }),

    getSaga: handle(routes.getSaga, async ({ params, caller }) => {
      const saga = await executions.getSaga(params.saga_id, scopeOf(caller));
      return { message: `saga ${saga.saga_id} ${saga.state}`, data: saga };
    }),

    sagaStatistics: handle(routes.sagaStatistics, async ({ query, caller }) => {
      const since = query.since ?? new Date(Date.now() - SAGA_STATS_DEFAULT_WINDOW_MS).toISOString();
      const stats = await executions.sagaStatistics({ since, workflowId: query.workflow_id }, scopeOf(caller, query.tenant));
      return { message: `${stats.sagas} saga${stats.sagas === 1 ? '' : 's'} among ${stats.runs_examined} runs since ${since}`, data: stats };
    }),

    cancelExecution: handle(routes.cancelExecution, async ({ params, actor, caller }) => {
      const execution = await executions.cancelExecution(params.execution_id, actor, scopeOf(caller));
      return { message: `execution ${execution.execution_id} cancelled`, data: present(execution) };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}

/** Saga statistics look back this far unless the request says `since`. */
const SAGA_STATS_DEFAULT_WINDOW_MS = 7 * 24 * 3600 * 1000;

function present(execution: Execution) {
  return { ...execution, progress: progressOf(execution) };
}

/** A run started by a request continues the request's trace, as a child of its span. */
export function runTrace(trace: { readonly trace_id: string; readonly span_id: string } | undefined): { trace?: { trace_id: string; parent_span_id: string } } {
  return trace ? { trace: { trace_id: trace.trace_id, parent_span_id: trace.span_id } } : {};
}

/** The Idempotency-Key header, checked (1 to 255 characters). */
export function idempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = header.trim();
  if (key.length === 0 || key.length > 255) throw new ValidationError([{ field: 'Idempotency-Key', message: 'must be 1 to 255 characters' }]);
  return key;
}
