import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { routes, type RouteName, type RouteSpec } from '../../../functions/routes.ts';
import { assertDeployedRouteEnvironment, assertRouteEnvironment, requiredEnvironment, RouteEnvironmentError } from '../../../functions/route-environment.ts';
import { LAMBDA_SETTING_NAMES, readLambdaConfig } from '../../../functions/config.ts';
import { ENGINE_ENVIRONMENT } from '../../../adapters/aws/stepfunctions/config.ts';
import { tableEnvironmentVariable, type TableName } from '../../../infra/stacks/context-routes-stack.ts';

const routeEntries = Object.entries(routes) as Array<[RouteName, RouteSpec]>;

/** A value every variable's schema accepts, as CDK would set it. */
function sampleValue(variable: string): string {
  if (variable === 'ORCHESTRATOR_CURSOR_SECRET') return 'c'.repeat(64);
  if (variable === 'EVENT_DELIVERY_QUEUE_ARN') return 'arn:aws:sqs:us-east-1:123456789012:deliveries';
  if (variable.endsWith('_QUEUE_URL')) return 'https://sqs.us-east-1.amazonaws.com/123456789012/queue';
  if (variable === ENGINE_ENVIRONMENT.account) return '123456789012';
  if (variable === ENGINE_ENVIRONMENT.executionRoleArn) return 'arn:aws:iam::123456789012:role/run';
  if (variable === ENGINE_ENVIRONMENT.logGroupArn) return 'arn:aws:logs:us-east-1:123456789012:log-group:runs:*';
  if (variable === ENGINE_ENVIRONMENT.actionRunnerFunctionArn) return 'arn:aws:lambda:us-east-1:123456789012:function:runner';
  if (variable === 'SCHEDULED_RUN_FUNCTION_ARN') return 'arn:aws:lambda:us-east-1:123456789012:function:scheduled-run';
  if (variable === 'SCHEDULER_ROLE_ARN') return 'arn:aws:iam::123456789012:role/scheduler';
  return 'Orch-value';
}

function environmentFor(route: RouteSpec): Record<string, string> {
  return Object.fromEntries(requiredEnvironment(route).map((variable) => [variable, sampleValue(variable)]));
}

describe('what each route function requires of its environment', () => {
  it.each(routeEntries)('%s: the audit table, the cursor key, and the table variable of each table it declares, named as infra names them', (_name, route) => {
    const required = requiredEnvironment(route);
    expect(required).toContain('AUDIT_TABLE_NAME');
    expect(required).toContain('ORCHESTRATOR_CURSOR_SECRET');
    for (const [table, access] of Object.entries(route.tables) as Array<[TableName, string | undefined]>) {
      if (access !== undefined) expect(required).toContain(tableEnvironmentVariable(table));
    }
    const tableVariables = required.filter((variable) => variable.endsWith('_TABLE_NAME'));
    const declared = (Object.entries(route.tables) as Array<[TableName, string | undefined]>).filter(([, access]) => access !== undefined).map(([table]) => tableEnvironmentVariable(table));
    // The proxies resolve services in the registry (their `ecosystem` declaration), beside their tables.
    const implied = route.ecosystem ? [tableEnvironmentVariable('registry')] : [];
    expect(tableVariables.sort()).toEqual([...new Set([...declared, ...implied, 'AUDIT_TABLE_NAME'])].sort());
  });

  it.each(routeEntries)('%s: only variables the Lambda configuration knows', (_name, route) => {
    for (const variable of requiredEnvironment(route)) expect(LAMBDA_SETTING_NAMES).toContain(variable);
  });

  it('asks engine routes for every variable the Step Functions engine parses, and others for none of them', () => {
    for (const [, route] of routeEntries) {
      const engineVariables = requiredEnvironment(route).filter((variable) => (Object.values(ENGINE_ENVIRONMENT) as string[]).includes(variable) && variable !== ENGINE_ENVIRONMENT.eventBusName && variable !== ENGINE_ENVIRONMENT.deadLetterQueueUrl);
      expect(engineVariables.length).toBe(route.engine ? Object.keys(ENGINE_ENVIRONMENT).length - 2 : 0);
    }
  });

  it('asks the probing, publishing, subscription and dead-letter routes for their queue and bus variables', () => {
    expect(requiredEnvironment(routes.systemHealth)).toEqual(expect.arrayContaining(['WORKFLOW_DEAD_LETTER_QUEUE_URL', 'WORKFLOW_EVENT_BUS_NAME']));
    expect(requiredEnvironment(routes.createEventSubscription)).toEqual(expect.arrayContaining(['WORKFLOW_EVENT_BUS_NAME', 'EVENT_DELIVERY_QUEUE_ARN', 'SUBSCRIPTION_RULE_PREFIX']));
    expect(requiredEnvironment(routes.retryDeadLetters)).toEqual(
      expect.arrayContaining(['WORKFLOW_DEAD_LETTER_QUEUE_URL', 'DEPLOY_DEAD_LETTER_QUEUE_URL', 'EVENT_DELIVERY_DEAD_LETTER_QUEUE_URL', 'EVENT_DELIVERY_QUEUE_URL']),
    );
    expect(requiredEnvironment(routes.getInfo)).toEqual(['AUDIT_TABLE_NAME', 'ORCHESTRATOR_CURSOR_SECRET']);
  });
});

describe('the cold-start check of a route function', () => {
  it.each(routeEntries)('%s starts with exactly its required variables, as strings or as the validated configuration', (name, route) => {
    const env = environmentFor(route);
    expect(() => assertRouteEnvironment(name, env)).not.toThrow();
    expect(() => assertRouteEnvironment(name, readLambdaConfig(env))).not.toThrow();
  });

  it('names every missing variable with the reason the route needs it, in one error', () => {
    const env = environmentFor(routes.getTrace);
    delete env['SPANS_TABLE_NAME'];
    env['AUDIT_TABLE_NAME'] = '';
    expect(() => assertRouteEnvironment('getTrace', env)).toThrow(
      new RouteEnvironmentError('getTrace', ['AUDIT_TABLE_NAME is required (every route appends to the audit trail)', 'SPANS_TABLE_NAME is required (the route reads the spans table)']),
    );
    expect(() => assertRouteEnvironment('getTrace', env)).toThrow(
      'invalid configuration for route getTrace: AUDIT_TABLE_NAME is required (every route appends to the audit trail); SPANS_TABLE_NAME is required (the route reads the spans table)',
    );
  });

  it('names a variable whose value the configuration refuses', () => {
    const env = { ...environmentFor(routes.systemHealth), WORKFLOW_DEAD_LETTER_QUEUE_URL: 'not a url', ORCHESTRATOR_CURSOR_SECRET: 'short' };
    let error: unknown;
    try {
      assertRouteEnvironment('systemHealth', env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RouteEnvironmentError);
    expect((error as RouteEnvironmentError).problems).toEqual([expect.stringMatching(/^ORCHESTRATOR_CURSOR_SECRET: .*at least 32 characters/), expect.stringMatching(/^WORKFLOW_DEAD_LETTER_QUEUE_URL: /)]);
  });

  it('refuses a route name the route table does not have', () => {
    expect(() => assertRouteEnvironment('toString', {})).toThrow('invalid configuration for route toString: toString is not a route of the route table');
  });

  it('checks the route ORCHESTRATOR_ROUTE names, and nothing when it is unset (workers, the authorizer)', () => {
    expect(() => assertDeployedRouteEnvironment(readLambdaConfig({}))).not.toThrow();
    expect(() => assertDeployedRouteEnvironment(readLambdaConfig({ ORCHESTRATOR_ROUTE: 'getTrace' }))).toThrow(/^invalid configuration for route getTrace: AUDIT_TABLE_NAME is required/);
    expect(() => assertDeployedRouteEnvironment(readLambdaConfig({ ...environmentFor(routes.getTrace), ORCHESTRATOR_ROUTE: 'getTrace' }))).not.toThrow();
  });

  it("stops a route function's cold start (importing its entry) when its environment lacks what the route needs", async () => {
    const { SPANS_TABLE_NAME: _spans, ...withoutSpans } = environmentFor(routes.getTrace);
    const { code, stderr } = await importEntry('get-trace', { ...withoutSpans, ORCHESTRATOR_ROUTE: 'getTrace' });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/invalid configuration for route getTrace: SPANS_TABLE_NAME is required \(the route reads the spans table\)/);
    // With everything it needs, the entry loads (nothing is called: building the clients is all init does).
    expect((await importEntry('get-trace', { ...environmentFor(routes.getTrace), ORCHESTRATOR_ROUTE: 'getTrace' })).code).toBe(0);
  });
});

/** Imports a route entry in a fresh Node process, as Lambda does at a cold start, with only `env` (and a region). */
function importEntry(entry: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const entryUrl = pathToFileURL(join(import.meta.dirname, '../../../functions/entries', `${entry}.ts`)).href;
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(entryUrl)});`], { env: { PATH: process.env['PATH'] ?? '', AWS_REGION: 'us-east-1', ...env }, timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') reject(error);
      else resolve({ code: error === null ? 0 : (error.code as number), stderr });
    });
    child.stdin?.end();
  });
}
