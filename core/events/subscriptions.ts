import { inScope, type Principal, type TenantScope } from '../auth/model.ts';
import { ConflictError, DependencyUnavailableError, NotFoundError, ValidationError, type FieldIssue } from '../errors.ts';
import type { Clock, IdGenerator } from '../ports.ts';
import { forbiddenHostClass } from '../registry/addresses.ts';
import type { EventEnvelope } from './envelope.ts';
import { matchesEventPattern, parseEventPattern, type EventPattern } from './pattern.ts';

/**
 * Webhook subscriptions to the workflow event bus (issue 12, ADR 0013 "Subscriptions"): a URL, an
 * EventBridge-style pattern over the envelope, and a secret that signs each delivery. A subscription only ever
 * receives its own tenant's events: its effective pattern adds `tenant: [<tenant>]` to the caller's.
 *
 * The store is the truth; the `rules` port (one EventBridge rule per subscription in AWS, nothing locally) is
 * derived from it, and every delivery loads its subscription from the store first (a deleted one is skipped).
 * So the order of writes, with no transaction across the table and EventBridge, is:
 *
 * - create: store, then rule. A crash between them leaves a listed subscription without a rule (it receives
 *   nothing in AWS); the next create reconciles the rules with the store and makes its rule. A rule that
 *   fails is undone (the item removed) and the caller told to try again.
 * - delete: store, then rule. The subscription stops receiving at once (deliveries read the store); a rule
 *   left behind by a crash or a failure only feeds deliveries that are skipped, and the next create removes it.
 * - reconcile (after each create, where the port can list its rules): the rules are read BEFORE the store, so
 *   a rule seen without its item belongs to a subscription deleted meanwhile (items are written before rules,
 *   ids are never reused) and may go; an item seen without a rule gets one (PutRule is an upsert: a create in
 *   flight that makes the same rule loses nothing). Racing a delete may leave a rule behind: the next reconcile
 *   removes it, and until then its deliveries are skipped.
 */

/** EventBridge allows 300 rules per bus; the orchestrator keeps 50 for its own (recorder, deployer, listener). */
export const MAX_SUBSCRIPTIONS = 250;
export const MIN_SECRET_LENGTH = 16;
export const MAX_SECRET_LENGTH = 256;
export const MAX_URL_LENGTH = 2048;
export const MAX_DESCRIPTION_LENGTH = 512;
/** The JSON of a pattern; EventBridge takes rule patterns of up to 4096 characters, and the rule adds its own fields. */
export const MAX_PATTERN_LENGTH = 3000;

export interface Subscription {
  readonly subscription_id: string;
  /** Where deliveries are POSTed: http or https, without credentials. */
  readonly url: string;
  /** The caller's pattern, as given (the tenant is added by effectivePattern). */
  readonly pattern: EventPattern;
  readonly description?: string;
  readonly tenant: string;
  readonly created_by: string;
  readonly created_at: string;
}

/** A subscription with the secret that signs its deliveries: what the store keeps, and what only `get` returns. */
export interface StoredSubscription extends Subscription {
  readonly secret: string;
}

/**
 * Where subscriptions are kept (a DynamoDB table in AWS and locally). Listings never carry secrets; only
 * `get` does, for the delivery that signs with it.
 */
export interface SubscriptionStore {
  /** Stores a new subscription; ConflictError when its id is taken. */
  create(subscription: StoredSubscription): Promise<void>;
  get(subscriptionId: string): Promise<StoredSubscription | undefined>;
  /** `tenant`'s subscriptions, or every tenant's when undefined; newest first, without secrets. */
  list(query: { readonly tenant?: string }): Promise<Subscription[]>;
  /** Whether it removed one. */
  remove(subscriptionId: string): Promise<boolean>;
  /** How many subscriptions the deployment has, every tenant's. */
  count(): Promise<number>;
}

/**
 * What routes a subscription's events to its deliveries: an EventBridge rule on the workflow bus whose target
 * is the delivery queue (AWS); locally the in-process bus asks the store, so the port only drops a cache.
 */
export interface SubscriptionRules {
  /** Makes the route, or makes it again (an upsert). */
  put(subscription: Subscription): Promise<void>;
  /** Removes the route; one that is not there is not an error. */
  remove(subscriptionId: string): Promise<void>;
  /** The ids of the subscriptions that have a route, for reconciliation; absent where there is nothing to reconcile. */
  list?(): Promise<string[]>;
}

/** The pattern a subscription is matched with: the caller's, limited to the subscription's tenant. */
export function effectivePattern(subscription: Pick<Subscription, 'pattern' | 'tenant'>): EventPattern {
  return { ...subscription.pattern, tenant: [subscription.tenant] };
}

/** Whether `event` is for `subscription`: its tenant's, and matching its pattern. */
export function subscriptionMatches(subscription: Pick<Subscription, 'pattern' | 'tenant'>, event: EventEnvelope): boolean {
  return event.tenant === subscription.tenant && matchesEventPattern(effectivePattern(subscription), event);
}

/** A subscription as the API shows it: never its secret. */
export function describeSubscription(subscription: Subscription): Subscription & { effective_pattern: EventPattern } {
  const { subscription_id, url, pattern, description, tenant, created_by, created_at } = subscription;
  return { subscription_id, url, pattern, ...(description === undefined ? {} : { description }), tenant, created_by, created_at, effective_pattern: effectivePattern(subscription) };
}

export interface NewSubscription {
  readonly url: string;
  /** Checked here (parseEventPattern), every problem named by its path under `pattern`. */
  readonly pattern: unknown;
  readonly description?: string;
  /** Signs deliveries; generated (and shown once) when not given. */
  readonly secret?: string;
}

export interface SubscriptionServiceDeps {
  readonly store: SubscriptionStore;
  readonly rules: SubscriptionRules;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** A new secret from a secure random source (at least MIN_SECRET_LENGTH characters). */
  readonly generateSecret: () => string;
  /**
   * The outbound rules' verdict on a URL's destination now (a name resolved, its addresses judged): the reason
   * it is refused, or undefined. An early refusal only: deliveries are checked again at each connection.
   */
  readonly checkDestination?: (url: string) => Promise<string | undefined>;
  /** A reconciliation or a rule removal that failed after the change was stored: reported, never failing it. */
  readonly onRuleFailure?: (what: string, error: unknown) => void;
  /** Default MAX_SUBSCRIPTIONS (tests lower it). */
  readonly limit?: number;
}

export type SubscriptionService = ReturnType<typeof createSubscriptionService>;

/** The subscription use cases: create (secret shown once), list (tenant scoped), delete. */
export function createSubscriptionService(deps: SubscriptionServiceDeps) {
  const limit = deps.limit ?? MAX_SUBSCRIPTIONS;
  const reportRuleFailure = (what: string, error: unknown) => deps.onRuleFailure?.(what, error);

  async function reconcile(): Promise<void> {
    if (!deps.rules.list) return;
    // Rules first, then the store: see the order of writes at the top of this file.
    const routed = new Set(await deps.rules.list());
    const stored = await deps.store.list({});
    const storedIds = new Set(stored.map((subscription) => subscription.subscription_id));
    for (const subscription of stored) if (!routed.has(subscription.subscription_id)) await deps.rules.put(subscription);
    for (const id of routed) if (!storedIds.has(id)) await deps.rules.remove(id);
  }

  return {
    /** Creates a subscription of the caller's tenant; the answer holds the secret when it was generated, this once. */
    async create(input: NewSubscription, caller: Principal): Promise<{ subscription: Subscription; secret?: string }> {
      const issues = [...urlIssues(input.url), ...secretIssues(input.secret), ...descriptionIssues(input.description)];
      const parsed = parsePattern(input.pattern);
      issues.push(...parsed.issues);
      if (deps.checkDestination && !issues.some((issue) => issue.field === 'url')) {
        const refusal = await deps.checkDestination(input.url);
        if (refusal !== undefined) issues.push({ field: 'url', message: `the outbound rules refuse it: ${refusal}` });
      }
      if (issues.length > 0 || !parsed.pattern) throw new ValidationError(issues);

      // Not atomic: two creates at the limit may both pass. The limit keeps 50 rules spare for that.
      const count = await deps.store.count();
      if (count >= limit) {
        throw new ConflictError(`this deployment has ${count} subscriptions, the most it allows (${limit}: each is an EventBridge rule, of the 300 a bus may have); delete one first`);
      }
      const generated = input.secret === undefined ? deps.generateSecret() : undefined;
      const subscription: StoredSubscription = {
        subscription_id: deps.ids.next(),
        url: input.url,
        pattern: parsed.pattern,
        ...(input.description === undefined ? {} : { description: input.description }),
        tenant: caller.tenant,
        created_by: caller.subject,
        created_at: deps.clock.now(),
        secret: input.secret ?? generated!,
      };
      try {
        await deps.store.create(subscription);
      } catch (error) {
        if (error instanceof ConflictError) throw new ConflictError('a subscription with that id was just created; try again', [], { cause: error });
        throw error;
      }
      try {
        await deps.rules.put(subscription);
      } catch (error) {
        // Undo the item, so the caller's retry is the only subscription; if that fails too, it stays listed (and
        // gets its rule at the next reconciliation): the message says to look.
        const undone = await deps.store.remove(subscription.subscription_id).then(() => true, () => false);
        throw new DependencyUnavailableError(
          `the event bus did not take the subscription's rule${undone ? '' : `; subscription ${subscription.subscription_id} may be listed: delete it or keep it`}; try again`,
          [],
          { cause: error },
        );
      }
      await reconcile().catch((error: unknown) => reportRuleFailure('reconcile', error));
      const { secret: _secret, ...shown } = subscription;
      return generated === undefined ? { subscription: shown } : { subscription: shown, secret: generated };
    },

    /** The subscriptions in `scope` (a tenant's own; admins every tenant's or one), newest first, without secrets. */
    async list(scope: TenantScope): Promise<Subscription[]> {
      return deps.store.list(scope.tenant === undefined ? {} : { tenant: scope.tenant });
    },

    /** Deletes a subscription of `scope`; NotFoundError when there is none (another tenant's included). */
    async remove(subscriptionId: string, scope: TenantScope): Promise<void> {
      const found = await deps.store.get(subscriptionId);
      if (!found || !inScope(scope, found.tenant) || !(await deps.store.remove(subscriptionId))) throw new NotFoundError(`subscription '${subscriptionId}' not found`);
      // Deliveries stop now (they read the store); a rule that stays is removed at the next reconciliation.
      await deps.rules.remove(subscriptionId).catch((error: unknown) => reportRuleFailure(`remove ${subscriptionId}`, error));
    },
  };
}

/** A webhook URL: absolute http(s), no credentials, no fragment, not an address no outbound call may reach. */
export function urlIssues(url: string, field = 'url'): FieldIssue[] {
  if (url.length > MAX_URL_LENGTH) return [{ field, message: `must be at most ${MAX_URL_LENGTH} characters` }];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [{ field, message: 'must be an absolute http or https URL, like https://hooks.example.com/orchestrator' }];
  }
  const issues: FieldIssue[] = [];
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') issues.push({ field, message: `must use http or https, not ${parsed.protocol.replace(/:$/, '')}` });
  // The URL is listed to every viewer of the tenant: a password in it would leak; the secret signs instead.
  if (parsed.username !== '' || parsed.password !== '') issues.push({ field, message: 'must not contain credentials; deliveries are signed with the secret instead' });
  if (parsed.hash !== '') issues.push({ field, message: 'must not have a fragment: it is never sent' });
  if (parsed.hostname === '') issues.push({ field, message: 'must name a host' });
  else {
    const addressClass = forbiddenHostClass(parsed.hostname);
    if (addressClass !== undefined) issues.push({ field, message: `must not point at a ${addressClass} address (${parsed.hostname}): outbound calls never reach it` });
  }
  return issues;
}

function secretIssues(secret: string | undefined): FieldIssue[] {
  if (secret === undefined || (secret.length >= MIN_SECRET_LENGTH && secret.length <= MAX_SECRET_LENGTH)) return [];
  return [{ field: 'secret', message: `must be ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters (or left out: one is generated)` }];
}

function descriptionIssues(description: string | undefined): FieldIssue[] {
  return description !== undefined && description.length > MAX_DESCRIPTION_LENGTH ? [{ field: 'description', message: `must be at most ${MAX_DESCRIPTION_LENGTH} characters` }] : [];
}

/** The caller's pattern checked as PutRule would, issues under `pattern`; the tenant is the orchestrator's to add. */
function parsePattern(input: unknown): { pattern?: EventPattern; issues: FieldIssue[] } {
  const parsed = parseEventPattern(input);
  if ('issues' in parsed) {
    return { issues: parsed.issues.map((issue) => ({ field: issue.field === '(pattern)' ? 'pattern' : `pattern.${issue.field}`, message: issue.message })) };
  }
  const issues: FieldIssue[] = [];
  if (Object.hasOwn(parsed.pattern, 'tenant')) {
    issues.push({ field: 'pattern.tenant', message: "must be left out: a subscription receives its own tenant's events only, and the tenant is added for it" });
  }
  const length = JSON.stringify(parsed.pattern).length;
  if (length > MAX_PATTERN_LENGTH) issues.push({ field: 'pattern', message: `must be at most ${MAX_PATTERN_LENGTH} characters of JSON (it is ${length})` });
  return issues.length > 0 ? { issues } : { pattern: parsed.pattern, issues };
}
