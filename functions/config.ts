import * as z from 'zod';

/**
 * The only place that reads `process.env` for the Lambda side. Read once, validated, fails fast with every
 * problem named, so a misconfigured function dies at init rather than on its first request.
 */
const LambdaEnvironment = z.object({
  /** Set by CDK on functions that use the workflows table (and only on those). */
  WORKFLOWS_TABLE_NAME: z.string().min(1).optional(),
  /** Set by CDK on functions that use the service registry table (and only on those). */
  REGISTRY_TABLE_NAME: z.string().min(1).optional(),
  /** Set by CDK on functions that use the executions table (and only on those). */
  EXECUTIONS_TABLE_NAME: z.string().min(1).optional(),
  /** Set by CDK on the action runner: where responses too large for state data are stored. */
  PAYLOAD_BUCKET_NAME: z.string().min(3).max(63).optional(),
  /** Set by CDK on the status listener: the workflow state machines' log group (express runs' history). */
  WORKFLOW_LOG_GROUP_NAME: z.string().min(1).optional(),
  SERVICE_VERSION: z.string().min(1).default('0.1.0'),
});

export type LambdaConfig = z.output<typeof LambdaEnvironment>;

export function readLambdaConfig(env: Record<string, string | undefined> = process.env): LambdaConfig {
  const parsed = LambdaEnvironment.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  return parsed.data;
}

export function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`invalid configuration: ${name} is required for this function`);
  return value;
}
