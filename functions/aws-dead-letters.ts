import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoRetryLedger } from '../adapters/aws/dynamo/dynamo-retry-ledger.ts';
import { lazyEventBridgePublisher } from '../adapters/aws/eventbridge/event-bridge-publisher.ts';
import { SqsDeadLetterInspector } from '../adapters/aws/sqs/sqs-dead-letter-inspector.ts';
import { createSqsClient } from '../adapters/aws/sqs/sqs-dead-letter-queue.ts';
import { sqsDeliveryQueue } from '../adapters/aws/sqs/delivery-queue.ts';
import type { DeadLetterQueueName } from '../core/dead-letters/model.ts';
import type { DeadLetterInspector, RetryLedger } from '../core/dead-letters/ports.ts';
import type { RetryRun, RunTenant } from '../core/dead-letters/retry.ts';
import { createDeadLetterService, type DeadLetterService } from '../core/dead-letters/service.ts';
import { NotFoundError } from '../core/errors.ts';
import { awsEventEmitter } from './aws-events.ts';
import { randomIds, systemClock } from '../core/system.ts';
import { awsHandlerSecurity } from './aws-security.ts';
import { awsExecutionServices } from './aws-services.ts';
import { readLambdaConfig, required, type LambdaConfig } from './config.ts';
import type { DeadLetterHttpServices } from './http/dlq-handlers.ts';

/**
 * The dead-letter routes' services in AWS. The queues are those whose URL the function was given, one
 * variable per queue, the same names their other users read:
 *   actions      WORKFLOW_DEAD_LETTER_QUEUE_URL        (the state machines' failed service calls)
 *   deployments  DEPLOY_DEAD_LETTER_QUEUE_URL          (the workflow deployer's EventBridge target)
 *   deliveries   EVENT_DELIVERY_DEAD_LETTER_QUEUE_URL  (the event delivery worker's failed deliveries)
 * Everything is built on first use, so each route's function initialises with only its own settings: the
 * retry ledger (EVENTS_TABLE_NAME), the engine (the executions and workflows tables, Step Functions), the bus
 * (WORKFLOW_EVENT_BUS_NAME) and the delivery queue (EVENT_DELIVERY_QUEUE_URL) are the retry route's alone.
 */
export function awsDeadLetterServices(): DeadLetterHttpServices {
  let service: DeadLetterService | undefined;
  return {
    get security() {
      return awsHandlerSecurity();
    },
    get deadLetters() {
      return (service ??= buildDeadLetterService(readLambdaConfig()));
    },
  };
}

function buildDeadLetterService(config: LambdaConfig): DeadLetterService {
  const sqs = createSqsClient();
  const urls: Record<DeadLetterQueueName, string | undefined> = {
    actions: config.WORKFLOW_DEAD_LETTER_QUEUE_URL,
    deployments: config.DEPLOY_DEAD_LETTER_QUEUE_URL,
    deliveries: config.EVENT_DELIVERY_DEAD_LETTER_QUEUE_URL,
  };
  const queues: Partial<Record<DeadLetterQueueName, DeadLetterInspector>> = {};
  for (const [name, url] of Object.entries(urls) as [DeadLetterQueueName, string | undefined][]) if (url !== undefined) queues[name] = new SqsDeadLetterInspector(sqs, url);

  let ledger: DynamoRetryLedger | undefined;
  const ledgerTable = () => (ledger ??= new DynamoRetryLedger(sharedDocumentClient(), required(config.EVENTS_TABLE_NAME, 'EVENTS_TABLE_NAME')));
  const lazyLedger: RetryLedger = {
    claim: (claim) => ledgerTable().claim(claim),
    settle: (settlement) => ledgerTable().settle(settlement),
    get: (queue, messageId) => ledgerTable().get(queue, messageId),
  };
  let executionService: ReturnType<typeof awsExecutionServices>['executions'] | undefined;
  const executions = () => (executionService ??= awsExecutionServices().executions);
  const retryRun: RetryRun = (executionId, actor, scope) => executions().retryExecution(executionId, {}, actor, scope);
  const runTenant: RunTenant = (executionId) => executions().getExecution(executionId).then(
    (execution) => execution.tenant,
    (error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    },
  );
  const bus = config.WORKFLOW_EVENT_BUS_NAME;
  const publisher = bus === undefined ? undefined : lazyEventBridgePublisher(bus);
  const deliveryQueue = config.EVENT_DELIVERY_QUEUE_URL;

  return createDeadLetterService({
    queues,
    ledger: lazyLedger,
    clock: systemClock,
    ids: randomIds,
    retryRun,
    runTenant,
    // The deployer deploys idempotently (it fingerprints what it publishes): the same envelope again is safe.
    ...(publisher === undefined ? {} : { republish: (event) => publisher.publish(event) }),
    // A delivery made again: what the subscription's rule would have put on the delivery queue; the worker reads
    // the subscription again (a deleted one is skipped). The ledger already makes the retry once.
    ...(deliveryQueue === undefined ? {} : { redeliver: sqsDeliveryQueue(sqs, deliveryQueue, () => randomIds.next()) }),
    // One publisher for both: the republished versions and the dlq.retried events go on the same bus.
    ...(publisher === undefined ? {} : { emit: awsEventEmitter(config, publisher) }),
  });
}
