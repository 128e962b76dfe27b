import { readLambdaConfig } from '../config.ts';
import { configureAwsLog } from '../aws-observability.ts';
import { awsApiDriftService } from '../aws-registry-sync-services.ts';
import { createOpenApiPollWorker } from './openapi-poll.ts';

/**
 * Lambda entry of the scheduled OpenAPI poll (infra/stacks/runtime-stack.ts): an EventBridge rule invokes it
 * every interval. CDK sets REGISTRY_TABLE_NAME and WORKFLOW_EVENT_BUS_NAME; without them it fails at init.
 */
configureAwsLog(readLambdaConfig());
export const handler = createOpenApiPollWorker({ apiDrift: awsApiDriftService() });
