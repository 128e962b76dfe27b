import { join } from 'node:path';
import { Annotations, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parsePeerUrls } from '../core/registry/peers.ts';
import packageJson from '../package.json' with { type: 'json' };
import { outboundAllowEntries } from './constructs/outbound-access.ts';
import { readApiEdgeContext, type AuthContext } from './api-context.ts';
import { observabilityContextOf } from './observability-context.ts';
import { ecosystemContextOf, proxyEnvironment, proxyFunctionTimeout } from './ecosystem-context.ts';
import { plannerContextOf, plannerModelAccess } from './planner-context.ts';
import { ApiStack } from './stacks/api-stack.ts';
import { ConsoleStack } from './stacks/console-stack.ts';
import { apiTableProps, DataStack } from './stacks/data-stack.ts';
import { DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS, DEFAULT_OPENAPI_POLL_INTERVAL_SECONDS, RuntimeStack } from './stacks/runtime-stack.ts';

export const PROJECT_TAG = { key: 'project', value: 'serverless-orchestrator' } as const;
export const DEFAULT_STACK_PREFIX = 'Orchestrator';

export interface OrchestratorStacks {
  readonly data: DataStack;
  readonly api: ApiStack;
  readonly runtime: RuntimeStack;
  /** The web console (S3 and CloudFront), unless `-c console=false`. */
  readonly console?: ConsoleStack;
}

/**
 * Defines the whole deployment on an app: the data stack, the API stack, and the cdk-nag AwsSolutions checks
 * (an unacknowledged finding fails synthesis). `infra/app.ts` and the infra tests both build it from here, so
 * the tests check what gets deployed.
 *
 * Context (`cdk synth -c key=value`):
 * - `stackPrefix` (default `Orchestrator`): stacks are `<prefix>Data` and `<prefix>Api`, so several copies can
 *   live in one account (one per developer, per branch).
 * - `retainData` (default `true`): `false` lets a throwaway copy delete its tables with the stack.
 * - `healthCheckInterval` (seconds, default 60): how often registered instances are health-checked; the
 *   schedule runs every max(60, interval) seconds, in whole minutes.
 * - `openApiPollInterval` (seconds, default 300): how often services' OpenAPI documents are polled for drift.
 * - `peers` (comma-separated base URLs): the peer orchestrators whose registries `/registry/sync-peers` syncs.
 * - `outboundAllow` (comma-separated CIDRs, addresses or host names): ORCHESTRATOR_OUTBOUND_ALLOW of the
 *   functions that call services and peers, what they may reach besides public addresses (none by default).
 * - The API's edge (infra/api-context.ts, README "Deploy to AWS"): `authMode`, `anonymousRole`, `jwksUrl`,
 *   `jwtAlgorithms`, `jwtIssuer`, `jwtAudience`, `jwtSecret=generate` or `jwtSecretArn`, `adminApiKey=generate`
 *   or `adminApiKeySecretArn`, `peerTokenSecretArn`, `auditRetentionDays`; `rateLimitRps`, `rateLimitBurst`,
 *   `wafRateLimit`; `domainName`, `certificateArn`, `mtlsTruststoreUri`, `mtlsTruststoreVersion`; `corsOrigins`
 *   (comma-separated browser origins, or `*`: the preflight and ORCHESTRATOR_CORS_ORIGINS; none by default).
 * - Observability, on every function (infra/observability-context.ts): `logLevel` (DEBUG, INFO, WARN, ERROR;
 *   default INFO), `tracing` and `metrics` (default true), `otlpEndpoint` and `logCollectorUrl` (http(s) URLs,
 *   unset by default), `spanRetentionDays` (default 7), `commit` and `buildTime` (default: the checkout's HEAD
 *   and that commit's date).
 * - Ecosystem integrations (infra/ecosystem-context.ts): `serviceUrls` (JSON, `{"<NAME>_URL": "https://..."}`:
 *   where the action runner and the proxy routes call services that are not registered), `proxyTimeoutSeconds`
 *   (default 30: the proxy routes' budget; their functions' timeout is 5 s more), `jobSchedules` (JSON,
 *   `{"recalc-quality": "cron(0 2 * * ? *)", "notify-consolidation": "off"}`: each job's rule, cron(...) or
 *   rate(...) in UTC, or none; defaults: the jobs' own).
 *
 * - The planner of `POST /ai/plan` (infra/planner-context.ts): `plannerModel` (a Bedrock model id, inference
 *   profile id or ARN whose access is enabled in the account; unset: the route answers 503 naming
 *   ORCHESTRATOR_PLANNER_MODEL, and its function may invoke no model) and `plannerMaxRounds` (1 to 10, default 3).
 *
 * - `mcpServiceTools` (default false): `POST /mcp` also offers the registered services' operations as tools
 *   (ORCHESTRATOR_MCP_SERVICE_TOOLS).
 *
 * - The web console (infra/stacks/console-stack.ts): `console` (default true; `false` deploys no console) and
 *   `consoleAssets` (default dist/console, which `npm run build:console` builds: synth refuses to go on without it).
 *
 * The stacks are environment-agnostic: the account and region come from the CLI's credentials at deploy time.
 */
export function defineOrchestrator(app: App): OrchestratorStacks {
  const stackPrefix = readStackPrefix(app);
  const retainData = readBooleanContext(app, 'retainData', true);
  const edge = readApiEdgeContext(app);
  // Read (and validated) before any stack: every function's logging, tracing and metrics settings.
  observabilityContextOf(app);
  const ecosystem = ecosystemContextOf(app);
  const planner = plannerContextOf(app);
  // Stack tags: CloudFormation copies them onto every resource that supports tags, nested stacks included.
  const tags = { [PROJECT_TAG.key]: PROJECT_TAG.value };

  const data = new DataStack(app, `${stackPrefix}Data`, {
    description: 'Serverless orchestrator: tables and generated secrets',
    retainData,
    generateSecrets: { jwtSecret: edge.auth.jwtSecret?.generate === true, adminApiKey: edge.auth.adminApiKey?.generate === true },
    tags,
  });
  // Workflow state machines are named `<stackPrefix>-<workflow_id>`, so each copy of the app runs its own.
  const runtime = new RuntimeStack(app, `${stackPrefix}Runtime`, {
    description: 'Serverless orchestrator: workflow runtime (state machine role, action runner, status listener, event bus, dead letters)',
    namePrefix: stackPrefix,
    workflowsTable: data.workflowsTable,
    executionsTable: data.executionsTable,
    registryTable: data.registryTable,
    eventsTable: data.eventsTable,
    subscriptionsTable: data.subscriptionsTable,
    spansTable: data.spansTable,
    healthCheckIntervalSeconds: readPositiveNumberContext(app, 'healthCheckInterval', DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS),
    openApiPollIntervalSeconds: readPositiveNumberContext(app, 'openApiPollInterval', DEFAULT_OPENAPI_POLL_INTERVAL_SECONDS),
    circuitPolicy: {
      failureThreshold: readOptionalPositiveNumberContext(app, 'circuitFailureThreshold'),
      windowSeconds: readOptionalPositiveNumberContext(app, 'circuitWindowSeconds'),
      cooldownSeconds: readOptionalPositiveNumberContext(app, 'circuitCooldownSeconds'),
    },
    outboundAllow: outboundAllowEntries(app.node.tryGetContext('outboundAllow')),
    serviceUrls: ecosystem.serviceUrls,
    jobSchedules: ecosystem.jobSchedules,
    tags,
  });
  const api = new ApiStack(app, `${stackPrefix}Api`, {
    description: 'Serverless orchestrator: REST API and its Lambdas',
    ...apiTableProps(data),
    auth: {
      mode: edge.auth.mode,
      anonymousRole: edge.auth.anonymousRole,
      auditRetentionDays: edge.auth.auditRetentionDays,
      ...definedOnly({
        jwksUrl: edge.auth.jwksUrl,
        jwtAlgorithms: edge.auth.jwtAlgorithms,
        jwtIssuer: edge.auth.jwtIssuer,
        jwtAudience: edge.auth.jwtAudience,
        jwtSecretArn: edge.auth.jwtSecret?.generate ? data.jwtSecret?.secretArn : edge.auth.jwtSecret?.arn,
        adminApiKeySecretArn: edge.auth.adminApiKey?.generate ? data.adminApiKeySecret?.secretArn : edge.auth.adminApiKey?.arn,
        peerTokenSecretArn: edge.auth.peerTokenSecretArn,
      }),
    },
    throttling: { rateLimit: edge.rateLimit.rps, burstLimit: edge.rateLimit.burst },
    ...(edge.wafRateLimit === undefined ? {} : { wafRateLimit: edge.wafRateLimit }),
    ...(edge.customDomain === undefined ? {} : { customDomain: edge.customDomain }),
    ...(edge.cors === undefined ? {} : { cors: edge.cors }),
    engine: runtime,
    probes: runtime,
    eventPublishing: runtime,
    eventDeliveries: runtime.eventDeliveries,
    deadLetterAccess: runtime,
    peerUrls: readPeersContext(app),
    outbound: runtime,
    ecosystem: { environment: proxyEnvironment(ecosystem), timeout: proxyFunctionTimeout(ecosystem) },
    schedules: runtime.schedules,
    jobs: runtime.schedules,
    planner: plannerModelAccess(planner),
    mcpServiceTools: readBooleanContext(app, 'mcpServiceTools', false),
    serviceVersion: packageJson.version,
    tags,
  });

  const consoleStack = readBooleanContext(app, 'console', true)
    ? new ConsoleStack(app, `${stackPrefix}Console`, {
        description: 'Serverless orchestrator: web console (S3, CloudFront; the API under /api/)',
        restApi: api.restApi,
        stage: api.stage,
        assetsDirectory: String(app.node.tryGetContext('consoleAssets') ?? join(import.meta.dirname, '..', 'dist', 'console')),
        retainData,
        tags,
      })
    : undefined;

  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  warnAboutAuth(api, edge.auth);
  return { data, api, runtime, ...(consoleStack ? { console: consoleStack } : {}) };
}

/** Settings that deploy fine but leave the API open to everyone, or to no one: said at synth time. */
function warnAboutAuth(api: ApiStack, auth: AuthContext): void {
  if (auth.mode === 'off') Annotations.of(api).addWarningV2('orchestrator:auth-off', 'authMode=off: every caller of the API is an admin, with no credential at all.');
  if (auth.mode === 'optional') Annotations.of(api).addWarningV2('orchestrator:auth-optional', `authMode=optional: callers without a credential get the role ${auth.anonymousRole}.`);
  const canVerifyAdmin = auth.jwtSecret !== undefined || auth.jwksUrl !== undefined || auth.adminApiKey !== undefined;
  const anonymousAdmins = auth.mode === 'off' || (auth.mode === 'optional' && auth.anonymousRole === 'admin');
  if (!anonymousAdmins && !canVerifyAdmin) {
    Annotations.of(api).addWarningV2(
      'orchestrator:no-admin-credential',
      'No credential source is configured (jwtSecret, jwtSecretArn, jwksUrl, adminApiKey, adminApiKeySecretArn): only managed API keys verify, and only an admin can create one. See README "Deploy to AWS" for the first admin credential.',
    );
  }
}

/** The entries whose value is set, so optional properties stay absent rather than `undefined`. */
function definedOnly<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

function readStackPrefix(app: App): string {
  const value: unknown = app.node.tryGetContext('stackPrefix') ?? DEFAULT_STACK_PREFIX;
  // Stack names allow letters, digits and hyphens, starting with a letter; keep room for the suffixes.
  if (typeof value !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,99}$/.test(value)) {
    throw new Error(`context stackPrefix must be letters, digits and hyphens, starting with a letter; got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `-c peers=https://a.example,https://b.example`: the peer orchestrators' base URLs, validated like ORCHESTRATOR_PEERS. */
function readPeersContext(app: App): string[] {
  const value: unknown = app.node.tryGetContext('peers');
  if (value === undefined) return [];
  const { urls, problems } = parsePeerUrls(Array.isArray(value) ? value.join(',') : String(value));
  if (problems.length > 0) throw new Error(`context peers: ${problems.join('; ')}`);
  return urls;
}

/** `-c key=90` arrives as the string '90'; cdk.json and tests may pass a number. */
function readPositiveNumberContext(app: App, key: string, defaultValue: number): number {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return defaultValue;
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number) || number <= 0) throw new Error(`context ${key} must be a positive number; got ${JSON.stringify(value)}`);
  return number;
}

/** A positive number when the context key is set, undefined otherwise (the runtime's default applies). */
function readOptionalPositiveNumberContext(app: App, key: string): number | undefined {
  return app.node.tryGetContext(key) === undefined ? undefined : readPositiveNumberContext(app, key, 1);
}

/** `-c key=false` arrives as the string 'false'; cdk.json and tests may pass a real boolean. */
function readBooleanContext(app: App, key: string, defaultValue: boolean): boolean {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return defaultValue;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context ${key} must be true or false; got ${JSON.stringify(value)}`);
}
