import path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, Architecture, LoggingFormat, Runtime, SystemLogLevel, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_BUNDLING, LAMBDA_NODE_OPTIONS } from './bundling.ts';
import { grantSpanRecording } from './table-access.ts';
import { observabilityContextOf, observabilityEnvironment, type LogLevel } from '../observability-context.ts';

/** The repository root: the esbuild project root and where the lock file lives. */
const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** One Lambda entry file per route: `functions/entries/<kebab-case route name>.ts`. */
export const FUNCTION_ENTRIES_DIR = path.join(REPO_ROOT, 'functions', 'entries');

const OUTPUT_FORMATS = { esm: OutputFormat.ESM, cjs: OutputFormat.CJS } as const;
/** esbuild's `--sourcemap` with no value is `linked`: CDK calls that mode DEFAULT. */
const SOURCE_MAP_MODES = { linked: SourceMapMode.DEFAULT, external: SourceMapMode.EXTERNAL, inline: SourceMapMode.INLINE, both: SourceMapMode.BOTH } as const;

/**
 * LAMBDA_BUNDLING (plain data, shared with the benchmark) in NodejsFunction's terms. Every field is mapped
 * explicitly: a field added there without a mapping here fails the typecheck (`unmapped` must be empty)
 * rather than being silently ignored by CDK.
 */
function toBundlingOptions(bundling: typeof LAMBDA_BUNDLING): BundlingOptions {
  const { format, platform, target, mainFields, banner, minify, sourcemap, sourcesContent, external, ...unmapped } = bundling;
  const _everyFieldMapped: Record<string, never> = unmapped;
  // NodejsFunction always passes --platform=node; the data says so too, and must keep saying it.
  const _nodePlatform: 'node' = platform;
  return {
    format: OUTPUT_FORMATS[format],
    target,
    mainFields: [...mainFields],
    banner,
    minify,
    sourceMap: true,
    sourceMapMode: SOURCE_MAP_MODES[sourcemap],
    sourcesContent,
    externalModules: [...external],
    // esbuild is a devDependency: bundle locally, never in Docker.
    forceDockerBundling: false,
  };
}

/** LOG_LEVEL's level as Lambda's application log level: Lambda drops JSON log lines below it. */
const APPLICATION_LOG_LEVELS: Readonly<Record<LogLevel, ApplicationLogLevel>> = {
  DEBUG: ApplicationLogLevel.DEBUG,
  INFO: ApplicationLogLevel.INFO,
  WARN: ApplicationLogLevel.WARN,
  ERROR: ApplicationLogLevel.ERROR,
};

/** A function's timeout unless it says otherwise: below API Gateway's 29 s integration timeout. */
export const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 10;

/** The bundling options of every API function. */
export const API_FUNCTION_BUNDLING: BundlingOptions = toBundlingOptions(LAMBDA_BUNDLING);

export interface ApiFunctionProps {
  /** Absolute path of the entry file; it exports `handler`. */
  readonly entry: string;
  /** Shown in the Lambda console; at most 256 characters are kept. */
  readonly description: string;
  /** Added to the defaults (`NODE_OPTIONS` and the observability settings). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * The spans table, for a function that records spans (functions/aws-observability.ts): it gets the table's
   * name and the spans' retention (SPANS_TABLE_NAME, ORCHESTRATOR_SPAN_RETENTION_DAYS) and may write spans
   * (BatchWriteItem, PutItem), nothing else; reading them is granted like any table a route declares.
   */
  readonly spansTable?: ITable;
  /** @default 10 seconds, below API Gateway's integration timeout; workers that are not behind the API may need longer. */
  readonly timeout?: Duration;
  /**
   * A fixed name, for a function whose ARN must be known without referring to the function itself (its own
   * environment, or a policy the function depends on). @default a name CloudFormation generates
   */
  readonly functionName?: string;
  /**
   * Why the function is also granted something else on '*' (besides X-Ray): said in the same cdk-nag
   * acknowledgement, which is one per rule and role.
   */
  readonly otherWildcardGrant?: string;
}

/**
 * The one place Lambda defaults live, so every API function is built the same way: Node 24 on arm64 (about
 * 20% cheaper per GB-second than x86_64; nothing here needs x86 binaries), a minified ESM bundle with source
 * maps and without the AWS SDK (the runtime ships it), X-Ray tracing, JSON logs in a log group with a
 * retention, and the observability settings of the deployment's context (infra/observability-context.ts:
 * LOG_LEVEL, which is also Lambda's application log level, the tracing and metrics switches, the exporters,
 * the commit and build time).
 *
 * Each function gets its own role with no managed policy: it may write its own log group, send traces, and
 * nothing else until the caller grants more (see `grantTableAccess`).
 */
export class ApiFunction extends Construct {
  readonly entry: string;
  readonly lambda: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ApiFunctionProps) {
    super(scope, id);
    this.entry = props.entry;
    const observability = observabilityContextOf(this);

    // An explicit log group instead of the one Lambda would create on first invocation: it gets a retention
    // (logs do not pile up forever) and belongs to the stack. It is kept when the stack is deleted, so the
    // last month of logs is still there to investigate whatever went wrong.
    this.logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH });

    // A role of our own rather than the default one, which carries the AWS-managed
    // AWSLambdaBasicExecutionRole (logs:* on every log group in the account).
    this.role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    this.logGroup.grantWrite(this.role);

    this.lambda = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description.slice(0, 256),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      // More memory buys proportionally more CPU: cold starts (parsing the bundle, zod schemas) finish
      // sooner, and at API request rates the price difference is negligible.
      memorySize: 1024,
      // Below API Gateway's 29 s integration timeout, so a stuck call fails as a Lambda error that is
      // logged and traced, rather than as an anonymous 504.
      timeout: props.timeout ?? Duration.seconds(DEFAULT_FUNCTION_TIMEOUT_SECONDS),
      ...(props.functionName === undefined ? {} : { functionName: props.functionName }),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: APPLICATION_LOG_LEVELS[observability.logLevel],
      systemLogLevelV2: SystemLogLevel.WARN,
      environment: {
        NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
        ...observabilityEnvironment(observability),
        ...(props.spansTable === undefined ? {} : { SPANS_TABLE_NAME: props.spansTable.tableName, ORCHESTRATOR_SPAN_RETENTION_DAYS: String(observability.spanRetentionDays) }),
        ...props.environment,
      },
      // Only sets an environment variable for the AWS SDK v2; v3 reuses connections by default.
      awsSdkConnectionReuse: false,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      bundling: API_FUNCTION_BUNDLING,
    });
    if (props.spansTable !== undefined) grantSpanRecording(props.spansTable, this.lambda);

    // X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions, so Tracing.ACTIVE
    // has to grant them on '*'. Acknowledged on this role only; test/infra checks that X-Ray (and, where a
    // function declares it, that other grant) is all that is on '*'.
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; Tracing.ACTIVE grants them on *.${props.otherWildcardGrant ? ` ${props.otherWildcardGrant}` : ''}`,
    });
  }
}
