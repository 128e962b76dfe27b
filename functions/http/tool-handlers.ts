import { scopeOf } from '../../core/auth/model.ts';
import { ValidationError } from '../../core/errors.ts';
import { findServiceOperationTool, planToolCall } from '../../core/ai/tool-call.ts';
import type { ToolCatalog } from '../../core/ai/tool-catalog.ts';
import type { ServiceProxy } from '../ecosystem/service-proxy.ts';
import { handlerFactory, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import type { Secured } from './services.ts';

/** What `GET /tools` and `POST /tools/{tool_name}/call` need. */
export interface ToolHttpServices {
  readonly tools: ToolCatalog;
  /**
   * Calls a service as the ecosystem proxies do (the action runner's resolution, outbound rules, circuits,
   * credentials and retries). Read only by `callTool`: the listing's function composes none.
   */
  readonly serviceProxy: ServiceProxy;
}

/** Workflows and services' operations as tools (issue 17). */
export function createToolHandlers(services: ToolHttpServices & Secured) {
  const { tools } = services;
  const handle = handlerFactory(services.security);
  return {
    listTools: handle(routes.listTools, async ({ query, caller }) => {
      const listing = await tools.list({ service: query.service, tag: query.tag, kind: query.kind }, scopeOf(caller, query.tenant));
      const { counts } = listing;
      const unreadable = counts.services_unreadable === 0 ? '' : `; ${plural(counts.services_unreadable, 'service')} not read (see notes)`;
      return { message: `${plural(counts.tools, 'tool')}: ${plural(counts.workflows, 'workflow')}, ${plural(counts.service_operations, 'service operation')}${unreadable}`, data: listing };
    }),

    callTool: handle(routes.callTool, async ({ params, body, caller, actor, requestId, trace }) => {
      // The tool as this caller's listing describes it now: a call never runs what GET /tools would not show.
      const tool = await findServiceOperationTool(tools, params.tool_name, scopeOf(caller));
      const plan = planToolCall(tool, body.arguments);
      if (!plan.ok) throw new ValidationError(plan.issues);
      const { request } = plan;
      const answer = await services.serviceProxy(
        {
          service: request.service,
          method: request.method,
          path: request.path,
          query: request.query,
          headers: request.headers,
          ...(request.body === undefined ? {} : { body: request.body }),
          ...(request.idempotencyKey === undefined ? {} : { idempotencyKey: request.idempotencyKey }),
        },
        { requestId, ...(trace ? { trace } : {}), caller: { subject: actor, tenant: caller.tenant } },
      );
      return {
        message: `${tool.name}: HTTP ${answer.status}`,
        data: { tool: tool.name, service: request.service, method: request.method, path: request.path, status: answer.status, body: answer.body ?? null, attempts: answer.attempts },
      };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
