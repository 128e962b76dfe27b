import { Duration } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { JOB_NAMES, JOBS, type JobName, type JobSchedule } from '../core/ecosystem/jobs.ts';
import { parseScheduleExpression } from '../core/schedules/expression.ts';
import { DEFAULT_PROXY_TIMEOUT_SECONDS, LAMBDA_SETTING_NAMES } from '../functions/config.ts';
import { DEFAULT_FUNCTION_TIMEOUT_SECONDS } from './constructs/api-function.ts';

/**
 * The context values (`cdk synth -c key=value`) of the ecosystem integrations (issue 14): the services' URLs,
 * the proxies' time budget and the jobs' schedules. Read and validated here, once per app, so a typo fails
 * synthesis with the key's name instead of deploying a rule or a function that fails at run time. README
 * "Deploy to AWS" lists them.
 */
export interface EcosystemContext {
  /**
   * `-c proxyTimeoutSeconds=30`: ORCHESTRATOR_PROXY_TIMEOUT_SECONDS of the proxy routes (`ecosystem: true`),
   * how long one proxied request may take in all, retries included.
   */
  readonly proxyTimeoutSeconds: number;
  /**
   * `-c serviceUrls='{"REPORTING_URL":"https://..."}'`: where the ecosystem services are when they are not
   * registered (`<NAME>_URL`), for the action runner and the proxy routes.
   */
  readonly serviceUrls: Readonly<Record<string, string>>;
  /** `-c jobSchedules='{"recalc-quality":"cron(0 2 * * ? *)","notify-consolidation":"off"}'`: each job's rule, or none. */
  readonly jobSchedules: Readonly<Record<JobName, JobSchedule>>;
}

/** The proxies' time budget when the context leaves it unset: the functions' own default. */
export { DEFAULT_PROXY_TIMEOUT_SECONDS };

/**
 * The bounds of `proxyTimeoutSeconds`: functions/config.ts accepts 0.1 to 900, and the function's own timeout
 * (the budget plus PROXY_TIMEOUT_MARGIN_SECONDS) must stay within Lambda's 900.
 */
export const PROXY_TIMEOUT_BOUNDS = { min: 0.1, max: 895 } as const;
/** What a proxy function gets past its budget to answer the 504 and flush its logs and spans. */
export const PROXY_TIMEOUT_MARGIN_SECONDS = 5;
/** A service's variable, as the action runner reads it (`reporting` -> `REPORTING_URL`). */
export const SERVICE_URL_VARIABLE = /^[A-Z][A-Z0-9_]*_URL$/;

/**
 * Each job's rule when the context does not say: the defaults the jobs themselves report (core/ecosystem/
 * service.ts), so `GET /jobs` and the deployed rules agree.
 */
export const DEFAULT_JOB_SCHEDULES: Readonly<Record<JobName, JobSchedule>> = Object.fromEntries(
  JOB_NAMES.map((job) => [job, { expression: JOBS[job].defaultSchedule, enabled: true }]),
) as Record<JobName, JobSchedule>;

type RawReader = (key: string) => unknown;

/** Reads and validates the ecosystem context of `scope`'s app (once per app). */
export function ecosystemContextOf(scope: IConstruct): EcosystemContext {
  const root = scope.node.root;
  const cached = contexts.get(root);
  if (cached !== undefined) return cached;
  const context = readEcosystemContext((key) => root.node.tryGetContext(key));
  contexts.set(root, context);
  return context;
}

const contexts = new WeakMap<IConstruct, EcosystemContext>();

/** The context values, validated. `read` answers the raw value (a CLI string, or what cdk.json or a test holds). */
export function readEcosystemContext(read: RawReader): EcosystemContext {
  return {
    proxyTimeoutSeconds: proxyTimeout(read),
    serviceUrls: serviceUrls(read),
    jobSchedules: jobSchedules(read),
  };
}

/**
 * What the proxy routes (`ecosystem: true`) get besides the registry, the bus and the outbound rules: the
 * services' URLs and the time budget (always set, so it is the one the function's timeout was computed from).
 */
export function proxyEnvironment(context: EcosystemContext): Record<string, string> {
  return { ...context.serviceUrls, ORCHESTRATOR_PROXY_TIMEOUT_SECONDS: String(context.proxyTimeoutSeconds) };
}

/**
 * A proxy function's Lambda timeout: its budget plus a margin, and never below the other route functions'.
 * API Gateway stops waiting for an integration after 29 s (its default integration timeout) and answers 504
 * itself, whatever the function does; a budget above that only matters to the function's own bookkeeping
 * (its span, its circuit updates) unless the account's integration timeout was raised. The function still
 * must outlive the budget, or Lambda would kill it mid-call, with no span and no circuit update.
 */
export function proxyFunctionTimeout(context: EcosystemContext): Duration {
  return Duration.seconds(Math.max(Math.ceil(context.proxyTimeoutSeconds + PROXY_TIMEOUT_MARGIN_SECONDS), DEFAULT_FUNCTION_TIMEOUT_SECONDS));
}

/** `recalc-quality` -> `ORCHESTRATOR_JOB_RECALC_QUALITY_SCHEDULE`: the variable functions/config.ts reads. */
export function jobScheduleVariable(job: JobName): string {
  return `ORCHESTRATOR_JOB_${job.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_SCHEDULE`;
}

/**
 * The jobs' schedules as their variables (`off` for a job without a rule): the job worker and `GET /jobs` get
 * them, so what they report is what the rules do.
 */
export function jobScheduleEnvironment(jobSchedules: Readonly<Record<JobName, JobSchedule>>): Record<string, string> {
  return Object.fromEntries(
    JOB_NAMES.map((job) => {
      const schedule = jobSchedules[job];
      return [jobScheduleVariable(job), schedule.enabled ? schedule.expression : 'off'];
    }),
  );
}

function proxyTimeout(read: RawReader): number {
  const value = read('proxyTimeoutSeconds');
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return DEFAULT_PROXY_TIMEOUT_SECONDS;
  const seconds = typeof value === 'string' ? Number(value.trim()) : value;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < PROXY_TIMEOUT_BOUNDS.min || seconds > PROXY_TIMEOUT_BOUNDS.max) {
    throw new Error(`context proxyTimeoutSeconds must be a number of seconds from ${PROXY_TIMEOUT_BOUNDS.min} to ${PROXY_TIMEOUT_BOUNDS.max}; got ${JSON.stringify(value)}`);
  }
  return seconds;
}

/** A JSON object from the CLI (a string) or from cdk.json (an object); undefined when the key is unset. */
function jsonObject(read: RawReader, key: string, shape: string): Record<string, unknown> | undefined {
  const value = read(key);
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new Error(`context ${key} must be a JSON object (${shape}); got ${JSON.stringify(value)}`);
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`context ${key} must be a JSON object (${shape}); got ${JSON.stringify(value)}`);
  return parsed as Record<string, unknown>;
}

const RESERVED_VARIABLES: ReadonlySet<string> = new Set(LAMBDA_SETTING_NAMES);

function serviceUrls(read: RawReader): Record<string, string> {
  const object = jsonObject(read, 'serviceUrls', '{"<NAME>_URL": "https://..."}');
  if (object === undefined) return {};
  const urls: Record<string, string> = {};
  for (const [name, value] of Object.entries(object)) {
    const key = `serviceUrls.${name}`;
    if (!SERVICE_URL_VARIABLE.test(name)) throw new Error(`context ${key}: a service's variable is <NAME>_URL in upper case (letters, digits, _), as the action runner reads it (reporting -> REPORTING_URL)`);
    // The functions' own settings are set by the deployment: a service URL must not replace one of them.
    if (name === 'LOG_COLLECTOR_URL') throw new Error(`context ${key}: set the log collector with -c logCollectorUrl (every function ships its logs there, and /demo/e2e reads its analysis from it)`);
    if (RESERVED_VARIABLES.has(name)) throw new Error(`context ${key}: ${name} is one of the orchestrator's own settings, not a service's URL`);
    if (typeof value !== 'string' || !isHttpUrl(value.trim())) throw new Error(`context ${key} must be an http(s) URL; got ${JSON.stringify(value)}`);
    urls[name] = value.trim();
  }
  return urls;
}

function jobSchedules(read: RawReader): Record<JobName, JobSchedule> {
  const object = jsonObject(read, 'jobSchedules', `{"<job>": "cron(...)" | "rate(...)" | "off"}, jobs ${JOB_NAMES.join(', ')}`) ?? {};
  const schedules: Record<JobName, JobSchedule> = { ...DEFAULT_JOB_SCHEDULES };
  for (const [job, value] of Object.entries(object)) {
    const key = `jobSchedules.${job}`;
    if (!(JOB_NAMES as readonly string[]).includes(job)) throw new Error(`context ${key}: no such job; the jobs are ${JOB_NAMES.join(', ')}`);
    if (typeof value !== 'string' || value.trim() === '') throw new Error(`context ${key} must be cron(...), rate(...) or off; got ${JSON.stringify(value)}`);
    const text = value.trim();
    if (text.toLowerCase() === 'off') {
      schedules[job as JobName] = { enabled: false };
      continue;
    }
    const parsed = parseScheduleExpression(text, key);
    if ('problems' in parsed) throw new Error(`context ${key}: ${parsed.problems.map((problem) => problem.message).join('; ')}`);
    // A job runs on an EventBridge rule, and rules take cron and rate only.
    if (parsed.expression.kind === 'at') throw new Error(`context ${key}: a job's schedule is cron(...), rate(...) or off (EventBridge rules have no at())`);
    schedules[job as JobName] = { expression: text, enabled: true };
  }
  return schedules;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
