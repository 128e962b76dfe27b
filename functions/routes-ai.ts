import * as t from './http/tool-schemas.ts';
import type { RouteSpec } from './routes.ts';

/** Agents' view of the orchestrator (issue 17): what they may call, as tools. Part of THE route table (routes.ts spreads it in). */
export const aiRoutes = {
  listTools: {
    method: 'GET',
    path: '/tools',
    auth: 'viewer',
    // Read from the registry and its services' documents, like the OpenAPI poll: the registry's stack.
    context: 'registry',
    summary: "Every active workflow of the caller's tenant and every operation of the registered services' OpenAPI documents, as tools (name, description, JSON Schema input); a note for each service whose document could not be read",
    tag: 'tools',
    successStatus: 200,
    query: t.ListToolsQuery,
    response: t.ToolListResponse,
    tables: { workflows: 'read', registry: 'read' },
    // Documents are read under the action runner's address rules; no credential is sent with them.
    outbound: 'calls',
  },
} as const satisfies Record<string, RouteSpec>;
