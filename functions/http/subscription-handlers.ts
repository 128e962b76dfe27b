import { scopeOf } from '../../core/auth/model.ts';
import { describeSubscription, type SubscriptionService } from '../../core/events/subscriptions.ts';
import { handlerFactory, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import type { Secured } from './services.ts';

export interface SubscriptionHttpServices extends Secured {
  readonly subscriptions: SubscriptionService;
}

/** Webhook subscriptions' handlers (`/infrastructure/events/subscriptions`). No side effects until called. */
export function createSubscriptionHandlers(services: SubscriptionHttpServices) {
  // Services are read when a request needs them: each route's function builds only what it uses.
  const handle = handlerFactory(services.security);
  return {
    createEventSubscription: handle(routes.createEventSubscription, async ({ body, caller }) => {
      const { subscription, secret } = await services.subscriptions.create(body, caller);
      return {
        message:
          secret === undefined
            ? `subscription ${subscription.subscription_id} created`
            : `subscription ${subscription.subscription_id} created: store its secret now, it is not shown again`,
        data: { ...describeSubscription(subscription), ...(secret === undefined ? {} : { secret }) },
        // The one response with a secret in it: no cache may keep it.
        headers: { location: `/infrastructure/events/subscriptions/${subscription.subscription_id}`, 'cache-control': 'no-store' },
      };
    }),

    listEventSubscriptions: handle(routes.listEventSubscriptions, async ({ query, caller }) => {
      const subscriptions = (await services.subscriptions.list(scopeOf(caller, query.tenant))).map(describeSubscription);
      return { message: `${subscriptions.length} subscription${subscriptions.length === 1 ? '' : 's'}`, data: { subscriptions, count: subscriptions.length } };
    }),

    deleteEventSubscription: handle(routes.deleteEventSubscription, async ({ params, caller }) => {
      await services.subscriptions.remove(params.subscription_id, scopeOf(caller));
      return { message: `subscription ${params.subscription_id} deleted`, data: { subscription_id: params.subscription_id, deleted: true as const } };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}
