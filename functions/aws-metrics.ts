import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoServiceRegistry } from '../adapters/aws/dynamo/dynamo-service-registry.ts';
import { DynamoWorkflowStore } from '../adapters/aws/dynamo/dynamo-workflow-store.ts';
import { SqsDeadLetterInspector } from '../adapters/aws/sqs/sqs-dead-letter-inspector.ts';
import { createSqsClient } from '../adapters/aws/sqs/sqs-dead-letter-queue.ts';
import type { DeadLetterQueueName } from '../core/dead-letters/model.ts';
import { readLambdaConfig, required } from './config.ts';
import { createPrometheusMetrics, queueDepths, type PrometheusMetrics } from './observability/metrics.ts';

/**
 * Composition roots of the metrics in AWS (issue 13).
 *
 * `GET /metrics` (awsMetricsExposition) shows what its own function sees: the gauges, read at each scrape from
 * the registry table (REGISTRY_TABLE_NAME: one Query of its list index), the workflows table's maintained
 * counts (WORKFLOWS_TABLE_NAME: one Query) and the dead-letter queues it was given (GetQueueAttributes each:
 * WORKFLOW_DEAD_LETTER_QUEUE_URL, which `probes` routes get, and DEPLOY_/EVENT_DELIVERY_DEAD_LETTER_QUEUE_URL
 * when set), plus the requests this function answered. Runs, actions and service calls happen in other
 * functions: they are in CloudWatch, as EMF (aws-emf.ts), namespace `Orchestrator`.
 */

let exposition: PrometheusMetrics | undefined;

/** The `/metrics` function's registry and gauges (one per container; no process metrics: noise in Lambda). */
export function awsMetricsExposition(): PrometheusMetrics {
  if (exposition) return exposition;
  const config = readLambdaConfig();
  const client = sharedDocumentClient();
  const registry = new DynamoServiceRegistry(client, required(config.REGISTRY_TABLE_NAME, 'REGISTRY_TABLE_NAME'));
  const workflows = new DynamoWorkflowStore(client, required(config.WORKFLOWS_TABLE_NAME, 'WORKFLOWS_TABLE_NAME'));
  const urls: Record<DeadLetterQueueName, string | undefined> = {
    actions: config.WORKFLOW_DEAD_LETTER_QUEUE_URL,
    deployments: config.DEPLOY_DEAD_LETTER_QUEUE_URL,
    deliveries: config.EVENT_DELIVERY_DEAD_LETTER_QUEUE_URL,
  };
  const given = Object.entries(urls).filter((entry): entry is [DeadLetterQueueName, string] => entry[1] !== undefined);
  const sqs = given.length > 0 ? createSqsClient() : undefined;
  exposition = createPrometheusMetrics({
    gauges: {
      services: () => registry.list(),
      workflows: async () => (await workflows.counts()).byStatus,
      ...(sqs === undefined ? {} : { deadLetters: queueDepths(Object.fromEntries(given.map(([queue, url]) => [queue, new SqsDeadLetterInspector(sqs, url)]))) }),
    },
  });
  return exposition;
}
