import { beforeEach, describe, expect, it } from 'vitest';
import { scopeOf, type Principal } from '../../../../core/auth/model.ts';
import { ValidationError } from '../../../../core/errors.ts';
import { EVENT_SOURCES, type EventEnvelope } from '../../../../core/events/envelope.ts';
import { createSubscriptionService, effectivePattern, subscriptionMatches, type SubscriptionServiceDeps } from '../../../../core/events/subscriptions.ts';
import { MemorySubscriptionRules, MemorySubscriptionStore } from '../../../support/subscriptions.ts';

const alice: Principal = { subject: 'alice', roles: ['operator'], tenant: 'acme', method: 'jwt' };
const bob: Principal = { subject: 'bob', roles: ['operator'], tenant: 'globex', method: 'jwt' };
const root: Principal = { subject: 'root', roles: ['admin'], tenant: 'default', method: 'api_key' };
const RUNS = { type: [{ prefix: 'orchestrator.run.' }] };

function event(overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return { event_id: 'ev-1', type: 'orchestrator.run.completed', source: EVENT_SOURCES.runs, time: '2026-12-01T10:00:00.000Z', tenant: 'acme', data: {}, ...overrides };
}

/** The issues of the ValidationError `promise` rejects with. */
async function issuesOf(promise: Promise<unknown>): Promise<{ field: string; message: string }[]> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ValidationError);
  return [...(error as ValidationError).details];
}

describe('subscription use cases', () => {
  let store: MemorySubscriptionStore;
  let rules: MemorySubscriptionRules;
  let failures: string[];
  let secrets: number;
  let destinationChecks: string[];
  const make = (overrides: Partial<SubscriptionServiceDeps> = {}) => {
    let id = 0;
    return createSubscriptionService({
      store,
      rules,
      clock: { now: () => `2026-12-01T10:00:0${id}.000Z` },
      ids: { next: () => `sub-${++id}` },
      generateSecret: () => `generated-secret-${++secrets}-0123456789abcdef`,
      checkDestination: async (url) => {
        destinationChecks.push(url);
        return url.includes('10.0.0.9') ? '10.0.0.9, a private address not allowed by ORCHESTRATOR_OUTBOUND_ALLOW' : undefined;
      },
      onRuleFailure: (what) => failures.push(what),
      ...overrides,
    });
  };

  beforeEach(() => {
    store = new MemorySubscriptionStore();
    rules = new MemorySubscriptionRules();
    failures = [];
    secrets = 0;
    destinationChecks = [];
  });

  describe('create', () => {
    it("stores the subscription in the caller's tenant, makes its rule after, and shows a generated secret this once", async () => {
      const service = make();
      const created = await service.create({ url: 'https://hooks.example.com/in', pattern: RUNS, description: 'runs' }, alice);
      expect(created).toEqual({
        subscription: { subscription_id: 'sub-1', url: 'https://hooks.example.com/in', pattern: RUNS, description: 'runs', tenant: 'acme', created_by: 'alice', created_at: '2026-12-01T10:00:01.000Z' },
        secret: 'generated-secret-1-0123456789abcdef',
      });
      expect(JSON.stringify(created.subscription)).not.toContain('generated-secret');
      expect((await store.get('sub-1'))?.secret).toBe('generated-secret-1-0123456789abcdef');
      expect(rules.routed).toEqual(new Set(['sub-1']));
      // Listings never show it again.
      expect(JSON.stringify(await service.list({ tenant: 'acme' }))).not.toContain('generated-secret');
    });

    it('keeps a secret the caller gave, without echoing it', async () => {
      const created = await make().create({ url: 'https://hooks.example.com/in', pattern: RUNS, secret: 'my-own-secret-of-24-chars' }, alice);
      expect(created.secret).toBeUndefined();
      expect(secrets).toBe(0);
      expect((await store.get(created.subscription.subscription_id))?.secret).toBe('my-own-secret-of-24-chars');
    });

    it('names every problem at once, each by its field path, and stores nothing', async () => {
      const issues = await issuesOf(
        make().create({ url: 'ftp://user:pw@169.254.169.254/x#frag', pattern: { type: [{ prefix: 3 }], data: { n: [{ numeric: ['>', 'one'] }] }, tenant: ['globex'] }, secret: 'short' }, alice),
      );
      expect(issues.map((issue) => issue.field).sort()).toEqual(['pattern.data.n[0].numeric', 'pattern.type[0].prefix', 'secret', 'url', 'url', 'url', 'url']);
      expect(issues.find((issue) => issue.message.includes('metadata'))?.message).toMatch(/169\.254\.169\.254/);
      expect(issues.find((issue) => issue.field === 'secret')?.message).toMatch(/16 to 256 characters/);
      expect(store.items.size).toBe(0);
      expect(rules.calls).toEqual([]);
      // The outbound check is not asked about a URL already refused.
      expect(destinationChecks).toEqual([]);
    });

    it("refuses a tenant in the pattern: the subscription's own is added, and no other can be asked for", async () => {
      const issues = await issuesOf(make().create({ url: 'https://hooks.example.com/in', pattern: { tenant: ['globex'] } }, alice));
      expect(issues).toEqual([{ field: 'pattern.tenant', message: expect.stringMatching(/own tenant's events only/) }]);
    });

    it('refuses a pattern that is not an object, or one too long for a rule', async () => {
      expect(await issuesOf(make().create({ url: 'https://hooks.example.com/in', pattern: ['x'] }, alice))).toEqual([{ field: 'pattern', message: expect.stringMatching(/JSON object/) }]);
      const long = { type: Array.from({ length: 200 }, (_, index) => `orchestrator.run.type-${index}`) };
      expect(await issuesOf(make().create({ url: 'https://hooks.example.com/in', pattern: long }, alice))).toEqual([{ field: 'pattern', message: expect.stringMatching(/at most 3000 characters/) }]);
    });

    it('refuses a URL whose destination the outbound rules refuse, naming url', async () => {
      const issues = await issuesOf(make().create({ url: 'http://10.0.0.9:8080/hook', pattern: RUNS }, alice));
      expect(issues).toEqual([{ field: 'url', message: expect.stringMatching(/outbound rules refuse it: 10\.0\.0\.9/) }]);
      expect(store.items.size).toBe(0);
    });

    it('refuses a subscription past the limit with a conflict that names it, storing nothing', async () => {
      const service = make({ limit: 2 });
      await service.create({ url: 'https://hooks.example.com/1', pattern: RUNS }, alice);
      await service.create({ url: 'https://hooks.example.com/2', pattern: RUNS }, bob);
      await expect(service.create({ url: 'https://hooks.example.com/3', pattern: RUNS }, alice)).rejects.toMatchObject({ name: 'ConflictError', message: expect.stringMatching(/the most it allows \(2:/) });
      expect(store.items.size).toBe(2);
    });

    it('undoes the stored subscription when its rule cannot be made, and says to try again', async () => {
      rules.failPut = true;
      await expect(make().create({ url: 'https://hooks.example.com/in', pattern: RUNS }, alice)).rejects.toMatchObject({ name: 'DependencyUnavailableError', retryable: true, message: expect.stringMatching(/try again/) });
      expect(store.items.size).toBe(0);
    });

    it('makes again the rule a crash left unmade, and removes the rule of a subscription deleted meanwhile, at the next create', async () => {
      const service = make();
      // A crash between the store write and the rule: stored, no rule.
      await store.create({ subscription_id: 'crashed', url: 'https://hooks.example.com/c', pattern: RUNS, tenant: 'acme', created_by: 'alice', created_at: '2026-12-01T09:00:00.000Z', secret: 'x'.repeat(20) });
      // A delete whose rule removal failed: a rule, no subscription.
      rules.routed.add('deleted');
      await service.create({ url: 'https://hooks.example.com/in', pattern: RUNS }, alice);
      expect(rules.routed).toEqual(new Set(['sub-1', 'crashed']));
      // The rules were read before the store (see the order of writes in subscriptions.ts).
      expect(rules.calls).toEqual(['put sub-1', 'list', 'put crashed', 'remove deleted']);
    });

    it('reports a reconciliation that fails without failing the create', async () => {
      rules.list = async () => {
        throw new Error('ListRules throttled');
      };
      const created = await make().create({ url: 'https://hooks.example.com/in', pattern: RUNS }, alice);
      expect(created.subscription.subscription_id).toBe('sub-1');
      expect(failures).toEqual(['reconcile']);
    });
  });

  describe('list and delete', () => {
    beforeEach(async () => {
      const service = make();
      await service.create({ url: 'https://hooks.example.com/a', pattern: RUNS }, alice);
      await service.create({ url: 'https://hooks.example.com/b', pattern: RUNS }, bob);
    });

    it("shows a member their tenant's subscriptions, an admin every tenant's or the one asked for", async () => {
      const service = make();
      expect((await service.list(scopeOf(alice, 'globex'))).map((item) => item.url)).toEqual(['https://hooks.example.com/a']);
      expect((await service.list(scopeOf(root))).map((item) => item.tenant).sort()).toEqual(['acme', 'globex']);
      expect((await service.list(scopeOf(root, 'globex'))).map((item) => item.url)).toEqual(['https://hooks.example.com/b']);
    });

    it("does not find another tenant's subscription, and deletes one's own with its rule", async () => {
      const service = make();
      await expect(service.remove('sub-2', { tenant: 'acme' })).rejects.toMatchObject({ name: 'NotFoundError' });
      expect(store.items.has('sub-2')).toBe(true);
      await service.remove('sub-1', { tenant: 'acme' });
      expect(store.items.has('sub-1')).toBe(false);
      expect(rules.routed).toEqual(new Set(['sub-2']));
      await expect(service.remove('sub-1', { tenant: 'acme' })).rejects.toMatchObject({ name: 'NotFoundError' });
      await service.remove('sub-2', scopeOf(root));
      expect(store.items.size).toBe(0);
    });

    it('deletes the subscription even when its rule cannot be removed now, reporting it', async () => {
      rules.failRemove = true;
      await make().remove('sub-1', { tenant: 'acme' });
      expect(store.items.has('sub-1')).toBe(false);
      expect(failures).toEqual(['remove sub-1']);
    });
  });
});

describe('matching a subscription', () => {
  const subscription = { pattern: RUNS, tenant: 'acme' };

  it("adds the subscription's tenant to its pattern", () => {
    expect(effectivePattern(subscription)).toEqual({ ...RUNS, tenant: ['acme'] });
  });

  it("matches its tenant's events of the pattern, never another tenant's", () => {
    expect(subscriptionMatches(subscription, event())).toBe(true);
    expect(subscriptionMatches(subscription, event({ tenant: 'globex' }))).toBe(false);
    expect(subscriptionMatches(subscription, event({ type: 'orchestrator.workflow.created' }))).toBe(false);
  });
});
