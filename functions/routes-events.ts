import type { RouteSpec } from './routes.ts';

/** The event history, its live stream, replay and clear (`/infrastructure/events/*`, issue 12). Part of THE route table (routes.ts spreads it in). */
export const eventRoutes = {} as const satisfies Record<string, RouteSpec>;
