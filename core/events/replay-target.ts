import { inScope } from '../auth/model.ts';
import { NotFoundError } from '../errors.ts';
import type { Clock } from '../ports.ts';
import type { EventEnvelope } from './envelope.ts';
import type { ReplayTarget } from './service.ts';
import { subscriptionMatches, type Subscription, type SubscriptionStore } from './subscriptions.ts';

/** A delivery of one event to one subscription: what the subscription's rule puts on the delivery queue. */
export interface DeliveryRequest {
  readonly subscription_id: string;
  readonly event: EventEnvelope;
}

/** How long a replay trusts the subscription list it read (one replay reads it once). */
const LIST_TTL_MS = 5000;

/**
 * Replays go to the subscriptions' deliveries (the delivery queue in AWS, the in-process deliveries locally),
 * never to the bus: to the one subscription named, or to each subscription of the event's tenant whose
 * pattern matches it, as its rule would have matched it when it was published.
 */
export function subscriptionReplayTarget(store: Pick<SubscriptionStore, 'get' | 'list'>, enqueue: (delivery: DeliveryRequest) => Promise<void>, clock: Clock): ReplayTarget {
  let listed: { at: number; subscriptions: readonly Subscription[] } | undefined;
  const subscriptions = async (): Promise<readonly Subscription[]> => {
    const now = Date.parse(clock.now());
    if (!listed || now - listed.at > LIST_TTL_MS) listed = { at: now, subscriptions: await store.list({}) };
    return listed.subscriptions;
  };
  return {
    async deliver(event, subscriptionId) {
      if (subscriptionId !== undefined) return enqueue({ subscription_id: subscriptionId, event });
      for (const subscription of await subscriptions()) {
        if (subscriptionMatches(subscription, event)) await enqueue({ subscription_id: subscription.subscription_id, event });
      }
    },
    async assertSubscription(subscriptionId, scope) {
      const found = await store.get(subscriptionId);
      if (!found || !inScope(scope, found.tenant)) throw new NotFoundError(`subscription ${subscriptionId} not found`, [{ field: 'subscription_id', message: 'no such subscription (in your tenant)' }]);
    },
  };
}
