import { awsEventHistory } from '../aws-events.ts';
import { readLambdaConfig } from '../config.ts';
import { configureAwsLog } from '../aws-observability.ts';
import { createEventRecorder } from './event-recorder.ts';

/**
 * Lambda entry of the event recorder (infra/stacks/runtime-stack.ts): the rule matching every orchestrator
 * event invokes it. CDK sets EVENTS_TABLE_NAME and ORCHESTRATOR_EVENT_RETENTION_DAYS.
 */
const config = readLambdaConfig();
configureAwsLog(config);
export const handler = createEventRecorder({ history: awsEventHistory(config, false) });
