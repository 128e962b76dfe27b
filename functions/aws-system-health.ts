import { type createDocumentClient, sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoServiceRegistry } from '../adapters/aws/dynamo/dynamo-service-registry.ts';
import { EXECUTION_TABLE } from '../adapters/aws/dynamo/execution-table.ts';
import { REGISTRY_TABLE } from '../adapters/aws/dynamo/registry-table.ts';
import { dynamoTableProbe } from '../adapters/aws/dynamo/table-probe.ts';
import { WORKFLOW_TABLE } from '../adapters/aws/dynamo/workflow-table.ts';
import { EVENT_TABLE } from '../adapters/aws/dynamo/event-table.ts';
import { SUBSCRIPTION_TABLE } from '../adapters/aws/dynamo/subscription-table.ts';
import { eventBusProbe } from '../adapters/aws/eventbridge/event-bus-probe.ts';
import { createSqsClient } from '../adapters/aws/sqs/sqs-dead-letter-queue.ts';
import { sqsQueueProbe } from '../adapters/aws/sqs/queue-probe.ts';
import { createReadiness, createSystemHealth, type Readiness, type SystemHealth } from '../core/platform/system-health.ts';
import type { DependencyProbe } from '../core/ports.ts';
import { systemClock } from '../core/system.ts';
import { readLambdaConfig, required } from './config.ts';

/**
 * Composition root of the system health in AWS (`GET /health/system`): every table (read), the dead-letter
 * queue's URL and the event bus's name; it throws at init, naming the variable, when its function was not
 * given one. Kept apart from the health sweep (aws-health-services.ts), which makes outbound calls, so this
 * function's bundle carries no HTTP client.
 */

/** The orchestrator's own dependencies, as a Lambda probes them (every table, the dead-letter queue, the bus). */
function awsDependencies(): { dependencies: DependencyProbe[]; registryTableName: string; client: ReturnType<typeof createDocumentClient> } {
  const config = readLambdaConfig();
  const client = sharedDocumentClient();
  const registryTableName = required(config.REGISTRY_TABLE_NAME, 'REGISTRY_TABLE_NAME');
  return {
    client,
    registryTableName,
    dependencies: [
      dynamoTableProbe(client, required(config.WORKFLOWS_TABLE_NAME, 'WORKFLOWS_TABLE_NAME'), WORKFLOW_TABLE, 'workflows_table'),
      dynamoTableProbe(client, required(config.EXECUTIONS_TABLE_NAME, 'EXECUTIONS_TABLE_NAME'), EXECUTION_TABLE, 'executions_table'),
      dynamoTableProbe(client, registryTableName, REGISTRY_TABLE, 'registry_table'),
      dynamoTableProbe(client, required(config.EVENTS_TABLE_NAME, 'EVENTS_TABLE_NAME'), EVENT_TABLE, 'events_table'),
      dynamoTableProbe(client, required(config.SUBSCRIPTIONS_TABLE_NAME, 'SUBSCRIPTIONS_TABLE_NAME'), SUBSCRIPTION_TABLE, 'subscriptions_table'),
      sqsQueueProbe(createSqsClient(), required(config.WORKFLOW_DEAD_LETTER_QUEUE_URL, 'WORKFLOW_DEAD_LETTER_QUEUE_URL'), 'dead_letter_queue'),
      eventBusProbe(required(config.WORKFLOW_EVENT_BUS_NAME, 'WORKFLOW_EVENT_BUS_NAME'), 'event_bus'),
    ],
  };
}

/** The orchestrator's own dependencies, probed from a Lambda, and the registry's stored health. */
export function awsSystemHealth(): SystemHealth {
  const { dependencies, client, registryTableName } = awsDependencies();
  return createSystemHealth({ dependencies, registry: new DynamoServiceRegistry(client, registryTableName), clock: systemClock });
}

/** Readiness in AWS: the same probes (Step Functions is a managed service: nothing of ours to probe there). */
export function awsReadiness(): Readiness {
  return createReadiness({ dependencies: awsDependencies().dependencies, clock: systemClock });
}
