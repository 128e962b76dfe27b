import { configureAwsLog } from '../aws-observability.ts';
import { SFNClient } from '@aws-sdk/client-sfn';
import { sharedDocumentClient } from '../../adapters/aws/dynamo/client.ts';
import { DynamoWorkflowStore } from '../../adapters/aws/dynamo/dynamo-workflow-store.ts';
import { parseStepFunctionsEngineConfig } from '../../adapters/aws/stepfunctions/config.ts';
import { StepFunctionsWorkflowEngine } from '../../adapters/aws/stepfunctions/step-functions-engine.ts';
import { loadWorkflowAt } from '../../core/workflow/versions.ts';
import { compileWorkflow, executionInput } from '../../statemachines/compile.ts';
import { hasRedriveGate } from '../../statemachines/inspect.ts';
import { readLambdaConfig, required } from '../config.ts';
import { createWorkflowDeployer } from './workflow-deployer.ts';

/**
 * Lambda entry of the workflow deployer (infra/stacks/runtime-stack.ts): a rule on the workflow event bus sends
 * it every 'Workflow Version Published' event. CDK sets WORKFLOWS_TABLE_NAME and the engine's WORKFLOW_*
 * settings; it may read the workflows table and deploy state machines under the prefix, nothing else.
 */
const config = readLambdaConfig();
configureAwsLog(config);
const workflows = new DynamoWorkflowStore(sharedDocumentClient(), required(config.WORKFLOWS_TABLE_NAME, 'WORKFLOWS_TABLE_NAME'));
const loadWorkflow = (workflowId: string, version?: number) => loadWorkflowAt(workflows, workflowId, version);
const engine = new StepFunctionsWorkflowEngine({
  client: new SFNClient({}),
  config: parseStepFunctionsEngineConfig(process.env),
  compiler: { compile: (workflow, options) => compileWorkflow(workflow, options), executionInput, hasRedriveGate },
  // The deployer never stops executions, the one use of this store.
  executions: { get: () => Promise.reject(new Error('the workflow deployer does not read executions')) },
  loadWorkflow,
});

export const handler = createWorkflowDeployer({ loadWorkflow, deploy: (workflow) => engine.deploy(workflow) });
