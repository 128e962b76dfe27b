import { progressOf, type Execution } from '../../core/execution/model.ts';
import { createHttpHandler, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import type { ExecutionService } from '../../core/execution/service.ts';
import { ValidationError } from '../../core/errors.ts';

/** The executions context's handlers. No side effects until called. */
export function createExecutionHandlers({ executions }: { executions: ExecutionService }) {
  return {
    executeWorkflow: createHttpHandler(routes.executeWorkflow, async ({ params, body, headers, actor }) => {
      const key = idempotencyKey(headers['idempotency-key']);
      const { execution, created } = await executions.startExecution(params.workflow_id, { parameters: body.parameters, version: body.version, idempotencyKey: key }, actor);
      return {
        message: created ? `execution ${execution.execution_id} started` : `execution ${execution.execution_id} already exists for this Idempotency-Key`,
        data: present(execution),
        status: 202,
        headers: { location: `/workflows/executions/${execution.execution_id}` },
      };
    }),

    getExecution: createHttpHandler(routes.getExecution, async ({ params }) => {
      const execution = await executions.getExecution(params.execution_id);
      return { message: `execution ${execution.status}`, data: present(execution) };
    }),

    listWorkflowExecutions: createHttpHandler(routes.listWorkflowExecutions, async ({ params, query }) => {
      const page = await executions.listExecutions({ workflowId: params.workflow_id, status: query.status, limit: query.limit, cursor: query.next_token });
      return { message: `${page.items.length} execution${page.items.length === 1 ? '' : 's'}`, data: { executions: page.items.map(present), count: page.items.length, next_token: page.nextCursor ?? null } };
    }),

    executionHistory: createHttpHandler(routes.executionHistory, async ({ query }) => {
      const page = await executions.listExecutions({ status: query.status, since: query.since, limit: query.limit, cursor: query.next_token });
      return { message: `${page.items.length} execution${page.items.length === 1 ? '' : 's'}`, data: { executions: page.items.map(present), count: page.items.length, next_token: page.nextCursor ?? null } };
    }),

    cancelExecution: createHttpHandler(routes.cancelExecution, async ({ params, actor }) => {
      const execution = await executions.cancelExecution(params.execution_id, actor);
      return { message: `execution ${execution.execution_id} cancelled`, data: present(execution) };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}

function present(execution: Execution) {
  return { ...execution, progress: progressOf(execution) };
}

function idempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = header.trim();
  if (key.length === 0 || key.length > 255) throw new ValidationError([{ field: 'Idempotency-Key', message: 'must be 1 to 255 characters' }]);
  return key;
}
