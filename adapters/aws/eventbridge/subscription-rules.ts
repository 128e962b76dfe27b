import { createHash } from 'node:crypto';
import { DeleteRuleCommand, ListRulesCommand, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DependencyUnavailableError } from '../../../core/errors.ts';
import { effectivePattern, type Subscription, type SubscriptionRules } from '../../../core/events/subscriptions.ts';

/**
 * The `rules` port of webhook subscriptions in AWS (ADR 0013, "Subscriptions"): one EventBridge rule per
 * subscription on the workflow event bus, its pattern the subscription's effective pattern nested under
 * `detail` (the envelope is the detail) and limited to the orchestrator's sources, its one target the shared
 * delivery queue, through an input transformer that makes the delivery message `{subscription_id, event}`.
 * The delivery Lambda reads that queue, signs and posts; SQS retries and, after maxReceiveCount, moves the
 * message to the failed-deliveries dead-letter queue.
 *
 * IAM: events:PutRule, PutTargets, RemoveTargets, DeleteRule on `rule/<bus>/<prefix>-sub-*`, and
 * events:ListRules (it takes no resource narrower than the account's rules). The queue's resource policy lets
 * events.amazonaws.com send from those rules.
 */

/** EventBridge rule names: at most 64 of `.`, `-`, `_`, letters and digits. */
export const MAX_RULE_NAME_LENGTH = 64;
/** Every subscription rule's name starts with `<prefix>-sub-`: what IAM grants cover and what reconciliation lists. */
export const subscriptionRulePrefix = (namePrefix: string): string => `${namePrefix}-sub-`;
/** The target's id in each rule (one target per rule). */
export const DELIVERY_TARGET_ID = 'delivery';
/** Every orchestrator event's source starts with this (core/events/envelope.ts EVENT_SOURCES). */
const ORCHESTRATOR_SOURCE_PREFIX = '/orchestrator';
/** The rule's description names its subscription, so a hashed name still maps back to it. */
const DESCRIPTION_PREFIX = 'orchestrator webhook subscription ';
const SUBSCRIPTION_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * `<prefix>-sub-<subscription_id>`; when that passes 64 characters, the id is replaced by as much of its
 * SHA-256 (hex) as fits, so the name stays unique and under the prefix.
 */
export function subscriptionRuleName(namePrefix: string, subscriptionId: string): string {
  const prefix = subscriptionRulePrefix(namePrefix);
  const name = `${prefix}${subscriptionId}`;
  if (name.length <= MAX_RULE_NAME_LENGTH && /^[A-Za-z0-9._-]+$/.test(name)) return name;
  return `${prefix}${createHash('sha256').update(subscriptionId).digest('hex').slice(0, MAX_RULE_NAME_LENGTH - prefix.length)}`;
}

/** The rule's EventPattern: the envelope is the detail, and only the orchestrator's own events qualify. */
export function subscriptionRulePattern(subscription: Pick<Subscription, 'pattern' | 'tenant'>): Record<string, unknown> {
  return { source: [{ prefix: ORCHESTRATOR_SOURCE_PREFIX }], detail: effectivePattern(subscription) };
}

export interface EventBridgeSubscriptionRulesOptions {
  /** The workflow event bus. */
  readonly busName: string;
  /** The delivery queue's ARN: every rule's target. A FIFO queue (`.fifo`) gets one message group per subscription. */
  readonly queueArn: string;
  /** The deployment's name prefix (the state machines' own): rules are `<prefix>-sub-<id>`. */
  readonly namePrefix: string;
}

/** Subscription rules on an EventBridge bus; every call that fails becomes a retryable DependencyUnavailableError. */
export class EventBridgeSubscriptionRules implements SubscriptionRules {
  private readonly client: EventBridgeClient;
  private readonly options: EventBridgeSubscriptionRulesOptions;

  constructor(client: EventBridgeClient, options: EventBridgeSubscriptionRulesOptions) {
    const longest = subscriptionRulePrefix(options.namePrefix).length;
    if (!/^[A-Za-z0-9._-]+$/.test(options.namePrefix) || longest > MAX_RULE_NAME_LENGTH - 8) {
      throw new Error(`invalid configuration: the subscription rules' name prefix must be letters, digits, '.', '-' or '_', short enough to leave room for an id; got ${JSON.stringify(options.namePrefix)}`);
    }
    this.client = client;
    this.options = options;
  }

  async put(subscription: Subscription): Promise<void> {
    const id = checkedId(subscription.subscription_id);
    const Name = subscriptionRuleName(this.options.namePrefix, id);
    const EventBusName = this.options.busName;
    await this.call(`put rule ${Name}`, () =>
      this.client.send(new PutRuleCommand({ Name, EventBusName, EventPattern: JSON.stringify(subscriptionRulePattern(subscription)), State: 'ENABLED', Description: `${DESCRIPTION_PREFIX}${id}` })),
    );
    const output = await this.call(`put the target of rule ${Name}`, () =>
      this.client.send(
        new PutTargetsCommand({
          Rule: Name,
          EventBusName,
          Targets: [
            {
              Id: DELIVERY_TARGET_ID,
              Arn: this.options.queueArn,
              // `<detail>` is replaced by the envelope as JSON: the delivery message the worker parses.
              InputTransformer: { InputPathsMap: { detail: '$.detail' }, InputTemplate: `{"subscription_id":${JSON.stringify(id)},"event":<detail>}` },
              // On a FIFO queue a subscription is one message group: its deliveries go one at a time, in order.
              ...(this.options.queueArn.endsWith('.fifo') ? { SqsParameters: { MessageGroupId: id } } : {}),
            },
          ],
        }),
      ),
    );
    // PutTargets answers 200 with the entries it refused.
    const [failed] = output.FailedEntries ?? [];
    if ((output.FailedEntryCount ?? 0) > 0) throw new DependencyUnavailableError(`EventBridge refused the target of rule ${Name}: ${failed?.ErrorCode ?? 'unknown'}${failed?.ErrorMessage ? ` (${failed.ErrorMessage})` : ''}`);
  }

  async remove(subscriptionId: string): Promise<void> {
    const Name = subscriptionRuleName(this.options.namePrefix, checkedId(subscriptionId));
    const EventBusName = this.options.busName;
    // A rule with targets cannot be deleted: the target goes first. Either may already be gone.
    await this.call(`remove the target of rule ${Name}`, () => tolerateMissing(this.client.send(new RemoveTargetsCommand({ Rule: Name, EventBusName, Ids: [DELIVERY_TARGET_ID] }))));
    await this.call(`delete rule ${Name}`, () => tolerateMissing(this.client.send(new DeleteRuleCommand({ Name, EventBusName }))));
  }

  async list(): Promise<string[]> {
    const ids: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.call('list the subscription rules', () =>
        this.client.send(new ListRulesCommand({ EventBusName: this.options.busName, NamePrefix: subscriptionRulePrefix(this.options.namePrefix), Limit: 100, ...(NextToken ? { NextToken } : {}) })),
      );
      for (const rule of page.Rules ?? []) {
        // A rule under the prefix that does not name its subscription is not ours to judge: left alone.
        const id = rule.Description?.startsWith(DESCRIPTION_PREFIX) ? rule.Description.slice(DESCRIPTION_PREFIX.length) : undefined;
        if (id !== undefined && SUBSCRIPTION_ID.test(id) && rule.Name === subscriptionRuleName(this.options.namePrefix, id)) ids.push(id);
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return ids;
  }

  private async call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new DependencyUnavailableError(`EventBridge could not ${what}: ${error instanceof Error ? error.message : String(error)}`, [], { cause: error });
    }
  }
}

function checkedId(subscriptionId: string): string {
  // The id goes into a rule name and a JSON template: anything but an id the orchestrator made is a bug.
  if (!SUBSCRIPTION_ID.test(subscriptionId)) throw new Error(`not a subscription id: ${JSON.stringify(subscriptionId)}`);
  return subscriptionId;
}

async function tolerateMissing(operation: Promise<unknown>): Promise<void> {
  try {
    await operation;
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return;
    throw error;
  }
}
