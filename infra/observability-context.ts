import { execFileSync } from 'node:child_process';
import type { IConstruct } from 'constructs';
import { DEFAULT_SPAN_RETENTION_DAYS } from '../adapters/aws/dynamo/span-table.ts';

/**
 * The context values (`cdk synth -c key=value`) that set every Lambda's logging, tracing and metrics (issue 13).
 * Read and validated here, once per app, so a typo fails synthesis with the key's name instead of deploying
 * functions that fail their configuration check at init. README "Deploy to AWS" lists them.
 */
export interface ObservabilityContext {
  /** `-c logLevel`: LOG_LEVEL of every function and Lambda's application log level (what it passes on). */
  readonly logLevel: LogLevel;
  /** `-c tracing`: ORCHESTRATOR_TRACING_ENABLED (spans recorded and exported); X-Ray stays active regardless. */
  readonly tracing: boolean;
  /** `-c metrics`: ORCHESTRATOR_METRICS_ENABLED (EMF metrics in CloudWatch). */
  readonly metrics: boolean;
  /** `-c otlpEndpoint`: OTEL_EXPORTER_OTLP_ENDPOINT, an OpenTelemetry collector the spans are exported to as well. */
  readonly otlpEndpoint?: string;
  /** `-c logCollectorUrl`: LOG_COLLECTOR_URL, where log batches are shipped as well as CloudWatch. */
  readonly logCollectorUrl?: string;
  /** `-c spanRetentionDays`: ORCHESTRATOR_SPAN_RETENTION_DAYS, the spans' TTL. */
  readonly spanRetentionDays: number;
  /** ORCHESTRATOR_COMMIT: `-c commit`, else the checkout's HEAD, else `unknown`. */
  readonly commit: string;
  /** ORCHESTRATOR_BUILD_TIME (UTC ISO): `-c buildTime`, else the commit's own date, else `unknown`. */
  readonly buildTime: string;
}

/** The levels a deployment may pick; each is also one of Lambda's application log levels. */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_LOG_LEVEL: LogLevel = 'INFO';
/** POWERTOOLS_SERVICE_NAME of every function: the `service` of every log line, span and metric. */
export const SERVICE_NAME = 'orchestrator';
/** POWERTOOLS_METRICS_NAMESPACE: the CloudWatch namespace of the EMF metrics (functions/aws-metrics.ts uses the same). */
export const METRICS_NAMESPACE = 'Orchestrator';
/** The bounds functions/config.ts puts on ORCHESTRATOR_SPAN_RETENTION_DAYS. */
const SPAN_RETENTION_BOUNDS = { min: 0.001, max: 3650 } as const;
/** A commit as git names it, or any build label a pipeline passes; never starting with `-` (it goes to git as an argument). */
const COMMIT = /^[A-Za-z0-9][A-Za-z0-9._+/-]{0,99}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
export const UNKNOWN = 'unknown';

/** Where `git` runs: the checkout infra/ is in. */
const INFRA_DIR = import.meta.dirname;

type Reader = (key: string) => string | undefined;

/**
 * Reads and validates the observability context of `scope`'s app. Every function reads it (infra/constructs/
 * api-function.ts), so it is read once per app: git runs once, and an invalid value fails the first function.
 */
export function observabilityContextOf(scope: IConstruct): ObservabilityContext {
  const root = scope.node.root;
  const cached = contexts.get(root);
  if (cached !== undefined) return cached;
  const context = readObservabilityContext(contextReader(root));
  contexts.set(root, context);
  return context;
}

const contexts = new WeakMap<IConstruct, ObservabilityContext>();

function contextReader(root: IConstruct): Reader {
  return (key) => {
    const value: unknown = root.node.tryGetContext(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw new Error(`context ${key} must be a single value; got ${JSON.stringify(value)}`);
    const text = String(value).trim();
    return text === '' ? undefined : text;
  };
}

/** The context values, validated; `git` answers for the commit and build time the context leaves unset. */
export function readObservabilityContext(read: Reader, git: (args: readonly string[]) => string | undefined = runGit): ObservabilityContext {
  const logLevel = read('logLevel')?.toUpperCase() ?? DEFAULT_LOG_LEVEL;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new Error(`context logLevel must be one of ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(read('logLevel'))}`);
  const otlpEndpoint = httpUrl(read, 'otlpEndpoint');
  const logCollectorUrl = httpUrl(read, 'logCollectorUrl');
  const commit = read('commit');
  if (commit !== undefined && !COMMIT.test(commit)) throw new Error(`context commit must be a commit id or build label (letters, digits, . _ + / -); got ${JSON.stringify(commit)}`);
  const buildTime = read('buildTime');
  if (buildTime !== undefined && (!ISO_DATE_TIME.test(buildTime) || !Number.isFinite(Date.parse(buildTime)))) {
    throw new Error(`context buildTime must be an ISO 8601 date and time with its zone (2026-01-31T12:00:00Z); got ${JSON.stringify(buildTime)}`);
  }
  // Not the synth time: a value that changes on every synth would update every function on every deploy.
  const resolvedCommit = commit ?? git(['rev-parse', 'HEAD']) ?? UNKNOWN;
  const commitDate = buildTime ?? (resolvedCommit === UNKNOWN ? undefined : git(['show', '-s', '--format=%cI', resolvedCommit, '--']));
  return {
    logLevel: logLevel as LogLevel,
    tracing: switchValue(read, 'tracing', true),
    metrics: switchValue(read, 'metrics', true),
    ...(otlpEndpoint === undefined ? {} : { otlpEndpoint }),
    ...(logCollectorUrl === undefined ? {} : { logCollectorUrl }),
    spanRetentionDays: spanRetentionDays(read),
    commit: resolvedCommit,
    buildTime: commitDate !== undefined && Number.isFinite(Date.parse(commitDate)) ? new Date(commitDate).toISOString() : UNKNOWN,
  };
}

/**
 * The observability variables every function gets (functions/config.ts reads them; Powertools reads its own).
 * The span table's name and retention go only to the functions that record spans (ApiFunction `spansTable`).
 */
export function observabilityEnvironment(context: ObservabilityContext): Record<string, string> {
  return {
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    LOG_LEVEL: context.logLevel,
    ORCHESTRATOR_TRACING_ENABLED: String(context.tracing),
    ORCHESTRATOR_METRICS_ENABLED: String(context.metrics),
    ORCHESTRATOR_COMMIT: context.commit,
    ORCHESTRATOR_BUILD_TIME: context.buildTime,
    ...(context.otlpEndpoint === undefined ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: context.otlpEndpoint }),
    ...(context.logCollectorUrl === undefined ? {} : { LOG_COLLECTOR_URL: context.logCollectorUrl }),
  };
}

/** `-c key=false` arrives as the string 'false'; cdk.json and tests may pass a real boolean. */
function switchValue(read: Reader, key: string, defaultValue: boolean): boolean {
  const value = read(key)?.toLowerCase();
  if (value === undefined) return defaultValue;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`context ${key} must be true or false; got ${JSON.stringify(read(key))}`);
}

function spanRetentionDays(read: Reader): number {
  const value = read('spanRetentionDays');
  if (value === undefined) return DEFAULT_SPAN_RETENTION_DAYS;
  const days = Number(value);
  if (!Number.isFinite(days) || days < SPAN_RETENTION_BOUNDS.min || days > SPAN_RETENTION_BOUNDS.max) {
    throw new Error(`context spanRetentionDays must be a number of days from ${SPAN_RETENTION_BOUNDS.min} to ${SPAN_RETENTION_BOUNDS.max}; got ${JSON.stringify(value)}`);
  }
  return days;
}

/** An http(s) URL (what functions/config.ts accepts for the variable), or undefined when the key is unset. */
function httpUrl(read: Reader, key: string): string | undefined {
  const value = read(key);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`context ${key} must be an http(s) URL; got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`context ${key} must be an http(s) URL; got ${JSON.stringify(value)}`);
  return value;
}

/** `git <args>` in infra/'s checkout; undefined outside a checkout, without git, or on any failure. */
function runGit(args: readonly string[]): string | undefined {
  try {
    const output = execFileSync('git', [...args], { cwd: INFRA_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
    return output === '' ? undefined : output;
  } catch {
    return undefined;
  }
}
