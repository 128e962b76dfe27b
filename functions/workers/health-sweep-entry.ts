import { readLambdaConfig } from '../config.ts';
import { configureAwsLog } from '../aws-observability.ts';
import { awsHealthSweep } from '../aws-health-services.ts';
import { createHealthSweepWorker } from './health-sweep.ts';

/**
 * Lambda entry of the scheduled health sweep (infra/stacks/runtime-stack.ts): an EventBridge rule invokes it
 * every interval. CDK sets REGISTRY_TABLE_NAME; without it the function fails at init.
 */
configureAwsLog(readLambdaConfig());
export const handler = createHealthSweepWorker({ sweep: awsHealthSweep() });
