import { ConflictError } from '../../core/errors.ts';
import type { StoredSubscription, Subscription, SubscriptionRules, SubscriptionStore } from '../../core/events/subscriptions.ts';

/** SubscriptionStore in memory, with the contract's semantics (test/contract/subscription-store.test.ts runs it too). */
export class MemorySubscriptionStore implements SubscriptionStore {
  readonly items = new Map<string, StoredSubscription>();
  /** Reads by id (deliveries) and listings (the local bus's cache), counted for the tests that care. */
  gets = 0;
  lists = 0;

  async create(subscription: StoredSubscription): Promise<void> {
    if (this.items.has(subscription.subscription_id)) throw new ConflictError(`subscription ${subscription.subscription_id} exists`);
    this.items.set(subscription.subscription_id, structuredClone(subscription));
  }
  async get(subscriptionId: string): Promise<StoredSubscription | undefined> {
    this.gets++;
    const found = this.items.get(subscriptionId);
    return found && structuredClone(found);
  }
  async list(query: { readonly tenant?: string }): Promise<Subscription[]> {
    this.lists++;
    return [...this.items.values()]
      .filter((item) => query.tenant === undefined || item.tenant === query.tenant)
      .sort((a, b) => `${b.created_at}#${b.subscription_id}`.localeCompare(`${a.created_at}#${a.subscription_id}`))
      .map(({ secret: _secret, ...shown }) => structuredClone(shown));
  }
  async remove(subscriptionId: string): Promise<boolean> {
    return this.items.delete(subscriptionId);
  }
  async count(): Promise<number> {
    return this.items.size;
  }
}

/** A rules port that remembers which subscriptions have a rule, and can be made to fail. */
export class MemorySubscriptionRules implements SubscriptionRules {
  readonly routed = new Set<string>();
  readonly calls: string[] = [];
  failPut = false;
  failRemove = false;

  async put(subscription: Subscription): Promise<void> {
    this.calls.push(`put ${subscription.subscription_id}`);
    if (this.failPut) throw new Error('EventBridge is down');
    this.routed.add(subscription.subscription_id);
  }
  async remove(subscriptionId: string): Promise<void> {
    this.calls.push(`remove ${subscriptionId}`);
    if (this.failRemove) throw new Error('EventBridge is down');
    this.routed.delete(subscriptionId);
  }
  async list(): Promise<string[]> {
    this.calls.push('list');
    return [...this.routed];
  }
}
