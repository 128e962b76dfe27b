import { scopeOf } from '../../core/auth/model.ts';
import type { ToolCatalog } from '../../core/ai/tool-catalog.ts';
import { handlerFactory, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import type { Secured } from './services.ts';

/** What `GET /tools` needs. */
export interface ToolHttpServices {
  readonly tools: ToolCatalog;
}

/** Workflows and services' operations as tools (issue 17). */
export function createToolHandlers({ tools, security }: ToolHttpServices & Secured) {
  const handle = handlerFactory(security);
  return {
    listTools: handle(routes.listTools, async ({ query, caller }) => {
      const listing = await tools.list({ service: query.service, tag: query.tag, kind: query.kind }, scopeOf(caller, query.tenant));
      const { counts } = listing;
      const unreadable = counts.services_unreadable === 0 ? '' : `; ${plural(counts.services_unreadable, 'service')} not read (see notes)`;
      return { message: `${plural(counts.tools, 'tool')}: ${plural(counts.workflows, 'workflow')}, ${plural(counts.service_operations, 'service operation')}${unreadable}`, data: listing };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
