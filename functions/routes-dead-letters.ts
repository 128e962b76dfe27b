import type { RouteSpec } from './routes.ts';

/** The dead-letter queues: stats, messages, retry (`/infrastructure/dlq/*`, issue 12). Part of THE route table (routes.ts spreads it in). */
export const deadLetterRoutes = {} as const satisfies Record<string, RouteSpec>;
