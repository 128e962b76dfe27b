import * as z from 'zod';
import type { StoredSubscription, Subscription } from '../../../core/events/subscriptions.ts';
import type { EventPattern } from '../../../core/events/pattern.ts';
import { jsonText } from './items.ts';
import type { IndexDesign, TableDesign } from './workflow-table.ts';

/**
 * The webhook subscriptions table, as plain data (CDK and the local runtime create it from this).
 *
 * One item per subscription (pk = `SUB#<subscription_id>`, sk = `SUBSCRIPTION`), written by one conditional
 * PutItem and found by id with one GetItem (each delivery reads it). A deployment holds at most 250
 * (core/events/subscriptions.ts MAX_SUBSCRIPTIONS: one EventBridge rule each), so its listings are small and
 * read through indexes sorted by `<created_at>#<subscription_id>`, newest first:
 *   tenant-by-created  `T#<tenant>`: what a tenant lists
 *   all-by-created     `ALL`: every tenant's, for admins, the count (Select COUNT) and the local bus
 * The indexes copy everything but `secret`: a listing never needs it, so it never leaves the table but through
 * GetItem, for the delivery that signs with it. The pattern is JSON text (`pattern_json`): a pattern's field
 * names are the user's (`$or`, empty strings) and its numbers may be any JSON number.
 */
export const SubscriptionIndex = {
  byTenant: { indexName: 'tenant-by-created', partitionKey: 'gsi_tenant_pk', sortKey: 'gsi_sk' },
  all: { indexName: 'all-by-created', partitionKey: 'gsi_all_pk', sortKey: 'gsi_sk' },
} as const satisfies Record<string, IndexDesign>;

/** The constant partition of `SubscriptionIndex.all`. */
export const ALL_SUBSCRIPTIONS_PARTITION = 'ALL';

/** Every attribute but the keys and the secret: what the indexes copy. */
export const SUBSCRIPTION_ATTRIBUTES = ['subscription_id', 'url', 'pattern_json', 'description', 'tenant', 'created_by', 'created_at'] as const;

export const SUBSCRIPTION_TABLE: TableDesign = {
  id: 'Subscriptions',
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: Object.values(SubscriptionIndex),
  projectedAttributes: SUBSCRIPTION_ATTRIBUTES,
};

/** The table key of a subscription. */
export const subscriptionKey = (subscriptionId: string) => ({ pk: `SUB#${subscriptionId}`, sk: 'SUBSCRIPTION' });

/** The whole item of a subscription: its key, its attributes and its index keys. */
export function subscriptionItem(subscription: StoredSubscription): Record<string, unknown> {
  const { pattern, ...rest } = subscription;
  const sortKey = `${subscription.created_at}#${subscription.subscription_id}`;
  return {
    ...subscriptionKey(subscription.subscription_id),
    ...rest,
    pattern_json: JSON.stringify(pattern),
    gsi_tenant_pk: `T#${subscription.tenant}`,
    gsi_all_pk: ALL_SUBSCRIPTIONS_PARTITION,
    gsi_sk: sortKey,
  };
}

const PatternSchema = z.record(z.string(), z.unknown()) as unknown as z.ZodType<EventPattern>;

const SubscriptionAttributes = z.object({
  subscription_id: z.string(),
  url: z.string(),
  pattern_json: jsonText(PatternSchema),
  description: z.string().optional(),
  tenant: z.string(),
  created_by: z.string(),
  created_at: z.string(),
});

function toSubscription({ pattern_json, description, ...rest }: z.output<typeof SubscriptionAttributes>): Subscription {
  return { ...rest, pattern: pattern_json, ...(description === undefined ? {} : { description }) };
}

/** A subscription as an index copies it (no secret). */
export const ListedSubscriptionItemSchema = SubscriptionAttributes.transform(toSubscription);

/** The whole item, secret included (GetItem). */
export const SubscriptionItemSchema = SubscriptionAttributes.extend({ secret: z.string().min(1, 'must be the webhook secret') }).transform(
  ({ secret, ...rest }): StoredSubscription => ({ ...toSubscription(rest), secret }),
);
