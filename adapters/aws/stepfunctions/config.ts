import * as z from 'zod';
import { checkNamePrefix, type StateMachineLocation } from './names.ts';

/**
 * What the Step Functions engine needs to know about its deployment. The CDK runtime stack sets these
 * variables on every Lambda that runs workflows (RuntimeStack.engineEnvironment); the composition root reads
 * them with `parseStepFunctionsEngineConfig(process.env)`.
 */
export const ENGINE_ENVIRONMENT = {
  namePrefix: 'WORKFLOW_STATE_MACHINE_PREFIX',
  partition: 'WORKFLOW_STATE_MACHINE_PARTITION',
  region: 'WORKFLOW_STATE_MACHINE_REGION',
  account: 'WORKFLOW_STATE_MACHINE_ACCOUNT',
  executionRoleArn: 'WORKFLOW_EXECUTION_ROLE_ARN',
  logGroupArn: 'WORKFLOW_LOG_GROUP_ARN',
  actionRunnerFunctionArn: 'ACTION_RUNNER_FUNCTION_ARN',
  eventBusName: 'WORKFLOW_EVENT_BUS_NAME',
  deadLetterQueueUrl: 'WORKFLOW_DEAD_LETTER_QUEUE_URL',
} as const;

export interface StepFunctionsEngineConfig extends StateMachineLocation {
  /** State machines are named `<namePrefix>-<workflow_id>`; IAM grants cover `<namePrefix>-*`. */
  readonly namePrefix: string;
  /** The role every workflow state machine runs as. */
  readonly executionRoleArn: string;
  /** CloudWatch log group of the state machines; its ARN ends with `:*`, as Step Functions requires. */
  readonly logGroupArn: string;
  /** What `${ActionRunnerFunctionArn}`, `${EventBusName}` and `${DeadLetterQueueUrl}` become. */
  readonly actionRunnerFunctionArn: string;
  readonly eventBusName: string;
  readonly deadLetterQueueUrl: string;
}

const text = z.string().min(1);
const ConfigSchema = z.object({
  namePrefix: text.refine((value) => {
    try {
      checkNamePrefix(value);
      return true;
    } catch {
      return false;
    }
  }, 'letters, digits and hyphens, starting with a letter, at most 40 characters'),
  partition: text,
  region: text,
  account: z.string().regex(/^\d{12}$/, 'a 12-digit account id'),
  executionRoleArn: z.string().regex(/^arn:[^:]+:iam::\d{12}:role\/.+$/, 'an IAM role ARN'),
  logGroupArn: z.string().regex(/^arn:[^:]+:logs:[^:]+:\d{12}:log-group:.+:\*$/, 'a log group ARN ending with :*'),
  actionRunnerFunctionArn: z.string().regex(/^arn:[^:]+:lambda:[^:]+:\d{12}:function:.+$/, 'a Lambda function ARN'),
  eventBusName: text,
  deadLetterQueueUrl: z.url(),
});

/** Reads the engine's configuration from an environment map; throws naming every variable that is missing or wrong. */
export function parseStepFunctionsEngineConfig(env: Readonly<Record<string, string | undefined>>): StepFunctionsEngineConfig {
  const raw = Object.fromEntries(Object.entries(ENGINE_ENVIRONMENT).map(([field, variable]) => [field, env[variable]]));
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const field = String(issue.path[0]) as keyof typeof ENGINE_ENVIRONMENT;
      return `${ENGINE_ENVIRONMENT[field] ?? field}: ${issue.message}`;
    });
    throw new Error(`invalid Step Functions engine configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
