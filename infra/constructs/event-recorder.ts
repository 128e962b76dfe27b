import path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Match, Rule, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE_PREFIX } from '../../core/events/envelope.ts';
import { ApiFunction } from './api-function.ts';
import { Grant } from 'aws-cdk-lib/aws-iam';

export interface EventRecorderProps {
  readonly eventBus: IEventBus;
  readonly eventsTable: ITable;
  /** ORCHESTRATOR_EVENT_RETENTION_DAYS: each recorded event's TTL. @default 7 */
  readonly retentionDays?: number;
  readonly workersDir: string;
}

/**
 * The event history's writer (ADR 0013): one rule on the workflow bus matching every orchestrator event
 * (source prefix `/orchestrator`), whose target is the recorder Lambda. It writes one conditional PutItem per
 * event to the events table and nothing else; what it fails to record after EventBridge's retries stays in
 * its dead-letter queue.
 */
export class EventRecorder extends Construct {
  readonly recorder: ApiFunction;
  readonly rule: Rule;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: EventRecorderProps) {
    super(scope, id);
    this.recorder = new ApiFunction(this, 'Recorder', {
      entry: path.join(props.workersDir, 'event-recorder-entry.ts'),
      description: 'Event recorder: stores every orchestrator event of the workflow bus in the event history',
      environment: {
        EVENTS_TABLE_NAME: props.eventsTable.tableName,
        ...(props.retentionDays === undefined ? {} : { ORCHESTRATOR_EVENT_RETENTION_DAYS: String(props.retentionDays) }),
      },
    });
    // PutItem only (one conditional put per event): it never reads, updates or deletes history.
    Grant.addToPrincipal({ grantee: this.recorder.lambda, actions: ['dynamodb:PutItem'], resourceArns: [props.eventsTable.tableArn] });
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    Validations.of(this.deadLetterQueue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself a dead-letter queue: events the recorder could not store after retries, kept for inspection.' });
    this.rule = new Rule(this, 'EveryEvent', {
      description: 'Every orchestrator event, to the event recorder (the history)',
      eventBus: props.eventBus,
      eventPattern: { source: Match.prefix(EVENT_SOURCE_PREFIX) },
      targets: [new LambdaFunction(this.recorder.lambda, { retryAttempts: 8, maxEventAge: Duration.hours(6), deadLetterQueue: this.deadLetterQueue })],
    });
  }
}
