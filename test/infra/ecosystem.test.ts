import { describe, expect, it } from 'vitest';
import { WorkflowIndex } from '../../adapters/aws/dynamo/workflow-table.ts';
import { JOBS, JOB_NAMES } from '../../core/ecosystem/service.ts';
import { readLambdaConfig } from '../../functions/config.ts';
import { DEFAULT_PROXY_TIMEOUT_SECONDS as FUNCTIONS_PROXY_TIMEOUT_SECONDS } from '../../functions/ecosystem/service-proxy.ts';
import { routes, type RouteName, type RouteSpec } from '../../functions/routes.ts';
import { DEFAULT_FUNCTION_TIMEOUT_SECONDS } from '../../infra/constructs/api-function.ts';
import { SCHEDULE_MANAGEMENT_ACTIONS } from '../../infra/constructs/schedules.ts';
import { DEFAULT_JOB_SCHEDULES, DEFAULT_PROXY_TIMEOUT_SECONDS, jobScheduleVariable, readEcosystemContext } from '../../infra/ecosystem-context.ts';
import { deployedFunctionOf, readApiModel, type ApiModel, type DeployedFunction } from './api-model.ts';
import { asArray, asRecord, buildOrchestratorApp, getAttTargets, logicalIdOf, propertiesOf, refTarget, resourcesOfType, statementsOfRole, templateOf, type CfnTemplateJson } from './fixture.ts';

/**
 * Issue 14 in AWS: the schedule group and the role EventBridge Scheduler assumes, the scheduled-run and job
 * workers, the jobs' rules from `-c jobSchedules`, the proxies' settings from `-c serviceUrls` and
 * `-c proxyTimeoutSeconds` (infra/ecosystem-context.ts), and what each new kind of route may do.
 * (nag.test.ts: cdk-nag clean; route-environment.test.ts: what each route must find at cold start.)
 */

const routeEntries = Object.entries(routes) as Array<[RouteName, RouteSpec]>;
const PROXIES = routeEntries.filter(([, spec]) => spec.ecosystem).map(([name]) => name);
const SCHEDULE_MANAGERS = routeEntries.filter(([, spec]) => spec.schedules === 'manage').map(([name]) => name);
const SERVICE_URLS = { REPORTING_URL: 'https://reporting.example.com', SOURCE_AGENT_URL: 'http://source-agent.internal:8080' };
/** As the CLI passes them: JSON in a string. */
const CONFIGURED = {
  jobSchedules: JSON.stringify({ 'recalc-quality': 'cron(15 3 * * ? *)', 'notify-consolidation': 'rate(2 hours)' }),
  proxyTimeoutSeconds: '12',
  serviceUrls: JSON.stringify(SERVICE_URLS),
  mcpServiceTools: 'true',
};

interface Synthesized {
  readonly stacks: ReturnType<typeof buildOrchestratorApp>;
  readonly model: ApiModel;
  readonly runtime: CfnTemplateJson;
}

function synthesize(context: Record<string, unknown> = {}): Synthesized {
  const stacks = buildOrchestratorApp(context);
  return { stacks, model: readApiModel(stacks), runtime: templateOf(stacks.runtime) };
}

const configured = synthesize(CONFIGURED);
const defaults = synthesize();
/** A budget so short that the function keeps the other route functions' timeout. */
const shortBudget = synthesize({ proxyTimeoutSeconds: '1' });

const environmentOf = (properties: Record<string, unknown>) => asRecord(asRecord(properties['Environment'], 'Environment')['Variables'], 'Variables');
const actions = (deployed: Pick<DeployedFunction, 'statements'>, prefix: string) => [...new Set(deployed.statements.flatMap((statement) => statement.Action.filter((action) => action.startsWith(prefix))))].sort();
/** The raw statements (conditions included) of the policies attached to a route function's role. */
function rawStatementsOf(deployed: DeployedFunction): Array<Record<string, unknown>> {
  const roleId = getAttTargets(deployed.properties['Role'])[0];
  return resourcesOfType(deployed.template, 'AWS::IAM::Policy')
    .filter(([, policy]) => asArray(propertiesOf(policy)['Roles'], 'Roles').some((role) => refTarget(role, 'Roles') === roleId))
    .flatMap(([, policy]) => asArray(asRecord(propertiesOf(policy)['PolicyDocument'], 'PolicyDocument')['Statement'], 'Statement').map((raw) => asRecord(raw, 'Statement')));
}
const runtimeId = (synthesized: Synthesized, construct: Parameters<typeof logicalIdOf>[1]) => logicalIdOf(synthesized.stacks.runtime, construct);
const runtimeResource = (synthesized: Synthesized, construct: Parameters<typeof logicalIdOf>[1]) => propertiesOf(synthesized.runtime.Resources[runtimeId(synthesized, construct)]!);
const SCHEDULE_PATTERN = 'arn:<Ref AWS::Partition>:scheduler:<Ref AWS::Region>:<Ref AWS::AccountId>:schedule/Orchestrator-schedules/*';

describe('schedules in the workflows table', () => {
  const tableId = logicalIdOf(defaults.stacks.data, defaults.stacks.data.workflowsTable);
  const table = propertiesOf(templateOf(defaults.stacks.data).Resources[tableId]!);

  it('are indexed by the sparse schedules index of the table design', () => {
    const indexes = asArray(table['GlobalSecondaryIndexes'], 'GlobalSecondaryIndexes').map((index) => asRecord(index, 'index'));
    expect(indexes.find((index) => index['IndexName'] === WorkflowIndex.schedules.indexName)).toMatchObject({
      KeySchema: [
        { AttributeName: WorkflowIndex.schedules.partitionKey, KeyType: 'HASH' },
        { AttributeName: WorkflowIndex.schedules.sortKey, KeyType: 'RANGE' },
      ],
    });
  });

  it.each(['listSchedules', 'createSchedule'] as const)('%s may query the schedules index', (name) => {
    const deployed = deployedFunctionOf(defaults.model, name);
    const indexArn = `<${tableId}.Arn>/index/${WorkflowIndex.schedules.indexName}`;
    expect(deployed.statements.filter((statement) => statement.Resource.map(defaults.model.render).includes(indexArn)).flatMap((statement) => statement.Action)).toEqual(['dynamodb:Query']);
  });
});

describe('the schedule group and the role EventBridge Scheduler assumes', () => {
  const { stacks } = defaults;
  const schedules = stacks.runtime.schedules;

  it('is one schedule group named after the deployment (at most 64 characters)', () => {
    const groups = resourcesOfType(defaults.runtime, 'AWS::Scheduler::ScheduleGroup');
    expect(groups.map(([, group]) => propertiesOf(group))).toEqual([{ Name: 'Orchestrator-schedules' }]);
    expect(schedules.groupName.length).toBeLessThanOrEqual(64);
    expect(synthesize({ stackPrefix: 'A'.repeat(40) }).stacks.runtime.schedules.groupName.length).toBeLessThanOrEqual(64);
  });

  it("is assumed by EventBridge Scheduler on this account's behalf only", () => {
    const role = runtimeResource(defaults, schedules.schedulerRole);
    expect(asRecord(role['AssumeRolePolicyDocument'], 'AssumeRolePolicyDocument')['Statement']).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } },
    ]);
    expect(role['ManagedPolicyArns']).toBeUndefined();
    expect(role['Policies']).toBeUndefined();
  });

  it('may invoke the scheduled-run worker and send what failed to its dead-letter queue, and nothing else', () => {
    const statements = statementsOfRole(defaults.runtime, runtimeId(defaults, schedules.schedulerRole));
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [{ 'Fn::GetAtt': [runtimeId(defaults, schedules.scheduledRun.lambda), 'Arn'] }] },
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [{ 'Fn::GetAtt': [runtimeId(defaults, schedules.deadLetterQueue), 'Arn'] }] },
    ]);
  });

  it('has a dead-letter queue that is encrypted and takes TLS only', () => {
    expect(runtimeResource(defaults, schedules.deadLetterQueue)['SqsManagedSseEnabled']).toBe(true);
    const policies = resourcesOfType(defaults.runtime, 'AWS::SQS::QueuePolicy').filter(([, policy]) => JSON.stringify(propertiesOf(policy)['Queues']).includes(runtimeId(defaults, schedules.deadLetterQueue)));
    expect(JSON.stringify(policies)).toContain('"aws:SecureTransport":"false"');
  });
});

describe('the scheduled-run worker (the target of every workflow schedule)', () => {
  const schedules = defaults.stacks.runtime.schedules;
  const properties = runtimeResource(defaults, schedules.scheduledRun.lambda);
  const statements = statementsOfRole(defaults.runtime, runtimeId(defaults, schedules.scheduledRun.role));

  it('is named, so that its own environment knows its ARN without referring to itself', () => {
    expect(properties['FunctionName']).toBe('Orchestrator-scheduled-run');
    const environment = environmentOf(properties);
    expect(JSON.stringify(environment['SCHEDULED_RUN_FUNCTION_ARN'])).toContain(':function:Orchestrator-scheduled-run');
    expect(getAttTargets(environment)).not.toContain(runtimeId(defaults, schedules.scheduledRun.lambda));
  });

  it('knows the tables, the engine, the bus and the schedule group', () => {
    expect(Object.keys(environmentOf(properties))).toEqual(
      expect.arrayContaining(['WORKFLOWS_TABLE_NAME', 'EXECUTIONS_TABLE_NAME', ...Object.keys(defaults.stacks.runtime.engineEnvironment), 'SCHEDULE_GROUP_NAME', 'SCHEDULED_RUN_FUNCTION_ARN', 'SCHEDULER_ROLE_ARN', 'SCHEDULE_DEAD_LETTER_ARN']),
    );
    expect(environmentOf(properties)['SCHEDULE_GROUP_NAME']).toBe('Orchestrator-schedules');
  });

  it('may delete the timers of its group (those of deleted workflows), create none, and pass no role', () => {
    const scheduler = statements.filter((statement) => statement.Action.some((action) => action.startsWith('scheduler:')));
    expect(scheduler.map((statement) => statement.Action)).toEqual([['scheduler:DeleteSchedule']]);
    expect(JSON.stringify(scheduler[0]!.Resource)).toContain(':schedule/Orchestrator-schedules/*');
    expect(statements.flatMap((statement) => statement.Action)).not.toContain('scheduler:CreateSchedule');
    // iam:PassRole of the state machines' role only (the engine's), never the scheduler's.
    const passRole = statements.filter((statement) => statement.Action.includes('iam:PassRole'));
    expect(passRole.flatMap((statement) => statement.Resource)).toEqual([{ 'Fn::GetAtt': [runtimeId(defaults, defaults.stacks.runtime.executionRole), 'Arn'] }]);
  });

  it('writes the workflows and executions tables, starts runs and publishes on the bus', () => {
    const all = statements.flatMap((statement) => statement.Action);
    expect(all).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'states:StartExecution', 'events:PutEvents']));
  });
});

describe('the jobs', () => {
  const rulesOf = (synthesized: Synthesized) =>
    Object.fromEntries([...synthesized.stacks.runtime.schedules.jobRules].map(([job, rule]) => [job, runtimeResource(synthesized, rule)]));

  it("run on their default schedules, the ones GET /jobs reports, when the context sets none", () => {
    const rules = rulesOf(defaults);
    expect(Object.keys(rules).sort()).toEqual([...JOB_NAMES].sort());
    for (const job of JOB_NAMES) expect(rules[job]!['ScheduleExpression'], job).toBe(JOBS[job].defaultSchedule);
    expect(DEFAULT_JOB_SCHEDULES).toEqual({ 'recalc-quality': { expression: 'cron(0 2 * * ? *)', enabled: true }, 'notify-consolidation': { expression: 'cron(0 9 ? * MON *)', enabled: true } });
  });

  it('run on the schedules of -c jobSchedules, each invoking the job worker with its name and the time it fired', () => {
    const rules = rulesOf(configured);
    const jobRun = configured.stacks.runtime.schedules.jobRun.lambda;
    expect(rules['recalc-quality']!['ScheduleExpression']).toBe('cron(15 3 * * ? *)');
    expect(rules['notify-consolidation']!['ScheduleExpression']).toBe('rate(2 hours)');
    for (const job of JOB_NAMES) {
      const [target, ...others] = asArray(rules[job]!['Targets'], 'Targets').map((raw) => asRecord(raw, 'Target'));
      expect(others).toEqual([]);
      expect(target).toMatchObject({
        Arn: { 'Fn::GetAtt': [runtimeId(configured, jobRun), 'Arn'] },
        InputTransformer: { InputPathsMap: { time: '$.time' }, InputTemplate: `{"job":"${job}","due_at":<time>}` },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [runtimeId(configured, configured.stacks.runtime.schedules.deadLetterQueue), 'Arn'] } },
      });
    }
  });

  it('have no rule when off, and the job worker and GET /jobs are told so', () => {
    const off = synthesize({ jobSchedules: '{"notify-consolidation":"off"}' });
    expect([...off.stacks.runtime.schedules.jobRules.keys()]).toEqual(['recalc-quality']);
    const jobRunArn = JSON.stringify({ 'Fn::GetAtt': [runtimeId(off, off.stacks.runtime.schedules.jobRun.lambda), 'Arn'] });
    const jobRules = resourcesOfType(off.runtime, 'AWS::Events::Rule').filter(([, rule]) => JSON.stringify(propertiesOf(rule)['Targets']).includes(jobRunArn));
    expect(jobRules.map(([, rule]) => propertiesOf(rule)['ScheduleExpression'])).toEqual(['cron(0 2 * * ? *)']);
    const expected = { ORCHESTRATOR_JOB_RECALC_QUALITY_SCHEDULE: 'cron(0 2 * * ? *)', ORCHESTRATOR_JOB_NOTIFY_CONSOLIDATION_SCHEDULE: 'off' };
    expect(environmentOf(runtimeResource(off, off.stacks.runtime.schedules.jobRun.lambda))).toMatchObject(expected);
    expect(environmentOf(deployedFunctionOf(off.model, 'listJobs').properties)).toMatchObject(expected);
  });

  it('tell the job worker and GET /jobs the schedules the rules use, in the variables functions/config.ts reads', () => {
    const expected = { ORCHESTRATOR_JOB_RECALC_QUALITY_SCHEDULE: 'cron(15 3 * * ? *)', ORCHESTRATOR_JOB_NOTIFY_CONSOLIDATION_SCHEDULE: 'rate(2 hours)' };
    expect(JOB_NAMES.map(jobScheduleVariable).sort()).toEqual(Object.keys(expected).sort());
    expect(environmentOf(runtimeResource(configured, configured.stacks.runtime.schedules.jobRun.lambda))).toMatchObject(expected);
    expect(environmentOf(deployedFunctionOf(configured.model, 'listJobs').properties)).toMatchObject(expected);
    const config = readLambdaConfig(expected);
    expect([config.ORCHESTRATOR_JOB_RECALC_QUALITY_SCHEDULE, config.ORCHESTRATOR_JOB_NOTIFY_CONSOLIDATION_SCHEDULE]).toEqual([
      { expression: 'cron(15 3 * * ? *)', enabled: true },
      { expression: 'rate(2 hours)', enabled: true },
    ]);
  });

  it('the job worker writes the workflows table (the system workflows), starts runs and publishes, and manages no schedule', () => {
    const schedules = defaults.stacks.runtime.schedules;
    const all = statementsOfRole(defaults.runtime, runtimeId(defaults, schedules.jobRun.role)).flatMap((statement) => statement.Action);
    expect(all).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'states:StartExecution', 'events:PutEvents']));
    expect(all.filter((action) => action.startsWith('scheduler:'))).toEqual([]);
  });
});

describe('the ecosystem context fails synthesis naming the key', () => {
  it.each([
    [{ jobSchedules: '{"recalc-quality":"cron(0 2 * * *)"}' }, /context jobSchedules\.recalc-quality:/],
    [{ jobSchedules: '{"recalc-quality":"at(2030-01-01T00:00:00)"}' }, /context jobSchedules\.recalc-quality: .*cron\(\.\.\.\), rate\(\.\.\.\) or off/],
    [{ jobSchedules: '{"recalc-quality":"rate(0 minutes)"}' }, /context jobSchedules\.recalc-quality:/],
    [{ jobSchedules: '{"nightly":"rate(1 day)"}' }, /context jobSchedules\.nightly: no such job/],
    [{ jobSchedules: '{"recalc-quality":true}' }, /context jobSchedules\.recalc-quality must be/],
    [{ jobSchedules: 'cron(0 2 * * ? *)' }, /context jobSchedules must be a JSON object/],
    [{ proxyTimeoutSeconds: 'soon' }, /context proxyTimeoutSeconds must be a number of seconds/],
    [{ proxyTimeoutSeconds: '900' }, /context proxyTimeoutSeconds must be a number of seconds from 0.1 to 895/],
    [{ serviceUrls: '{"reporting":"https://reporting.example.com"}' }, /context serviceUrls\.reporting: a service's variable is <NAME>_URL/],
    [{ serviceUrls: '{"REPORTING_URL":"ftp://reporting.example.com"}' }, /context serviceUrls\.REPORTING_URL must be an http\(s\) URL/],
    [{ serviceUrls: '{"LOG_COLLECTOR_URL":"https://logs.example.com"}' }, /context serviceUrls\.LOG_COLLECTOR_URL: set the log collector with -c logCollectorUrl/],
    [{ serviceUrls: '{"EVENT_DELIVERY_QUEUE_URL":"https://sqs.example.com"}' }, /context serviceUrls\.EVENT_DELIVERY_QUEUE_URL: .* the orchestrator's own settings/],
    [{ serviceUrls: '["https://reporting.example.com"]' }, /context serviceUrls must be a JSON object/],
  ])('%j', (context, message) => {
    expect(() => buildOrchestratorApp(context)).toThrow(message);
  });

  it('takes JSON objects from cdk.json as they are, and an empty value as unset', () => {
    expect(readEcosystemContext((key) => ({ jobSchedules: { 'recalc-quality': 'OFF' }, serviceUrls: { REPORTING_URL: ' https://r.example.com ' }, proxyTimeoutSeconds: 2.5 })[key])).toEqual({
      proxyTimeoutSeconds: 2.5,
      serviceUrls: { REPORTING_URL: 'https://r.example.com' },
      jobSchedules: { 'recalc-quality': { enabled: false }, 'notify-consolidation': DEFAULT_JOB_SCHEDULES['notify-consolidation'] },
    });
    expect(readEcosystemContext((key) => ({ jobSchedules: '', serviceUrls: ' ', proxyTimeoutSeconds: '' })[key])).toEqual({
      proxyTimeoutSeconds: DEFAULT_PROXY_TIMEOUT_SECONDS,
      serviceUrls: {},
      jobSchedules: DEFAULT_JOB_SCHEDULES,
    });
  });

  it('defaults the proxies’ budget to the functions’ own default', () => {
    expect(DEFAULT_PROXY_TIMEOUT_SECONDS).toBe(FUNCTIONS_PROXY_TIMEOUT_SECONDS);
    expect(readLambdaConfig({}).ORCHESTRATOR_PROXY_TIMEOUT_SECONDS).toBe(DEFAULT_PROXY_TIMEOUT_SECONDS);
  });
});

describe('the proxy routes', () => {
  it('are the four forwarding routes, a service operation called as a tool, and the MCP route that calls it in process (or these tests would prove nothing)', () => {
    expect(PROXIES).toEqual(['reportRequest', 'summarizationSuggest', 'docstoreSave', 'demoBundle', 'callTool', 'mcp']);
  });

  it.each(PROXIES)('%s knows the services’ URLs and its time budget, and outlives that budget', (name) => {
    const deployed = deployedFunctionOf(configured.model, name);
    expect(environmentOf(deployed.properties)).toMatchObject({ ...SERVICE_URLS, ORCHESTRATOR_PROXY_TIMEOUT_SECONDS: '12' });
    expect(deployed.properties['Timeout']).toBe(17);
    const byDefault = deployedFunctionOf(defaults.model, name);
    expect(environmentOf(byDefault.properties)['ORCHESTRATOR_PROXY_TIMEOUT_SECONDS']).toBe('30');
    // API Gateway answers 504 after 29 s whatever the function does: the function only has to outlive its budget.
    expect(byDefault.properties['Timeout']).toBe(35);
    expect(deployedFunctionOf(shortBudget.model, name).properties['Timeout']).toBe(DEFAULT_FUNCTION_TIMEOUT_SECONDS);
  });

  it.each(PROXIES)('%s reads the registry and moves circuits (UpdateItem), writes nothing else there, and starts no run unless its route says so', (name) => {
    const deployed = deployedFunctionOf(defaults.model, name);
    const registryArn = `<${logicalIdOf(defaults.stacks.data, defaults.stacks.data.registryTable)}.Arn>`;
    const onRegistry = deployed.statements.filter((statement) => statement.Resource.map(defaults.model.render).includes(registryArn)).flatMap((statement) => statement.Action);
    expect([...new Set(onRegistry)].sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    expect(defaults.model.render(environmentOf(deployed.properties)['REGISTRY_TABLE_NAME'])).toBe(`<Ref ${logicalIdOf(defaults.stacks.data, defaults.stacks.data.registryTable)}>`);
    // mcp starts and cancels runs for its caller (executeWorkflow and cancelExecution in process): `engine: true`.
    if ((routes[name] as RouteSpec).engine) expect(actions(deployed, 'states:')).toContain('states:StartExecution');
    else expect(actions(deployed, 'states:')).toEqual([]);
    expect(actions(deployed, 'scheduler:')).toEqual([]);
    // Registry events (a circuit opening or closing) on the workflow bus; the services' credentials.
    expect(actions(deployed, 'events:')).toEqual(['events:PutEvents']);
    expect(environmentOf(deployed.properties)).toHaveProperty('WORKFLOW_EVENT_BUS_NAME');
    expect(actions(deployed, 'secretsmanager:')).toEqual(['secretsmanager:GetSecretValue']);
    expect(actions(deployed, 'ssm:')).toEqual(['ssm:GetParameter']);
  });

  it("tells POST /mcp to offer services' operations only with -c mcpServiceTools=true", () => {
    expect(environmentOf(deployedFunctionOf(configured.model, 'mcp').properties)['ORCHESTRATOR_MCP_SERVICE_TOOLS']).toBe('true');
    expect(environmentOf(deployedFunctionOf(defaults.model, 'mcp').properties)).not.toHaveProperty('ORCHESTRATOR_MCP_SERVICE_TOOLS');
    expect(() => synthesize({ mcpServiceTools: 'yes' })).toThrow(/context mcpServiceTools must be true or false/);
  });

  it('only the proxies and the action runner are told the services’ URLs', () => {
    const runner = environmentOf(runtimeResource(configured, configured.stacks.runtime.actionRunner.lambda));
    expect(runner).toMatchObject(SERVICE_URLS);
    for (const [name, spec] of routeEntries) {
      const environment = environmentOf(deployedFunctionOf(configured.model, name).properties);
      expect(environment['REPORTING_URL'] !== undefined, name).toBe(spec.ecosystem === true);
      expect(environment['ORCHESTRATOR_PROXY_TIMEOUT_SECONDS'] !== undefined, name).toBe(spec.ecosystem === true);
    }
  });
});

describe('the schedule routes', () => {
  it('the routes that manage timers are the schedule writes and the workflow delete (or these tests would prove nothing)', () => {
    expect(SCHEDULE_MANAGERS).toEqual(['deleteWorkflow', 'createSchedule', 'updateSchedule', 'deleteSchedule']);
  });

  it.each(SCHEDULE_MANAGERS)("%s may manage the group's schedules only, and pass the scheduler role only, to Scheduler only", (name) => {
    const deployed = deployedFunctionOf(defaults.model, name);
    const scheduler = deployed.statements.filter((statement) => statement.Action.some((action) => action.startsWith('scheduler:')));
    expect(scheduler.map((statement) => [[...statement.Action].sort(), statement.Resource.map(defaults.model.render)])).toEqual([[[...SCHEDULE_MANAGEMENT_ACTIONS].sort(), [SCHEDULE_PATTERN]]]);
    const passRole = rawStatementsOf(deployed).filter((statement) => statement['Action'] === 'iam:PassRole' && JSON.stringify(statement['Condition']).includes('scheduler.amazonaws.com'));
    expect(passRole).toHaveLength(1);
    expect(defaults.model.render(passRole[0]!['Resource'])).toMatch(/^<OrchestratorRuntime\..*SchedulerRole.*>$/);
    expect(passRole[0]!['Condition']).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    const environment = environmentOf(deployed.properties);
    expect(environment['SCHEDULE_GROUP_NAME']).toBe('Orchestrator-schedules');
    expect(Object.keys(environment)).toEqual(expect.arrayContaining(['SCHEDULED_RUN_FUNCTION_ARN', 'SCHEDULER_ROLE_ARN', 'SCHEDULE_DEAD_LETTER_ARN']));
  });

  it.each(['listSchedules', 'getSchedule', 'triggerSchedule'] as const)('%s has no scheduler rights and passes no scheduler role', (name) => {
    const deployed = deployedFunctionOf(defaults.model, name);
    expect(actions(deployed, 'scheduler:')).toEqual([]);
    expect(JSON.stringify(rawStatementsOf(deployed))).not.toContain('scheduler.amazonaws.com');
    expect(environmentOf(deployed.properties)['SCHEDULE_GROUP_NAME']).toBeUndefined();
  });

  it('no other route may touch schedules', () => {
    for (const [name] of routeEntries.filter(([, spec]) => spec.schedules === undefined)) {
      expect(actions(deployedFunctionOf(defaults.model, name), 'scheduler:'), name).toEqual([]);
    }
  });
});
