import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createDocumentClient } from '../../adapters/aws/dynamo/client.ts';
import { DynamoExecutionStore } from '../../adapters/aws/dynamo/dynamo-execution-store.ts';
import { ExpressExecutionLog } from '../../adapters/aws/logs/express-execution-log.ts';
import { StepFunctionsExecutionHistory } from '../../adapters/aws/stepfunctions/execution-history.ts';
import { systemClock } from '../../core/system.ts';
import { readLambdaConfig, required } from '../config.ts';
import { createStatusListener } from './status-listener.ts';
import { withRunEvents } from '../../core/events/run-events.ts';
import { awsEventEmitter } from '../aws-events.ts';

/**
 * Lambda entry of the status listener (infra/stacks/runtime-stack.ts): the EventBridge rule for Step Functions
 * status changes and the subscription to the state machines' log group (express runs) invoke it. CDK sets
 * EXECUTIONS_TABLE_NAME and WORKFLOW_LOG_GROUP_NAME; without them the function fails at init.
 */
const config = readLambdaConfig();
export const handler = createStatusListener({
  // A run's start and end, and actions settled at its end, emit their events on the bus (WORKFLOW_EVENT_BUS_NAME).
  executions: withRunEvents(new DynamoExecutionStore(createDocumentClient(), required(config.EXECUTIONS_TABLE_NAME, 'EXECUTIONS_TABLE_NAME')), awsEventEmitter(config)),
  clock: systemClock,
  history: {
    standard: new StepFunctionsExecutionHistory(new SFNClient({})),
    express: new ExpressExecutionLog(new CloudWatchLogsClient({}), required(config.WORKFLOW_LOG_GROUP_NAME, 'WORKFLOW_LOG_GROUP_NAME')),
  },
});
