import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { sharedDocumentClient } from '../../adapters/aws/dynamo/client.ts';
import { DynamoExecutionStore } from '../../adapters/aws/dynamo/dynamo-execution-store.ts';
import { DynamoDependencyGates } from '../../adapters/aws/dynamo/dynamo-dependency-gates.ts';
import { ExpressExecutionLog } from '../../adapters/aws/logs/express-execution-log.ts';
import { StepFunctionsExecutionHistory } from '../../adapters/aws/stepfunctions/execution-history.ts';
import { systemClock } from '../../core/system.ts';
import { readLambdaConfig, required } from '../config.ts';
import { createStatusListener } from './status-listener.ts';
import { withRunEvents } from '../../core/events/run-events.ts';
import { awsEventEmitter } from '../aws-events.ts';
import { withRunSpans } from '../../core/observability/run-spans.ts';
import { awsSpanRecorder, configureAwsLog, flushAfter } from '../aws-observability.ts';
import { awsEmfMetrics } from '../aws-emf.ts';
import { noopMetrics } from '../observability/metric-recorder.ts';
import { meteredEmit } from '../observability/run-metrics.ts';
import { sharedLog } from '../observability/logger.ts';

/**
 * Lambda entry of the status listener (infra/stacks/runtime-stack.ts): the EventBridge rule for Step Functions
 * status changes and the subscription to the state machines' log group (express runs) invoke it. CDK sets
 * EXECUTIONS_TABLE_NAME and WORKFLOW_LOG_GROUP_NAME; without them the function fails at init.
 */
const config = readLambdaConfig();
configureAwsLog(config);
// A run's span and its actions' are recorded when the listener records its end (core/observability/run-spans.ts).
const spans = awsSpanRecorder(config, sharedLog);
// Runs started and ended, and the actions settled at a run's end, as CloudWatch EMF.
const metrics = config.ORCHESTRATOR_METRICS_ENABLED === false ? noopMetrics : awsEmfMetrics('status-listener');
const client = sharedDocumentClient();
const executionsTable = required(config.EXECUTIONS_TABLE_NAME, 'EXECUTIONS_TABLE_NAME');
const listener = createStatusListener({
  // A run's start and end, and actions settled at its end, emit their events on the bus (WORKFLOW_EVENT_BUS_NAME).
  executions: withRunSpans(
    withRunEvents(new DynamoExecutionStore(client, executionsTable), meteredEmit(awsEventEmitter(config), metrics)),
    (recorded) => recorded.forEach((span) => spans.record(span)),
    (error, executionId) => sharedLog({ level: 'warn', message: 'run spans not recorded', execution_id: executionId, error: String(error) }),
  ),
  clock: systemClock,
  // A run that ended for good has its dependency gates (ADR 0016) removed from its item collection.
  gates: new DynamoDependencyGates(client, executionsTable, systemClock),
  history: {
    standard: new StepFunctionsExecutionHistory(new SFNClient({})),
    express: new ExpressExecutionLog(new CloudWatchLogsClient({}), required(config.WORKFLOW_LOG_GROUP_NAME, 'WORKFLOW_LOG_GROUP_NAME')),
  },
});
export const handler = flushAfter(listener, spans, { flush: () => metrics.flush?.() });
