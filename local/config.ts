import { resolve } from 'node:path';
import * as z from 'zod';

/** The local runtime's configuration: the only place `local/` reads `process.env`. */
const LocalEnvironment = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(5099),
  HOST: z.string().min(1).default('127.0.0.1'),
  ORCHESTRATOR_DATA_DIR: z.string().min(1).default('./.data'),
  WORKFLOWS_TABLE_NAME: z.string().min(3).max(255).default('orchestrator-workflows'),
  REGISTRY_TABLE_NAME: z.string().min(3).max(255).default('orchestrator-registry'),
  /** Standard SDK variable: set it to use LocalStack (or any DynamoDB) instead of the embedded emulator. */
  AWS_ENDPOINT_URL_DYNAMODB: z.url().optional(),
  /** Standard SDK variables: SQS (the dead-letter queue) and S3 (large responses) elsewhere than the embedded fauxqs. */
  AWS_ENDPOINT_URL_SQS: z.url().optional(),
  AWS_ENDPOINT_URL_S3: z.url().optional(),
  DEAD_LETTER_QUEUE_NAME: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'letters, digits, - and _, at most 80').default('orchestrator-dead-letters'),
  PAYLOAD_BUCKET_NAME: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name: 3-63 lower-case letters, digits, . and -')
    .default('orchestrator-payloads'),
  AWS_REGION: z.string().default('us-east-1'),
  SERVICE_VERSION: z.string().default('0.1.0'),
});

export interface LocalConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly workflowsTableName: string;
  readonly registryTableName: string;
  readonly dynamoEndpoint?: string;
  readonly sqsEndpoint?: string;
  readonly s3Endpoint?: string;
  readonly deadLetterQueueName: string;
  readonly payloadBucketName: string;
  readonly region: string;
  readonly serviceVersion: string;
  /** `<NAME>_URL` variables, where unregistered services are found (e.g. ANALYSIS_SERVICE_URL). */
  readonly serviceUrls: Readonly<Record<string, string>>;
}

export function readLocalConfig(env: Record<string, string | undefined> = process.env): LocalConfig {
  const parsed = LocalEnvironment.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  const value = parsed.data;
  return {
    port: value.PORT,
    host: value.HOST,
    dataDir: resolve(value.ORCHESTRATOR_DATA_DIR),
    workflowsTableName: value.WORKFLOWS_TABLE_NAME,
    registryTableName: value.REGISTRY_TABLE_NAME,
    dynamoEndpoint: value.AWS_ENDPOINT_URL_DYNAMODB,
    sqsEndpoint: value.AWS_ENDPOINT_URL_SQS,
    s3Endpoint: value.AWS_ENDPOINT_URL_S3,
    deadLetterQueueName: value.DEAD_LETTER_QUEUE_NAME,
    payloadBucketName: value.PAYLOAD_BUCKET_NAME,
    region: value.AWS_REGION,
    serviceVersion: value.SERVICE_VERSION,
    serviceUrls: Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[0].endsWith('_URL') && entry[1] !== undefined)),
  };
}
