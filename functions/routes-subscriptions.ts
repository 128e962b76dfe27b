import type { RouteSpec } from './routes.ts';

/** Webhook subscriptions to the event bus (`/infrastructure/events/subscriptions`, issue 12). Part of THE route table (routes.ts spreads it in). */
export const subscriptionRoutes = {} as const satisfies Record<string, RouteSpec>;
