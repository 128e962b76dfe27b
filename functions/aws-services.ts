import { DynamoWorkflowStore } from '../adapters/aws/dynamo/dynamo-workflow-store.ts';
import { createDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { randomIds, systemClock } from '../core/system.ts';
import { createWorkflowService } from '../core/workflow/service.ts';
import { compilerCheck } from '../statemachines/compile.ts';
import { readLambdaConfig, required } from './config.ts';
import type { HttpServices } from './http/services.ts';

/** Composition root for Lambda: AWS adapters configured from the environment. */
export function awsServices(): HttpServices {
  const config = readLambdaConfig();
  const workflowStore = new DynamoWorkflowStore(createDocumentClient(), required(config.WORKFLOWS_TABLE_NAME, 'WORKFLOWS_TABLE_NAME'));
  return {
    workflowStore,
    workflows: createWorkflowService({ store: workflowStore, clock: systemClock, ids: randomIds, compiler: compilerCheck }),
    serviceVersion: config.SERVICE_VERSION,
  };
}
