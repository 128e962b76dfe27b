import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeSchedulerTimer } from '../../../adapters/aws/scheduler/event-bridge-scheduler-timer.ts';
import type { WorkflowSchedule } from '../../../core/schedules/model.ts';

/** EventBridge Scheduler has no emulator: the requests the timer sends are checked against a mocked client. */
describe('EventBridgeSchedulerTimer', () => {
  const scheduler = mockClient(SchedulerClient);
  const TARGET = 'arn:aws:lambda:eu-west-1:123456789012:function:orch-scheduled-run';
  const ROLE = 'arn:aws:iam::123456789012:role/orch-scheduler-invoke';
  const DLQ = 'arn:aws:sqs:eu-west-1:123456789012:orch-scheduled-runs-dlq';
  const ID = '0b6f3c1e-8d2a-4f7e-9c1b-5a4d3e2f1a0b';
  const options = { client: new SchedulerClient({ region: 'eu-west-1' }), groupName: 'orch-workflow-schedules', targetArn: TARGET, roleArn: ROLE };
  const timer = new EventBridgeSchedulerTimer({ ...options, deadLetterArn: DLQ });

  const cron: WorkflowSchedule = {
    schedule_id: ID,
    workflow_id: 'wf-42',
    tenant: 'acme',
    expression: 'cron(0 9 ? * MON-FRI *)',
    timezone: 'Europe/Paris',
    parameters: { region: 'eu' },
    enabled: true,
    overlap_policy: 'skip',
    description: 'weekday mornings',
    created_at: '2027-01-01T09:00:00.000Z',
    created_by: 'alice',
    updated_at: '2027-01-01T09:00:00.000Z',
    updated_by: 'alice',
    revision: 1,
  };
  const rate: WorkflowSchedule = { ...cron, expression: 'rate(15 minutes)', timezone: 'UTC', enabled: false, description: undefined };
  const named = (name: string, message = name) => Object.assign(new Error(message), { name });
  const sent = () => scheduler.calls().map((call) => call.args[0].constructor.name);

  beforeEach(() => scheduler.reset());

  it('defines a cron schedule in its time zone, targeting the scheduled-run Lambda with the due time Scheduler fills in', async () => {
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
    await timer.put(cron);
    expect(sent()).toEqual(['UpdateScheduleCommand']);
    expect(scheduler.commandCalls(UpdateScheduleCommand)[0]!.args[0].input).toEqual({
      GroupName: 'orch-workflow-schedules',
      Name: ID,
      ScheduleExpression: 'cron(0 9 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Description: `workflow wf-42 schedule ${ID}: weekday mornings`,
      Target: {
        Arn: TARGET,
        RoleArn: ROLE,
        Input: `{"workflow_id":"wf-42","schedule_id":"${ID}","due_at":"<aws.scheduler.scheduled-time>"}`,
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: DLQ },
      },
      ActionAfterCompletion: 'NONE',
    });
  });

  it('creates a schedule Scheduler does not have yet, disabled when the schedule is, with no dead-letter queue unless configured', async () => {
    scheduler.on(UpdateScheduleCommand).rejects(named('ResourceNotFoundException', `Schedule ${ID} does not exist.`)).on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
    await new EventBridgeSchedulerTimer(options).put(rate);
    expect(sent()).toEqual(['UpdateScheduleCommand', 'CreateScheduleCommand']);
    const created = scheduler.commandCalls(CreateScheduleCommand)[0]!.args[0].input;
    expect(created).toEqual({
      GroupName: 'orch-workflow-schedules',
      Name: ID,
      ScheduleExpression: 'rate(15 minutes)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'DISABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Description: `workflow wf-42 schedule ${ID}`,
      Target: { Arn: TARGET, RoleArn: ROLE, Input: expect.any(String), RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 } },
      // One interval after creation, as next_runs says (without it Scheduler would fire at once).
      StartDate: new Date('2027-01-01T09:15:00.000Z'),
      ActionAfterCompletion: 'NONE',
    });
    expect(JSON.parse(created.Target!.Input!)).toEqual({ workflow_id: 'wf-42', schedule_id: ID, due_at: '<aws.scheduler.scheduled-time>' });
    // Create and update send the same definition: an update replaces every field.
    expect(scheduler.commandCalls(UpdateScheduleCommand)[0]!.args[0].input).toEqual(created);
  });

  it('updates once more when a concurrent put created the schedule between its update and its create', async () => {
    scheduler
      .on(UpdateScheduleCommand)
      .rejectsOnce(named('ResourceNotFoundException'))
      .resolves({ ScheduleArn: 'arn:schedule' })
      .on(CreateScheduleCommand)
      .rejects(named('ConflictException', `Schedule ${ID} already exists.`));
    await timer.put(cron);
    expect(sent()).toEqual(['UpdateScheduleCommand', 'CreateScheduleCommand', 'UpdateScheduleCommand']);
  });

  it('keeps the description within the 512 characters Scheduler allows', async () => {
    scheduler.on(UpdateScheduleCommand).resolves({});
    await timer.put({ ...cron, description: '🕘'.repeat(600) });
    const description = scheduler.commandCalls(UpdateScheduleCommand)[0]!.args[0].input.Description!;
    expect(Array.from(description)).toHaveLength(512);
    expect(description.startsWith(`workflow wf-42 schedule ${ID}: 🕘`)).toBe(true);
  });

  it('deletes the schedule from its group, and takes one already gone as deleted', async () => {
    scheduler.on(DeleteScheduleCommand).resolvesOnce({}).rejects(named('ResourceNotFoundException'));
    await timer.remove({ workflow_id: 'wf-42', schedule_id: ID });
    await timer.remove({ workflow_id: 'wf-42', schedule_id: ID });
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((call) => call.args[0].input)).toEqual([
      { GroupName: 'orch-workflow-schedules', Name: ID },
      { GroupName: 'orch-workflow-schedules', Name: ID },
    ]);
  });

  it('lets any other error through, for the use case to undo its write', async () => {
    scheduler.on(UpdateScheduleCommand).rejects(named('ValidationException', 'Invalid Schedule Expression cron(61 * * * ? *).'));
    await expect(timer.put(cron)).rejects.toMatchObject({ name: 'ValidationException' });
    expect(sent()).toEqual(['UpdateScheduleCommand']);

    scheduler.reset();
    scheduler.on(UpdateScheduleCommand).rejects(named('ResourceNotFoundException')).on(CreateScheduleCommand).rejects(named('ServiceQuotaExceededException'));
    await expect(timer.put(cron)).rejects.toMatchObject({ name: 'ServiceQuotaExceededException' });

    scheduler.reset();
    scheduler.on(DeleteScheduleCommand).rejects(named('ThrottlingException'));
    await expect(timer.remove(cron)).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('refuses a schedule id Scheduler cannot take as a name, before calling it', async () => {
    await expect(timer.put({ ...cron, schedule_id: 'a/b' })).rejects.toThrow(/cannot name an EventBridge Scheduler schedule/);
    await expect(timer.remove({ workflow_id: 'wf-42', schedule_id: 'x'.repeat(65) })).rejects.toThrow(/1 to 64/);
    expect(scheduler.calls()).toHaveLength(0);
    expect(() => new EventBridgeSchedulerTimer({ ...options, groupName: 'bad group' })).toThrow(/schedule group name/);
  });
});
