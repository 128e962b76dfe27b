import { createBedrockModelInvoker } from '../adapters/aws/bedrock-model-invoker.ts';
import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoServiceRegistry } from '../adapters/aws/dynamo/dynamo-service-registry.ts';
import { systemClock } from '../core/system.ts';
import { compilerCheck } from '../statemachines/compile.ts';
import { createInvokerPlannerModel, PLANNER_MODEL_VARIABLE } from './ai/model-planner.ts';
import { createPlanService, type PlannerModelSource, type PlanService } from './ai/plan-service.ts';
import { DynamoWorkflowStore } from '../adapters/aws/dynamo/dynamo-workflow-store.ts';
import { awsWorkflowService } from './aws-services.ts';
import { awsToolCatalog } from './aws-tools.ts';
import { AWS_PLANNER_BUDGET_SECONDS, cursorCodecOf, readLambdaConfig, required } from './config.ts';

/**
 * `POST /ai/plan` in AWS: Bedrock's InvokeModel on ORCHESTRATOR_PLANNER_MODEL (set by CDK from
 * `-c plannerModel`, with the grant to call that model), the tool listing of GET /tools, the registry (read),
 * and the workflow service of POST /workflows (the workflows table and the event bus) for saving.
 */
export function awsPlanService(): PlanService {
  const config = readLambdaConfig();
  const modelId = config.ORCHESTRATOR_PLANNER_MODEL;
  const invoke = createBedrockModelInvoker();
  const model: PlannerModelSource =
    modelId === undefined
      ? {
          configured: false,
          missing: `no language model is configured for planning: set ${PLANNER_MODEL_VARIABLE} to a Bedrock model id or inference profile whose access is enabled in the account (cdk deploy -c plannerModel=<id> sets it and lets the function call that model)`,
        }
      : { configured: true, modelFor: (signal) => createInvokerPlannerModel({ invoke, modelId, signal }) };
  return createPlanService({
    model,
    tools: awsToolCatalog(),
    registry: new DynamoServiceRegistry(sharedDocumentClient(), required(config.REGISTRY_TABLE_NAME, 'REGISTRY_TABLE_NAME')),
    compiler: compilerCheck,
    // The workflow service of POST /workflows: its validation, limits, ids and lifecycle events.
    workflows: awsWorkflowService(config, new DynamoWorkflowStore(sharedDocumentClient(), required(config.WORKFLOWS_TABLE_NAME, 'WORKFLOWS_TABLE_NAME'), { cursors: cursorCodecOf(config) })),
    clock: systemClock,
    defaultMaxRounds: config.ORCHESTRATOR_PLANNER_MAX_ROUNDS,
    timeBudgetMs: AWS_PLANNER_BUDGET_SECONDS * 1000,
  });
}
