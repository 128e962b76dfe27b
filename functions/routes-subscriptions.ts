import * as subscriptions from './http/subscription-schemas.ts';
import type { RouteSpec } from './routes.ts';

/** Webhook subscriptions to the event bus (`/infrastructure/events/subscriptions`, issue 12). Part of THE route table (routes.ts spreads it in). */
export const subscriptionRoutes = {
  createEventSubscription: {
    method: 'POST',
    path: '/infrastructure/events/subscriptions',
    auth: 'operator',
    context: 'events',
    summary:
      "Subscribe a webhook to the caller's tenant's events matching an EventBridge pattern: each is POSTed as a CloudEvents document signed with HMAC-SHA256, retried with back-off, then dead-lettered. The secret, when generated, is in this response only",
    tag: 'events',
    successStatus: 201,
    body: subscriptions.CreateSubscriptionBody,
    response: subscriptions.CreatedSubscriptionResponse,
    tables: { subscriptions: 'write' },
    deliveries: 'rules',
  },
  listEventSubscriptions: {
    method: 'GET',
    path: '/infrastructure/events/subscriptions',
    auth: 'viewer',
    context: 'events',
    summary: "The webhook subscriptions of the caller's tenant (admins: every tenant's, or ?tenant=), newest first, without secrets",
    tag: 'events',
    successStatus: 200,
    query: subscriptions.SubscriptionListQuery,
    response: subscriptions.SubscriptionListResponse,
    tables: { subscriptions: 'read' },
  },
  deleteEventSubscription: {
    method: 'DELETE',
    path: '/infrastructure/events/subscriptions/{subscription_id}',
    auth: 'operator',
    context: 'events',
    summary: 'Remove a webhook subscription: its deliveries stop at once (one already in flight may still arrive)',
    tag: 'events',
    successStatus: 200,
    params: subscriptions.SubscriptionIdParams,
    response: subscriptions.DeleteSubscriptionResponse,
    tables: { subscriptions: 'write' },
    deliveries: 'rules',
  },
} as const satisfies Record<string, RouteSpec>;
