import { resolve } from 'node:path';
import * as z from 'zod';
import type { LocalHealthSettings } from './health.ts';
import { DEFAULT_CIRCUIT_POLICY, type CircuitPolicy } from '../core/registry/circuit.ts';
import { PeerUrlsSetting } from '../core/registry/peers.ts';

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
  /** Seconds between health sweeps of the registered instances; 0 turns the timer off. */
  ORCHESTRATOR_HEALTH_CHECK_INTERVAL: z.coerce.number().int().min(0).max(86_400).default(30),
  /** One health probe's limit, and probes in flight at once. */
  ORCHESTRATOR_HEALTH_CHECK_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(3000),
  ORCHESTRATOR_HEALTH_CHECK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** A health answer slower than this marks the instance degraded. */
  ORCHESTRATOR_HEALTH_DEGRADED_MS: z.coerce.number().int().min(1).max(60_000).default(1000),
  /** Comma-separated base URLs (http or https) of the peer orchestrators whose registries this one syncs with. */
  ORCHESTRATOR_PEERS: PeerUrlsSetting,
  /** Seconds between OpenAPI polls of the registered services; 0 turns polling off. */
  ORCHESTRATOR_OPENAPI_POLL_INTERVAL: z.coerce.number().int().min(0).max(7 * 86_400).default(300),
  /** Circuit breaking of service calls (same variables as the action runner Lambda's). */
  ORCHESTRATOR_CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(DEFAULT_CIRCUIT_POLICY.failureThreshold),
  ORCHESTRATOR_CIRCUIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(DEFAULT_CIRCUIT_POLICY.windowSeconds),
  ORCHESTRATOR_CIRCUIT_COOLDOWN_SECONDS: z.coerce.number().int().min(1).max(86_400).default(DEFAULT_CIRCUIT_POLICY.cooldownSeconds),
  ORCHESTRATOR_REGISTRY_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).optional(),
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
  /** Health sweeps: ORCHESTRATOR_HEALTH_CHECK_INTERVAL (s), _TIMEOUT_MS, _CONCURRENCY, ORCHESTRATOR_HEALTH_DEGRADED_MS. */
  readonly healthChecks: Required<Pick<LocalHealthSettings, 'intervalSeconds' | 'timeoutMs' | 'concurrency' | 'degradedLatencyMs'>>;
  /** Peer orchestrators' base URLs (ORCHESTRATOR_PEERS). */
  readonly peers: readonly string[];
  /** Seconds between OpenAPI polls; 0: off (ORCHESTRATOR_OPENAPI_POLL_INTERVAL, default 300). */
  readonly openApiPollIntervalSeconds: number;
  /** Failures in a row within the window that open an instance's circuit, and its cool-down. */
  readonly circuitPolicy: Pick<CircuitPolicy, 'failureThreshold' | 'windowSeconds' | 'cooldownSeconds'>;
  /** How long the action runner trusts what it read of a service, in ms (undefined: its default). */
  readonly registryCacheTtlMs?: number;
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
    healthChecks: {
      intervalSeconds: value.ORCHESTRATOR_HEALTH_CHECK_INTERVAL,
      timeoutMs: value.ORCHESTRATOR_HEALTH_CHECK_TIMEOUT_MS,
      concurrency: value.ORCHESTRATOR_HEALTH_CHECK_CONCURRENCY,
      degradedLatencyMs: value.ORCHESTRATOR_HEALTH_DEGRADED_MS,
    },
    peers: value.ORCHESTRATOR_PEERS,
    openApiPollIntervalSeconds: value.ORCHESTRATOR_OPENAPI_POLL_INTERVAL,
    circuitPolicy: {
      failureThreshold: value.ORCHESTRATOR_CIRCUIT_FAILURE_THRESHOLD,
      windowSeconds: value.ORCHESTRATOR_CIRCUIT_WINDOW_SECONDS,
      cooldownSeconds: value.ORCHESTRATOR_CIRCUIT_COOLDOWN_SECONDS,
    },
    registryCacheTtlMs: value.ORCHESTRATOR_REGISTRY_CACHE_TTL_MS,
    serviceUrls: Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[0].endsWith('_URL') && entry[1] !== undefined)),
  };
}
