import type { JobName, JobSchedule } from '../core/ecosystem/jobs.ts';
import type { LocalScheduler } from './scheduler.ts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CircuitPolicy } from '../core/registry/circuit.ts';
import type { LocalIntegrations } from '../adapters/local/local-engine.ts';
import type { LocalWorkflowEngine } from '../adapters/local/local-workflow-engine.ts';
import type { LocalEventLog } from './integrations.ts';
import type { Clock, IdGenerator } from '../core/ports.ts';
import type { HttpServices } from '../functions/http/services.ts';
import type { LocalHealthSettings } from './health.ts';
import type { LocalEvents } from './events.ts';
import type { LocalEventDeliveriesOptions } from './event-deliveries.ts';
import type { LookupAll } from '../adapters/http/guarded-agent.ts';
import type { RateLimitPolicy } from '../core/auth/rate-limit.ts';
import type { AuthSettings } from '../functions/auth/authenticator.ts';
import type { TlsMaterial } from './tls.ts';
import type { CorsPolicy } from '../functions/cors.ts';
import type { LocalObservability, LocalObservabilitySettings } from './observability.ts';
import type { EffectiveConfig } from '../functions/http/observability-services.ts';
import type { BuildSettings, LlmGatewaySettings, PlannerSettings } from './config.ts';
import type { LogLevel } from '../core/ports.ts';

/** What `startLocalRuntime` (local/runtime.ts) takes, and what it gives back. */
export interface LocalRuntimeOptions {
  readonly port: number;
  readonly host: string;
  /**
   * Serve HTTPS (TLS 1.2+) with this PEM certificate and key; with `clientCa`, mutual TLS: every client must
   * present a certificate signed by it, which handlers see in `requestContext.identity.clientCert`.
   */
  readonly tls?: TlsMaterial;
  /** Where the emulator keeps its data; omitted = in memory (tests). */
  readonly dataDir?: string;
  /** An existing DynamoDB endpoint (a shared emulator, LocalStack); omitted = start an embedded dynalite. */
  readonly dynamoEndpoint?: string;
  /**
   * Existing SQS and S3 endpoints (a shared fauxqs, LocalStack); when either is omitted an embedded fauxqs
   * serves it (persisted under `dataDir/fauxqs` when `dataDir` is given).
   */
  readonly sqsEndpoint?: string;
  readonly s3Endpoint?: string;
  /** Failed service calls go here. Default: `<workflowsTableName>-dead-letters` (made a valid name). */
  readonly deadLetterQueueName?: string;
  /** Responses too large for state data go here. Default: `<workflowsTableName>-payloads` (made a valid name). */
  readonly payloadBucketName?: string;
  readonly workflowsTableName: string;
  readonly executionsTableName?: string;
  /** Default: `<workflowsTableName>-registry`, so each test API gets a registry of its own. */
  readonly registryTableName?: string;
  readonly region: string;
  /** How service calls are made; default: the action runner, services found in the registry or `<NAME>_URL`. */
  readonly invokeRunner?: LocalIntegrations['invokeRunner'];
  /** `<NAME>_URL` variables: where unregistered services are found. */
  readonly serviceUrls?: Readonly<Record<string, string | undefined>>;
  /** Test speed-ups for waits and retry intervals, in milliseconds. */
  readonly waitMilliseconds?: number;
  readonly retryMilliseconds?: number;
  readonly serviceVersion: string;
  /** Circuit breaking of service calls (default: 5 failures within 60 s open an instance's circuit for 30 s). */
  readonly circuitPolicy?: Partial<CircuitPolicy>;
  /** How long the action runner trusts what it read of a service, in ms (default 2000). */
  readonly registryCacheTtlMs?: number;
  readonly clock?: Clock;
  /** Where the runtime's JSON log lines go (events, dead letters, schedules). Default: stderr. */
  readonly log?: (line: Record<string, unknown>) => void;
  readonly ids?: IdGenerator;
  /**
   * Health checks of registered instances: timeout, concurrency, degraded threshold, and the sweep timer's
   * interval (omitted or 0: no timer, as in tests; `npm start` passes ORCHESTRATOR_HEALTH_CHECK_INTERVAL).
   */
  readonly healthChecks?: LocalHealthSettings;
  /** Peer orchestrators' base URLs (ORCHESTRATOR_PEERS), whose registries `POST /registry/sync-peers` syncs with. */
  readonly peers?: readonly string[];
  /** Per call to a peer, in ms (default 3000). */
  readonly peerTimeoutMs?: number;
  /** Seconds between OpenAPI polls (omitted or 0: no timer, as in tests; `npm start` passes ORCHESTRATOR_OPENAPI_POLL_INTERVAL). */
  readonly openApiPollIntervalSeconds?: number;
  /**
   * ORCHESTRATOR_OUTBOUND_ALLOW: what service calls, health probes, OpenAPI polls and peer calls may reach
   * besides public addresses (CIDRs, addresses, host names). Default 127.0.0.1/8. The orchestrator's own
   * listeners (this API, the emulators) and cloud metadata are never reachable (local/outbound.ts).
   */
  readonly outboundAllow?: readonly string[];
  /** What `env:` secret references of registered services may read (local/config.ts leaves out AWS_*, ORCHESTRATOR_* and OTEL_*). */
  readonly secretEnvironment?: Readonly<Record<string, string | undefined>>;
  /** Host name resolution of outbound calls, at connection time (tests). Default: the system resolver. */
  readonly outboundLookup?: LookupAll;
  /**
   * Authentication (ORCHESTRATOR_AUTH_MODE and the credentials' settings). Default: `optional`, anonymous
   * callers acting as `admin`, as the reference service did.
   */
  readonly auth?: AuthSettings;
  /** Per-caller token bucket (ORCHESTRATOR_RATE_LIMIT_RPS / _BURST); omitted: no limit (tests). */
  readonly rateLimit?: RateLimitPolicy;
  /** Days an audit record is kept (ORCHESTRATOR_AUDIT_RETENTION_DAYS, default 365). */
  readonly auditRetentionDays?: number;
  /**
   * The key listing cursors are signed with (ORCHESTRATOR_CURSOR_SECRET, at least 32 bytes). Omitted: the one
   * kept in `<dataDir>/cursor-secret` (made on first start), or without `dataDir` a random key of this process.
   */
  readonly cursorSecret?: string;
  /** Table names of the managed API keys and the audit trail. Default: `<workflowsTableName>-api-keys`, `-audit`. */
  readonly apiKeysTableName?: string;
  readonly auditTableName?: string;
  /** The event history's table. Default: `<workflowsTableName>-events`. */
  readonly eventsTableName?: string;
  /** Days a recorded event is kept (ORCHESTRATOR_EVENT_RETENTION_DAYS, default 7). */
  readonly eventRetentionDays?: number;
  /** Webhook delivery retries (default 5 attempts, 1 s doubling to 30 s; tests shorten them). */
  readonly deliveryRetry?: LocalEventDeliveriesOptions['retry'];
  /** Browser origins that may call the API (ORCHESTRATOR_CORS_ORIGINS); omitted: no CORS headers. */
  readonly cors?: CorsPolicy;
  /** The web console's built files, served at /console/ (`npm start`: dist/console); omitted: no console. */
  readonly consoleDirectory?: string;
  /**
   * How long close() lets calls in flight finish before it stops the runs where they are (they continue at
   * the next start); ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS, 10 for `npm start`. Default 0.
   */
  readonly shutdownGraceSeconds?: number;
  /** Tracing and metrics (ORCHESTRATOR_TRACING_ENABLED, _METRICS_ENABLED, OTEL_EXPORTER_OTLP_ENDPOINT, span retention); default both on. */
  readonly observability?: LocalObservabilitySettings;
  /** ORCHESTRATOR_PROXY_TIMEOUT_SECONDS: the proxies' time budget, retries included (default 30). */
  readonly proxyTimeoutSeconds?: number;
  /** ORCHESTRATOR_JOB_*_SCHEDULE: each job's schedule, or off (default: the job's own). */
  readonly jobSchedules?: Partial<Record<JobName, JobSchedule>>;
  /** LOG_COLLECTOR_URL: the logger ships every line there too (local/runtime-log.ts); shown by /info. */
  readonly logCollectorUrl?: string;
  /** LOG_LEVEL of the runtime's logger (when `log` is not given); default info. */
  readonly logLevel?: LogLevel | 'silent';
  /** Secret values of the configuration, scrubbed from every log line. */
  readonly logSecrets?: readonly string[];
  /** What `GET /config/effective` reports (readLocalConfig's); omitted, it says the runtime was given its options directly. */
  readonly configReport?: EffectiveConfig;
  /** ORCHESTRATOR_COMMIT, ORCHESTRATOR_BUILD_TIME for /info. */
  readonly build?: BuildSettings;
  /**
   * LLM_GATEWAY_URL (and its key): the OpenAI-compatible endpoint the engine's llm actions call, through the
   * outbound rules. Omitted or without a URL: llm actions fail with an error naming LLM_GATEWAY_URL.
   */
  readonly llmGateway?: LlmGatewaySettings & { readonly timeoutMs?: number };
  /**
   * `POST /ai/plan`: the model named to LLM_GATEWAY_URL (default DEFAULT_LOCAL_PLANNER_MODEL), the default bound
   * on rounds (3), and how long one plan may take (default 300 s). Without a gateway URL the route answers 503.
   */
  readonly planner?: Partial<PlannerSettings> & { readonly timeBudgetMs?: number };
  /** ORCHESTRATOR_MCP_SERVICE_TOOLS: `POST /mcp` offers the services' operations as tools too (default: workflows only). */
  readonly mcpServiceTools?: boolean;
}

export interface LocalRuntime {
  readonly url: string;
  readonly services: HttpServices;
  readonly documentClient: DynamoDBDocumentClient;
  readonly engine: LocalWorkflowEngine;
  readonly eventLog: LocalEventLog;
  /** The in-process event bus, the recorder and the history (`/infrastructure/events/*`). */
  readonly events: LocalEvents;
  /** Spans, metrics and the request observer. */
  readonly observability: LocalObservability;
  /** Fires workflow schedules and jobs (its `firings` record each one's drift). */
  readonly scheduler: LocalScheduler;
  /** The dead-letter queue (SQS) and where it is served. */
  readonly deadLetterQueueUrl: string;
  readonly sqsEndpoint: string;
  /** The payload bucket (S3) and where it is served. */
  readonly payloadBucketName: string;
  readonly s3Endpoint: string;
  /** What outbound calls may reach (ORCHESTRATOR_OUTBOUND_ALLOW, own listeners, metadata), as `npm start` prints it. */
  describeOutbound(): string[];
  close(): Promise<void>;
}
