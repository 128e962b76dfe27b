import { createDocumentClient } from '../../adapters/aws/dynamo/client.ts';
import { DynamoExecutionStore } from '../../adapters/aws/dynamo/dynamo-execution-store.ts';
import { systemClock } from '../../core/system.ts';
import { required } from '../config.ts';
import { createStatusListener } from './status-listener.ts';

/**
 * Lambda entry of the status listener (infra/stacks/runtime-stack.ts): the EventBridge rule for Step Functions
 * status changes invokes it. CDK sets EXECUTIONS_TABLE_NAME; without it the function fails at init.
 */
export const handler = createStatusListener({
  executions: new DynamoExecutionStore(createDocumentClient(), required(process.env.EXECUTIONS_TABLE_NAME, 'EXECUTIONS_TABLE_NAME')),
  clock: systemClock,
});
