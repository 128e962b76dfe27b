import * as z from 'zod';
import { DEFAULT_CIRCUIT_POLICY } from '../core/registry/circuit.ts';
import { PeerUrlsSetting } from '../core/registry/peers.ts';
import { outboundAllowSetting } from '../adapters/http/outbound-policy.ts';
import { AUTH_MODES, ROLES } from '../core/auth/model.ts';
import { CorsOriginsSetting } from './cors.ts';
import { CursorCodec } from '../adapters/aws/dynamo/cursor-codec.ts';

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
  /** Set by CDK on functions that read or write the event history (the recorder, the event routes). */
  EVENTS_TABLE_NAME: z.string().min(1).optional(),
  /** Days a recorded event is kept (its TTL). */
  ORCHESTRATOR_EVENT_RETENTION_DAYS: z.coerce.number().min(0.001).max(3650).default(7),
  /** Set by CDK on the action runner: where responses too large for state data are stored. */
  PAYLOAD_BUCKET_NAME: z.string().min(3).max(63).optional(),
  /** Set by CDK on the status listener: the workflow state machines' log group (express runs' history). */
  WORKFLOW_LOG_GROUP_NAME: z.string().min(1).optional(),
  /** Set by CDK on routes that probe the orchestrator's dependencies (`probes`), and on engine routes. */
  WORKFLOW_DEAD_LETTER_QUEUE_URL: z.url().optional(),
  WORKFLOW_EVENT_BUS_NAME: z.string().min(1).optional(),
  /**
   * Set by CDK on the dead-letter routes: the workflow deployer's dead-letter queue (its EventBridge target's).
   * The routes read the failed actions' queue from WORKFLOW_DEAD_LETTER_QUEUE_URL and the failed deliveries'
   * from EVENT_DELIVERY_DEAD_LETTER_QUEUE_URL, one name per queue (functions/aws-dead-letters.ts).
   */
  DEPLOY_DEAD_LETTER_QUEUE_URL: z.url().optional(),
  SERVICE_VERSION: z.string().min(1).default('0.1.0'),
  /** Security (see functions/auth/settings.ts): set by CDK on the authorizer and on every route function. */
  ORCHESTRATOR_AUTH_MODE: z.enum(AUTH_MODES).default('required'),
  ORCHESTRATOR_ANONYMOUS_ROLE: z.enum(ROLES).default('admin'),
  /** Set by CDK on every route function (each may append to the audit trail) and on the authorizer. */
  AUDIT_TABLE_NAME: z.string().min(1).optional(),
  ORCHESTRATOR_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
  /** Set by CDK on the authorizer and the API-key routes. */
  API_KEYS_TABLE_NAME: z.string().min(1).optional(),
  /** The authorizer's verification settings. Secrets are never in the environment in AWS: only their ARNs. */
  ORCHESTRATOR_JWT_SECRET_ARN: z.string().min(1).optional(),
  ORCHESTRATOR_JWKS_URL: z.url().optional(),
  ORCHESTRATOR_JWT_ALGORITHMS: z.string().min(1).optional(),
  ORCHESTRATOR_JWT_ISSUER: z.string().min(1).optional(),
  ORCHESTRATOR_JWT_AUDIENCE: z.string().min(1).optional(),
  /**
   * The key listing cursors (next_token) are signed with (adapters/aws/dynamo/cursor-codec.ts). Set by CDK on
   * every route function, as a value CloudFormation resolves from Secrets Manager at deploy time
   * (infra/constructs/cursor-secret.ts); the composition roots that list require it.
   */
  ORCHESTRATOR_CURSOR_SECRET: z.string().min(32, 'ORCHESTRATOR_CURSOR_SECRET must be at least 32 characters (HMAC-SHA256 wants a 256-bit key)').optional(),
  /** A secret holding the reference's single admin key (ORCHESTRATOR_API_KEY locally). */
  ORCHESTRATOR_API_KEY_SECRET_ARN: z.string().min(1).optional(),
  /** A secret holding the token peers present to POST /registry/replicate (and this orchestrator sends to its peers). */
  ORCHESTRATOR_PEER_TOKEN_SECRET_ARN: z.string().min(1).optional(),
  /** Comma-separated base URLs (http or https) of the peer orchestrators whose registries this one syncs with. */
  ORCHESTRATOR_PEERS: PeerUrlsSetting,
  /** The action runner's circuit breaking: failures in a row within the window open an instance's circuit for the cool-down. */
  ORCHESTRATOR_CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(DEFAULT_CIRCUIT_POLICY.failureThreshold),
  ORCHESTRATOR_CIRCUIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(DEFAULT_CIRCUIT_POLICY.windowSeconds),
  ORCHESTRATOR_CIRCUIT_COOLDOWN_SECONDS: z.coerce.number().int().min(1).max(86_400).default(DEFAULT_CIRCUIT_POLICY.cooldownSeconds),
  /** How long the action runner trusts what it read of a service (0: read the registry on every call; default 2000). */
  ORCHESTRATOR_REGISTRY_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).optional(),
  /**
   * What outbound calls (action runner, health sweep, OpenAPI poll, peers) may reach besides public addresses:
   * comma-separated CIDRs, addresses or host names. Set by CDK from `-c outboundAllow=...`; none by default.
   */
  ORCHESTRATOR_OUTBOUND_ALLOW: outboundAllowSetting([]),
  /** Sent to peer orchestrators as `Authorization: Bearer <token>` (the peer routes). */
  ORCHESTRATOR_PEER_TOKEN: z.string().min(1).optional(),
  /**
   * Browser origins that may call the API: comma-separated, or `*`; unset, none (no CORS headers). Set by CDK
   * on every route function from `-c corsOrigins=...`, the setting that also drives API Gateway's preflight.
   */
  ORCHESTRATOR_CORS_ORIGINS: CorsOriginsSetting,
  /** Set by CDK on the subscription routes and the event delivery worker (webhook subscriptions, issue 12). */
  SUBSCRIPTIONS_TABLE_NAME: z.string().min(1).optional(),
  /** Set by CDK on the subscription routes: every subscription rule's target, and its rules' names `<prefix>-sub-<id>`. */
  EVENT_DELIVERY_QUEUE_ARN: z.string().regex(/^arn:[^:]+:sqs:[^:]+:\d{12}:.+$/, 'an SQS queue ARN').optional(),
  SUBSCRIPTION_RULE_PREFIX: z.string().min(1).optional(),
  /** Set by CDK on the event delivery worker: its queue (back-off by ChangeMessageVisibility), its maxReceiveCount, and the failed-deliveries queue. */
  EVENT_DELIVERY_QUEUE_URL: z.url().optional(),
  EVENT_DELIVERY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).optional(),
  EVENT_DELIVERY_DEAD_LETTER_QUEUE_URL: z.url().optional(),
  /** Set by Lambda: the runtime API's `host:port`, a listener of this function that outbound calls must never reach. */
  AWS_LAMBDA_RUNTIME_API: z.string().optional(),
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

/**
 * The codec of listing cursors (ORCHESTRATOR_CURSOR_SECRET), for the composition roots whose stores list: they
 * build it at init, so a route function deployed without the key fails there, not on its first listing.
 */
export function cursorCodecOf(config: LambdaConfig): CursorCodec {
  return new CursorCodec(required(config.ORCHESTRATOR_CURSOR_SECRET, 'ORCHESTRATOR_CURSOR_SECRET'));
}
