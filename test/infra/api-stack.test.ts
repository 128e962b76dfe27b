import { existsSync } from 'node:fs';
import path from 'node:path';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { EXECUTION_TABLE } from '../../adapters/aws/dynamo/execution-table.ts';
import { REGISTRY_TABLE } from '../../adapters/aws/dynamo/registry-table.ts';
import { API_KEY_TABLE, AUDIT_TABLE } from '../../adapters/aws/dynamo/security-tables.ts';
import { WORKFLOW_TABLE, type TableDesign } from '../../adapters/aws/dynamo/workflow-table.ts';
import { EVENT_TABLE } from '../../adapters/aws/dynamo/event-table.ts';
import { SUBSCRIPTION_TABLE } from '../../adapters/aws/dynamo/subscription-table.ts';
import { SPAN_TABLE } from '../../adapters/aws/dynamo/span-table.ts';
import { readLambdaConfig } from '../../functions/config.ts';
import { entryFileName, routes, type RouteName, type RouteSpec } from '../../functions/routes.ts';
import packageJson from '../../package.json' with { type: 'json' };
import { nestedStackParameters, readApiModel, type DeployedFunction, type DeployedMethod } from './api-model.ts';
import { tableEnvironmentVariable, type TableName } from '../../infra/stacks/context-routes-stack.ts';
import { DEFAULT_PROXY_TIMEOUT_SECONDS, PROXY_TIMEOUT_MARGIN_SECONDS } from '../../infra/ecosystem-context.ts';
import { asRecord, buildOrchestratorApp, logicalIdOf, propertiesOf, refTarget, resourcesOfType, templateOf } from './fixture.ts';

const stacks = buildOrchestratorApp();
const model = readApiModel(stacks);
const routeEntries = Object.entries(routes) as Array<[RouteName, RouteSpec]>;
const ENTRIES_DIR = path.resolve(import.meta.dirname, '../../functions/entries');

const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

/** Each table routes may declare, as the deployed templates name it. */
interface DeployedTable {
  readonly name: TableName;
  readonly logicalId: string;
  readonly arn: string;
  readonly indexArns: readonly string[];
  /** The environment variable that gives a function the table's name. */
  readonly variable: string;
}
const deployedTable = (name: TableName, table: Table, design: TableDesign): DeployedTable => {
  const logicalId = logicalIdOf(stacks.data, table);
  const arn = `<${logicalId}.Arn>`;
  return { name, logicalId, arn, indexArns: design.indexes.map((index) => `${arn}/index/${index.indexName}`), variable: tableEnvironmentVariable(name) };
};
/** The tables routes declare access to, each granted only where declared. */
const TABLES: readonly DeployedTable[] = [
  deployedTable('workflows', stacks.data.workflowsTable, WORKFLOW_TABLE),
  deployedTable('registry', stacks.data.registryTable, REGISTRY_TABLE),
  deployedTable('executions', stacks.data.executionsTable, EXECUTION_TABLE),
  deployedTable('apiKeys', stacks.data.apiKeysTable, API_KEY_TABLE),
  deployedTable('events', stacks.data.eventsTable, EVENT_TABLE),
  deployedTable('subscriptions', stacks.data.subscriptionsTable, SUBSCRIPTION_TABLE),
];
/** The audit trail: every route may append to it; reading it is declared (GET /audit). */
const AUDIT = deployedTable('audit', stacks.data.auditTable, AUDIT_TABLE);
/** Recorded spans: every route records its requests in it; reading them is declared (the tracing routes). */
const SPANS = deployedTable('spans', stacks.data.spansTable, SPAN_TABLE);
const EVERY_TABLE = [...TABLES, AUDIT, SPANS];
const AUDIT_APPEND = ['dynamodb:PutItem', 'dynamodb:UpdateItem'];
const SPAN_RECORDING = ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'];

function methodOf(spec: RouteSpec): DeployedMethod {
  const matches = model.methods.filter((method) => method.httpMethod === spec.method && method.path === spec.path);
  expect(matches, `${spec.method} ${spec.path}`).toHaveLength(1);
  const [method] = matches;
  if (method === undefined) throw new Error('unreachable');
  return method;
}

function functionOf(name: RouteName): DeployedFunction {
  const method = methodOf(routes[name]);
  const deployed = model.functions.find((candidate) => candidate.logicalId === method.functionId && candidate.template === method.template);
  if (deployed === undefined) throw new Error(`${name}: integrated function ${method.functionId} is not in its context's template`);
  return deployed;
}

function dynamoActions(deployed: DeployedFunction): string[] {
  return deployed.statements.flatMap((statement) => statement.Action).filter((action) => action.startsWith('dynamodb:'));
}

function environmentOf(deployed: DeployedFunction): Record<string, unknown> {
  return asRecord(asRecord(deployed.properties['Environment'], 'Environment')['Variables'], 'Variables');
}

describe('every route of the route table', () => {
  it('has exactly one API method, with its HTTP method and path, and no method exists without a route', () => {
    const deployed = model.methods.map((method) => `${method.httpMethod} ${method.path}`).sort();
    const declared = routeEntries.map(([, spec]) => `${spec.method} ${spec.path}`).sort();
    expect(deployed).toEqual(declared);
  });

  it.each(routeEntries)('%s lives in the nested stack of its bounded context', (_name, spec) => {
    expect(methodOf(spec).context).toBe(spec.context);
  });

  it('has a Lambda of its own: one function per route, each method integrating a different one', () => {
    expect(model.functions).toHaveLength(routeEntries.length);
    const integrated = new Set(model.methods.map((method) => `${method.context}/${method.functionId}`));
    expect(integrated.size).toBe(routeEntries.length);
  });

  it.each(routeEntries)('%s integrates, as a Lambda proxy, the function built from its own entry file', (name, spec) => {
    const method = methodOf(spec);
    const integration = asRecord(method.properties['Integration'], 'Integration');
    expect(integration['Type']).toBe('AWS_PROXY');
    expect(integration['IntegrationHttpMethod']).toBe('POST');

    const contextStack = stacks.api.contextStacks.get(spec.context);
    const apiFunction = contextStack?.functions.get(name);
    if (contextStack === undefined || apiFunction === undefined) throw new Error(`${name}: no function construct`);
    const cfnFunction = apiFunction.lambda.node.defaultChild;
    if (!(cfnFunction instanceof CfnFunction)) throw new Error(`${name}: no AWS::Lambda::Function`);
    expect(method.functionId).toBe(contextStack.getLogicalId(cfnFunction));
    expect(apiFunction.entry).toBe(path.join(ENTRIES_DIR, entryFileName(name)));
    expect(existsSync(apiFunction.entry), `${apiFunction.entry} exists`).toBe(true);
  });

  it.each(routeEntries)('%s declares its path parameters to the request validator', (_name, spec) => {
    const method = methodOf(spec);
    const expected = Object.fromEntries([...spec.path.matchAll(/\{([^}]+)\}/g)].map((match) => [`method.request.path.${match[1] ?? ''}`, true]));
    expect(method.properties['RequestParameters'] ?? {}).toEqual(expected);
    const validators = resourcesOfType(model.parent, 'AWS::ApiGateway::RequestValidator');
    expect(validators).toHaveLength(1);
    const [validatorId, validator] = validators[0] ?? ['', { Type: '' }];
    expect(propertiesOf(validator)).toMatchObject({ ValidateRequestBody: true, ValidateRequestParameters: true });
    const parameters = nestedStackParameters(model.parent, logicalIdOf(stacks.api, stacks.api.contextStacks.get(spec.context)?.nestedStackResource));
    expect(parameters[refTarget(method.properties['RequestValidatorId'], 'RequestValidatorId')]).toEqual({ Ref: validatorId });
  });
});

describe('every API function', () => {
  it.each(routeEntries)('%s: Node.js 24 on arm64, X-Ray active, JSON logs in its own log group kept one month', (name) => {
    const deployed = functionOf(name);
    const properties = deployed.properties;
    expect(properties['Runtime']).toBe('nodejs24.x');
    expect(properties['Architectures']).toEqual(['arm64']);
    expect(properties['TracingConfig']).toEqual({ Mode: 'Active' });
    expect(properties['Handler']).toBe('index.handler');
    expect(properties['MemorySize']).toBe(1024);
    // Must fail before API Gateway's 29 s integration timeout does; a proxy outlives its own budget instead
    // (infra/ecosystem-context.ts proxyFunctionTimeout: 30 s and 5 s more by default; ecosystem.test.ts).
    if (!(routes[name] as RouteSpec).ecosystem) expect(Number(properties['Timeout'])).toBeLessThan(29);
    else expect(Number(properties['Timeout'])).toBe(DEFAULT_PROXY_TIMEOUT_SECONDS + PROXY_TIMEOUT_MARGIN_SECONDS);

    const logging = asRecord(properties['LoggingConfig'], 'LoggingConfig');
    expect(logging['LogFormat']).toBe('JSON');
    const logGroup = deployed.template.Resources[refTarget(logging['LogGroup'], 'LogGroup')];
    expect(logGroup?.Type).toBe('AWS::Logs::LogGroup');
    expect(propertiesOf(logGroup ?? { Type: '' })['RetentionInDays']).toBe(30);

    const environment = environmentOf(deployed);
    expect(environment['NODE_OPTIONS']).toBe('--enable-source-maps');
    expect(environment['SERVICE_VERSION']).toBe(packageJson.version);
    // The security settings (functions/config.ts): how the route check treats anonymous callers, and the
    // audit records' retention. Defaults: authentication required, anonymous callers (optional mode) viewers.
    expect(environment).toMatchObject({ ORCHESTRATOR_AUTH_MODE: 'required', ORCHESTRATOR_ANONYMOUS_ROLE: 'viewer', ORCHESTRATOR_AUDIT_RETENTION_DAYS: '365' });
  });

  it('each has a log group of its own', () => {
    const logGroups = model.functions.map((deployed) => `${deployed.context}/${refTarget(asRecord(deployed.properties['LoggingConfig'], 'LoggingConfig')['LogGroup'], 'LogGroup')}`);
    expect(new Set(logGroups).size).toBe(model.functions.length);
  });
});

describe('least privilege', () => {
  it.each(routeEntries)('%s runs under a role of its own, without managed or inline policies', (name) => {
    const deployed = functionOf(name);
    const role = propertiesOf(deployed.role);
    expect(role['ManagedPolicyArns']).toBeUndefined();
    expect(role['Policies']).toBeUndefined();
    const sharingTheRole = model.functions.filter((other) => other.template === deployed.template && JSON.stringify(other.properties['Role']) === JSON.stringify(deployed.properties['Role']));
    expect(sharingTheRole).toHaveLength(1);
  });

  it.each(routeEntries)('%s may write its own log group and send traces', (name) => {
    const deployed = functionOf(name);
    const logGroupId = refTarget(asRecord(deployed.properties['LoggingConfig'], 'LoggingConfig')['LogGroup'], 'LogGroup');
    const logStatements = deployed.statements.filter((statement) => statement.Action.some((action) => action.startsWith('logs:')));
    expect(logStatements.flatMap((statement) => statement.Action).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(logStatements.flatMap((statement) => statement.Resource).map(model.render)).toEqual([`<${logGroupId}.Arn>`]);
  });

  /** Routes and the tables they declare: every table behaves the same way, so each one is checked alike. */
  const declaredTables = (spec: RouteSpec): TableName[] => (Object.keys(spec.tables) as TableName[]).filter((table) => spec.tables[table] !== undefined);
  // The proxies declare no table but resolve services in the registry, as the action runner does (checked below).
  const noTableRoutes = routeEntries.filter(([, spec]) => declaredTables(spec).length === 0 && !spec.ecosystem);

  it('the route table has routes without tables, and routes of every kind of access to every table (or these tests would prove nothing)', () => {
    expect(noTableRoutes.length).toBeGreaterThan(0);
    for (const table of TABLES) {
      expect(routeEntries.filter(([, spec]) => spec.tables[table.name] === 'read').length, `${table.name} read`).toBeGreaterThan(0);
      expect(routeEntries.filter(([, spec]) => spec.tables[table.name] === 'write').length, `${table.name} write`).toBeGreaterThan(0);
    }
  });

  it('names each table the way functions/config.ts reads it (camelCase becomes SNAKE_CASE)', () => {
    expect(EVERY_TABLE.map((table) => table.variable)).toEqual(['WORKFLOWS_TABLE_NAME', 'REGISTRY_TABLE_NAME', 'EXECUTIONS_TABLE_NAME', 'API_KEYS_TABLE_NAME', 'EVENTS_TABLE_NAME', 'SUBSCRIPTIONS_TABLE_NAME', 'AUDIT_TABLE_NAME', 'SPANS_TABLE_NAME']);
    const config = readLambdaConfig(Object.fromEntries(EVERY_TABLE.map((table) => [table.variable, `${table.name}-table`])));
    expect([config.WORKFLOWS_TABLE_NAME, config.REGISTRY_TABLE_NAME, config.EXECUTIONS_TABLE_NAME, config.API_KEYS_TABLE_NAME, config.EVENTS_TABLE_NAME, config.SUBSCRIPTIONS_TABLE_NAME, config.AUDIT_TABLE_NAME, config.SPANS_TABLE_NAME]).toEqual(
      EVERY_TABLE.map((table) => `${table.name}-table`),
    );
  });

  it.each(noTableRoutes)('%s (no table declared) may only append to the audit trail and record spans, and knows no other table', (name) => {
    const deployed = functionOf(name);
    expect([...new Set(dynamoActions(deployed))].sort()).toEqual([...new Set([...AUDIT_APPEND, ...SPAN_RECORDING])].sort());
    expect(Object.keys(environmentOf(deployed)).filter((variable) => variable.endsWith('_TABLE_NAME')).sort()).toEqual([AUDIT.variable, SPANS.variable].sort());
  });

  describe('the audit table', () => {
    const auditReaders = routeEntries.filter(([, spec]) => spec.tables.audit !== undefined);
    const actionsOn = (deployed: DeployedFunction, arns: readonly string[]): string[] =>
      deployed.statements.filter((statement) => statement.Resource.map(model.render).some((resource) => arns.includes(resource))).flatMap((statement) => statement.Action);

    it('is read by GET /audit only, which only reads it (the route table says so, or the tests below prove less)', () => {
      expect(auditReaders.map(([, spec]) => `${spec.method} ${spec.path}:${spec.tables.audit}`)).toEqual(['GET /audit:read']);
    });

    it.each(routeEntries)('%s knows its name and may append to it (PutItem, UpdateItem), never delete', (name, spec) => {
      const deployed = functionOf(name);
      expect(model.render(environmentOf(deployed)[AUDIT.variable])).toBe(`<Ref ${AUDIT.logicalId}>`);
      const onTable = actionsOn(deployed, [AUDIT.arn]);
      const reads = spec.tables.audit === 'read' ? ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'] : [];
      expect([...new Set(onTable)].sort()).toEqual([...reads, ...AUDIT_APPEND].sort());
      // Its indexes: queried by the reader (filters by actor, action, target, tenant, time), by nobody else.
      expect(actionsOn(deployed, AUDIT.indexArns)).toEqual(spec.tables.audit === 'read' ? ['dynamodb:Query'] : []);
    });
  });

  describe('the spans table', () => {
    const spanReaders = routeEntries.filter(([, spec]) => spec.tables.spans !== undefined);
    const actionsOn = (deployed: DeployedFunction, arns: readonly string[]): string[] =>
      deployed.statements.filter((statement) => statement.Resource.map(model.render).some((resource) => arns.includes(resource))).flatMap((statement) => statement.Action);

    it('is read by the three tracing routes only, which only read it (the route table says so, or the tests below prove less)', () => {
      expect(spanReaders.map(([name, spec]) => `${name}:${spec.tables.spans}`).sort()).toEqual(['getServiceTraces:read', 'getTrace:read', 'getTracingStats:read']);
    });

    it.each(routeEntries)('%s knows its name and may record spans (BatchWriteItem, PutItem), never update or delete', (name, spec) => {
      const deployed = functionOf(name);
      expect(model.render(environmentOf(deployed)[SPANS.variable])).toBe(`<Ref ${SPANS.logicalId}>`);
      const reads = spec.tables.spans === 'read' ? ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'] : [];
      expect([...new Set(actionsOn(deployed, [SPANS.arn]))].sort()).toEqual([...reads, ...SPAN_RECORDING].sort());
      // Its indexes (service calls and windows by end time): queried by the tracing routes, by nobody else.
      expect(actionsOn(deployed, SPANS.indexArns)).toEqual(spec.tables.spans === 'read' ? ['dynamodb:Query'] : []);
    });
  });

  describe.each(TABLES)('the $name table', (table) => {
    const readRoutes = routeEntries.filter(([, spec]) => spec.tables[table.name] === 'read');
    const writeRoutes = routeEntries.filter(([, spec]) => spec.tables[table.name] === 'write');
    const otherRoutes = routeEntries.filter(([, spec]) => spec.tables[table.name] === undefined && !(table.name === 'registry' && spec.ecosystem));
    /** Actions of the statements that name this table or one of its indexes. */
    const actionsOn = (deployed: DeployedFunction): string[] =>
      deployed.statements.filter((statement) => statement.Resource.map(model.render).some((resource) => resource === table.arn || table.indexArns.includes(resource))).flatMap((statement) => statement.Action);

    it.each(readRoutes)(`%s (read) may read the ${table.name} table and its indexes, and write nothing to it`, (name, spec) => {
      const deployed = functionOf(name);
      const actions = actionsOn(deployed);
      expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
      // A route that calls services through the action runner (`ecosystem`) moves their circuits: UpdateItem on
      // the registry, and no other write (ecosystem.test.ts checks exactly that).
      const movesCircuits = table.name === 'registry' && spec.ecosystem === true;
      for (const writeAction of WRITE_ACTIONS) if (!(movesCircuits && writeAction === 'dynamodb:UpdateItem')) expect(actions).not.toContain(writeAction);
      expect(model.render(environmentOf(deployed)[table.variable])).toBe(`<Ref ${table.logicalId}>`);
    });

    it.each(writeRoutes)(`%s (write) may read and write the ${table.name} table`, (name) => {
      const deployed = functionOf(name);
      expect(actionsOn(deployed)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', ...WRITE_ACTIONS]));
      expect(model.render(environmentOf(deployed)[table.variable])).toBe(`<Ref ${table.logicalId}>`);
    });

    it.each(otherRoutes)(`%s (no access to the ${table.name} table) gets neither its name nor a permission on it`, (name) => {
      const deployed = functionOf(name);
      expect(actionsOn(deployed)).toEqual([]);
      expect(environmentOf(deployed)[table.variable]).toBeUndefined();
    });
  });

  it.each(routeEntries.filter(([, spec]) => declaredTables(spec).length > 0))('%s: DynamoDB permissions name the tables it declares and each of their indexes, never a wildcard', (name, spec) => {
    const deployed = functionOf(name);
    const dynamoStatements = deployed.statements.filter((statement) => statement.Action.some((action) => action.startsWith('dynamodb:')));
    const resources = dynamoStatements.flatMap((statement) => statement.Resource).map(model.render);
    const declared = EVERY_TABLE.filter((table) => spec.tables[table.name] !== undefined);
    // ...and the audit table, which every route may append to, and the spans table, where every route records its requests.
    expect(new Set(resources)).toEqual(new Set([...declared.flatMap((table) => [table.arn, ...table.indexArns]), AUDIT.arn, SPANS.arn]));
    const indexArns = EVERY_TABLE.flatMap((table) => table.indexArns);
    for (const statement of dynamoStatements) {
      const rendered = statement.Resource.map(model.render);
      // Indexes are read-only: only queries are granted on them.
      if (rendered.some((resource) => indexArns.includes(resource))) expect(statement.Action).toEqual(['dynamodb:Query']);
    }
  });

  it('no function may Scan (ADR 0001) or manage the table', () => {
    const actions = model.functions.flatMap(dynamoActions);
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(action).toMatch(/^dynamodb:(GetItem|BatchGetItem|Query|PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/);
  });

  it('only X-Ray actions are granted on "*" (the one IAM5 finding acknowledged), SendTaskSuccess to the resume route only, ListRules to the subscription routes only', () => {
    const templates = [model.parent, model.data, ...model.contexts.map((context) => context.template)];
    const wildcardGrants = templates.flatMap((template) =>
      resourcesOfType(template, 'AWS::IAM::Policy').flatMap(([, policy]) => {
        const roles = JSON.stringify(propertiesOf(policy)['Roles']);
        const statements = asRecord(propertiesOf(policy)['PolicyDocument'], 'PolicyDocument')['Statement'];
        return (Array.isArray(statements) ? statements : []).flatMap((raw: unknown) => {
          const statement = asRecord(raw, 'Statement');
          const resource = statement['Resource'];
          const onWildcard = resource === '*' || (Array.isArray(resource) && resource.includes('*'));
          const action = statement['Action'];
          return onWildcard ? (Array.isArray(action) ? action.map(String) : [String(action)]).map((name) => ({ action: name, roles })) : [];
        });
      }),
    );
    const wildcardActions = wildcardGrants.map((grant) => grant.action);
    expect(wildcardActions.length).toBeGreaterThan(0);
    expect(new Set(wildcardActions)).toEqual(new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'states:SendTaskSuccess', 'events:ListRules']));
    const taskTokenRoles = wildcardGrants.filter((grant) => grant.action === 'states:SendTaskSuccess').map((grant) => grant.roles);
    expect(taskTokenRoles).toHaveLength(1);
    expect(taskTokenRoles[0]).toContain('ResumeExecution');
    // ListRules (reconciling subscriptions with their rules) has no narrower resource: the two routes that manage rules only.
    const listRulesRoles = wildcardGrants.filter((grant) => grant.action === 'events:ListRules').map((grant) => grant.roles);
    expect(listRulesRoles).toHaveLength(2);
    expect(listRulesRoles.join(' ')).toMatch(/CreateEventSubscription.*DeleteEventSubscription|DeleteEventSubscription.*CreateEventSubscription/);
  });

  it('each Lambda may be invoked by this API only, for its own method and path', () => {
    for (const method of model.methods) {
      const permissions = resourcesOfType(method.template, 'AWS::Lambda::Permission').filter(([, permission]) => {
        const functionName = propertiesOf(permission)['FunctionName'];
        return JSON.stringify(functionName) === JSON.stringify({ 'Fn::GetAtt': [method.functionId, 'Arn'] });
      });
      expect(permissions, `${method.httpMethod} ${method.path}`).toHaveLength(1);
      const [, permission] = permissions[0] ?? ['', { Type: '' }];
      expect(propertiesOf(permission)['Principal']).toBe('apigateway.amazonaws.com');
      const sourceArn = model.render(propertiesOf(permission)['SourceArn']);
      const arnPath = method.path.replace(/\{[^}]+\}/g, '*');
      expect(sourceArn).toMatch(new RegExp(`:execute-api:.*/\\*/${method.httpMethod}${arnPath.replace(/[*]/g, '\\*')}$`));
    }
  });
});

describe('the stage', () => {
  const [stageId, stage] = resourcesOfType(model.parent, 'AWS::ApiGateway::Stage')[0] ?? ['', { Type: '' }];
  const properties = propertiesOf(stage);

  it('traces with X-Ray, logs access as JSON to a log group kept one month, and sets method defaults', () => {
    expect(properties['TracingEnabled']).toBe(true);
    const accessLogs = asRecord(properties['AccessLogSetting'], 'AccessLogSetting');
    // Valid JSON once API Gateway substitutes the unquoted values (numbers, and an already quoted string).
    const sample = String(accessLogs['Format'])
      .replace('$context.error.messageString', '"Internal server error"')
      .replace('$context.status', '200')
      .replace('$context.responseLength', '42');
    expect(asRecord(JSON.parse(sample), 'access log')).toMatchObject({ requestId: '$context.requestId', status: 200, resourcePath: '$context.resourcePath' });
    const logGroupRef = model.render(accessLogs['DestinationArn']).match(/<Ref (\w+)>/)?.[1] ?? '';
    expect(propertiesOf(model.parent.Resources[logGroupRef] ?? { Type: '' })['RetentionInDays']).toBe(30);
    expect(properties['MethodSettings']).toEqual([
      expect.objectContaining({
        HttpMethod: '*',
        ResourcePath: '/*',
        MetricsEnabled: true,
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        // -c rateLimitRps / rateLimitBurst, by default the local server's defaults (api-edge.test.ts).
        ThrottlingRateLimit: 50,
        ThrottlingBurstLimit: 100,
      }),
    ]);
  });

  it('serves a deployment made after every context stack created its methods', () => {
    const deploymentId = refTarget(properties['DeploymentId'], 'DeploymentId');
    const nestedStackIds = [...stacks.api.contextStacks.values()].map((contextStack) => logicalIdOf(stacks.api, contextStack.nestedStackResource));
    expect(nestedStackIds).toHaveLength(new Set(routeEntries.map(([, spec]) => spec.context)).size);
    expect(model.parent.Resources[deploymentId]?.DependsOn).toEqual(expect.arrayContaining(nestedStackIds));
  });

  it('is what the ApiUrl output points at', () => {
    const url = model.render(model.parent.Outputs?.['ApiUrl']?.Value);
    expect(url).toMatch(new RegExp(`^https://<Ref \\w+>\\.execute-api\\.<Ref AWS::Region>\\.<Ref AWS::URLSuffix>/<Ref ${stageId}>/$`));
  });
});

describe('the cursor secret (ORCHESTRATOR_CURSOR_SECRET)', () => {
  const secretId = logicalIdOf(stacks.api, stacks.api.cursorSecret.secret);
  const cursorSecretOf = (environment: Record<string, unknown>) => environment['ORCHESTRATOR_CURSOR_SECRET'];

  it('is one secret of the API stack: 48 letters and digits that Secrets Manager generates, deleted with the stack', () => {
    const secrets = resourcesOfType(model.parent, 'AWS::SecretsManager::Secret');
    expect(secrets.map(([logicalId]) => logicalId)).toEqual([secretId]);
    const [[, secret] = ['', { Type: '' }]] = secrets;
    expect(propertiesOf(secret)['GenerateSecretString']).toEqual({ PasswordLength: 48, ExcludePunctuation: true, IncludeSpace: false });
    expect(secret.DeletionPolicy).toBe('Delete');
  });

  it.each(routeEntries)('%s gets it as a dynamic reference CloudFormation resolves at deploy time, never the value', (name, spec) => {
    const deployed = functionOf(name);
    const rendered = model.render(cursorSecretOf(environmentOf(deployed)));
    const match = /^\{\{resolve:secretsmanager:<Ref ([A-Za-z0-9]+)>:SecretString:::\}\}$/.exec(rendered);
    expect(match, rendered).not.toBeNull();
    const parameters = nestedStackParameters(model.parent, logicalIdOf(stacks.api, stacks.api.contextStacks.get(spec.context)?.nestedStackResource));
    expect(parameters[match?.[1] ?? '']).toEqual({ Ref: secretId });
    // Resolved by CloudFormation, so the functions need no right on the secret.
    expect(deployed.statements.filter((statement) => statement.Resource.map(model.render).some((resource) => resource.includes(`<Ref ${match?.[1] ?? ''}>`)))).toEqual([]);
  });

  it('reaches no function that never lists: the authorizer and the runtime workers', () => {
    const others = [...resourcesOfType(model.parent, 'AWS::Lambda::Function'), ...resourcesOfType(templateOf(stacks.runtime), 'AWS::Lambda::Function')];
    expect(others.length).toBeGreaterThan(1);
    for (const [logicalId, resource] of others) {
      const variables = asRecord(asRecord(propertiesOf(resource)['Environment'] ?? { Variables: {} }, logicalId)['Variables'] ?? {}, logicalId);
      expect(cursorSecretOf(variables), logicalId).toBeUndefined();
    }
  });
});
