import { execFileSync } from 'node:child_process';
import { Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { SPAN_TABLE } from '../../adapters/aws/dynamo/span-table.ts';
import { readLambdaConfig } from '../../functions/config.ts';
import { routes, type RouteName, type RouteSpec } from '../../functions/routes.ts';
import { ApiFunction } from '../../infra/constructs/api-function.ts';
import { readObservabilityContext } from '../../infra/observability-context.ts';
import type { OrchestratorStacks } from '../../infra/orchestrator.ts';
import { readApiModel, type ApiModel } from './api-model.ts';
import { asRecord, buildOrchestratorApp, logicalIdOf, propertiesOf, refTarget, resourcesOfType, statementsOfRole, templateOf, type CfnTemplateJson, type StatementJson } from './fixture.ts';

/**
 * Observability in AWS (issue 13): the spans table, who may write and read it, and the logging, tracing and
 * metrics settings every Lambda gets from the context (infra/observability-context.ts).
 */

const routeEntries = Object.entries(routes) as Array<[RouteName, RouteSpec]>;
const TRACING_ROUTES: readonly RouteName[] = ['getTrace', 'getServiceTraces', 'getTracingStats'];
const SPAN_RECORDING = ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'];
const TABLE_READS = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'];

/** Context as the CLI passes it (strings), every observability key set. */
const CONFIGURED = {
  logLevel: 'DEBUG',
  tracing: 'false',
  metrics: 'false',
  otlpEndpoint: 'https://otel.example.com',
  logCollectorUrl: 'http://logs.internal:8080/ingest',
  spanRetentionDays: '3',
  commit: 'abc1234',
  buildTime: '2026-02-03T04:05:06+01:00',
};

/** One Lambda of the app, as deployed: its construct, template properties, environment and role's statements. */
interface DeployedLambda {
  readonly path: string;
  readonly apiFunction: ApiFunction;
  readonly properties: Record<string, unknown>;
  readonly environment: Record<string, unknown>;
  readonly statements: StatementJson[];
}

interface Synthesized {
  readonly stacks: OrchestratorStacks;
  readonly model: ApiModel;
  /** Every AWS::Lambda::Function of every template of the app, nested stacks included. */
  readonly lambdaCount: number;
  readonly lambdas: readonly DeployedLambda[];
}

function synthesize(context: Record<string, unknown>): Synthesized {
  const { app, ...stacks } = buildOrchestratorApp(context);
  const templates = new Map<Stack, CfnTemplateJson>();
  const templateFor = (stack: Stack): CfnTemplateJson => {
    const known = templates.get(stack);
    if (known !== undefined) return known;
    const template = templateOf(stack);
    templates.set(stack, template);
    return template;
  };
  const lambdas = app.node.findAll().flatMap((construct): DeployedLambda[] => {
    if (!(construct instanceof ApiFunction)) return [];
    const stack = Stack.of(construct);
    const template = templateFor(stack);
    const properties = propertiesOf(template.Resources[logicalIdOf(stack, construct.lambda)] ?? { Type: '' });
    const environment = asRecord(asRecord(properties['Environment'], 'Environment')['Variables'], 'Variables');
    return [{ path: construct.node.path, apiFunction: construct, properties, environment, statements: statementsOfRole(template, logicalIdOf(stack, construct.role)) }];
  });
  const everyStack = app.node.findAll().filter((construct): construct is Stack => Stack.isStack(construct));
  // CDK's own BucketDeployment function (it copies the console's files at deployment) runs no code of ours.
  const ours = ([logicalId]: readonly [string, unknown]) => !logicalId.startsWith('CustomCDKBucketDeployment');
  const lambdaCount = everyStack.reduce((count, stack) => count + resourcesOfType(templateFor(stack), 'AWS::Lambda::Function').filter(ours).length, 0);
  return { stacks, model: readApiModel(stacks), lambdaCount, lambdas };
}

/** The route function of `name`. */
function routeLambda(synthesized: Synthesized, name: RouteName): DeployedLambda {
  const apiFunction = synthesized.stacks.api.contextStacks.get(routes[name].context)?.functions.get(name);
  const deployed = synthesized.lambdas.find((lambda) => lambda.apiFunction === apiFunction);
  if (deployed === undefined) throw new Error(`no function for ${name}`);
  return deployed;
}

function git(...args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: import.meta.dirname, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

let plain: Synthesized;
let configured: Synthesized;
beforeAll(() => {
  plain = synthesize({});
  configured = synthesize(CONFIGURED);
}, 300_000);

describe('the spans table', () => {
  const spansTable = () => {
    const template = templateOf(plain.stacks.data);
    const table = template.Resources[logicalIdOf(plain.stacks.data, plain.stacks.data.spansTable)];
    if (table === undefined) throw new Error('no spans table in the data stack');
    return propertiesOf(table);
  };

  it('is in the data stack with the keys of its design: a trace is one item collection', () => {
    expect(spansTable()['KeySchema']).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });

  it('has the four sparse indexes by end time: service calls and windows, platform-wide and per tenant', () => {
    const indexes = (spansTable()['GlobalSecondaryIndexes'] as Array<Record<string, unknown>>).map((index) => ({ name: index['IndexName'], keys: index['KeySchema'] }));
    expect(indexes).toEqual(
      SPAN_TABLE.indexes.map((index) => ({
        name: index.indexName,
        keys: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
      })),
    );
    expect(indexes.map((index) => index.name)).toEqual(['service-by-end', 'tenant-service-by-end', 'window-by-end', 'tenant-window-by-end']);
  });

  it('expires spans by their TTL attribute (expires_at)', () => {
    expect(spansTable()['TimeToLiveSpecification']).toEqual({ AttributeName: 'expires_at', Enabled: true });
  });
});

describe('span recording', () => {
  const spansArn = () => `<${logicalIdOf(plain.stacks.data, plain.stacks.data.spansTable)}.Arn>`;
  const spansRef = () => `<Ref ${logicalIdOf(plain.stacks.data, plain.stacks.data.spansTable)}>`;
  const indexArns = () => SPAN_TABLE.indexes.map((index) => `${spansArn()}/index/${index.indexName}`);
  /** Actions of the statements naming `arns`. */
  const actionsOn = (lambda: DeployedLambda, arns: readonly string[]): string[] =>
    [...new Set(lambda.statements.filter((statement) => statement.Resource.map(plain.model.render).some((resource) => arns.includes(resource))).flatMap((statement) => statement.Action))].sort();
  const recorders = (): DeployedLambda[] => [
    ...routeEntries.map(([name]) => routeLambda(plain, name)),
    ...[plain.stacks.runtime.actionRunner, plain.stacks.runtime.statusListener].map((apiFunction) => plain.lambdas.find((lambda) => lambda.apiFunction === apiFunction)!),
  ];

  it('the route table declares reading spans on the three tracing routes only (or the tests below prove less)', () => {
    expect(routeEntries.filter(([, spec]) => spec.tables.spans !== undefined).map(([name, spec]) => `${name}:${spec.tables.spans}`).sort()).toEqual(TRACING_ROUTES.map((name) => `${name}:read`).sort());
  });

  it.each(routeEntries)('%s knows the spans table and its retention, and may record spans (and read them only if a tracing route)', (name) => {
    const lambda = routeLambda(plain, name);
    expect(plain.model.render(lambda.environment['SPANS_TABLE_NAME'])).toBe(spansRef());
    expect(lambda.environment['ORCHESTRATOR_SPAN_RETENTION_DAYS']).toBe('7');
    const reads = TRACING_ROUTES.includes(name);
    expect(actionsOn(lambda, [spansArn()])).toEqual(reads ? [...TABLE_READS, ...SPAN_RECORDING].sort() : SPAN_RECORDING);
    expect(actionsOn(lambda, indexArns())).toEqual(reads ? ['dynamodb:Query'] : []);
  });

  it.each([
    ['action runner', () => plain.stacks.runtime.actionRunner],
    ['status listener', () => plain.stacks.runtime.statusListener],
  ] as const)('the %s knows the spans table and its retention, and may record spans, not read them', (_name, of) => {
    const lambda = plain.lambdas.find((candidate) => candidate.apiFunction === of());
    if (lambda === undefined) throw new Error('not deployed');
    expect(plain.model.render(lambda.environment['SPANS_TABLE_NAME'])).toBe(spansRef());
    expect(lambda.environment['ORCHESTRATOR_SPAN_RETENTION_DAYS']).toBe('7');
    expect(actionsOn(lambda, [spansArn(), ...indexArns()])).toEqual(SPAN_RECORDING);
  });

  it('no other function knows the spans table or may touch it: the authorizer and the other workers', () => {
    const others = plain.lambdas.filter((lambda) => !recorders().includes(lambda));
    expect(others.map((lambda) => lambda.path).sort()).toEqual(
      [
        plain.stacks.api.authorizer!.function,
        plain.stacks.runtime.healthSweep,
        plain.stacks.runtime.openApiPoll,
        plain.stacks.runtime.workflowDeployer,
        plain.stacks.runtime.eventRecorder.recorder,
        plain.stacks.runtime.eventDeliveries.worker,
        // They start runs; the runs' spans are the status listener's.
        plain.stacks.runtime.schedules.scheduledRun,
        plain.stacks.runtime.schedules.jobRun,
      ]
        .map((apiFunction) => apiFunction.node.path)
        .sort(),
    );
    for (const lambda of others) {
      expect(lambda.environment['SPANS_TABLE_NAME'], lambda.path).toBeUndefined();
      expect(actionsOn(lambda, [spansArn(), ...indexArns()]), lambda.path).toEqual([]);
    }
  });

  it('no function may Scan, update or delete spans', () => {
    for (const lambda of recorders()) {
      for (const action of actionsOn(lambda, [spansArn(), ...indexArns()])) expect(action).toMatch(/^dynamodb:(GetItem|BatchGetItem|Query|PutItem|BatchWriteItem)$/);
    }
  });

  it('-c spanRetentionDays sets every recorder\'s retention', () => {
    const recorder = routeLambda(configured, 'getInfo');
    expect(recorder.environment['ORCHESTRATOR_SPAN_RETENTION_DAYS']).toBe('3');
  });
});

describe('every Lambda of the app', () => {
  it('is an ApiFunction (the one place Lambda defaults live), so the checks below cover them all', () => {
    expect(plain.lambdas.length).toBeGreaterThan(routeEntries.length);
    expect(plain.lambdas).toHaveLength(plain.lambdaCount);
  });

  it('by default: service orchestrator, namespace Orchestrator, LOG_LEVEL INFO, tracing and metrics on, no exporters', () => {
    for (const lambda of plain.lambdas) {
      expect(lambda.environment, lambda.path).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'orchestrator',
        POWERTOOLS_METRICS_NAMESPACE: 'Orchestrator',
        LOG_LEVEL: 'INFO',
        ORCHESTRATOR_TRACING_ENABLED: 'true',
        ORCHESTRATOR_METRICS_ENABLED: 'true',
      });
      expect(lambda.environment['OTEL_EXPORTER_OTLP_ENDPOINT'], lambda.path).toBeUndefined();
      expect(lambda.environment['LOG_COLLECTOR_URL'], lambda.path).toBeUndefined();
    }
  });

  it('traces with X-Ray and logs JSON at LOG_LEVEL (Lambda application level), system logs at WARN, in its own log group', () => {
    for (const configuration of [plain, configured]) {
      for (const lambda of configuration.lambdas) {
        expect(lambda.properties['TracingConfig'], lambda.path).toEqual({ Mode: 'Active' });
        const logging = asRecord(lambda.properties['LoggingConfig'], 'LoggingConfig');
        expect(logging, lambda.path).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: lambda.environment['LOG_LEVEL'], SystemLogLevel: 'WARN' });
        expect(refTarget(logging['LogGroup'], 'LogGroup')).toBeTruthy();
      }
    }
  });

  it('is told the commit it was built from and that commit\'s date (stable from one synth to the next), or `unknown` outside a checkout', () => {
    const head = git('rev-parse', 'HEAD');
    const date = head === undefined ? undefined : git('show', '-s', '--format=%cI', head);
    for (const lambda of plain.lambdas) {
      expect(lambda.environment['ORCHESTRATOR_COMMIT'], lambda.path).toBe(head ?? 'unknown');
      expect(lambda.environment['ORCHESTRATOR_BUILD_TIME'], lambda.path).toBe(date === undefined ? 'unknown' : new Date(date).toISOString());
    }
  });

  it('gets what -c logLevel, tracing, metrics, otlpEndpoint, logCollectorUrl, commit and buildTime say', () => {
    expect(configured.lambdas).toHaveLength(plain.lambdas.length);
    for (const lambda of configured.lambdas) {
      expect(lambda.environment, lambda.path).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'orchestrator',
        LOG_LEVEL: 'DEBUG',
        ORCHESTRATOR_TRACING_ENABLED: 'false',
        ORCHESTRATOR_METRICS_ENABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com',
        LOG_COLLECTOR_URL: 'http://logs.internal:8080/ingest',
        ORCHESTRATOR_COMMIT: 'abc1234',
        ORCHESTRATOR_BUILD_TIME: '2026-02-03T03:05:06.000Z',
      });
      expect(asRecord(lambda.properties['LoggingConfig'], 'LoggingConfig')['ApplicationLogLevel'], lambda.path).toBe('DEBUG');
    }
  });

  it('gets settings the Lambda configuration accepts, as the values the context meant', () => {
    const observed = (lambda: DeployedLambda) =>
      readLambdaConfig(Object.fromEntries(Object.entries(lambda.environment).filter((entry): entry is [string, string] => typeof entry[1] === 'string')));
    const defaults = observed(routeLambda(plain, 'getInfo'));
    expect(defaults).toMatchObject({ LOG_LEVEL: 'INFO', ORCHESTRATOR_TRACING_ENABLED: true, ORCHESTRATOR_METRICS_ENABLED: true, ORCHESTRATOR_SPAN_RETENTION_DAYS: 7, POWERTOOLS_SERVICE_NAME: 'orchestrator' });
    const set = observed(routeLambda(configured, 'getInfo'));
    expect(set).toMatchObject({
      LOG_LEVEL: 'DEBUG',
      ORCHESTRATOR_TRACING_ENABLED: false,
      ORCHESTRATOR_METRICS_ENABLED: false,
      ORCHESTRATOR_SPAN_RETENTION_DAYS: 3,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com',
      LOG_COLLECTOR_URL: 'http://logs.internal:8080/ingest',
    });
  });
});

describe('invalid observability context', () => {
  it.each([
    ['logLevel', 'LOUD'],
    ['logLevel', 'TRACE'],
    ['otlpEndpoint', 'ftp://x'],
    ['otlpEndpoint', 'otel.example.com'],
    ['logCollectorUrl', 'file:///var/log'],
    ['tracing', 'yes'],
    ['metrics', 'off'],
    ['spanRetentionDays', '0'],
    ['spanRetentionDays', 'a week'],
    ['commit', '--output=/tmp/x'],
    ['buildTime', 'yesterday'],
    ['buildTime', '2026-01-31'],
  ])('-c %s=%s fails synthesis, naming the key', (key, value) => {
    expect(() => buildOrchestratorApp({ [key]: value })).toThrow(new RegExp(`context ${key}\\b`));
  });
});

describe('readObservabilityContext', () => {
  const reader = (values: Record<string, string>) => (key: string) => values[key];

  it('accepts a level in any case, and the values of cdk.json (booleans, numbers) as the CLI\'s strings', () => {
    const git = () => undefined;
    expect(readObservabilityContext(reader({ logLevel: 'warn' }), git).logLevel).toBe('WARN');
    const fromJson = (values: Record<string, unknown>) => (key: string) => (values[key] === undefined ? undefined : String(values[key]));
    expect(readObservabilityContext(fromJson({ tracing: false, metrics: true, spanRetentionDays: 14 }), git)).toMatchObject({ tracing: false, metrics: true, spanRetentionDays: 14 });
  });

  it('asks git for HEAD and its date only when the context does not say, and for the date of the commit the context names', () => {
    const calls: string[] = [];
    const git = (args: readonly string[]) => {
      calls.push(args.join(' '));
      return args[0] === 'rev-parse' ? 'f00dfeed' : '2026-03-04T05:06:07+02:00';
    };
    expect(readObservabilityContext(reader({}), git)).toMatchObject({ commit: 'f00dfeed', buildTime: '2026-03-04T03:06:07.000Z' });
    expect(calls).toEqual(['rev-parse HEAD', 'show -s --format=%cI f00dfeed --']);
    calls.length = 0;
    expect(readObservabilityContext(reader({ commit: 'cafe123' }), git)).toMatchObject({ commit: 'cafe123', buildTime: '2026-03-04T03:06:07.000Z' });
    expect(calls).toEqual(['show -s --format=%cI cafe123 --']);
    calls.length = 0;
    expect(readObservabilityContext(reader({ commit: 'cafe123', buildTime: '2026-01-01T00:00:00Z' }), git)).toMatchObject({ commit: 'cafe123', buildTime: '2026-01-01T00:00:00.000Z' });
    expect(calls).toEqual([]);
  });

  it('says `unknown` without git (an exported tree, no git installed)', () => {
    expect(readObservabilityContext(reader({}), () => undefined)).toMatchObject({ commit: 'unknown', buildTime: 'unknown' });
  });
});
