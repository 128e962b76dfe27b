import { CreateScheduleCommand, DeleteScheduleCommand, UpdateScheduleCommand, type CreateScheduleCommandInput, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { ScheduleTimer } from '../../../core/ports.ts';
import type { WorkflowSchedule } from '../../../core/schedules/model.ts';
import { parseScheduleExpression } from '../../../core/schedules/expression.ts';

/**
 * The `ScheduleTimer` port in AWS: one EventBridge Scheduler schedule per workflow schedule, in the deployment's
 * schedule group, named by the schedule id. Its target is the scheduled-run Lambda, invoked with
 * `{workflow_id, schedule_id, due_at}` where `due_at` is the time the firing was due (Scheduler's
 * `<aws.scheduler.scheduled-time>`), so a retried delivery carries the same due time and the firing stays
 * idempotent. Scheduler retries a failed invocation (3 times within an hour) and then sends the event to the
 * dead-letter queue, when one is configured.
 *
 * IAM: scheduler:CreateSchedule, UpdateSchedule, DeleteSchedule on `schedule/<group>/*`, and iam:PassRole of
 * the role Scheduler assumes (`roleArn`), which may invoke the target Lambda (and send to the dead-letter queue).
 */

/** Scheduler's names (schedules and groups): 1 to 64 letters, digits, `-`, `_` or `.`. */
const SCHEDULER_NAME = /^[0-9a-zA-Z_.-]{1,64}$/;
/** Scheduler's limit on a schedule's description. */
const MAX_DESCRIPTION_LENGTH = 512;
/** The context attribute Scheduler replaces with the time the invocation was due (ISO 8601, UTC). */
export const SCHEDULED_TIME_PLACEHOLDER = '<aws.scheduler.scheduled-time>';

export interface EventBridgeSchedulerTimerOptions {
  readonly client: SchedulerClient;
  /** The deployment's schedule group: every workflow schedule's timer is in it (and IAM grants cover only it). */
  readonly groupName: string;
  /** The scheduled-run Lambda's ARN: every schedule's target. */
  readonly targetArn: string;
  /** The role EventBridge Scheduler assumes to invoke the target. */
  readonly roleArn: string;
  /** An SQS queue for the invocations Scheduler gave up on (after its retries). */
  readonly deadLetterArn?: string;
}

/** What the scheduled-run Lambda receives: which schedule fired, and when it was due. */
export interface ScheduledRunInput {
  readonly workflow_id: string;
  readonly schedule_id: string;
  readonly due_at: string;
}

/**
 * Timers as EventBridge Scheduler schedules. `put` updates the schedule and creates it when it does not exist
 * (Scheduler has no upsert); `remove` deletes it and takes a missing one as done. Every other error propagates
 * unchanged: the use case undoes its store write.
 */
export class EventBridgeSchedulerTimer implements ScheduleTimer {
  private readonly options: EventBridgeSchedulerTimerOptions;

  constructor(options: EventBridgeSchedulerTimerOptions) {
    if (!SCHEDULER_NAME.test(options.groupName)) {
      throw new Error(`invalid configuration: a schedule group name is 1 to 64 letters, digits, '-', '_' or '.'; got ${JSON.stringify(options.groupName)}`);
    }
    this.options = options;
  }

  async put(schedule: WorkflowSchedule): Promise<void> {
    const input = this.scheduleInput(schedule);
    // Update first: most puts change an existing schedule, and an update never makes a duplicate.
    try {
      await this.options.client.send(new UpdateScheduleCommand(input));
      return;
    } catch (error) {
      if (!isNamed(error, 'ResourceNotFoundException')) throw error;
    }
    try {
      await this.options.client.send(new CreateScheduleCommand(input));
    } catch (error) {
      // Another put created it since the update failed: this one's definition is applied over it, once.
      if (!isNamed(error, 'ConflictException')) throw error;
      await this.options.client.send(new UpdateScheduleCommand(input));
    }
  }

  async remove(schedule: Pick<WorkflowSchedule, 'workflow_id' | 'schedule_id'>): Promise<void> {
    try {
      await this.options.client.send(new DeleteScheduleCommand({ GroupName: this.options.groupName, Name: scheduleName(schedule.schedule_id) }));
    } catch (error) {
      if (!isNamed(error, 'ResourceNotFoundException')) throw error;
    }
  }

  /** The whole definition of the Scheduler schedule (Create and Update take the same: an update replaces every field). */
  private scheduleInput(schedule: WorkflowSchedule): CreateScheduleCommandInput {
    const { targetArn, roleArn, deadLetterArn, groupName } = this.options;
    const input: ScheduledRunInput = { workflow_id: schedule.workflow_id, schedule_id: schedule.schedule_id, due_at: SCHEDULED_TIME_PLACEHOLDER };
    return {
      GroupName: groupName,
      Name: scheduleName(schedule.schedule_id),
      ScheduleExpression: schedule.expression,
      ScheduleExpressionTimezone: schedule.timezone,
      State: schedule.enabled ? 'ENABLED' : 'DISABLED',
      // Runs start when due; a window would spread them but make `due_at` and the overlap policy harder to read.
      FlexibleTimeWindow: { Mode: 'OFF' },
      Description: truncate(`workflow ${schedule.workflow_id} schedule ${schedule.schedule_id}${schedule.description ? `: ${schedule.description}` : ''}`, MAX_DESCRIPTION_LENGTH),
      Target: {
        Arn: targetArn,
        RoleArn: roleArn,
        Input: JSON.stringify(input),
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        ...(deadLetterArn === undefined ? {} : { DeadLetterConfig: { Arn: deadLetterArn } }),
      },
      ...rateStart(schedule),
      // Keep a one-time (`at(...)`) schedule after it fired: the store still holds it, and deleting it is the API's job.
      ActionAfterCompletion: 'NONE',
    };
  }
}

/**
 * A rate schedule without a start date fires at once when created; the API promises (and the local scheduler
 * does) anchor + k x rate, k >= 1: the first firing one interval after the schedule was created.
 */
function rateStart(schedule: WorkflowSchedule): { StartDate?: Date } {
  const parsed = parseScheduleExpression(schedule.expression);
  if (!('expression' in parsed) || parsed.expression.kind !== 'rate') return {};
  return { StartDate: new Date(Date.parse(schedule.created_at) + parsed.expression.everyMs) };
}

/** The Scheduler schedule's name: the schedule id itself, which must fit Scheduler's names. */
function scheduleName(scheduleId: string): string {
  if (!SCHEDULER_NAME.test(scheduleId)) {
    throw new Error(`schedule id ${JSON.stringify(scheduleId)} cannot name an EventBridge Scheduler schedule: it must be 1 to 64 letters, digits, '-', '_' or '.'`);
  }
  return scheduleId;
}

/** At most `limit` characters (code points, so a surrogate pair is never cut in half). */
function truncate(text: string, limit: number): string {
  const characters = Array.from(text);
  return characters.length <= limit ? text : characters.slice(0, limit).join('');
}

function isNamed(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}
