import type { StepFunctionsEngineConfig } from '../../../../../adapters/aws/stepfunctions/config.ts';

/** The Step Functions engine's settings in the engine's tests: prefix `Orch`, account 123456789012, us-east-1. */
export const TEST_ENGINE_CONFIG: StepFunctionsEngineConfig = {
  namePrefix: 'Orch',
  partition: 'aws',
  region: 'us-east-1',
  account: '123456789012',
  executionRoleArn: 'arn:aws:iam::123456789012:role/workflow-states',
  logGroupArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/orchestrator/workflows:*',
  actionRunnerFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:Orch-action-runner',
  eventBusName: 'Orch-workflows',
  deadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/Orch-dead-letters',
};
