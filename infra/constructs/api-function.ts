import path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, Architecture, LoggingFormat, Runtime, SystemLogLevel, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root: the esbuild project root and where the lock file lives. */
const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** One Lambda entry file per route: `functions/entries/<kebab-case route name>.ts`. */
export const FUNCTION_ENTRIES_DIR = path.join(REPO_ROOT, 'functions', 'entries');

/**
 * Bundles are ESM, but some dependencies are CommonJS and call `require`; ESM has no `require`, so the
 * bundle defines one first.
 */
const CREATE_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface ApiFunctionProps {
  /** Absolute path of the entry file; it exports `handler`. */
  readonly entry: string;
  /** Shown in the Lambda console; at most 256 characters are kept. */
  readonly description: string;
  /** Added to the defaults (`NODE_OPTIONS`). */
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * The one place Lambda defaults live, so every API function is built the same way: Node 24 on arm64 (about
 * 20% cheaper per GB-second than x86_64; nothing here needs x86 binaries), a minified ESM bundle with source
 * maps and without the AWS SDK (the runtime ships it), X-Ray tracing, JSON logs in a log group with a
 * retention.
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
      timeout: Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      // Only sets an environment variable for the AWS SDK v2; v3 reuses connections by default.
      awsSdkConnectionReuse: false,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: CREATE_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        // Stack traces need the mappings, not a copy of the sources inside the bundle.
        sourcesContent: false,
        externalModules: ['@aws-sdk/*'],
        // esbuild is a devDependency: bundle locally, never in Docker.
        forceDockerBundling: false,
      },
    });

    // X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions, so Tracing.ACTIVE
    // has to grant them on '*'. Acknowledged on this role only; test/infra checks that X-Ray is the only
    // statement on '*'.
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; Tracing.ACTIVE grants them on *.',
    });
  }
}
