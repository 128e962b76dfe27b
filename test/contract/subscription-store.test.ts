import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoSubscriptionStore } from '../../adapters/aws/dynamo/dynamo-subscription-store.ts';
import { SUBSCRIPTION_TABLE, subscriptionItem } from '../../adapters/aws/dynamo/subscription-table.ts';
import type { StoredSubscription, SubscriptionStore } from '../../core/events/subscriptions.ts';
import { freshTable } from '../support/dynamo.ts';
import { MemorySubscriptionStore } from '../support/subscriptions.ts';

function subscription(id: string, overrides: Partial<StoredSubscription> = {}): StoredSubscription {
  return {
    subscription_id: id,
    url: `https://hooks.example.com/${id}`,
    pattern: { type: [{ prefix: 'orchestrator.run.' }] },
    tenant: 'acme',
    created_by: 'alice',
    created_at: '2026-12-01T10:00:00.000Z',
    secret: `secret-of-${id}-0123456789`,
    ...overrides,
  };
}

const ids = (items: readonly { subscription_id: string }[]) => items.map((item) => item.subscription_id);

interface Subject {
  readonly store: SubscriptionStore;
  /** DynamoDB commands sent since the store was made (none for the memory store). */
  readonly commands: string[];
}

/** The SubscriptionStore contract, run against every adapter. */
function contract(name: string, make: () => Promise<Subject>): void {
  describe(name, () => {
    let store: SubscriptionStore;
    let commands: string[];

    beforeEach(async () => {
      ({ store, commands } = await make());
    });

    afterEach(() => {
      // Listings and the count are Queries of one partition, whatever the test did.
      expect(commands).not.toContain('ScanCommand');
    });

    it('keeps a subscription whole, secret and any pattern included, and gives it back by id', async () => {
      const stored = subscription('sub-1', {
        description: 'orders to the billing hook',
        pattern: { $or: [{ type: ['orchestrator.run.failed'] }, { data: { amount: [{ numeric: ['>', 1.5e300] }] } }], '': [null], source: [{ 'anything-but': ['/x'] }] },
      });
      await store.create(stored);
      expect(await store.get('sub-1')).toEqual(stored);
      expect(await store.get('sub-missing')).toBeUndefined();
    });

    it('refuses a second subscription with a taken id, keeping the first', async () => {
      await store.create(subscription('sub-1'));
      await expect(store.create(subscription('sub-1', { url: 'https://elsewhere.example.com/' }))).rejects.toMatchObject({ name: 'ConflictError' });
      expect((await store.get('sub-1'))?.url).toBe('https://hooks.example.com/sub-1');
    });

    it("lists a tenant's subscriptions, or every tenant's, newest first, never with a secret", async () => {
      await store.create(subscription('sub-a', { created_at: '2026-12-01T10:00:00.000Z' }));
      await store.create(subscription('sub-b', { created_at: '2026-12-01T11:00:00.000Z', tenant: 'globex' }));
      await store.create(subscription('sub-c', { created_at: '2026-12-01T12:00:00.000Z' }));
      expect(ids(await store.list({ tenant: 'acme' }))).toEqual(['sub-c', 'sub-a']);
      expect(ids(await store.list({ tenant: 'globex' }))).toEqual(['sub-b']);
      expect(ids(await store.list({ tenant: 'initech' }))).toEqual([]);
      const all = await store.list({});
      expect(ids(all)).toEqual(['sub-c', 'sub-b', 'sub-a']);
      expect(JSON.stringify(all)).not.toContain('secret');
      const { secret: _secret, ...shown } = subscription('sub-a');
      expect(all[2]).toEqual(shown);
    });

    it('counts every tenant\'s subscriptions, and removes one once', async () => {
      expect(await store.count()).toBe(0);
      for (let index = 0; index < 7; index++) await store.create(subscription(`sub-${index}`, { tenant: index % 2 === 0 ? 'acme' : 'globex' }));
      expect(await store.count()).toBe(7);
      expect(await store.remove('sub-3')).toBe(true);
      expect(await store.remove('sub-3')).toBe(false);
      expect(await store.get('sub-3')).toBeUndefined();
      expect(await store.count()).toBe(6);
      expect(ids(await store.list({ tenant: 'globex' })).sort()).toEqual(['sub-1', 'sub-5']);
    });
  });
}

contract('MemorySubscriptionStore', async () => ({ store: new MemorySubscriptionStore(), commands: [] }));

contract('DynamoSubscriptionStore on the DynamoDB emulator', async () => {
  const table = await freshTable(SUBSCRIPTION_TABLE, 'subscriptions');
  return { store: new DynamoSubscriptionStore(table.client, table.tableName), commands: table.commands };
});

describe('DynamoSubscriptionStore specifics', () => {
  it('reads a subscription with one GetItem, and counts with one Query whatever the listing', async () => {
    const table = await freshTable(SUBSCRIPTION_TABLE, 'subscriptions');
    const store = new DynamoSubscriptionStore(table.client, table.tableName);
    await store.create(subscription('sub-1'));
    table.commands.length = 0;
    await store.get('sub-1');
    await store.count();
    expect(table.commands).toEqual(['GetItemCommand', 'QueryCommand']);
  });

  it('refuses an item that lost its secret as corrupt, naming the attribute, rather than delivering unsigned', async () => {
    const table = await freshTable(SUBSCRIPTION_TABLE, 'subscriptions');
    const store = new DynamoSubscriptionStore(table.client, table.tableName);
    const { secret: _secret, ...item } = subscriptionItem(subscription('sub-1')) as Record<string, unknown> & { secret: string };
    await table.client.send(new PutCommand({ TableName: table.tableName, Item: item }));
    await expect(store.get('sub-1')).rejects.toMatchObject({ name: 'CorruptItemError', message: expect.stringMatching(/secret/) });
  });
});
