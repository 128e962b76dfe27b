import path from 'node:path';
import { Arn, ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Grant, PolicyStatement, ServicePrincipal, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ApiFunction } from './api-function.ts';

export interface EventDeliveriesProps {
  readonly eventBus: IEventBus;
  /** The bus's name as a literal (the rules' ARNs name it, in whichever stack a grantee lives). */
  readonly eventBusName: string;
  readonly subscriptionsTable: ITable;
  /** Rules are named `<rulePrefix>-sub-<id>` (adapters/aws/eventbridge/subscription-rules.ts). */
  readonly rulePrefix: string;
  readonly workersDir: string;
  /** ORCHESTRATOR_OUTBOUND_ALLOW of the delivery worker (webhook URLs obey the action runner's rules). */
  readonly outboundEnvironment: Readonly<Record<string, string>>;
  /** Receives per delivery before it is dead-lettered. @default 8 */
  readonly maxAttempts?: number;
}

/** Why a function that manages subscription rules has a grant on `*` besides X-Ray (cdk-nag IAM5). */
export const LIST_RULES_REASON = "events:ListRules supports no resource-level permission (reconciling subscriptions with their rules reads them); the rules it may change are this deployment's <prefix>-sub-* rules only.";

/** Seconds a delivery worker may run: a batch delivers one subscription's messages one after another, each up to 10 s. */
const WORKER_TIMEOUT_SECONDS = 120;

/**
 * Webhook deliveries in AWS (ADR 0013, "Subscriptions"): each subscription is an EventBridge rule on the
 * workflow bus (made by the subscription routes) whose target is the delivery queue; the delivery worker
 * reads it (batches with partial failures), signs and POSTs each event through the outbound adapter, backs
 * off with the message's visibility, and after `maxAttempts` receives SQS moves the message to the
 * failed-deliveries queue, which the dead-letter routes read and retry.
 */
export class EventDeliveries extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly worker: ApiFunction;
  /** What the subscription routes need to make and remove rules. */
  readonly ruleEnvironment: Readonly<Record<string, string>>;
  /** What a function needs to put deliveries on the queue (replays) or re-send failed ones. */
  readonly enqueueEnvironment: Readonly<Record<string, string>>;
  private readonly ruleResource: string;

  constructor(scope: Construct, id: string, props: EventDeliveriesProps) {
    super(scope, id);
    const maxAttempts = props.maxAttempts ?? 8;
    this.deadLetterQueue = new Queue(this, 'FailedDeliveries', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    Validations.of(this.deadLetterQueue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself a dead-letter queue: webhook deliveries that failed every attempt, kept for the dead-letter routes to show and retry.' });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      // Longer than a worker may run, so that a batch in progress is never handed to a second worker.
      visibilityTimeout: Duration.seconds(WORKER_TIMEOUT_SECONDS * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: maxAttempts },
    });
    this.ruleResource = `${props.eventBusName}/${props.rulePrefix}-sub-*`;
    // Only this deployment's subscription rules may put messages on the queue.
    this.queue.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: { ArnLike: { 'aws:SourceArn': this.ruleArn(Stack.of(this)) } },
      }),
    );
    this.worker = new ApiFunction(this, 'Worker', {
      entry: path.join(props.workersDir, 'event-delivery-entry.ts'),
      description: 'Event delivery worker: signs and POSTs subscribed events to their webhooks, backing off, then dead-lettering',
      environment: {
        SUBSCRIPTIONS_TABLE_NAME: props.subscriptionsTable.tableName,
        EVENT_DELIVERY_QUEUE_URL: this.queue.queueUrl,
        EVENT_DELIVERY_MAX_ATTEMPTS: String(maxAttempts),
        EVENT_DELIVERY_DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
        // A dead-lettered delivery is announced on the bus (orchestrator.dlq.added).
        WORKFLOW_EVENT_BUS_NAME: props.eventBusName,
        ...props.outboundEnvironment,
      },
      timeout: Duration.seconds(WORKER_TIMEOUT_SECONDS),
    });
    Grant.addToPrincipal({ grantee: this.worker.lambda, actions: ['dynamodb:GetItem'], resourceArns: [props.subscriptionsTable.tableArn] });
    Grant.addToPrincipal({ grantee: this.worker.lambda, actions: ['sqs:ChangeMessageVisibility'], resourceArns: [this.queue.queueArn] });
    this.deadLetterQueue.grantSendMessages(this.worker.lambda);
    props.eventBus.grantPutEventsTo(this.worker.lambda);
    this.worker.lambda.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }));

    this.ruleEnvironment = {
      WORKFLOW_EVENT_BUS_NAME: props.eventBus.eventBusName,
      EVENT_DELIVERY_QUEUE_ARN: this.queue.queueArn,
      SUBSCRIPTION_RULE_PREFIX: props.rulePrefix,
    };
    this.enqueueEnvironment = { EVENT_DELIVERY_QUEUE_URL: this.queue.queueUrl };
  }

  /**
   * Lets `grantee` make and remove subscription rules: PutRule, PutTargets, RemoveTargets, DeleteRule on this
   * deployment's `<prefix>-sub-*` rules of the bus, and ListRules (for reconciliation), which takes no narrower
   * resource than the region's rules (the function says so: LIST_RULES_REASON).
   */
  grantRuleManagement(grantee: IGrantable): void {
    const principal = grantee.grantPrincipal;
    const stack = Construct.isConstruct(principal) ? Stack.of(principal) : Stack.of(this);
    Grant.addToPrincipal({ grantee, actions: ['events:PutRule', 'events:PutTargets', 'events:RemoveTargets', 'events:DeleteRule', 'events:DescribeRule'], resourceArns: [this.ruleArn(stack)] });
    Grant.addToPrincipal({ grantee, actions: ['events:ListRules'], resourceArns: ['*'] });
    if (Construct.isConstruct(principal)) {
      Validations.of(principal).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/${this.ruleResource}]`,
        reason: "One EventBridge rule per webhook subscription, named at run time <prefix>-sub-<id> on this deployment's bus: the pattern names exactly this deployment's subscription rules.",
      });
    }
  }

  /** `arn:...:rule/<bus>/<prefix>-sub-*` in `stack`'s partition, region and account. */
  private ruleArn(stack: Stack): string {
    return Arn.format({ service: 'events', resource: 'rule', resourceName: this.ruleResource, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack);
  }

  /** Lets `grantee` put deliveries on the queue (a replay). */
  grantEnqueue(grantee: IGrantable): void {
    this.queue.grantSendMessages(grantee);
  }
}
