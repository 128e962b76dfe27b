import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoScheduleStore } from '../adapters/aws/dynamo/dynamo-schedule-store.ts';
import { EventBridgeSchedulerTimer } from '../adapters/aws/scheduler/event-bridge-scheduler-timer.ts';
import { DynamoWorkflowStore } from '../adapters/aws/dynamo/dynamo-workflow-store.ts';
import { createEcosystemService, type EcosystemService } from '../core/ecosystem/service.ts';
import type { ScheduleTimer } from '../core/ports.ts';
import { createScheduleService, type ScheduleService } from '../core/schedules/service.ts';
import { randomIds, systemClock } from '../core/system.ts';
import { awsExecutionServices, awsWorkflowService } from './aws-services.ts';
import { jobSchedulesOf, readLambdaConfig, required, type LambdaConfig } from './config.ts';
import { logAnalysisServiceOf, type ServiceProxy } from './ecosystem/service-proxy.ts';

/**
 * Composition roots of the ecosystem routes and workers in Lambda. Each piece is built on first use, so a
 * function gets (and is granted) only what its route declares: the proxies the registry and the outbound
 * rules, the ingestion and job routes the engine, the schedule routes EventBridge Scheduler.
 */

/** Ingestion and jobs: system workflows (ensured in the workflows table) and runs started through the engine. */
export function awsEcosystemService(config: LambdaConfig = readLambdaConfig()): EcosystemService {
  const store = new DynamoWorkflowStore(sharedDocumentClient(), required(config.WORKFLOWS_TABLE_NAME, 'WORKFLOWS_TABLE_NAME'));
  const workflows = awsWorkflowService(config, store);
  return createEcosystemService({ workflows, executions: awsExecutionServices().executions, clock: systemClock, ids: randomIds, jobSchedules: jobSchedulesOf(config) });
}

/** EventBridge Scheduler, as the schedules' timer (only routes declaring `schedules: 'manage'` get its settings). */
function awsScheduleTimer(config: LambdaConfig): ScheduleTimer {
  let timer: EventBridgeSchedulerTimer | undefined;
  const built = () =>
    (timer ??= new EventBridgeSchedulerTimer({
      client: new SchedulerClient({}),
      groupName: required(config.SCHEDULE_GROUP_NAME, 'SCHEDULE_GROUP_NAME'),
      targetArn: required(config.SCHEDULED_RUN_FUNCTION_ARN, 'SCHEDULED_RUN_FUNCTION_ARN'),
      roleArn: required(config.SCHEDULER_ROLE_ARN, 'SCHEDULER_ROLE_ARN'),
      ...(config.SCHEDULE_DEAD_LETTER_ARN === undefined ? {} : { deadLetterArn: config.SCHEDULE_DEAD_LETTER_ARN }),
    }));
  return { put: (schedule) => built().put(schedule), remove: (schedule) => built().remove(schedule) };
}

/** Workflow schedules: their items in the workflows table, their timers in EventBridge Scheduler. */
export function awsScheduleService(config: LambdaConfig = readLambdaConfig()): ScheduleService {
  const client = sharedDocumentClient();
  const tableName = required(config.WORKFLOWS_TABLE_NAME, 'WORKFLOWS_TABLE_NAME');
  const workflows = new DynamoWorkflowStore(client, tableName);
  let executions: ReturnType<typeof awsExecutionServices>['executions'] | undefined;
  const runs = () => (executions ??= awsExecutionServices().executions);
  return createScheduleService({
    schedules: new DynamoScheduleStore(client, tableName),
    timer: awsScheduleTimer(config),
    workflows,
    // Only the trigger route and the scheduled-run worker start or cancel runs (they declare the engine).
    executions: {
      startExecution: (...args) => runs().startExecution(...args),
      getExecution: (...args) => runs().getExecution(...args),
      cancelExecution: (...args) => runs().cancelExecution(...args),
    },
    clock: systemClock,
    ids: randomIds,
  });
}

/** What the ingestion and job routes' handlers need (the proxies compose theirs in functions/aws-service-proxy.ts). */
export function awsEcosystemHttpServices(config: LambdaConfig = readLambdaConfig()) {
  let ecosystem: EcosystemService | undefined;
  return {
    get ecosystem() {
      return (ecosystem ??= awsEcosystemService(config));
    },
    get serviceProxy(): ServiceProxy {
      throw new Error('the proxies are composed by their own entries (functions/aws-service-proxy.ts)');
    },
    logAnalysisService: logAnalysisServiceOf(config),
  };
}
