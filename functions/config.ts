import * as z from 'zod';
import { DEFAULT_CIRCUIT_POLICY } from '../core/registry/circuit.ts';
import { PeerUrlsSetting } from '../core/registry/peers.ts';
import { outboundAllowSetting } from '../adapters/http/outbound-policy.ts';
import { AUTH_MODES, ROLES } from '../core/auth/model.ts';
import { CorsOriginsSetting } from './cors.ts';
import { CursorCodec } from '../adapters/aws/dynamo/cursor-codec.ts';
import { ENGINE_ENVIRONMENT } from '../adapters/aws/stepfunctions/config.ts';
import type { EffectiveConfig } from './http/observability-services.ts';
import type { LogLevel } from '../core/ports.ts';
import { parseOtlpHeaders } from './observability/otlp-exporter.ts';
import { parseScheduleExpression } from '../core/schedules/expression.ts';
import type { JobName, JobSchedule } from '../core/ecosystem/jobs.ts';
import { MAX_PLAN_ROUNDS } from './http/plan-schemas.ts';

/** `true`/`false` (or 1/0, any case); unset or empty: `fallback`. The local runtime's schema uses it too. */
export function switchSetting(name: string, fallback: boolean) {
  return z
    .string()
    .optional()
    .transform((value, context) => {
      if (value === undefined || value === '') return fallback;
      const normalized = value.trim().toLowerCase();
      if (normalized === 'true' || normalized === '1') return true;
      if (normalized === 'false' || normalized === '0') return false;
      context.addIssue({ code: 'custom', message: `${name} must be true or false` });
      return fallback;
    });
}

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'] as const;
export type LogLevelSetting = (typeof LOG_LEVELS)[number];

/** OTEL_EXPORTER_OTLP_HEADERS (`key=value,key2=value2`, values percent-encoded), parsed; a bad pair is named. */
export function otlpHeadersSetting() {
  return z
    .string()
    .optional()
    .transform((text, context) => {
      if (text === undefined || text.trim() === '') return undefined;
      try {
        return parseOtlpHeaders(text);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });
}

/**
 * A job's schedule (ORCHESTRATOR_JOB_<NAME>_SCHEDULE): an EventBridge `cron(...)` or `rate(...)` expression in
 * UTC, or `off`; unset, the job's default. The local runtime reads the same variables.
 */
export function jobScheduleSetting(name: string, options: { allowAt?: boolean } = {}) {
  return z
    .string()
    .optional()
    .transform((value, context): JobSchedule | undefined => {
      const text = value?.trim();
      if (text === undefined || text === '') return undefined;
      if (text.toLowerCase() === 'off') return { enabled: false };
      const parsed = parseScheduleExpression(text, name);
      if ('problems' in parsed) {
        for (const problem of parsed.problems) context.addIssue({ code: 'custom', message: `${name}: ${problem.message}` });
        return z.NEVER;
      }
      // EventBridge rules take cron and rate only; at() is for the local scheduler (tests, one-off runs).
      if (parsed.expression.kind === 'at' && !options.allowAt) {
        context.addIssue({ code: 'custom', message: `${name}: a job's schedule is cron(...) or rate(...) (EventBridge rules have no at())` });
        return z.NEVER;
      }
      return { expression: text, enabled: true };
    });
}

/** ORCHESTRATOR_PROXY_TIMEOUT_SECONDS unset (the default CDK's `proxyTimeoutSeconds` context gives too). */
export const DEFAULT_PROXY_TIMEOUT_SECONDS = 30;

/** The ecosystem integrations (issue 14), the same on both sides: the proxies' time budget and the jobs' schedules. */
export function ecosystemSettings(options: { allowAt?: boolean } = {}) {
  return {
    /** How long a proxied request (`/report/request`, `/summarization/suggest`, `/docstore/save`, `/demo/e2e`) may take in all, retries included. */
    ORCHESTRATOR_PROXY_TIMEOUT_SECONDS: z.coerce.number().min(0.1, 'ORCHESTRATOR_PROXY_TIMEOUT_SECONDS must be at least 0.1').max(900, 'ORCHESTRATOR_PROXY_TIMEOUT_SECONDS must be at most 900').default(DEFAULT_PROXY_TIMEOUT_SECONDS),
    ORCHESTRATOR_JOB_RECALC_QUALITY_SCHEDULE: jobScheduleSetting('ORCHESTRATOR_JOB_RECALC_QUALITY_SCHEDULE', options),
    ORCHESTRATOR_JOB_NOTIFY_CONSOLIDATION_SCHEDULE: jobScheduleSetting('ORCHESTRATOR_JOB_NOTIFY_CONSOLIDATION_SCHEDULE', options),
  };
}

/** The jobs' configured schedules, by job name (unset ones are left to their defaults). */
export function jobSchedulesOf(settings: { ORCHESTRATOR_JOB_RECALC_QUALITY_SCHEDULE?: JobSchedule; ORCHESTRATOR_JOB_NOTIFY_CONSOLIDATION_SCHEDULE?: JobSchedule }): Partial<Record<JobName, JobSchedule>> {
  return {
    ...(settings.ORCHESTRATOR_JOB_RECALC_QUALITY_SCHEDULE ? { 'recalc-quality': settings.ORCHESTRATOR_JOB_RECALC_QUALITY_SCHEDULE } : {}),
    ...(settings.ORCHESTRATOR_JOB_NOTIFY_CONSOLIDATION_SCHEDULE ? { 'notify-consolidation': settings.ORCHESTRATOR_JOB_NOTIFY_CONSOLIDATION_SCHEDULE } : {}),
  };
}

/** ORCHESTRATOR_PLANNER_MAX_ROUNDS unset: how many model answers `POST /ai/plan` takes at most, the first draft included. */
export const DEFAULT_PLANNER_MAX_ROUNDS = 3;

/**
 * `POST /ai/plan`'s time budget in AWS: API Gateway stops waiting for a function after 29 s, so planning stops
 * (504, naming the budget) before that; the function's own timeout (infra/planner-context.ts) is a little longer.
 */
export const AWS_PLANNER_BUDGET_SECONDS = 25;

/**
 * The planner (issue 17, `POST /ai/plan`), the same variables on both sides: the model it asks (a Bedrock model
 * id or inference profile in AWS, where unset means no planning; locally the name sent to LLM_GATEWAY_URL,
 * which gateways route on) and the default bound on its repair rounds.
 */
export function plannerSettings() {
  return {
    ORCHESTRATOR_PLANNER_MODEL: z
      .string()
      .trim()
      .min(1, 'ORCHESTRATOR_PLANNER_MODEL must not be empty')
      .max(2048, 'ORCHESTRATOR_PLANNER_MODEL must be at most 2048 characters')
      .regex(/^\S+$/, 'ORCHESTRATOR_PLANNER_MODEL is a model id or ARN, without spaces')
      .optional(),
    ORCHESTRATOR_PLANNER_MAX_ROUNDS: z.coerce
      .number({ error: 'ORCHESTRATOR_PLANNER_MAX_ROUNDS must be a whole number' })
      .int('ORCHESTRATOR_PLANNER_MAX_ROUNDS must be a whole number')
      .min(1, 'ORCHESTRATOR_PLANNER_MAX_ROUNDS must be at least 1')
      .max(MAX_PLAN_ROUNDS, `ORCHESTRATOR_PLANNER_MAX_ROUNDS must be at most ${MAX_PLAN_ROUNDS}`)
      .default(DEFAULT_PLANNER_MAX_ROUNDS),
  };
}

/** The MCP server at `POST /mcp` (issue 17), the same on both sides. */
export function mcpSettings() {
  return {
    /** Also offer the registered services' operations (GET /tools) as tools; default: workflows only. */
    ORCHESTRATOR_MCP_SERVICE_TOOLS: switchSetting('ORCHESTRATOR_MCP_SERVICE_TOOLS', false),
  };
}

/**
 * Observability (issue 13), the same on both sides (local/config.ts spreads it too): the logger's level, where
 * logs are shipped, what is measured and traced, where spans are exported and how long they are kept.
 */
export function observabilitySettings() {
  return {
    LOG_LEVEL: logLevelSetting(),
    LOG_COLLECTOR_URL: z.url({ protocol: /^https?$/, error: 'LOG_COLLECTOR_URL must be an http(s) URL' }).optional(),
    ORCHESTRATOR_METRICS_ENABLED: switchSetting('ORCHESTRATOR_METRICS_ENABLED', true),
    ORCHESTRATOR_TRACING_ENABLED: switchSetting('ORCHESTRATOR_TRACING_ENABLED', true),
    OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, error: 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL' }).optional(),
    /** Request headers of the OTLP export (a collector's API key): a secret. */
    OTEL_EXPORTER_OTLP_HEADERS: otlpHeadersSetting(),
    ORCHESTRATOR_SPAN_RETENTION_DAYS: z.coerce.number().min(0.001).max(3650).default(7),
  };
}

/** The logger's level (functions/observability/logger.ts) for a LOG_LEVEL setting. */
export function loggerLevelOf(setting: LogLevelSetting): LogLevel | 'silent' {
  return LOGGER_LEVELS[setting];
}
const LOGGER_LEVELS: Readonly<Record<LogLevelSetting, LogLevel | 'silent'>> = { DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error', SILENT: 'silent' };

/** LOG_LEVEL: DEBUG, INFO, WARN (or WARNING), ERROR, SILENT, in any case; unset or empty: INFO. */
export function logLevelSetting() {
  return z
    .string()
    .optional()
    .transform((value) => {
      const level = value === undefined || value.trim() === '' ? 'INFO' : value.trim().toUpperCase();
      return level === 'WARNING' ? 'WARN' : level;
    })
    .pipe(z.enum(LOG_LEVELS, { error: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (any case)` }));
}

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
  /** Set by CDK on the functions that record or read spans (issue 13): the spans table, and how long a span is kept. */
  SPANS_TABLE_NAME: z.string().min(1).optional(),
  ...observabilitySettings(),
  ...ecosystemSettings(),
  /** `POST /ai/plan` (issue 17): the Bedrock model it asks (unset: the route answers 503 naming it) and its default rounds. */
  ...plannerSettings(),
  ...mcpSettings(),
  /**
   * Set by CDK on the routes that manage workflow schedules (`schedules: 'manage'`) and the scheduled-run
   * worker: the EventBridge Scheduler group, the worker every schedule invokes, and the role the scheduler
   * assumes to invoke it (and the queue its failed invocations go to).
   */
  SCHEDULE_GROUP_NAME: z.string().min(1).max(64).optional(),
  SCHEDULED_RUN_FUNCTION_ARN: z.string().regex(/^arn:[^:]+:lambda:/, 'a Lambda function ARN').optional(),
  SCHEDULER_ROLE_ARN: z.string().regex(/^arn:[^:]+:iam::\d{12}:role\//, 'an IAM role ARN').optional(),
  SCHEDULE_DEAD_LETTER_ARN: z.string().regex(/^arn:[^:]+:sqs:/, 'an SQS queue ARN').optional(),
  /** Set by CDK: the git commit the code was built from and when it was synthesized (`GET /info`). */
  ORCHESTRATOR_COMMIT: z.string().min(1).optional(),
  ORCHESTRATOR_BUILD_TIME: z.string().min(1).optional(),
  /** The logger's `service` and the EMF metrics' namespace (Powertools' own variables, set by CDK on every function). */
  POWERTOOLS_SERVICE_NAME: z.string().min(1).optional(),
  POWERTOOLS_METRICS_NAMESPACE: z.string().min(1).optional(),
  /** Set by Lambda: the function's region. */
  AWS_REGION: z.string().min(1).optional(),
  /** Set by Lambda when the function has active tracing: where the X-Ray SDK sends segments (functions/observability/xray.ts). */
  AWS_XRAY_DAEMON_ADDRESS: z.string().min(1).optional(),
  /**
   * The Step Functions engine's settings (adapters/aws/stepfunctions/config.ts parses them where the engine is
   * built); listed here so the configuration report and the route checks (functions/route-environment.ts) see them.
   */
  WORKFLOW_STATE_MACHINE_PREFIX: z.string().min(1).optional(),
  WORKFLOW_STATE_MACHINE_PARTITION: z.string().min(1).optional(),
  WORKFLOW_STATE_MACHINE_REGION: z.string().min(1).optional(),
  WORKFLOW_STATE_MACHINE_ACCOUNT: z.string().min(1).optional(),
  WORKFLOW_EXECUTION_ROLE_ARN: z.string().min(1).optional(),
  WORKFLOW_LOG_GROUP_ARN: z.string().min(1).optional(),
  ACTION_RUNNER_FUNCTION_ARN: z.string().min(1).optional(),
  /**
   * Set by CDK on each route function: its name in the route table. At cold start the function checks that
   * its environment holds everything the route declares it needs (functions/route-environment.ts).
   */
  ORCHESTRATOR_ROUTE: z.string().min(1).optional(),
  /** Set by Lambda: the runtime API's `host:port`, a listener of this function that outbound calls must never reach. */
  AWS_LAMBDA_RUNTIME_API: z.string().optional(),
});

export type LambdaConfig = z.output<typeof LambdaEnvironment>;

/** Every variable the Lambda side reads, by name (the configuration report lists them; route checks validate them). */
export type LambdaSettingName = keyof typeof LambdaEnvironment.shape;
export const LAMBDA_SETTING_NAMES = Object.keys(LambdaEnvironment.shape) as LambdaSettingName[];

/** The Step Functions engine's variables; typed as settings, so adding one to the engine without listing it above fails to compile. */
export const ENGINE_SETTING_NAMES: readonly LambdaSettingName[] = Object.values(ENGINE_ENVIRONMENT);

export function readLambdaConfig(env: Record<string, string | undefined> = process.env): LambdaConfig {
  const parsed = LambdaEnvironment.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  return parsed.data;
}

/**
 * What is wrong with one variable's value, or undefined when its schema accepts it (unset included, for the
 * optional ones): functions/route-environment.ts checks a route's variables one by one with it.
 */
export function lambdaSettingProblem(name: LambdaSettingName, value: string | undefined): string | undefined {
  const parsed = LambdaEnvironment.shape[name].safeParse(value);
  return parsed.success ? undefined : parsed.error.issues.map((issue) => issue.message).join('; ');
}

/** Secrets are shown as `***`: names ending in _SECRET, _TOKEN or _API_KEY (never *_ARN: those only say where a secret is). */
export function isSecretSetting(name: string): boolean {
  return !name.endsWith('_ARN') && (/(_SECRET|_TOKEN|_API_KEY|_HEADERS)$/.test(name) || name === 'ORCHESTRATOR_CURSOR_SECRET');
}

/**
 * `GET /config/effective` in AWS: every variable this function reads, with its validated value and whether it
 * came from the function's environment (`env`, set by CDK) or is the default. There is no configuration file
 * in AWS. Secrets are `***`; user:password in a URL is hidden too. Throws as readLambdaConfig does.
 */
export function lambdaConfigReport(env: Record<string, string | undefined> = process.env): EffectiveConfig {
  const config = readLambdaConfig(env);
  const settings = LAMBDA_SETTING_NAMES.map((key) => {
    const raw = env[key];
    const secret = isSecretSetting(key);
    const value = displaySettingValue(config[key]);
    return { key, value: secret && value !== null ? '***' : value, source: raw !== undefined && raw !== '' ? ('env' as const) : ('default' as const), secret };
  });
  return {
    file: null,
    settings,
    notes: ["In AWS, settings are each function's environment, set by CDK from the route table and `cdk deploy -c ...`: this is the environment of the function that answered; there is no configuration file."],
  };
}

/**
 * A validated setting as JSON for the configuration report: unset is null; the outbound allow list is its
 * entries; a CORS policy is `*` or its origins; `user:password@` in a URL becomes `***@`.
 */
export function displaySettingValue(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return hideUserinfo(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map(displaySettingValue);
  if (typeof value === 'object') {
    if ('entries' in value && Array.isArray(value.entries)) return value.entries.map(displaySettingValue);
    if ('anyOrigin' in value && 'origins' in value && Array.isArray(value.origins)) return value.anyOrigin === true ? '*' : value.origins.map(displaySettingValue);
  }
  return String(value);
}

/** `https://user:password@host/` -> `https://***@host/`; anything without userinfo is returned as it is. */
export function hideUserinfo(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/gi, '$1***@');
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
