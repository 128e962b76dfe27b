import path from 'node:path';
import { Arn, ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventField, Rule, RuleTargetInput, Schedule, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, PolicyStatement, Role, ServicePrincipal, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { JOB_NAMES, type JobName, type JobSchedule } from '../../core/ecosystem/jobs.ts';
import { DEFAULT_JOB_SCHEDULES, jobScheduleEnvironment } from '../ecosystem-context.ts';
import { ApiFunction } from './api-function.ts';
import { grantTableAccess } from './table-access.ts';

/** What a route that creates, changes or deletes workflow schedules' timers may call, on the group's schedules only. */
export const SCHEDULE_MANAGEMENT_ACTIONS = ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule'] as const;

/** What the runtime stack offers the schedule and job workers: the engine's rights and settings. */
export interface ScheduleEngineAccess {
  grantEngineAccess(grantee: IGrantable): void;
  /** WORKFLOW_EVENT_BUS_NAME included: the workers publish workflow and run events. */
  readonly engineEnvironment: Readonly<Record<string, string>>;
}

export interface WorkflowSchedulesProps {
  /** The deployment's prefix (at most 40 characters): the schedule group and the scheduled-run function are named after it. */
  readonly namePrefix: string;
  readonly workersDir: string;
  /** Schedules are items of the workflows table; the job worker creates the system workflows in it. */
  readonly workflowsTable: ITable;
  readonly workflowsIndexNames: readonly string[];
  readonly executionsTable: ITable;
  readonly executionsIndexNames: readonly string[];
  readonly engine: ScheduleEngineAccess;
  readonly eventBus: IEventBus;
  /** Each job's schedule (infra/ecosystem-context.ts); a job that is off has no rule. @default each job's default */
  readonly jobSchedules?: Readonly<Record<JobName, JobSchedule>>;
}

/**
 * Timed runs (issue 14): workflow schedules and jobs.
 *
 * - Workflow schedules are items of the workflows table; each one's timer is an EventBridge Scheduler schedule
 *   in this deployment's schedule group, which the schedule routes create, change and delete (their rights
 *   cover that group only). Every schedule invokes the scheduled-run worker as the scheduler role, which may
 *   invoke that function and send to the dead-letter queue, and nothing else.
 * - Jobs run on EventBridge rules, one per job that is not `off`, invoking the job worker with the job's name
 *   and the time the rule fired (the run's idempotency: a redelivered event never starts a second run).
 *
 * What neither could start after the retries lands in the dead-letter queue.
 */
export class WorkflowSchedules extends Construct {
  readonly groupName: string;
  readonly group: CfnScheduleGroup;
  /** `arn:...:scheduler:<region>:<account>:schedule/<group>/*`: the group's schedules. */
  readonly schedulePattern: string;
  /** Assumed by EventBridge Scheduler (this account's only) to invoke the scheduled-run worker. */
  readonly schedulerRole: Role;
  /** Schedule invocations and job events that could not be delivered or handled after their retries. */
  readonly deadLetterQueue: Queue;
  /** The target of every workflow schedule. */
  readonly scheduledRun: ApiFunction;
  readonly scheduledRunFunctionArn: string;
  /** The target of every job rule. */
  readonly jobRun: ApiFunction;
  /** One rule per job that has a schedule. */
  readonly jobRules: ReadonlyMap<JobName, Rule>;
  /** What a function that manages schedules' timers needs (functions/aws-ecosystem.ts awsScheduleTimer). */
  readonly scheduleEnvironment: Readonly<Record<string, string>>;
  /** The jobs' schedules as their ORCHESTRATOR_JOB_*_SCHEDULE variables (`off` for a job without a rule): the job worker and `GET /jobs` get them. */
  readonly jobEnvironment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: WorkflowSchedulesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Scheduler names: 1 to 64 of [0-9a-zA-Z-_.]; the prefix has at most 40 letters, digits and hyphens.
    this.groupName = `${props.namePrefix}-schedules`;
    this.group = new CfnScheduleGroup(this, 'Group', { name: this.groupName });
    this.schedulePattern = Arn.format({ service: 'scheduler', resource: 'schedule', resourceName: `${this.groupName}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack);
    const jobSchedules = props.jobSchedules ?? DEFAULT_JOB_SCHEDULES;
    this.jobEnvironment = jobScheduleEnvironment(jobSchedules);

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself a dead-letter queue: schedule firings and job events that could not start a run after their retries, kept for inspection.',
    });

    // Named, so that its ARN is known to its own environment (it deletes schedules, and a timer names its
    // target) without a reference from the function to itself.
    const scheduledRunName = `${props.namePrefix}-scheduled-run`;
    this.scheduledRunFunctionArn = Arn.format({ service: 'lambda', resource: 'function', resourceName: scheduledRunName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack);
    this.schedulerRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: `Assumed by EventBridge Scheduler to start the runs of the ${this.groupName} schedules`,
    });
    this.scheduleEnvironment = {
      SCHEDULE_GROUP_NAME: this.groupName,
      SCHEDULED_RUN_FUNCTION_ARN: this.scheduledRunFunctionArn,
      SCHEDULER_ROLE_ARN: this.schedulerRole.roleArn,
      SCHEDULE_DEAD_LETTER_ARN: this.deadLetterQueue.queueArn,
    };

    this.scheduledRun = new ApiFunction(this, 'ScheduledRun', {
      entry: path.join(props.workersDir, 'scheduled-run-entry.ts'),
      description: "Scheduled run: starts a workflow's run when one of its schedules fires (overlap policy, bookkeeping)",
      functionName: scheduledRunName,
      environment: {
        WORKFLOWS_TABLE_NAME: props.workflowsTable.tableName,
        EXECUTIONS_TABLE_NAME: props.executionsTable.tableName,
        ...props.engine.engineEnvironment,
        ...this.scheduleEnvironment,
      },
      // A first run may deploy the workflow's state machine (as the deployer does, within a minute).
      timeout: Duration.minutes(1),
    });
    this.grantWorkerAccess(this.scheduledRun, props);
    // A schedule whose workflow is gone deletes its own timer; it creates and changes none.
    Grant.addToPrincipal({ grantee: this.scheduledRun.lambda, actions: ['scheduler:DeleteSchedule'], resourceArns: [this.schedulePattern] });
    this.acknowledgeGroupWildcard(this.scheduledRun.role);

    this.schedulerRole.addToPrincipalPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.scheduledRun.lambda.functionArn] }));
    this.schedulerRole.addToPrincipalPolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }));

    this.jobRun = new ApiFunction(this, 'JobRun', {
      entry: path.join(props.workersDir, 'job-run-entry.ts'),
      description: "Job run: starts a job's system workflow when the job's rule fires",
      environment: {
        WORKFLOWS_TABLE_NAME: props.workflowsTable.tableName,
        EXECUTIONS_TABLE_NAME: props.executionsTable.tableName,
        ...props.engine.engineEnvironment,
        ...this.jobEnvironment,
      },
      timeout: Duration.minutes(1),
    });
    this.grantWorkerAccess(this.jobRun, props);

    const rules = new Map<JobName, Rule>();
    for (const job of JOB_NAMES) {
      const schedule = jobSchedules[job];
      if (!schedule.enabled) continue;
      rules.set(
        job,
        new Rule(this, `${pascalCase(job)}Job`, {
          description: `Job ${job}: ${schedule.expression} (UTC), to the job worker`,
          schedule: Schedule.expression(schedule.expression),
          targets: [
            new LambdaFunction(this.jobRun.lambda, {
              // The event's time is the firing's due time: a redelivered event carries the same one.
              event: RuleTargetInput.fromObject({ job, due_at: EventField.time }),
              retryAttempts: 8,
              maxEventAge: Duration.hours(1),
              deadLetterQueue: this.deadLetterQueue,
            }),
          ],
        }),
      );
    }
    this.jobRules = rules;
  }

  /**
   * Lets `grantee` create, change and delete the timers of this group's schedules (and read one back), and pass
   * the scheduler role to EventBridge Scheduler: that role only, and to Scheduler only.
   */
  grantScheduleManagement(grantee: IGrantable): void {
    Grant.addToPrincipal({ grantee, actions: [...SCHEDULE_MANAGEMENT_ACTIONS], resourceArns: [this.schedulePattern] });
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    if (Construct.isConstruct(grantee.grantPrincipal)) this.acknowledgeGroupWildcard(grantee.grantPrincipal);
  }

  /** What both workers do: the workflows and executions tables, the engine, the bus, and handing failures to the queue. */
  private grantWorkerAccess(worker: ApiFunction, props: WorkflowSchedulesProps): void {
    grantTableAccess(props.workflowsTable, worker.lambda, 'write', props.workflowsIndexNames);
    grantTableAccess(props.executionsTable, worker.lambda, 'write', props.executionsIndexNames);
    props.engine.grantEngineAccess(worker.lambda);
    props.eventBus.grantPutEventsTo(worker.lambda);
    // Scheduler and the rules invoke asynchronously: an invocation that fails is retried twice, then kept.
    worker.lambda.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1), onFailure: new SqsDestination(this.deadLetterQueue) });
  }

  private acknowledgeGroupWildcard(scope: Construct): void {
    Validations.of(scope).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${this.groupName}/*]`,
      reason: `Workflow schedules' timers are created at run time, named by their schedule ids: the ${this.groupName} group holds exactly this deployment's timers, and nothing else.`,
    });
  }
}

/** `recalc-quality` -> `RecalcQuality`: construct IDs that read like the job names. */
function pascalCase(name: string): string {
  return name.replace(/(^|[^A-Za-z0-9])([a-z0-9])/g, (_match, _separator: string, letter: string) => letter.toUpperCase());
}
