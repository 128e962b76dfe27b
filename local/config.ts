import { resolve } from 'node:path';
import * as z from 'zod';
import type { LocalHealthSettings } from './health.ts';
import { DEFAULT_CIRCUIT_POLICY, type CircuitPolicy } from '../core/registry/circuit.ts';
import { PeerUrlsSetting } from '../core/registry/peers.ts';
import { RESERVED_ENV_PREFIXES } from '../core/registry/secret-ref.ts';
import { LOCAL_DEFAULT_OUTBOUND_ALLOW, outboundAllowSetting } from '../adapters/http/outbound-policy.ts';
import { readTlsFiles, TlsConfigurationError, type TlsMaterial } from './tls.ts';
import { AUTH_MODES, ROLES } from '../core/auth/model.ts';
import type { RateLimitPolicy } from '../core/auth/rate-limit.ts';
import { algorithmsSetting, type AuthSettings } from '../functions/auth/authenticator.ts';
import { CorsOriginsSetting, type CorsPolicy } from '../functions/cors.ts';
import { ecosystemSettings, jobSchedulesOf, mcpSettings, observabilitySettings, plannerSettings, type LogLevelSetting } from '../functions/config.ts';
import type { JobName, JobSchedule } from '../core/ecosystem/jobs.ts';
import type { EffectiveConfig } from '../functions/http/observability-services.ts';
import { LOCAL_SETTINGS } from './settings-catalogue.ts';
import { ConfigurationError, describeSource, effectiveConfig, resolveSettings, type ResolvedSettings, type ResolveOptions, type SettingInfo } from './settings.ts';

export { ConfigurationError } from './settings.ts';

/**
 * ORCHESTRATOR_PLANNER_MODEL unset, locally: what `POST /ai/plan` names its model to LLM_GATEWAY_URL. A Bedrock
 * id, the one the README's llm action uses, so that a gateway mapping Bedrock's ids serves both, and the same
 * value works in AWS (where the variable has no default: the deployment names the model it may call).
 */
export const DEFAULT_LOCAL_PLANNER_MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';

/**
 * How long one `POST /ai/plan` may take locally, every round together: no API Gateway stops waiting here, and a
 * model on this machine may be slow; as long as one gateway call may take (DEFAULT_LLM_GATEWAY_TIMEOUT_MS).
 */
export const DEFAULT_LOCAL_PLANNER_BUDGET_MS = 300_000;

/**
 * The local runtime's configuration: the only place `local/` reads `process.env`. Values come from the
 * environment, else config/app.yaml (local/settings.ts), else these defaults; this schema validates them.
 */
const LocalEnvironment = z.object({
  PORT: z.coerce.number({ error: 'PORT must be a port number, 0 to 65535' }).int('PORT must be a whole number').min(0, 'PORT must be 0 to 65535').max(65535, 'PORT must be 0 to 65535').default(5099),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** HTTPS (TLS 1.2+) with the certificate and key files below; with a client CA file, mutual TLS (local/tls.ts). */
  ORCHESTRATOR_ENABLE_TLS: z
    .enum(['true', 'false', '1', '0', ''], { error: 'ORCHESTRATOR_ENABLE_TLS must be true or false' })
    .optional()
    .transform((value) => value === 'true' || value === '1'),
  ORCHESTRATOR_TLS_CERT_PATH: z.string().min(1).optional(),
  ORCHESTRATOR_TLS_KEY_PATH: z.string().min(1).optional(),
  ORCHESTRATOR_TLS_CLIENT_CA_PATH: z.string().min(1).optional(),
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
  /**
   * What service calls, health probes, OpenAPI polls and peer calls may reach besides public addresses:
   * comma-separated CIDRs, addresses or host names. Default 127.0.0.1/8; empty: public addresses only.
   */
  ORCHESTRATOR_OUTBOUND_ALLOW: outboundAllowSetting(LOCAL_DEFAULT_OUTBOUND_ALLOW),
  /** Authentication: `optional` (anonymous callers allowed, with the anonymous role), `required`, or `off`. */
  ORCHESTRATOR_AUTH_MODE: z.enum(AUTH_MODES, { error: `ORCHESTRATOR_AUTH_MODE must be one of ${AUTH_MODES.join(', ')}` }).default('optional'),
  ORCHESTRATOR_ANONYMOUS_ROLE: z.enum(ROLES, { error: `ORCHESTRATOR_ANONYMOUS_ROLE must be one of ${ROLES.join(', ')}` }).default('admin'),
  /** HS256 secret; RFC 7518 wants a key at least as long as the hash (32 bytes). */
  ORCHESTRATOR_JWT_SECRET: z.string().min(32, 'ORCHESTRATOR_JWT_SECRET must be at least 32 characters (HS256 needs a 256-bit key)').optional(),
  ORCHESTRATOR_JWKS_URL: z.url({ protocol: /^https?$/, error: 'ORCHESTRATOR_JWKS_URL must be an http(s) URL' }).optional(),
  ORCHESTRATOR_JWT_ALGORITHMS: z.string().regex(/^(RS|ES|PS)(256|384|512)(,\s*(RS|ES|PS)(256|384|512))*$/, 'ORCHESTRATOR_JWT_ALGORITHMS lists asymmetric algorithms, e.g. RS256,ES256').optional(),
  ORCHESTRATOR_JWT_ISSUER: z.string().min(1).optional(),
  ORCHESTRATOR_JWT_AUDIENCE: z.string().min(1).optional(),
  /** The reference's single API key (role admin). */
  ORCHESTRATOR_API_KEY: z.string().min(16, 'ORCHESTRATOR_API_KEY must be at least 16 characters').optional(),
  /** What peer orchestrators present to POST /registry/replicate, and what this one sends to its peers. */
  ORCHESTRATOR_PEER_TOKEN: z.string().min(32, 'ORCHESTRATOR_PEER_TOKEN must be at least 32 characters').optional(),
  ORCHESTRATOR_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
  ORCHESTRATOR_EVENT_RETENTION_DAYS: z.coerce.number().min(0.001).max(3650).default(7),
  /** Signs listing cursors (next_token); unset: a key generated once and kept in `<data dir>/cursor-secret`. */
  ORCHESTRATOR_CURSOR_SECRET: z.string().min(32, 'ORCHESTRATOR_CURSOR_SECRET must be at least 32 characters (HMAC-SHA256 wants a 256-bit key)').optional(),
  /** Seconds a stop (Ctrl-C, SIGTERM) lets calls in flight finish before runs are stopped where they are. */
  ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS: z.coerce.number({ error: 'ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS must be a number of seconds' }).min(0).max(3600).default(10),
  ORCHESTRATOR_RATE_LIMIT_RPS: z.coerce.number().positive().max(100_000).default(50),
  ORCHESTRATOR_RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(100_000).default(100),
  /** Browser origins that may call the API (comma-separated, or `*`); unset: none, no CORS headers. */
  ORCHESTRATOR_CORS_ORIGINS: CorsOriginsSetting,
  /** Observability (issue 13): the same settings as the Lambdas'. */
  ...observabilitySettings(),
  /** The ecosystem integrations (issue 14): the proxies' time budget, the jobs' schedules (at() allowed locally). */
  ...ecosystemSettings({ allowAt: true }),
  /**
   * The OpenAI-compatible endpoint llm actions call locally (AWS calls Bedrock), `POST <url>/v1/chat/completions`,
   * through the outbound rules (a gateway off loopback must be in ORCHESTRATOR_OUTBOUND_ALLOW), and its key.
   */
  LLM_GATEWAY_URL: z
    .url({ protocol: /^https?$/, error: 'LLM_GATEWAY_URL must be an http(s) URL, e.g. http://127.0.0.1:4000 (requests go to <url>/v1/chat/completions)' })
    .refine((url) => new URL(url).username === '' && new URL(url).password === '', 'LLM_GATEWAY_URL must not hold credentials; put the key in LLM_GATEWAY_API_KEY')
    .optional(),
  LLM_GATEWAY_API_KEY: z.string().min(1).optional(),
  /** `POST /ai/plan` (issue 17): the model name sent to LLM_GATEWAY_URL, and the default bound on its rounds. */
  ...plannerSettings(),
  // Locally a model name has a default: the gateway is the configuration that matters (LLM_GATEWAY_URL).
  ORCHESTRATOR_PLANNER_MODEL: plannerSettings().ORCHESTRATOR_PLANNER_MODEL.default(DEFAULT_LOCAL_PLANNER_MODEL),
  /** `POST /mcp` (issue 17): offer the services' operations as tools too. */
  ...mcpSettings(),
  /** What GET /info reports; unset: `git rev-parse HEAD` at start (local/platform-info.ts), and the start time. */
  ORCHESTRATOR_COMMIT: z.string().min(1).max(200).optional(),
  ORCHESTRATOR_BUILD_TIME: z.string().min(1).max(200).optional(),
});

type LocalSettingName = keyof typeof LocalEnvironment.shape;
// The catalogue (where the file may set each setting, secrets, descriptions) and the schema have the same keys:
// a setting missing from either fails to compile.
LOCAL_SETTINGS satisfies Readonly<Record<LocalSettingName, SettingInfo>>;
({}) as Readonly<Record<keyof typeof LOCAL_SETTINGS, true>> satisfies Readonly<Record<LocalSettingName, true>>;
({}) as Readonly<Record<LocalSettingName, true>> satisfies Readonly<Record<keyof typeof LOCAL_SETTINGS, true>>;

/** Logs, metrics and traces of the local runtime (LOG_LEVEL, LOG_COLLECTOR_URL, ORCHESTRATOR_METRICS_ENABLED...). */
export interface ObservabilitySettings {
  readonly logLevel: LogLevelSetting;
  /** Where structured logs are also shipped. */
  readonly logCollectorUrl?: string;
  readonly metricsEnabled: boolean;
  readonly tracingEnabled: boolean;
  /** OTLP/HTTP collector spans are also exported to. */
  readonly otlpEndpoint?: string;
  /** OTEL_EXPORTER_OTLP_HEADERS, parsed. */
  readonly otlpHeaders?: Readonly<Record<string, string>>;
  readonly spanRetentionDays: number;
}

/** What GET /info says was built (ORCHESTRATOR_COMMIT, ORCHESTRATOR_BUILD_TIME); unset: found at start. */
/** The OpenAI-compatible endpoint of llm actions (LLM_GATEWAY_URL, LLM_GATEWAY_API_KEY). */
export interface LlmGatewaySettings {
  readonly url?: string;
  readonly apiKey?: string;
}

/** `POST /ai/plan` locally: the model (asked through LLM_GATEWAY_URL) and the default bound on rounds. */
export interface PlannerSettings {
  readonly model: string;
  readonly maxRounds: number;
}

export interface BuildSettings {
  readonly commit?: string;
  readonly buildTime?: string;
}

export interface LocalConfig {
  /** Authentication settings (ORCHESTRATOR_AUTH_MODE, JWT, API key, peer token). */
  readonly auth: AuthSettings;
  readonly rateLimit: RateLimitPolicy;
  readonly auditRetentionDays: number;
  /** ORCHESTRATOR_EVENT_RETENTION_DAYS: how long recorded events are kept (default 7). */
  readonly eventRetentionDays: number;
  /** ORCHESTRATOR_CURSOR_SECRET; undefined: the runtime keeps a generated key in the data directory. */
  readonly cursorSecret?: string;
  readonly port: number;
  readonly host: string;
  /** PEM read from ORCHESTRATOR_TLS_*_PATH when ORCHESTRATOR_ENABLE_TLS is true; undefined: plain HTTP. */
  readonly tls?: TlsMaterial;
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
  /** `<NAME>_URL` variables (and `services.<NAME>_URL` in the file), where unregistered services are found (e.g. ANALYSIS_SERVICE_URL). */
  readonly serviceUrls: Readonly<Record<string, string>>;
  /** ORCHESTRATOR_OUTBOUND_ALLOW's entries (validated). */
  readonly outboundAllow: readonly string[];
  /** ORCHESTRATOR_CORS_ORIGINS: which browser origins may call the API; undefined: none. */
  readonly cors?: CorsPolicy;
  /** ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS. */
  readonly shutdownGraceSeconds: number;
  /** What `env:` secret references of registered services may read: the environment but AWS_*, ORCHESTRATOR_* and OTEL_*. */
  readonly secretEnvironment: Readonly<Record<string, string>>;
  readonly observability: ObservabilitySettings;
  readonly proxyTimeoutSeconds: number;
  readonly jobSchedules: Partial<Record<JobName, JobSchedule>>;
  readonly build: BuildSettings;
  /** LLM_GATEWAY_URL and LLM_GATEWAY_API_KEY: the model llm actions call locally; no URL, they fail naming it. */
  readonly llmGateway: LlmGatewaySettings;
  /** ORCHESTRATOR_PLANNER_MODEL (default DEFAULT_LOCAL_PLANNER_MODEL) and ORCHESTRATOR_PLANNER_MAX_ROUNDS (default 3). */
  readonly planner: PlannerSettings;
  /** ORCHESTRATOR_MCP_SERVICE_TOOLS: `POST /mcp` offers the services' operations as tools too. */
  readonly mcpServiceTools: boolean;
  /** Every setting with its value (secrets `***`) and source: `GET /config/effective`. */
  readonly configReport: EffectiveConfig;
  /** The configuration file read (absolute path); undefined: none. */
  readonly configFile?: string;
  /** What was read and ignored (the redis section...): printed at start. */
  readonly notes: readonly string[];
}

/**
 * Reads and validates the configuration once, at start: environment over `config/app.yaml` (or
 * ORCHESTRATOR_CONFIG_FILE) over defaults. Throws a ConfigurationError listing every problem, each naming the
 * variable or file key and its source (`PORT (env): ...`, `monitoring.log_level (file config/app.yaml): ...`).
 */
export function readLocalConfig(env: Record<string, string | undefined> = process.env, options: ResolveOptions = {}): LocalConfig {
  const resolved = resolveSettings(LOCAL_SETTINGS, env, options);
  const parsed = LocalEnvironment.safeParse(resolved.values, { error: plainMessage });
  const problems = [...resolved.problems];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '');
      problems.push(`${describeSource(name, resolved.sources[name], resolved.file)}: ${issue.message}`);
    }
  }
  if (!parsed.success || problems.length > 0) throw new ConfigurationError(problems);
  const value = parsed.data;
  if (value.LLM_GATEWAY_API_KEY !== undefined && value.LLM_GATEWAY_URL === undefined) {
    throw new ConfigurationError([`${describeSource('LLM_GATEWAY_API_KEY', resolved.sources['LLM_GATEWAY_API_KEY'], resolved.file)}: LLM_GATEWAY_API_KEY is set but LLM_GATEWAY_URL is not; set the gateway's URL too`]);
  }
  let tls: TlsMaterial | undefined;
  try {
    tls = readTlsFiles({
      enabled: value.ORCHESTRATOR_ENABLE_TLS,
      certPath: value.ORCHESTRATOR_TLS_CERT_PATH,
      keyPath: value.ORCHESTRATOR_TLS_KEY_PATH,
      clientCaPath: value.ORCHESTRATOR_TLS_CLIENT_CA_PATH,
    });
  } catch (error) {
    const tlsProblems = error instanceof TlsConfigurationError ? error.problems : [(error as Error).message];
    throw new ConfigurationError(tlsProblems.map((problem) => withTlsSources(problem, resolved)));
  }
  return {
    auth: {
      mode: value.ORCHESTRATOR_AUTH_MODE,
      anonymousRole: value.ORCHESTRATOR_ANONYMOUS_ROLE,
      jwtSecret: value.ORCHESTRATOR_JWT_SECRET,
      jwksUrl: value.ORCHESTRATOR_JWKS_URL,
      jwtAlgorithms: algorithmsSetting(value.ORCHESTRATOR_JWT_ALGORITHMS),
      jwtIssuer: value.ORCHESTRATOR_JWT_ISSUER,
      jwtAudience: value.ORCHESTRATOR_JWT_AUDIENCE,
      adminApiKey: value.ORCHESTRATOR_API_KEY,
      peerToken: value.ORCHESTRATOR_PEER_TOKEN,
    },
    rateLimit: { rate: value.ORCHESTRATOR_RATE_LIMIT_RPS, burst: value.ORCHESTRATOR_RATE_LIMIT_BURST },
    auditRetentionDays: value.ORCHESTRATOR_AUDIT_RETENTION_DAYS,
    eventRetentionDays: value.ORCHESTRATOR_EVENT_RETENTION_DAYS,
    ...(value.ORCHESTRATOR_CURSOR_SECRET === undefined ? {} : { cursorSecret: value.ORCHESTRATOR_CURSOR_SECRET }),
    port: value.PORT,
    host: value.HOST,
    ...(tls === undefined ? {} : { tls }),
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
    serviceUrls: resolved.serviceUrls,
    outboundAllow: value.ORCHESTRATOR_OUTBOUND_ALLOW.entries,
    ...(value.ORCHESTRATOR_CORS_ORIGINS === undefined ? {} : { cors: value.ORCHESTRATOR_CORS_ORIGINS }),
    shutdownGraceSeconds: value.ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS,
    secretEnvironment: Object.fromEntries(
      Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && !RESERVED_ENV_PREFIXES.some((prefix) => entry[0].toUpperCase().startsWith(prefix))),
    ),
    observability: {
      logLevel: value.LOG_LEVEL,
      ...(value.LOG_COLLECTOR_URL === undefined ? {} : { logCollectorUrl: value.LOG_COLLECTOR_URL }),
      metricsEnabled: value.ORCHESTRATOR_METRICS_ENABLED,
      tracingEnabled: value.ORCHESTRATOR_TRACING_ENABLED,
      ...(value.OTEL_EXPORTER_OTLP_ENDPOINT === undefined ? {} : { otlpEndpoint: value.OTEL_EXPORTER_OTLP_ENDPOINT }),
      ...(value.OTEL_EXPORTER_OTLP_HEADERS === undefined ? {} : { otlpHeaders: value.OTEL_EXPORTER_OTLP_HEADERS }),
      spanRetentionDays: value.ORCHESTRATOR_SPAN_RETENTION_DAYS,
    },
    proxyTimeoutSeconds: value.ORCHESTRATOR_PROXY_TIMEOUT_SECONDS,
    jobSchedules: jobSchedulesOf(value),
    llmGateway: {
      ...(value.LLM_GATEWAY_URL === undefined ? {} : { url: value.LLM_GATEWAY_URL }),
      ...(value.LLM_GATEWAY_API_KEY === undefined ? {} : { apiKey: value.LLM_GATEWAY_API_KEY }),
    },
    planner: { model: value.ORCHESTRATOR_PLANNER_MODEL, maxRounds: value.ORCHESTRATOR_PLANNER_MAX_ROUNDS },
    mcpServiceTools: value.ORCHESTRATOR_MCP_SERVICE_TOOLS,
    build: {
      ...(value.ORCHESTRATOR_COMMIT === undefined ? {} : { commit: value.ORCHESTRATOR_COMMIT }),
      ...(value.ORCHESTRATOR_BUILD_TIME === undefined ? {} : { buildTime: value.ORCHESTRATOR_BUILD_TIME }),
    },
    configReport: effectiveConfig(LOCAL_SETTINGS, resolved, value),
    ...(resolved.file === undefined ? {} : { configFile: resolved.file.path }),
    notes: resolved.notes,
  };
}

const TLS_SETTINGS = ['ORCHESTRATOR_ENABLE_TLS', 'ORCHESTRATOR_TLS_CERT_PATH', 'ORCHESTRATOR_TLS_KEY_PATH', 'ORCHESTRATOR_TLS_CLIENT_CA_PATH'] as const;

/** A TLS problem (local/tls.ts names the variables) with the source of each variable that was set. */
function withTlsSources(problem: string, resolved: ResolvedSettings): string {
  let described = problem;
  for (const name of TLS_SETTINGS) {
    const source = resolved.sources[name];
    if (source !== undefined && source.kind !== 'default') described = described.replace(new RegExp(`\\b${name}\\b`), describeSource(name, source, resolved.file));
  }
  return described;
}

/**
 * Messages for the rules whose schema gives none (zod's own read `Too big: expected number to be <=86400`):
 * what the value must be, in the words of the rule.
 */
const plainMessage: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'too_big': {
      const limit = `${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}`;
      return issue.origin === 'string' ? `must be ${limit} characters long` : `must be ${limit}`;
    }
    case 'too_small': {
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${String(issue.minimum)} characters long`;
      return `must be ${issue.inclusive === false ? 'more than' : 'at least'} ${String(issue.minimum)}`;
    }
    case 'invalid_type':
      if (issue.expected === 'int') return 'must be a whole number';
      if (issue.expected === 'number') return 'must be a number';
      return `must be ${issue.expected}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'url' ? 'must be a URL' : `must be ${issue.format === 'regex' ? `text matching ${String(issue.pattern)}` : `a valid ${issue.format}`}`;
    default:
      return undefined;
  }
};
