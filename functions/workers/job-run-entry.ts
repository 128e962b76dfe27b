import { readLambdaConfig } from '../config.ts';
import { configureAwsLog } from '../aws-observability.ts';
import { awsEcosystemService } from '../aws-ecosystem.ts';
import { sharedLog } from '../observability/logger.ts';
import { createJobRunWorker } from './scheduled-run.ts';

/**
 * Lambda entry of the jobs' EventBridge rules (infra/stacks/runtime-stack.ts), invoked with `{job, due_at}`.
 * CDK sets WORKFLOWS_TABLE_NAME, EXECUTIONS_TABLE_NAME and the engine's settings.
 */
const config = readLambdaConfig();
configureAwsLog(config);
export const handler = createJobRunWorker({ ecosystem: awsEcosystemService(config), log: sharedLog });
