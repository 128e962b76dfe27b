import { awsSubscriptionServices } from '../aws-subscriptions.ts';
import { createSubscriptionHandlers } from '../http/subscription-handlers.ts';

export const handler = createSubscriptionHandlers(awsSubscriptionServices()).createEventSubscription;
