import { createDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoServiceRegistry } from '../adapters/aws/dynamo/dynamo-service-registry.ts';
import { EXECUTION_TABLE } from '../adapters/aws/dynamo/execution-table.ts';
import { REGISTRY_TABLE } from '../adapters/aws/dynamo/registry-table.ts';
import { dynamoTableProbe } from '../adapters/aws/dynamo/table-probe.ts';
import { WORKFLOW_TABLE } from '../adapters/aws/dynamo/workflow-table.ts';
import { eventBusProbe } from '../adapters/aws/eventbridge/event-bus-probe.ts';
import { createSqsClient } from '../adapters/aws/sqs/sqs-dead-letter-queue.ts';
import { sqsQueueProbe } from '../adapters/aws/sqs/queue-probe.ts';
import { createSystemHealth, type SystemHealth } from '../core/platform/system-health.ts';
import { createHealthSweep, type HealthSweep } from '../core/registry/health-sweep.ts';
import { systemClock } from '../core/system.ts';
import { readLambdaConfig, required } from './config.ts';
import { createHttpHealthProbe } from './workers/http-health-probe.ts';
import { ALLOWED_ADDRESSES_VARIABLE, allowedAddressesFrom } from './workers/outbound-policy.ts';

/**
 * Composition roots of health checking in AWS. The sweep (the scheduled worker and `POST
 * /registry/health-check`) needs the registry table only; the system health (`GET /health/system`) needs
 * every table (read), the dead-letter queue's URL and the event bus's name. Each throws at init, naming the
 * variable, when its function was not given what it needs.
 */

/** The health sweep on the registry table, probing under the action runner's outbound policy. */
export function awsHealthSweep(): HealthSweep {
  const config = readLambdaConfig();
  const registry = new DynamoServiceRegistry(createDocumentClient(), required(config.REGISTRY_TABLE_NAME, 'REGISTRY_TABLE_NAME'));
  const probe = createHttpHealthProbe({ allowedAddresses: allowedAddressesFrom(process.env[ALLOWED_ADDRESSES_VARIABLE]) });
  return createHealthSweep({ registry, probe, clock: systemClock });
}

/** The orchestrator's own dependencies, probed from a Lambda, and the registry's stored health. */
export function awsSystemHealth(): SystemHealth {
  const config = readLambdaConfig();
  const client = createDocumentClient();
  const registryTableName = required(config.REGISTRY_TABLE_NAME, 'REGISTRY_TABLE_NAME');
  return createSystemHealth({
    dependencies: [
      dynamoTableProbe(client, required(config.WORKFLOWS_TABLE_NAME, 'WORKFLOWS_TABLE_NAME'), WORKFLOW_TABLE, 'workflows_table'),
      dynamoTableProbe(client, required(config.EXECUTIONS_TABLE_NAME, 'EXECUTIONS_TABLE_NAME'), EXECUTION_TABLE, 'executions_table'),
      dynamoTableProbe(client, registryTableName, REGISTRY_TABLE, 'registry_table'),
      sqsQueueProbe(createSqsClient(), required(config.WORKFLOW_DEAD_LETTER_QUEUE_URL, 'WORKFLOW_DEAD_LETTER_QUEUE_URL'), 'dead_letter_queue'),
      eventBusProbe(required(config.WORKFLOW_EVENT_BUS_NAME, 'WORKFLOW_EVENT_BUS_NAME'), 'event_bus'),
    ],
    registry: new DynamoServiceRegistry(client, registryTableName),
    clock: systemClock,
  });
}
