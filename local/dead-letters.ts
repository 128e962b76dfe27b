import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoRetryLedger } from '../adapters/aws/dynamo/dynamo-retry-ledger.ts';
import { SqsDeadLetterInspector, type SqsDeadLetterInspectorOptions } from '../adapters/aws/sqs/sqs-dead-letter-inspector.ts';
import type { DeadLetterQueueName } from '../core/dead-letters/model.ts';
import type { DeadLetterInspector } from '../core/dead-letters/ports.ts';
import type { Redeliver, RetryRun, RunTenant } from '../core/dead-letters/retry.ts';
import { createDeadLetterService, type DeadLetterService } from '../core/dead-letters/service.ts';
import type { EmitEvent } from '../core/events/emitter.ts';
import type { Clock, IdGenerator } from '../core/ports.ts';

export interface LocalDeadLettersOptions {
  /** The SQS emulator's client (fauxqs, or LocalStack). */
  readonly sqsClient: SQSClient;
  readonly documentClient: DynamoDBDocumentClient;
  /** The events table: the retry ledger's records live there (adapters/aws/dynamo/dynamo-retry-ledger.ts). */
  readonly eventsTableName: string;
  /**
   * The queues' URLs: failed actions (the engine's dead-letter queue) and failed deliveries. There is no
   * deployments queue locally: a version is "deployed" in process when it runs.
   */
  readonly queues: { readonly actions: string; readonly deliveries?: string };
  /** `(id, actor, scope) => executions.retryExecution(id, {}, actor, scope)`. */
  readonly retryRun: RetryRun;
  /** A run's tenant, undefined when there is no such run (`(await executionStore.get(id))?.tenant`): whose a failed action's message is. */
  readonly runTenant: RunTenant;
  /** Puts a delivery back on the local delivery queue (local/event-deliveries.ts `enqueue`); omitted: deliveries are not retryable. */
  readonly redeliver?: Redeliver;
  /** Publishes `orchestrator.dlq.retried`; omitted: none. */
  readonly emit?: EmitEvent;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Receive bounds and polling of the queues; default: the adapter's, with short polls (see below). */
  readonly inspector?: SqsDeadLetterInspectorOptions;
}

/**
 * The dead-letter service of the local runtime: the same SQS inspector and DynamoDB ledger as in AWS, on the
 * emulators, so that stats, peeks and retries behave as they do there.
 */
export function createLocalDeadLetters(options: LocalDeadLettersOptions): DeadLetterService {
  // The emulator is one server: a short poll sees every message, so no read waits for the long poll AWS needs.
  const polling: SqsDeadLetterInspectorOptions = { waitSeconds: 0, ...options.inspector };
  const queues: Partial<Record<DeadLetterQueueName, DeadLetterInspector>> = {
    actions: new SqsDeadLetterInspector(options.sqsClient, options.queues.actions, polling),
    ...(options.queues.deliveries === undefined ? {} : { deliveries: new SqsDeadLetterInspector(options.sqsClient, options.queues.deliveries, polling) }),
  };
  return createDeadLetterService({
    queues,
    ledger: new DynamoRetryLedger(options.documentClient, options.eventsTableName),
    clock: options.clock,
    ids: options.ids,
    retryRun: options.retryRun,
    runTenant: options.runTenant,
    ...(options.redeliver === undefined ? {} : { redeliver: options.redeliver }),
    ...(options.emit === undefined ? {} : { emit: options.emit }),
  });
}
