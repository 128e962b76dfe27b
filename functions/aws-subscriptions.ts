import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoSubscriptionStore } from '../adapters/aws/dynamo/dynamo-subscription-store.ts';
import { EventBridgeSubscriptionRules } from '../adapters/aws/eventbridge/subscription-rules.ts';
import { createOutboundPolicy } from '../adapters/http/outbound-policy.ts';
import { createDestinationCheck, mintWebhookSecret } from '../adapters/http/webhook-subscriptions.ts';
import { createSubscriptionService, type SubscriptionRules, type SubscriptionService } from '../core/events/subscriptions.ts';
import { randomIds, systemClock } from '../core/system.ts';
import { awsHandlerSecurity } from './aws-security.ts';
import { readLambdaConfig, required } from './config.ts';
import type { SubscriptionHttpServices } from './http/subscription-handlers.ts';
import { jsonLogger } from './middleware/http-handler.ts';

/**
 * The subscription routes' services in AWS: the subscriptions table (SUBSCRIPTIONS_TABLE_NAME) and one
 * EventBridge rule per subscription on the workflow bus (WORKFLOW_EVENT_BUS_NAME), targeting the delivery
 * queue (EVENT_DELIVERY_QUEUE_ARN), named `<SUBSCRIPTION_RULE_PREFIX>-sub-<id>`. Built on the first request,
 * so a function reads only what its route uses (the list route never touches EventBridge). URLs are checked
 * against ORCHESTRATOR_OUTBOUND_ALLOW at create, as the delivery worker will check each connection.
 */
export function awsSubscriptionServices(): SubscriptionHttpServices {
  const config = readLambdaConfig();
  let subscriptions: SubscriptionService | undefined;
  return {
    get security() {
      return awsHandlerSecurity();
    },
    get subscriptions() {
      return (subscriptions ??= createSubscriptionService({
        store: new DynamoSubscriptionStore(sharedDocumentClient(), required(config.SUBSCRIPTIONS_TABLE_NAME, 'SUBSCRIPTIONS_TABLE_NAME')),
        rules: lazyRules(() =>
          new EventBridgeSubscriptionRules(new EventBridgeClient({}), {
            busName: required(config.WORKFLOW_EVENT_BUS_NAME, 'WORKFLOW_EVENT_BUS_NAME'),
            queueArn: required(config.EVENT_DELIVERY_QUEUE_ARN, 'EVENT_DELIVERY_QUEUE_ARN'),
            namePrefix: required(config.SUBSCRIPTION_RULE_PREFIX, 'SUBSCRIPTION_RULE_PREFIX'),
          }),
        ),
        clock: systemClock,
        ids: randomIds,
        generateSecret: mintWebhookSecret,
        checkDestination: createDestinationCheck(createOutboundPolicy({ allow: config.ORCHESTRATOR_OUTBOUND_ALLOW })),
        onRuleFailure: (what, error) => jsonLogger({ kind: 'subscription_rules', what, error: error instanceof Error ? error.message : String(error) }),
      }));
    },
  };
}

/** The rules adapter, built when a create or delete first needs it (a listing never does). */
function lazyRules(build: () => EventBridgeSubscriptionRules): SubscriptionRules {
  let rules: EventBridgeSubscriptionRules | undefined;
  const get = () => (rules ??= build());
  return { put: (subscription) => get().put(subscription), remove: (id) => get().remove(id), list: () => get().list() };
}
