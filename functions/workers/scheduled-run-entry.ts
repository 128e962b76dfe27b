import { readLambdaConfig } from '../config.ts';
import { configureAwsLog } from '../aws-observability.ts';
import { awsScheduleService } from '../aws-ecosystem.ts';
import { sharedLog } from '../observability/logger.ts';
import { createScheduledRunWorker } from './scheduled-run.ts';

/**
 * Lambda entry every workflow schedule invokes (EventBridge Scheduler's target, infra/stacks/runtime-stack.ts)
 * with `{workflow_id, schedule_id, due_at}`. CDK sets WORKFLOWS_TABLE_NAME, EXECUTIONS_TABLE_NAME, the
 * engine's settings and the schedule group's (a schedule whose workflow is gone is deleted here).
 */
const config = readLambdaConfig();
configureAwsLog(config);
export const handler = createScheduledRunWorker({ schedules: awsScheduleService(config), log: sharedLog });
