import path from 'node:path';
import { Arn, ArnFormat, CfnOutput, Duration, Stack, Validations, type CfnElement, type StackProps } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Match, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, Policy, PolicyStatement, Role, ServicePrincipal, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { FilterPattern, LogGroup, RetentionDays, SubscriptionFilter } from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RegistryIndex } from '../../adapters/aws/dynamo/registry-table.ts';
import { EXECUTION_TABLE } from '../../adapters/aws/dynamo/execution-table.ts';
import { WORKFLOW_TABLE } from '../../adapters/aws/dynamo/workflow-table.ts';
import type { JobName, JobSchedule } from '../../core/ecosystem/jobs.ts';
import { ENGINE_ENVIRONMENT } from '../../adapters/aws/stepfunctions/config.ts';
import { WORKFLOW_EVENTS } from '../../core/workflow/service.ts';
import { EVENT_SOURCES, type EventType } from '../../core/events/envelope.ts';
import { checkNamePrefix } from '../../adapters/aws/stepfunctions/names.ts';
import { ApiFunction } from '../constructs/api-function.ts';
import { EventRecorder } from '../constructs/event-recorder.ts';
import { EventDeliveries } from '../constructs/event-deliveries.ts';
import { grantTableAccess } from '../constructs/table-access.ts';
import { grantServiceSecrets, outboundEnvironment, type OutboundAccess } from '../constructs/outbound-access.ts';
import { WorkflowSchedules } from '../constructs/schedules.ts';

/** The worker Lambdas' entry files (infra refers to Lambda code by path only). */
const WORKERS_DIR = path.resolve(import.meta.dirname, '../../functions/workers');

/** The rule Step Functions manages in each account for `.sync` integrations (`startExecution.sync:2`). */
export const SYNC_INTEGRATION_RULE = 'StepFunctionsGetEventsForStepFunctionsExecutionRule';

/** What an engine (an API Lambda that deploys and starts workflows) may do to state machines under the prefix. */
export const ENGINE_STATE_MACHINE_ACTIONS = [
  'states:CreateStateMachine',
  'states:UpdateStateMachine',
  'states:PublishStateMachineVersion',
  'states:DescribeStateMachine',
  'states:ListStateMachineVersions',
  'states:CreateStateMachineAlias',
  'states:UpdateStateMachineAlias',
  'states:DescribeStateMachineAlias',
  'states:StartExecution',
] as const;
export const ENGINE_EXECUTION_ACTIONS = ['states:DescribeExecution', 'states:RedriveExecution', 'states:StopExecution'] as const;
/**
 * What an engine may do to the parts of split workflows (`<namePrefix>_<workflow_id>_<part>`, ADR 0016): create
 * them and publish their versions. Parts have no alias, and only their parent state machine starts them.
 */
export const ENGINE_PART_ACTIONS = [
  'states:CreateStateMachine',
  'states:UpdateStateMachine',
  'states:PublishStateMachineVersion',
  'states:DescribeStateMachine',
  'states:ListStateMachineVersions',
] as const;
/**
 * Letting a call parked by a pause go (ADR 0012). IAM has no resource for a task token: the grant is on `*`,
 * and the token itself, known only to the run's own records, is what names the task.
 */
export const TASK_TOKEN_ACTIONS = ['states:SendTaskSuccess'] as const;
export const TASK_TOKEN_REASON =
  "SendTaskSuccess has no resource-level permission for the tokens of service-integration callback states (IAM cannot scope them); only the task token, kept in this deployment's executions table, names the task.";

/** What llm actions' compiled states call on Bedrock (arn:aws:states:::bedrock:invokeModel). */
export const LLM_MODEL_ACTIONS = ['bedrock:InvokeModel'] as const;

/** The log lines of an express execution's start and end (the listener's subscription filter). */
export const EXPRESS_STATUS_LOG_TYPES = ['ExecutionStarted', 'ExecutionSucceeded', 'ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted'] as const;

/**
 * CloudWatch Logs delivery for state machine logging. Step Functions sets the delivery up with the execution
 * role; none of these actions supports resource-level permissions.
 */
export const LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
] as const;
export const XRAY_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'] as const;

export interface RuntimeStackProps extends StackProps {
  /** State machines are named `<namePrefix>-<workflow_id>`; every grant and the event rule are scoped to it. */
  readonly namePrefix: string;
  /** The workflow deployer reads the version it deploys from it. */
  readonly workflowsTable: ITable;
  /** The status listener moves executions along in it; the action runner records each attempt in it. */
  readonly executionsTable: ITable;
  /** The action runner resolves services in it. */
  readonly registryTable: ITable;
  /** The event history: the recorder writes every orchestrator event of the bus to it. */
  readonly eventsTable: ITable;
  /** Webhook subscriptions: the delivery worker reads each delivery's subscription (and its secret) from it. */
  readonly subscriptionsTable: ITable;
  /**
   * Recorded spans: the action runner records each service-call attempt, the status listener each run and its
   * actions (SPANS_TABLE_NAME; they may write spans, not read them). The app always passes it; without it the
   * workers record no spans in DynamoDB.
   */
  readonly spansTable?: ITable;
  /** ORCHESTRATOR_EVENT_RETENTION_DAYS of the recorded events. @default 7 */
  readonly eventRetentionDays?: number;
  /**
   * Seconds between health sweeps of the registered instances. EventBridge schedules in whole minutes, at
   * least one: the sweep runs every max(60, interval) seconds, rounded up to a minute. @default 60
   */
  readonly healthCheckIntervalSeconds?: number;
  /** Seconds between OpenAPI polls of the registered services, in whole minutes, at least one. @default 300 */
  readonly openApiPollIntervalSeconds?: number;
  /** The action runner's circuit breaking; each unset field keeps its default (5 failures within 60 s, 30 s cool-down). */
  readonly circuitPolicy?: { readonly failureThreshold?: number; readonly windowSeconds?: number; readonly cooldownSeconds?: number };
  /**
   * ORCHESTRATOR_OUTBOUND_ALLOW of the functions that call services (CIDRs, addresses, host names, validated):
   * what they may reach besides public addresses. None by default.
   */
  readonly outboundAllow?: readonly string[];
  /**
   * The ecosystem services' `<NAME>_URL` variables (infra/ecosystem-context.ts): where the action runner calls a
   * service that is not registered. None by default.
   */
  readonly serviceUrls?: Readonly<Record<string, string>>;
  /** Each job's schedule (a rule each, none for a job that is off). @default each job's default */
  readonly jobSchedules?: Readonly<Record<JobName, JobSchedule>>;
}

export const DEFAULT_OPENAPI_POLL_INTERVAL_SECONDS = 300;

export const DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS = 60;

/** A schedule's period in whole minutes (EventBridge's rate unit), at least one, for an interval in seconds. */
export function scheduleMinutes(intervalSeconds: number, what: string): number {
  if (!Number.isFinite(intervalSeconds) || intervalSeconds <= 0) throw new Error(`the ${what} must be a positive number of seconds; got ${intervalSeconds}`);
  return Math.max(1, Math.ceil(intervalSeconds / 60));
}

/** The health sweep's period in minutes for an interval in seconds. */
export function healthSweepMinutes(intervalSeconds: number): number {
  return scheduleMinutes(intervalSeconds, 'health check interval');
}

/**
 * What runs workflows. The state machines themselves are created at run time by the Step Functions engine
 * (one per workflow, a version per workflow version); this stack holds what they use and what watches them:
 *
 * - the execution role they all run as, allowed exactly what compiled definitions call: the action runner,
 *   the workflow event bus, the dead-letter queue, sub-workflows under the prefix (with the managed rule
 *   `.sync` needs), X-Ray and log delivery;
 * - the action runner Lambda (service calls), the workflow event bus (notifications), the dead-letter queue
 *   (failed service calls), the payload bucket (responses too large for state data), the state machines' log
 *   group;
 * - the status listener Lambda and the rule on the default bus that sends it the status changes of the
 *   prefix's state machines, with a queue for events it could not record;
 * - `grantEngineAccess` and `engineEnvironment` for the API Lambdas that deploy, start and stop workflows;
 * - the health sweep Lambda and its schedule (health checks of registered instances), and
 *   `grantProbeAccess` and `probeEnvironment` for `GET /health/system`, which probes the queue and the bus.
 * - timed runs (infra/constructs/schedules.ts): the workflow schedules' EventBridge Scheduler group, the role
 *   Scheduler assumes, the scheduled-run worker, and the jobs' rules with their worker.
 *
 * A stack of its own (not a nested stack of the API): published state machine versions refer to these
 * resources by ARN from outside CloudFormation, so they belong with neither the API's lifecycle (rebuilt and
 * restructured freely) nor the data's.
 */
export class RuntimeStack extends Stack implements OutboundAccess {
  readonly namePrefix: string;
  readonly executionRole: Role;
  readonly actionRunner: ApiFunction;
  readonly statusListener: ApiFunction;
  readonly statusRule: Rule;
  /** Notification actions' events on the workflow bus, to the status listener. */
  readonly notificationRule: Rule;
  readonly eventBus: EventBus;
  readonly deadLetterQueue: Queue;
  /** Status changes the listener could not record (after retries), kept for replay. */
  readonly statusDeadLetterQueue: Queue;
  readonly stateMachineLogs: LogGroup;
  /** Service responses too large for state data, which the action runner stores and passes by reference. */
  readonly payloadBucket: Bucket;
  /** `arn:...:stateMachine:<prefix>-*`: every workflow's state machine, its versions and aliases. */
  readonly stateMachinePattern: string;
  /** `arn:...:execution:<prefix>-*:*`: their executions. */
  readonly executionPattern: string;
  /** `arn:...:stateMachine:<prefix>_*`: the parts of split workflows (ADR 0016) and their versions. */
  readonly partStateMachinePattern: string;
  /** `arn:...:execution:<prefix>_*:*`: the parts' executions (each started by its parent machine). */
  readonly partExecutionPattern: string;
  /** Express runs' starts and ends, from the state machines' log to the status listener. */
  readonly expressStatusSubscription: SubscriptionFilter;
  /** The environment an engine Lambda needs (adapters/aws/stepfunctions/config.ts reads it). */
  readonly engineEnvironment: Readonly<Record<string, string>>;
  /** Probes every registered instance's health path and records its health in the registry table. */
  readonly healthSweep: ApiFunction;
  /** Invokes the health sweep every interval. */
  readonly healthSweepRule: Rule;
  /** Deploys each published workflow version (deploy on create and update, not on first run). */
  readonly workflowDeployer: ApiFunction;
  readonly workflowVersionRule: Rule;
  /** Workflow versions the deployer could not deploy (after retries). */
  readonly deployDeadLetterQueue: Queue;
  /** The environment of a Lambda that probes the dead-letter queue and the bus (`GET /health/system`). */
  readonly probeEnvironment: Readonly<Record<string, string>>;
  /** Fetches every registered service's OpenAPI document, stores its summary and publishes drift on the bus. */
  readonly openApiPoll: ApiFunction;
  /** Invokes the OpenAPI poll every interval. */
  readonly openApiPollRule: Rule;
  /** The environment of a Lambda that publishes on the workflow event bus (`bus: 'publish'` routes). */
  readonly publishEnvironment: Readonly<Record<string, string>>;
  /** ORCHESTRATOR_OUTBOUND_ALLOW of every function that calls services or peers (when the deployment sets it). */
  readonly outboundEnvironment: Readonly<Record<string, string>>;
  /** Every orchestrator event of the bus, to the event history. */
  readonly eventRecorder: EventRecorder;
  /** Webhook subscriptions' delivery queue, worker and failed-deliveries queue. */
  readonly eventDeliveries: EventDeliveries;
  /** Workflow schedules (the schedule group, the scheduler role, the scheduled-run worker) and the jobs' rules. */
  readonly schedules: WorkflowSchedules;

  constructor(scope: Construct, id: string, props: RuntimeStackProps) {
    super(scope, id, props);
    this.namePrefix = checkNamePrefix(props.namePrefix);
    const statesArn = (resourceName: string, resource = 'stateMachine') =>
      Arn.format({ service: 'states', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, this);
    this.stateMachinePattern = statesArn(`${this.namePrefix}-*`);
    this.executionPattern = statesArn(`${this.namePrefix}-*:*`, 'execution');
    // Parts are `<prefix>_...`: no workflow's own machine can take their names (adapters/aws/stepfunctions/names.ts).
    this.partStateMachinePattern = statesArn(`${this.namePrefix}_*`);
    this.partExecutionPattern = statesArn(`${this.namePrefix}_*:*`, 'execution');

    this.deadLetterQueue = encryptedQueue(this, 'DeadLetterQueue');
    this.statusDeadLetterQueue = encryptedQueue(this, 'StatusDeadLetterQueue');
    const workflowBusName = `${this.namePrefix}-workflow-events`;
    this.eventBus = new EventBus(this, 'WorkflowEventBus', {
      eventBusName: workflowBusName,
      description: 'Domain events of the orchestrator (workflows, runs, actions, services, dead letters) and notifications sent by workflow notification actions',
    });
    this.outboundEnvironment = outboundEnvironment(props.outboundAllow ?? []);
    this.eventDeliveries = new EventDeliveries(this, 'EventDeliveries', { eventBus: this.eventBus, eventBusName: workflowBusName, subscriptionsTable: props.subscriptionsTable, rulePrefix: this.namePrefix, workersDir: WORKERS_DIR, outboundEnvironment: this.outboundEnvironment });
    this.eventRecorder = new EventRecorder(this, 'EventHistory', { eventBus: this.eventBus, eventsTable: props.eventsTable, workersDir: WORKERS_DIR, ...(props.eventRetentionDays === undefined ? {} : { retentionDays: props.eventRetentionDays }) });
    // Under /aws/vendedlogs/: Step Functions then needs no log group resource policy (whose 5,120-character
    // limit every logged state machine would otherwise share).
    this.stateMachineLogs = new LogGroup(this, 'StateMachineLogs', {
      logGroupName: `/aws/vendedlogs/states/${this.namePrefix}-workflows`,
      retention: RetentionDays.ONE_MONTH,
    });

    // Objects are copies of service responses that a run passes on within its own lifetime (at most a year,
    // Step Functions' limit, but runs that need them for more than a month are not expected): they expire.
    this.payloadBucket = new Bucket(this, 'PayloadBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ id: 'expire-payloads', expiration: Duration.days(PAYLOAD_RETENTION_DAYS), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });

    this.actionRunner = new ApiFunction(this, 'ActionRunner', {
      entry: path.join(WORKERS_DIR, 'action-runner-entry.ts'),
      description: 'Action runner: performs service_call actions for workflow state machines',
      environment: {
        REGISTRY_TABLE_NAME: props.registryTable.tableName,
        EXECUTIONS_TABLE_NAME: props.executionsTable.tableName,
        PAYLOAD_BUCKET_NAME: this.payloadBucket.bucketName,
        // Each attempt's start and end are action events on the bus.
        [ENGINE_ENVIRONMENT.eventBusName]: this.eventBus.eventBusName,
        // Unset, functions/config.ts applies the defaults (5 failures within 60 s, 30 s cool-down).
        ...(props.circuitPolicy?.failureThreshold === undefined ? {} : { ORCHESTRATOR_CIRCUIT_FAILURE_THRESHOLD: String(props.circuitPolicy.failureThreshold) }),
        ...(props.circuitPolicy?.windowSeconds === undefined ? {} : { ORCHESTRATOR_CIRCUIT_WINDOW_SECONDS: String(props.circuitPolicy.windowSeconds) }),
        ...(props.circuitPolicy?.cooldownSeconds === undefined ? {} : { ORCHESTRATOR_CIRCUIT_COOLDOWN_SECONDS: String(props.circuitPolicy.cooldownSeconds) }),
        ...this.outboundEnvironment,
        // Services that are not registered are called here (the ecosystem's system workflows call them too).
        ...props.serviceUrls,
      },
      // Lambda's maximum: the runner stops each call at the action's own timeout (the state allows 5 s more).
      timeout: Duration.minutes(15),
      otherWildcardGrant: TASK_TOKEN_REASON,
      ...(props.spansTable === undefined ? {} : { spansTable: props.spansTable }),
    });
    grantTableAccess(props.registryTable, this.actionRunner.lambda, 'read', []);
    // Circuit breaking: it moves instances' circuits (one conditional UpdateItem each), and writes nothing else there.
    this.actionRunner.lambda.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [props.registryTable.tableArn] }));
    // Each attempt is recorded as the action's progress (one UpdateItem at its start, one at its end).
    grantTableAccess(props.executionsTable, this.actionRunner.lambda, 'write', []);
    this.eventBus.grantPutEventsTo(this.actionRunner.lambda);
    // It writes responses too large for state data and reads them back for later calls; nothing else of S3.
    this.actionRunner.lambda.addToRolePolicy(new PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [this.payloadBucket.arnForObjects('payloads/*')] }));
    // Credentials of services registered with `auth`: secrets and parameters under orchestrator/ only.
    this.grantServiceSecrets(this.actionRunner.lambda);
    // A call parked just as its run was resumed is let go by the runner itself (core/execution/held-calls.ts).
    // It also answers gated calls (ADR 0016) with their result or their error.
    this.actionRunner.lambda.addToRolePolicy(new PolicyStatement({ actions: [...TASK_TOKEN_ACTIONS, 'states:SendTaskFailure'], resources: ['*'] }));
    // A released gated call is handed to the runner itself, asynchronously (ADR 0016). A policy of its own:
    // in the role's default policy, which the function depends on, its own ARN would make a cycle.
    new Policy(this, 'ActionRunnerSelfInvoke', {
      roles: [this.actionRunner.role],
      statements: [new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.actionRunner.lambda.functionArn] })],
    });

    this.executionRole = new Role(this, 'StateMachineExecutionRole', {
      assumedBy: new ServicePrincipal('states.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
      description: `Role of every workflow state machine ${this.namePrefix}-*`,
    });
    this.grantExecutionRolePermissions();

    this.statusListener = new ApiFunction(this, 'StatusListener', {
      entry: path.join(WORKERS_DIR, 'status-listener-entry.ts'),
      description: 'Status listener: records Step Functions execution status changes on executions',
      // A run's start and end (and the actions settled at its end) are run and action events on the bus.
      environment: { EXECUTIONS_TABLE_NAME: props.executionsTable.tableName, WORKFLOW_LOG_GROUP_NAME: this.stateMachineLogs.logGroupName, [ENGINE_ENVIRONMENT.eventBusName]: this.eventBus.eventBusName },
      // A run's span and its actions' are recorded when the listener records the run's end.
      ...(props.spansTable === undefined ? {} : { spansTable: props.spansTable }),
    });
    grantTableAccess(props.executionsTable, this.statusListener.lambda, 'write', []);
    this.eventBus.grantPutEventsTo(this.statusListener.lambda);
    // When a run ends, its history settles every action: GetExecutionHistory (standard; with its parts' for a
    // split workflow), the log (express).
    Grant.addToPrincipal({ grantee: this.statusListener.lambda, actions: ['states:GetExecutionHistory'], resourceArns: [this.executionPattern, this.partExecutionPattern] });
    Grant.addToPrincipal({ grantee: this.statusListener.lambda, actions: ['logs:FilterLogEvents'], resourceArns: [this.stateMachineLogs.logGroupArn] });
    // An event the function fails on (the table unreachable) is retried twice, then kept in the queue.
    this.statusListener.lambda.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6), onFailure: new SqsDestination(this.statusDeadLetterQueue) });

    this.statusRule = new Rule(this, 'ExecutionStatusRule', {
      description: `Status changes of the workflow state machines ${this.namePrefix}-*, to the status listener`,
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: Match.prefix(statesArn(`${this.namePrefix}-`)) },
      },
      // One event an invocation: the listener handles one at a time.
      targets: [new LambdaFunction(this.statusListener.lambda, { retryAttempts: 8, maxEventAge: Duration.hours(6), deadLetterQueue: this.statusDeadLetterQueue })],
    });

    // Notifications show as sent when they are, not when the run ends: the workflow bus gives them to the
    // listener too (its other targets are whoever the platform team routes notifications to).
    this.notificationRule = new Rule(this, 'WorkflowNotificationRule', {
      description: 'Notifications sent by workflow runs, to the status listener (live progress of notification actions)',
      eventBus: this.eventBus,
      eventPattern: { source: [WORKFLOW_EVENTS.source], detailType: [WORKFLOW_EVENTS.notification] },
      targets: [new LambdaFunction(this.statusListener.lambda, { retryAttempts: 8, maxEventAge: Duration.hours(6), deadLetterQueue: this.statusDeadLetterQueue })],
    });

    // Express executions send no status events: their start and end reach the listener from their log.
    this.expressStatusSubscription = new SubscriptionFilter(this, 'ExpressStatusSubscription', {
      logGroup: this.stateMachineLogs,
      destination: new LambdaDestination(this.statusListener.lambda),
      filterPattern: FilterPattern.any(...EXPRESS_STATUS_LOG_TYPES.map((type) => FilterPattern.stringValue('$.type', '=', type))),
    });

    // Health checks: a sweep every interval. It stops starting probes before its timeout (the period, so
    // two sweeps hardly overlap), reads and writes the registry table (a listing query on the all-by-name
    // index, one UpdateItem per instance) and nothing else. A failed sweep is not retried: the next one
    // comes a period later.
    const sweepMinutes = healthSweepMinutes(props.healthCheckIntervalSeconds ?? DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS);
    this.healthSweep = new ApiFunction(this, 'HealthSweep', {
      entry: path.join(WORKERS_DIR, 'health-sweep-entry.ts'),
      description: 'Health sweep: probes every registered service instance and records its health',
      // Health changes are service events on the bus.
      environment: { REGISTRY_TABLE_NAME: props.registryTable.tableName, [ENGINE_ENVIRONMENT.eventBusName]: this.eventBus.eventBusName, ...this.outboundEnvironment },
      timeout: Duration.minutes(Math.min(sweepMinutes, 15)),
    });
    grantTableAccess(props.registryTable, this.healthSweep.lambda, 'write', [RegistryIndex.all.indexName]);
    this.eventBus.grantPutEventsTo(this.healthSweep.lambda);
    // A probe sends the instance's credential when it was registered with one.
    this.grantServiceSecrets(this.healthSweep.lambda);
    this.healthSweep.lambda.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(Math.min(sweepMinutes, 360)) });
    this.healthSweepRule = new Rule(this, 'HealthSweepSchedule', {
      description: `Health sweep of the registered service instances, every ${sweepMinutes} minute${sweepMinutes === 1 ? '' : 's'}`,
      schedule: Schedule.rate(Duration.minutes(sweepMinutes)),
      targets: [new LambdaFunction(this.healthSweep.lambda, { retryAttempts: 0, maxEventAge: Duration.minutes(Math.min(sweepMinutes, 1440)) })],
    });

    // The OpenAPI poll: reads the registry (a listing on the all-by-name index), writes one snapshot item per
    // changed service, publishes drift on the workflow bus and nothing else. Each document read is bounded
    // (5 s), so a minute is plenty; a missed poll is not retried: the next one is a period later.
    const pollMinutes = scheduleMinutes(props.openApiPollIntervalSeconds ?? DEFAULT_OPENAPI_POLL_INTERVAL_SECONDS, 'OpenAPI poll interval');
    this.openApiPoll = new ApiFunction(this, 'OpenApiPoll', {
      entry: path.join(WORKERS_DIR, 'openapi-poll-entry.ts'),
      description: "OpenAPI poll: reads each registered service's API document and publishes drift",
      environment: { REGISTRY_TABLE_NAME: props.registryTable.tableName, [ENGINE_ENVIRONMENT.eventBusName]: this.eventBus.eventBusName, ...this.outboundEnvironment },
      timeout: Duration.minutes(1),
    });
    grantTableAccess(props.registryTable, this.openApiPoll.lambda, 'write', [RegistryIndex.all.indexName]);
    this.eventBus.grantPutEventsTo(this.openApiPoll.lambda);
    this.openApiPoll.lambda.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(Math.min(pollMinutes, 360)) });
    this.openApiPollRule = new Rule(this, 'OpenApiPollSchedule', {
      description: `OpenAPI poll of the registered services, every ${pollMinutes} minute${pollMinutes === 1 ? '' : 's'}`,
      schedule: Schedule.rate(Duration.minutes(pollMinutes)),
      targets: [new LambdaFunction(this.openApiPoll.lambda, { retryAttempts: 0, maxEventAge: Duration.minutes(Math.min(pollMinutes, 1440)) })],
    });

    this.engineEnvironment = {
      [ENGINE_ENVIRONMENT.namePrefix]: this.namePrefix,
      [ENGINE_ENVIRONMENT.partition]: this.partition,
      [ENGINE_ENVIRONMENT.region]: this.region,
      [ENGINE_ENVIRONMENT.account]: this.account,
      [ENGINE_ENVIRONMENT.executionRoleArn]: this.executionRole.roleArn,
      [ENGINE_ENVIRONMENT.logGroupArn]: this.stateMachineLogs.logGroupArn,
      [ENGINE_ENVIRONMENT.actionRunnerFunctionArn]: this.actionRunner.lambda.functionArn,
      [ENGINE_ENVIRONMENT.eventBusName]: this.eventBus.eventBusName,
      [ENGINE_ENVIRONMENT.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
    };
    this.publishEnvironment = { [ENGINE_ENVIRONMENT.eventBusName]: this.eventBus.eventBusName };

    // Deploy on publish: a new workflow version becomes a published state machine version (and the workflow's
    // `live` alias moves to it) when it is created, not on its first run. The deployer reads the workflows
    // table and has the engine's rights; a deployment it fails is retried, then kept in its queue (the
    // version is still deployed on its first run).
    this.workflowDeployer = new ApiFunction(this, 'WorkflowDeployer', {
      entry: path.join(WORKERS_DIR, 'workflow-deployer-entry.ts'),
      description: 'Workflow deployer: publishes each new workflow version as a Step Functions state machine version',
      environment: { WORKFLOWS_TABLE_NAME: props.workflowsTable.tableName, ...this.engineEnvironment },
      timeout: Duration.minutes(1),
    });
    grantTableAccess(props.workflowsTable, this.workflowDeployer.lambda, 'read', []);
    this.grantEngineAccess(this.workflowDeployer.lambda);
    this.deployDeadLetterQueue = encryptedQueue(this, 'DeployDeadLetterQueue');
    this.workflowVersionRule = new Rule(this, 'WorkflowVersionPublishedRule', {
      description: 'New workflow versions, to the workflow deployer',
      eventBus: this.eventBus,
      eventPattern: { source: [EVENT_SOURCES.workflows], detailType: ['orchestrator.workflow.version_published' satisfies EventType] },
      targets: [new LambdaFunction(this.workflowDeployer.lambda, { retryAttempts: 8, maxEventAge: Duration.hours(2), deadLetterQueue: this.deployDeadLetterQueue })],
    });
    this.schedules = new WorkflowSchedules(this, 'Schedules', {
      namePrefix: this.namePrefix,
      workersDir: WORKERS_DIR,
      workflowsTable: props.workflowsTable,
      workflowsIndexNames: WORKFLOW_TABLE.indexes.map((index) => index.indexName),
      executionsTable: props.executionsTable,
      executionsIndexNames: EXECUTION_TABLE.indexes.map((index) => index.indexName),
      engine: this,
      eventBus: this.eventBus,
      ...(props.jobSchedules === undefined ? {} : { jobSchedules: props.jobSchedules }),
    });
    // The same variable names as the engine's: one name per fact (functions/config.ts reads them).
    this.probeEnvironment = {
      [ENGINE_ENVIRONMENT.eventBusName]: this.eventBus.eventBusName,
      [ENGINE_ENVIRONMENT.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
    };

    // Outputs without exports: other stacks read them as the app's weak references (no "export in use").
    const outputs: Record<string, [string, string]> = {
      StateMachineNamePrefix: [this.namePrefix, 'Workflow state machines are <prefix>-<workflow_id>'],
      StateMachineExecutionRoleArn: [this.executionRole.roleArn, 'Role of every workflow state machine'],
      ActionRunnerFunctionArn: [this.actionRunner.lambda.functionArn, 'Action runner Lambda (service calls)'],
      StatusListenerFunctionArn: [this.statusListener.lambda.functionArn, 'Status listener Lambda'],
      WorkflowEventBusName: [this.eventBus.eventBusName, 'Event bus of workflow notifications'],
      WorkflowEventBusArn: [this.eventBus.eventBusArn, 'Event bus of workflow notifications'],
      DeadLetterQueueUrl: [this.deadLetterQueue.queueUrl, 'Failed service calls, with the request that failed'],
      DeadLetterQueueArn: [this.deadLetterQueue.queueArn, 'Failed service calls, with the request that failed'],
      StatusDeadLetterQueueArn: [this.statusDeadLetterQueue.queueArn, 'Status changes the listener could not record'],
      StateMachineLogGroupName: [this.stateMachineLogs.logGroupName, 'Logs of the workflow state machines'],
      PayloadBucketName: [this.payloadBucket.bucketName, 'Service responses too large for state data, passed by reference'],
      HealthSweepFunctionArn: [this.healthSweep.lambda.functionArn, 'Health sweep Lambda (scheduled health checks of registered instances)'],
      OpenApiPollFunctionArn: [this.openApiPoll.lambda.functionArn, 'OpenAPI poll Lambda (scheduled API drift detection)'],
      WorkflowDeployerFunctionArn: [this.workflowDeployer.lambda.functionArn, 'Workflow deployer Lambda (each new version becomes a state machine version)'],
      DeployDeadLetterQueueArn: [this.deployDeadLetterQueue.queueArn, 'Workflow versions the deployer could not deploy'],
      EventRecorderFunctionArn: [this.eventRecorder.recorder.lambda.functionArn, 'Event recorder Lambda (every orchestrator event into the event history)'],
      EventDeliveryQueueArn: [this.eventDeliveries.queue.queueArn, 'Webhook deliveries of event subscriptions'],
      FailedDeliveriesQueueArn: [this.eventDeliveries.deadLetterQueue.queueArn, 'Webhook deliveries that failed every attempt'],
      EventRecorderDeadLetterQueueArn: [this.eventRecorder.deadLetterQueue.queueArn, 'Events the recorder could not store'],
      ScheduleGroupName: [this.schedules.groupName, "EventBridge Scheduler group of the workflow schedules' timers"],
      ScheduledRunFunctionArn: [this.schedules.scheduledRun.lambda.functionArn, 'Scheduled-run Lambda (the target of every workflow schedule)'],
      JobRunFunctionArn: [this.schedules.jobRun.lambda.functionArn, "Job-run Lambda (the target of the jobs' rules)"],
      ScheduleDeadLetterQueueArn: [this.schedules.deadLetterQueue.queueArn, 'Schedule firings and job events that could not start a run'],
    };
    for (const [outputId, [value, description]] of Object.entries(outputs)) new CfnOutput(this, outputId, { value, description });

    this.acknowledgeNagFindings();
  }

  /** Lets `grantee` read services' credentials: secrets and SSM parameters under orchestrator/ (infra/constructs/outbound-access.ts). */
  grantServiceSecrets(grantee: IGrantable): void {
    grantServiceSecrets(this, grantee);
  }

  /** The queue URLs the dead-letter routes read (functions/aws-dead-letters.ts). */
  get deadLetterEnvironment(): Readonly<Record<string, string>> {
    return {
      [ENGINE_ENVIRONMENT.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
      DEPLOY_DEAD_LETTER_QUEUE_URL: this.deployDeadLetterQueue.queueUrl,
      EVENT_DELIVERY_DEAD_LETTER_QUEUE_URL: this.eventDeliveries.deadLetterQueue.queueUrl,
    };
  }

  /**
   * Lets `grantee` read the dead-letter queues (failed service calls, deployments, deliveries): their
   * attributes, and their messages received and made visible again at once; `redrive` also deletes messages
   * whose retry was accepted.
   */
  grantDeadLetters(grantee: IGrantable, access: 'inspect' | 'redrive'): void {
    const actions = ['sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', ...(access === 'redrive' ? ['sqs:DeleteMessage'] : [])];
    Grant.addToPrincipal({ grantee, actions, resourceArns: [this.deadLetterQueue.queueArn, this.deployDeadLetterQueue.queueArn, this.eventDeliveries.deadLetterQueue.queueArn] });
  }

  /** Lets `grantee` publish on the workflow event bus (events:PutEvents on that bus only). */
  grantEventPublishing(grantee: IGrantable): void {
    this.eventBus.grantPutEventsTo(grantee);
  }

  /**
   * Lets `grantee` probe the dead-letter queue (GetQueueAttributes) and the workflow event bus
   * (DescribeEventBus), each on its own ARN: read-only calls that say whether they are there and reachable.
   */
  grantProbeAccess(grantee: IGrantable): void {
    Grant.addToPrincipal({ grantee, actions: ['sqs:GetQueueAttributes'], resourceArns: [this.deadLetterQueue.queueArn] });
    Grant.addToPrincipal({ grantee, actions: ['events:DescribeEventBus'], resourceArns: [this.eventBus.eventBusArn] });
  }

  /**
   * Lets `grantee` deploy workflows (create, update and publish state machines under the prefix, point their
   * aliases), start and stop their executions, and pass the execution role to Step Functions: that role
   * only, and to Step Functions only.
   */
  grantEngineAccess(grantee: IGrantable): void {
    Grant.addToPrincipal({ grantee, actions: [...ENGINE_STATE_MACHINE_ACTIONS], resourceArns: [this.stateMachinePattern] });
    Grant.addToPrincipal({ grantee, actions: [...ENGINE_EXECUTION_ACTIONS], resourceArns: [this.executionPattern] });
    Grant.addToPrincipal({ grantee, actions: [...ENGINE_PART_ACTIONS], resourceArns: [this.partStateMachinePattern] });
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.executionRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'states.amazonaws.com' } },
      }),
    );
    // The two patterns are the narrowest possible (state machines are created at run time): acknowledged on
    // the grantee's own role, so that no other wildcard it may get is covered.
    if (Construct.isConstruct(grantee.grantPrincipal)) {
      const reason = `The engine creates one state machine per workflow at run time, so their names are only known by the ${this.namePrefix}-* prefix, which names exactly this deployment's workflows.`;
      Validations.of(grantee.grantPrincipal).acknowledge(
        { id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:${this.namePrefix}-*]`, reason },
        { id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${this.namePrefix}-*:*]`, reason },
        {
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:${this.namePrefix}_*]`,
          reason: `The engine creates the parts of workflows too large for one state machine at run time, named by the ${this.namePrefix}_* prefix, which names exactly this deployment's parts.`,
        },
      );
    }
  }

  /** Lets `grantee` let go the calls parked while a run was paused (the resume route). */
  grantParkedCallRelease(grantee: IGrantable): void {
    Grant.addToPrincipal({ grantee, actions: [...TASK_TOKEN_ACTIONS], resourceArns: ['*'] });
  }

  /** Exactly what compiled definitions call, and what Step Functions needs for tracing and logging. */
  private grantExecutionRolePermissions(): void {
    const role = this.executionRole;
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.actionRunner.lambda.functionArn] }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['events:PutEvents'], resources: [this.eventBus.eventBusArn] }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }));
    // sub_workflow actions and the parts of split workflows: startExecution.sync:2 starts the child (an alias
    // or a version) and follows it.
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachinePattern, this.partStateMachinePattern] }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [this.executionPattern, this.partExecutionPattern] }));
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [Arn.format({ service: 'events', resource: 'rule', resourceName: SYNC_INTEGRATION_RULE }, this)],
      }),
    );
    // llm actions: Bedrock's InvokeModel, called by Step Functions itself, on this region's foundation models
    // only (no inference profiles, provisioned throughput or custom models; no streaming).
    role.addToPrincipalPolicy(new PolicyStatement({ actions: [...LLM_MODEL_ACTIONS], resources: [this.foundationModels] }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: [...XRAY_ACTIONS], resources: ['*'] }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: [...LOG_DELIVERY_ACTIONS], resources: ['*'] }));
  }

  /** Every foundation model of the stack's region (`arn:<partition>:bedrock:<region>::foundation-model/*`): which ones a workflow names is known only when it is created. */
  private get foundationModels(): string {
    return Arn.format({ service: 'bedrock', account: '', resource: 'foundation-model', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, this);
  }

  private acknowledgeNagFindings(): void {
    const bucketId = this.getLogicalId(this.payloadBucket.node.defaultChild as CfnElement);
    Validations.of(this.actionRunner.role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/payloads/*]`,
        reason: 'The action runner names each payload object at run time (payloads/<trace>/<execution>/<action>/<uuid>.json); the grant covers only PutObject and GetObject under payloads/ of its own bucket.',
      },
    );
    Validations.of(this.payloadBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Only the action runner role reads and writes this bucket, and its objects are short-lived copies of service responses already in the execution history as references; server access logs would need a log bucket of their own for no added audit (CloudTrail data events can be enabled per account).',
    });
    const partPattern = `the ${this.namePrefix}_* pattern names exactly this deployment's parts of split workflows, which the engine creates at run time`;
    const prefixPattern = `the ${this.namePrefix}-* pattern names exactly this deployment's workflow state machines, which the engine creates at run time (their names are not known at deploy time)`;
    Validations.of(this.executionRole).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray tracing (PutTraceSegments, PutTelemetryRecords, GetSamplingRules/Targets) and CloudWatch Logs delivery for state machine logging support no resource-level permissions.',
      },
      { id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:${this.namePrefix}-*]`, reason: `sub_workflow actions start other workflows: ${prefixPattern}.` },
      { id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${this.namePrefix}-*:*]`, reason: `sub_workflow actions follow and stop the executions they start: ${prefixPattern}.` },
      { id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:${this.namePrefix}_*]`, reason: `A split workflow's machines start its parts: ${partPattern}.` },
      { id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${this.namePrefix}_*:*]`, reason: `A split workflow's machines follow and stop the parts' executions they start: ${partPattern}.` },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>::foundation-model/*]',
        reason: "llm actions name their model in the workflow, created at run time: InvokeModel only, on this region's foundation models only (AWS-owned models: no account's data is reachable through them).",
      },
    );
    Validations.of(this.statusListener.role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${this.namePrefix}-*:*]`,
        reason: `The listener reads the history of any finished run of this deployment's workflows (GetExecutionHistory only): ${prefixPattern}.`,
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${this.namePrefix}_*:*]`,
        reason: `The listener reads the histories of a finished split run's parts, where their actions ran (GetExecutionHistory only): ${partPattern}.`,
      },
    );
    for (const queue of [this.deadLetterQueue, this.statusDeadLetterQueue, this.deployDeadLetterQueue]) {
      Validations.of(queue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself a dead-letter queue (failed service calls, or status changes the listener could not record): a message that cannot be processed stays here for inspection and replay.',
      });
    }
  }
}

/** Days before a stored payload expires: well past any run that reads it, short enough not to pile up. */
export const PAYLOAD_RETENTION_DAYS = 30;

/** SQS-managed encryption (no KMS key to grant to every sender) and TLS required; messages kept the maximum 14 days. */
function encryptedQueue(scope: Construct, id: string): Queue {
  return new Queue(scope, id, { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
}
