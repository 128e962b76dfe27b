import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ENGINE_ENVIRONMENT } from '../../adapters/aws/stepfunctions/config.ts';
import { partStateMachineName, stateMachineName } from '../../adapters/aws/stepfunctions/names.ts';
import {
  ENGINE_EXECUTION_ACTIONS,
  ENGINE_PART_ACTIONS,
  ENGINE_STATE_MACHINE_ACTIONS,
  healthSweepMinutes,
  LOG_DELIVERY_ACTIONS,
  PAYLOAD_RETENTION_DAYS,
  RuntimeStack,
  SYNC_INTEGRATION_RULE,
  XRAY_ACTIONS,
} from '../../infra/stacks/runtime-stack.ts';
import {
  asArray,
  asRecord,
  cdkJsonContext,
  logicalIdOf,
  OBSERVABILITY_VARIABLES,
  propertiesOf,
  resourcesOfType,
  SKIP_BUNDLING,
  SPAN_RECORDING_VARIABLES,
  statementsOfRole,
  templateOf,
  type CfnTemplateJson,
  type StatementJson,
} from './fixture.ts';

/**
 * The runtime stack on its own, with the tables it is given living in another stack and an engine role
 * (standing in for an API Lambda's) in a third, as in the app.
 */
function build() {
  const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
  const data = new Stack(app, 'TestData');
  const workflowsTable = new Table(data, 'Workflows', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
  const executionsTable = new Table(data, 'Executions', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
  const registryTable = new Table(data, 'Registry', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
  const eventsTable = new Table(data, 'Events', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
  const spansTable = new Table(data, 'Spans', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
  const runtime = new RuntimeStack(app, 'TestRuntime', { namePrefix: 'Orch', workflowsTable, executionsTable, registryTable, eventsTable, subscriptionsTable: eventsTable, spansTable });
  const consumer = new Stack(app, 'TestConsumer');
  const engineRole = new Role(consumer, 'EngineRole', { assumedBy: new AccountRootPrincipal() });
  runtime.grantEngineAccess(engineRole);
  const probeRole = new Role(consumer, 'ProbeRole', { assumedBy: new AccountRootPrincipal() });
  runtime.grantProbeAccess(probeRole);
  return { app, runtime, consumer, engineRole, probeRole, template: templateOf(runtime) };
}

const { app, runtime, consumer, engineRole, probeRole, template } = build();
const id = (construct: Parameters<typeof logicalIdOf>[1]) => logicalIdOf(runtime, construct);
const getAtt = (construct: Parameters<typeof logicalIdOf>[1], attribute = 'Arn') => ({ 'Fn::GetAtt': [id(construct), attribute] });
/** `arn:<partition>:<service>:<region>:<account>:<rest>` as CloudFormation renders Arn.format. */
const arnJoin = (service: string, rest: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${rest}`]],
});


/** `arn:<partition>:bedrock:<region>::foundation-model/*`: no account, every foundation model of the stack's region. */
const FOUNDATION_MODELS = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, '::foundation-model/*']] };

function rawStatementsOfRole(source: CfnTemplateJson, roleId: string): Record<string, unknown>[] {
  return resourcesOfType(source, 'AWS::IAM::Policy')
    .filter(([, policy]) => asArray(propertiesOf(policy)['Roles'], 'Roles').some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })))
    .flatMap(([, policy]) => asArray(asRecord(propertiesOf(policy)['PolicyDocument'], 'PolicyDocument')['Statement'], 'Statement').map((raw) => asRecord(raw, 'Statement')));
}

describe('the state machine execution role', () => {
  const role = template.Resources[id(runtime.executionRole)]!;

  it('can be assumed by Step Functions of this account only', () => {
    expect(propertiesOf(role)['AssumeRolePolicyDocument']).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'states.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }],
    });
    expect(propertiesOf(role)['ManagedPolicyArns']).toBeUndefined();
  });

  it('may do exactly what compiled definitions call, each on its one resource, plus X-Ray and log delivery', () => {
    const expected: StatementJson[] = [
      { Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [getAtt(runtime.actionRunner.lambda)] },
      { Effect: 'Allow', Action: ['events:PutEvents'], Resource: [getAtt(runtime.eventBus)] },
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [getAtt(runtime.deadLetterQueue)] },
      // sub_workflow actions start workflows' machines (Orch-*), split workflows their parts (Orch_*).
      { Effect: 'Allow', Action: ['states:StartExecution'], Resource: [arnJoin('states', 'stateMachine:Orch-*'), arnJoin('states', 'stateMachine:Orch_*')] },
      { Effect: 'Allow', Action: ['states:DescribeExecution', 'states:StopExecution'], Resource: [arnJoin('states', 'execution:Orch-*:*'), arnJoin('states', 'execution:Orch_*:*')] },
      { Effect: 'Allow', Action: ['events:DescribeRule', 'events:PutRule', 'events:PutTargets'], Resource: [arnJoin('events', `rule/${SYNC_INTEGRATION_RULE}`)] },
      // llm actions: InvokeModel on this region's foundation models, and nothing else of Bedrock.
      { Effect: 'Allow', Action: ['bedrock:InvokeModel'], Resource: [FOUNDATION_MODELS] },
      { Effect: 'Allow', Action: [...LOG_DELIVERY_ACTIONS, ...XRAY_ACTIONS].sort(), Resource: ['*'] },
    ];
    const sortKey = (statement: StatementJson) => JSON.stringify(statement);
    expect(statementsOfRole(template, id(runtime.executionRole)).sort((a, b) => sortKey(a).localeCompare(sortKey(b)))).toEqual(expected.sort((a, b) => sortKey(a).localeCompare(sortKey(b))));
  });

  it('has no conditions or denies that would change what the statements above say', () => {
    for (const statement of rawStatementsOfRole(template, id(runtime.executionRole))) {
      expect(statement['Effect']).toBe('Allow');
      expect(statement['Condition']).toBeUndefined();
      expect(statement['NotAction']).toBeUndefined();
      expect(statement['NotResource']).toBeUndefined();
    }
  });
});

describe('the status listener', () => {
  const ruleId = id(runtime.statusRule);
  const rule = template.Resources[ruleId]!;

  it("is sent the status changes of the prefix's state machines from the default bus, and nothing else", () => {
    // The other rules are schedules (the health sweep's, below) or on the workflow bus (the deployer's): this
    // is the one that matches events on the default bus.
    const matchingRules = resourcesOfType(template, 'AWS::Events::Rule').filter(([, candidate]) => propertiesOf(candidate)['EventPattern'] !== undefined && propertiesOf(candidate)['EventBusName'] === undefined);
    expect(matchingRules.map(([matchingId]) => matchingId)).toEqual([ruleId]);
    expect(propertiesOf(rule)['EventBusName']).toBeUndefined();
    expect(propertiesOf(rule)['EventPattern']).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { stateMachineArn: [{ prefix: arnJoin('states', 'stateMachine:Orch-') }] },
    });
  });

  it('matches the names the engine gives state machines, and not another prefix', () => {
    expect(stateMachineName('Orch', 'orders').startsWith('Orch-')).toBe(true);
    expect(stateMachineName('Orchestra', 'orders').startsWith('Orch-')).toBe(false);
  });

  it("is not sent the status changes of split workflows' parts (their runs are the root's), whose names the part patterns cover", () => {
    const part = partStateMachineName('Orch', 'orders', 2);
    expect(part.startsWith('Orch-')).toBe(false);
    expect(part.startsWith('Orch_')).toBe(true);
    expect(partStateMachineName('Orchestra', 'orders', 2).startsWith('Orch_')).toBe(false);
  });

  it('targets the listener Lambda (with permission for this rule only), retrying and then dead-lettering what it cannot deliver', () => {
    expect(propertiesOf(rule)['Targets']).toEqual([
      {
        Id: 'Target0',
        Arn: getAtt(runtime.statusListener.lambda),
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 6 * 3600 },
        DeadLetterConfig: { Arn: getAtt(runtime.statusDeadLetterQueue) },
      },
    ]);
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission')
      .map(([, permission]) => propertiesOf(permission))
      .filter((permission) => permission['Principal'] === 'events.amazonaws.com' && JSON.stringify(permission['FunctionName']) === JSON.stringify(getAtt(runtime.statusListener.lambda)));
    // One permission per rule that targets the listener: status changes, and notifications (below).
    expect(permissions).toEqual([
      { Action: 'lambda:InvokeFunction', FunctionName: getAtt(runtime.statusListener.lambda), Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] } },
      { Action: 'lambda:InvokeFunction', FunctionName: getAtt(runtime.statusListener.lambda), Principal: 'events.amazonaws.com', SourceArn: getAtt(runtime.notificationRule) },
    ]);
  });

  it('keeps events it fails on (after two retries) in its dead-letter queue', () => {
    const configs = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig')
      .map(([, config]) => propertiesOf(config))
      .filter((config) => JSON.stringify(config['FunctionName']) === JSON.stringify({ Ref: id(runtime.statusListener.lambda) }));
    expect(configs).toEqual([
      {
        FunctionName: { Ref: id(runtime.statusListener.lambda) },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 6 * 3600,
        DestinationConfig: { OnFailure: { Destination: getAtt(runtime.statusDeadLetterQueue) } },
      },
    ]);
  });

  it('runs the status listener entry with the executions table, which it may write, and the bus its run events go on', () => {
    expect(runtime.statusListener.entry).toMatch(/functions\/workers\/status-listener-entry\.ts$/);
    const environment = asRecord(asRecord(propertiesOf(template.Resources[id(runtime.statusListener.lambda)]!)['Environment'], 'Environment')['Variables'], 'Variables');
    expect(Object.keys(environment).sort()).toEqual(['EXECUTIONS_TABLE_NAME', 'NODE_OPTIONS', 'WORKFLOW_EVENT_BUS_NAME', 'WORKFLOW_LOG_GROUP_NAME', ...OBSERVABILITY_VARIABLES, ...SPAN_RECORDING_VARIABLES].sort());
    const publishing = statementsOfRole(template, id(runtime.statusListener.role)).filter((statement) => statement.Action.includes('events:PutEvents'));
    expect(publishing.map((statement) => statement.Resource)).toEqual([[getAtt(runtime.eventBus)]]);
    const tableStatements = statementsOfRole(template, id(runtime.statusListener.role)).filter((statement) => statement.Action.some((action) => action.startsWith('dynamodb:')));
    expect(tableStatements.flatMap((statement) => statement.Action)).toContain('dynamodb:UpdateItem');
    // Runs' and actions' spans: written, never read back (observability.test.ts checks the app's wiring).
    const onSpans = tableStatements.filter((statement) => JSON.stringify(statement.Resource).includes('Spans')).flatMap((statement) => statement.Action);
    expect(onSpans.sort()).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:PutItem']);
  });

  it("reads a finished run's history: standard executions under the prefix and their parts', and the state machines' log group", () => {
    const statements = statementsOfRole(template, id(runtime.statusListener.role));
    const history = statements.filter((statement) => statement.Action.includes('states:GetExecutionHistory'));
    expect(history.map((statement) => statement.Action)).toEqual([['states:GetExecutionHistory']]);
    expect(history[0]!.Resource).toEqual([arnJoin('states', 'execution:Orch-*:*'), arnJoin('states', 'execution:Orch_*:*')]);
    const logs = statements.filter((statement) => statement.Action.includes('logs:FilterLogEvents'));
    expect(logs.map((statement) => statement.Action)).toEqual([['logs:FilterLogEvents']]);
    expect(logs[0]!.Resource).toEqual([getAtt(runtime.stateMachineLogs)]);
  });

  it("is sent the start and end of every express run by a subscription to the state machines' log group", () => {
    const filters = resourcesOfType(template, 'AWS::Logs::SubscriptionFilter').map(([, filter]) => propertiesOf(filter));
    expect(filters).toHaveLength(1);
    expect(filters[0]).toMatchObject({ LogGroupName: { Ref: id(runtime.stateMachineLogs) }, DestinationArn: getAtt(runtime.statusListener.lambda) });
    const pattern = String(filters[0]!['FilterPattern']);
    for (const type of ['ExecutionStarted', 'ExecutionSucceeded', 'ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']) expect(pattern).toContain(`$.type = "${type}"`);
    expect(pattern).not.toContain('TaskStateEntered');
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission').map(([, permission]) => propertiesOf(permission)).filter((permission) => String(permission['Principal']).startsWith('logs.'));
    expect(permissions).toHaveLength(1);
    expect(permissions[0]).toMatchObject({ Action: 'lambda:InvokeFunction', FunctionName: getAtt(runtime.statusListener.lambda), SourceArn: getAtt(runtime.stateMachineLogs) });
  });
});

describe('notifications on the workflow bus', () => {
  it("reach the status listener too, so a notification action shows as sent at once", () => {
    const rule = propertiesOf(template.Resources[id(runtime.notificationRule)]!);
    expect(rule['EventBusName']).toEqual({ Ref: id(runtime.eventBus) });
    expect(rule['EventPattern']).toEqual({ source: ['orchestrator.workflows'], 'detail-type': ['Workflow Notification'] });
    expect(rule['Targets']).toEqual([
      { Id: 'Target0', Arn: getAtt(runtime.statusListener.lambda), RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 6 * 3600 }, DeadLetterConfig: { Arn: getAtt(runtime.statusDeadLetterQueue) } },
    ]);
  });
});

describe('the workflow deployer', () => {
  const ruleId = id(runtime.workflowVersionRule);
  const rule = propertiesOf(template.Resources[ruleId]!);

  it("is sent every 'orchestrator.workflow.version_published' event of the workflow bus, retrying and then dead-lettering", () => {
    expect(rule['EventBusName']).toEqual({ Ref: id(runtime.eventBus) });
    expect(rule['EventPattern']).toEqual({ source: ['/orchestrator/workflows'], 'detail-type': ['orchestrator.workflow.version_published'] });
    expect(rule['Targets']).toEqual([
      { Id: 'Target0', Arn: getAtt(runtime.workflowDeployer.lambda), RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 2 * 3600 }, DeadLetterConfig: { Arn: getAtt(runtime.deployDeadLetterQueue) } },
    ]);
  });

  it("runs the deployer entry with the workflows table (read only) and the engine's settings and rights", () => {
    expect(runtime.workflowDeployer.entry).toMatch(/functions\/workers\/workflow-deployer-entry\.ts$/);
    const environment = asRecord(asRecord(propertiesOf(template.Resources[id(runtime.workflowDeployer.lambda)]!)['Environment'], 'Environment')['Variables'], 'Variables');
    expect(Object.keys(environment).sort()).toEqual(['NODE_OPTIONS', 'WORKFLOWS_TABLE_NAME', ...Object.keys(runtime.engineEnvironment), ...OBSERVABILITY_VARIABLES].sort());
    const statements = statementsOfRole(template, id(runtime.workflowDeployer.role));
    const tableActions = statements.flatMap((statement) => statement.Action.filter((action) => action.startsWith('dynamodb:')));
    expect(tableActions.sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query']);
    const actions = statements.flatMap((statement) => statement.Action);
    expect(actions).toEqual(expect.arrayContaining(['states:CreateStateMachine', 'states:UpdateStateMachineAlias', 'iam:PassRole']));
    expect(actions.filter((action) => action.startsWith('sqs:') || action.startsWith('s3:') || action.startsWith('events:'))).toEqual([]);
  });
});

describe('the action runner', () => {
  const runner = propertiesOf(template.Resources[id(runtime.actionRunner.lambda)]!);

  it('runs the action runner entry for up to 15 minutes (the runner stops each call at its own timeout)', () => {
    expect(runtime.actionRunner.entry).toMatch(/functions\/workers\/action-runner-entry\.ts$/);
    expect(runner['Timeout']).toBe(900);
  });

  it('reads the registry table and moves circuits in it, writes the executions table (each attempt is recorded), records spans, and nothing else of the data', () => {
    const environment = asRecord(asRecord(runner['Environment'], 'Environment')['Variables'], 'Variables');
    expect(Object.keys(environment).sort()).toEqual(expect.arrayContaining(['EXECUTIONS_TABLE_NAME', 'NODE_OPTIONS', 'REGISTRY_TABLE_NAME', ...SPAN_RECORDING_VARIABLES]));
    const tableStatements = statementsOfRole(template, id(runtime.actionRunner.role)).filter((statement) => statement.Action.some((action) => action.startsWith('dynamodb:')));
    const actionsOn = (table: string) => tableStatements.filter((statement) => JSON.stringify(statement.Resource).includes(table)).flatMap((statement) => statement.Action).sort();
    expect(actionsOn('Registry')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    expect(actionsOn('Executions')).toContain('dynamodb:UpdateItem');
    expect(actionsOn('Spans')).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:PutItem']);
    expect(tableStatements.every((statement) => ['Registry', 'Executions', 'Spans'].some((table) => JSON.stringify(statement.Resource).includes(table)))).toBe(true);
    expect(tableStatements.flatMap((statement) => statement.Action)).not.toContain('dynamodb:Scan');
  });

  it('may send back the task token of a call it parked (pause) and answer a gated call, and no other Step Functions action', () => {
    const states = statementsOfRole(template, id(runtime.actionRunner.role)).filter((statement) => statement.Action.some((action) => action.startsWith('states:')));
    // CDK merges it with X-Ray's statement on '*'.
    expect(states).toEqual([{ Effect: 'Allow', Action: ['states:SendTaskFailure', 'states:SendTaskSuccess', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: ['*'] }]);
  });

  it('may invoke itself (a released gated call is made apart from the report that released it), and no other function', () => {
    const invokes = statementsOfRole(template, id(runtime.actionRunner.role)).filter((statement) => statement.Action.some((action) => action.startsWith('lambda:')));
    expect(invokes).toEqual([{ Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [getAtt(runtime.actionRunner.lambda)] }]);
  });
});

describe('the payload bucket', () => {
  const bucket = propertiesOf(template.Resources[id(runtime.payloadBucket)]!);

  it('is encrypted, never public, and expires what the runner stored after 30 days', () => {
    expect(bucket['BucketEncryption']).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    expect(bucket['PublicAccessBlockConfiguration']).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(asRecord(bucket['LifecycleConfiguration'], 'LifecycleConfiguration')['Rules']).toEqual([
      { Id: 'expire-payloads', Status: 'Enabled', ExpirationInDays: PAYLOAD_RETENTION_DAYS, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ]);
  });

  it('refuses every request not made over TLS', () => {
    const policies = resourcesOfType(template, 'AWS::S3::BucketPolicy').filter(([, policy]) => JSON.stringify(propertiesOf(policy)['Bucket']) === JSON.stringify({ Ref: id(runtime.payloadBucket) }));
    expect(policies).toHaveLength(1);
    const statements = asArray(asRecord(propertiesOf(policies[0]![1])['PolicyDocument'], 'PolicyDocument')['Statement'], 'Statement');
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });

  it('is named to the action runner, which may put and get objects under payloads/ and nothing else of S3', () => {
    const environment = asRecord(asRecord(propertiesOf(template.Resources[id(runtime.actionRunner.lambda)]!)['Environment'], 'Environment')['Variables'], 'Variables');
    expect(environment['PAYLOAD_BUCKET_NAME']).toEqual({ Ref: id(runtime.payloadBucket) });
    const s3 = statementsOfRole(template, id(runtime.actionRunner.role)).filter((statement) => statement.Action.some((action) => action.startsWith('s3:')));
    expect(s3).toEqual([{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: [{ 'Fn::Join': ['', [getAtt(runtime.payloadBucket), '/payloads/*']] }] }]);
    // No other role of the stack may touch it.
    for (const [roleId] of resourcesOfType(template, 'AWS::IAM::Role').filter(([roleId]) => roleId !== id(runtime.actionRunner.role))) {
      expect(JSON.stringify(statementsOfRole(template, roleId))).not.toContain(id(runtime.payloadBucket));
    }
  });
});

describe('the queues', () => {
  const queues = [
    ['dead-letter queue', runtime.deadLetterQueue],
    ['status dead-letter queue', runtime.statusDeadLetterQueue],
  ] as const;

  it.each(queues)('the %s is encrypted at rest and keeps messages 14 days', (_name, queue) => {
    const properties = propertiesOf(template.Resources[id(queue)]!);
    expect(properties['SqsManagedSseEnabled']).toBe(true);
    expect(properties['MessageRetentionPeriod']).toBe(14 * 24 * 3600);
  });

  it.each(queues)('the %s refuses every request not made over TLS', (_name, queue) => {
    const policies = resourcesOfType(template, 'AWS::SQS::QueuePolicy').filter(([, policy]) => JSON.stringify(propertiesOf(policy)['Queues']) === JSON.stringify([{ Ref: id(queue) }]));
    expect(policies).toHaveLength(1);
    const statements = asArray(asRecord(propertiesOf(policies[0]![1])['PolicyDocument'], 'PolicyDocument')['Statement'], 'Statement');
    expect(statements).toContainEqual({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sqs:*', Resource: getAtt(queue), Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });
});

describe('grantEngineAccess', () => {
  const consumerTemplate = templateOf(consumer);
  const statements = rawStatementsOfRole(consumerTemplate, logicalIdOf(consumer, engineRole));

  it('lets the grantee pass the execution role, and only it, to Step Functions only', () => {
    const passRole = statements.filter((statement) => JSON.stringify(statement['Action']).includes('iam:'));
    expect(passRole).toHaveLength(1);
    expect(passRole[0]).toMatchObject({ Effect: 'Allow', Action: 'iam:PassRole', Condition: { StringEquals: { 'iam:PassedToService': 'states.amazonaws.com' } } });
    // The role's ARN, read from the runtime stack: a single resource, not a pattern.
    const resource = asRecord(passRole[0]!['Resource'], 'Resource');
    expect(JSON.stringify(resource)).toContain(id(runtime.executionRole));
    expect(JSON.stringify(resource)).not.toContain('*');
  });

  it('lets the grantee deploy, start and stop state machines under the prefix, and nothing wider', () => {
    const states = statements.filter((statement) => JSON.stringify(statement['Action']).includes('states:'));
    expect(states.map((statement) => ({ Action: [statement['Action']].flat().sort(), Resource: statement['Resource'] }))).toEqual([
      { Action: [...ENGINE_STATE_MACHINE_ACTIONS].sort(), Resource: arnJoin('states', 'stateMachine:Orch-*') },
      { Action: [...ENGINE_EXECUTION_ACTIONS], Resource: arnJoin('states', 'execution:Orch-*:*') },
      // The parts of split workflows: created and published, never started by the engine (their parents start them).
      { Action: [...ENGINE_PART_ACTIONS].sort(), Resource: arnJoin('states', 'stateMachine:Orch_*') },
    ]);
    expect(statements).toHaveLength(4);
  });

  it('gives the engine the environment the Step Functions engine reads', () => {
    expect(Object.keys(runtime.engineEnvironment).sort()).toEqual(Object.values(ENGINE_ENVIRONMENT).sort());
    expect(runtime.engineEnvironment[ENGINE_ENVIRONMENT.namePrefix]).toBe('Orch');
  });
});

describe('the health sweep', () => {
  const sweep = propertiesOf(template.Resources[id(runtime.healthSweep.lambda)]!);
  const schedule = propertiesOf(template.Resources[id(runtime.healthSweepRule)]!);

  it('runs the health sweep entry every minute by default, on the default bus schedule, stopping within the minute', () => {
    expect(runtime.healthSweep.entry).toMatch(/functions\/workers\/health-sweep-entry\.ts$/);
    expect(schedule['ScheduleExpression']).toBe('rate(1 minute)');
    expect(schedule['State']).toBe('ENABLED');
    expect(schedule['EventPattern']).toBeUndefined();
    expect(sweep['Timeout']).toBe(60);
  });

  it('is the schedule\'s only target, with permission for this rule only; a missed sweep is not retried (the next comes a period later)', () => {
    expect(schedule['Targets']).toEqual([{ Id: 'Target0', Arn: getAtt(runtime.healthSweep.lambda), RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } }]);
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission')
      .map(([, permission]) => propertiesOf(permission))
      .filter((permission) => JSON.stringify(permission['FunctionName']) === JSON.stringify(getAtt(runtime.healthSweep.lambda)));
    expect(permissions).toEqual([{ Action: 'lambda:InvokeFunction', FunctionName: getAtt(runtime.healthSweep.lambda), Principal: 'events.amazonaws.com', SourceArn: getAtt(runtime.healthSweepRule) }]);
    const configs = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig')
      .map(([, config]) => propertiesOf(config))
      .filter((config) => JSON.stringify(config['FunctionName']) === JSON.stringify({ Ref: id(runtime.healthSweep.lambda) }));
    expect(configs).toEqual([{ FunctionName: { Ref: id(runtime.healthSweep.lambda) }, Qualifier: '$LATEST', MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 }]);
  });

  it("may read and write the registry table (and query its listing index), read services' credentials, and nothing else but its logs and traces", () => {
    const environment = asRecord(asRecord(sweep['Environment'], 'Environment')['Variables'], 'Variables');
    expect(Object.keys(environment).sort()).toEqual(['NODE_OPTIONS', 'REGISTRY_TABLE_NAME', 'WORKFLOW_EVENT_BUS_NAME', ...OBSERVABILITY_VARIABLES].sort());
    const statements = statementsOfRole(template, id(runtime.healthSweep.role));
    const services = new Set(statements.flatMap((statement) => statement.Action.map((action) => action.split(':')[0])));
    // Secrets Manager and SSM: GetSecretValue and GetParameter under orchestrator/ (test/infra/outbound-access.test.ts);
    // events: PutEvents on the workflow bus (health changes are service events).
    expect(services).toEqual(new Set(['dynamodb', 'logs', 'xray', 'secretsmanager', 'ssm', 'events']));
    const tableStatements = statements.filter((statement) => statement.Action.some((action) => action.startsWith('dynamodb:')));
    for (const statement of tableStatements) expect(JSON.stringify(statement.Resource)).toContain('Registry');
    expect(JSON.stringify(tableStatements)).not.toContain('Executions');
    const actions = tableStatements.flatMap((statement) => statement.Action);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:UpdateItem']));
    expect(actions).not.toContain('dynamodb:Scan');
    const indexStatements = tableStatements.filter((statement) => JSON.stringify(statement.Resource).includes('/index/'));
    expect(indexStatements.map((statement) => statement.Action)).toEqual([['dynamodb:Query']]);
    expect(JSON.stringify(indexStatements[0]!.Resource)).toContain('/index/all-by-name');
  });

  it.each([
    [30, 'rate(1 minute)', 60],
    [60, 'rate(1 minute)', 60],
    [90, 'rate(2 minutes)', 120],
    [3600, 'rate(1 hour)', 900],
  ])('an interval of %i s is scheduled as %s (at least a minute, whole minutes), the sweep stopping within %i s', (interval, expression, timeout) => {
    const other = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
    const table = new Table(new Stack(other, 'D'), 'T', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    const stack = new RuntimeStack(other, 'R', { namePrefix: 'Orch', workflowsTable: table, executionsTable: table, registryTable: table, eventsTable: table, subscriptionsTable: table, healthCheckIntervalSeconds: interval });
    const built = templateOf(stack);
    expect(propertiesOf(built.Resources[logicalIdOf(stack, stack.healthSweepRule)]!)['ScheduleExpression']).toBe(expression);
    expect(propertiesOf(built.Resources[logicalIdOf(stack, stack.healthSweep.lambda)]!)['Timeout']).toBe(timeout);
  });

  it('refuses an interval that is not a positive number of seconds', () => {
    expect(() => healthSweepMinutes(0)).toThrow(/positive/);
    expect(() => healthSweepMinutes(Number.NaN)).toThrow(/positive/);
  });
});

describe("the action runner's circuit policy", () => {
  const runnerVariables = (circuitPolicy?: ConstructorParameters<typeof RuntimeStack>[2]['circuitPolicy']) => {
    const other = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
    const table = new Table(new Stack(other, 'D'), 'T', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    const stack = new RuntimeStack(other, 'R', { namePrefix: 'Orch', workflowsTable: table, executionsTable: table, registryTable: table, eventsTable: table, subscriptionsTable: table, ...(circuitPolicy ? { circuitPolicy } : {}) });
    const runner = propertiesOf(templateOf(stack).Resources[logicalIdOf(stack, stack.actionRunner.lambda)]!);
    return asRecord(asRecord(runner['Environment'], 'Environment')['Variables'], 'Variables');
  };

  it('reaches the runner as ORCHESTRATOR_CIRCUIT_* when set, and is left to the defaults otherwise', () => {
    expect(Object.keys(runnerVariables()).filter((name) => name.startsWith('ORCHESTRATOR_CIRCUIT_'))).toEqual([]);
    expect(runnerVariables({ failureThreshold: 3, cooldownSeconds: 90 })).toMatchObject({ ORCHESTRATOR_CIRCUIT_FAILURE_THRESHOLD: '3', ORCHESTRATOR_CIRCUIT_COOLDOWN_SECONDS: '90' });
    expect(runnerVariables({ failureThreshold: 3 })['ORCHESTRATOR_CIRCUIT_WINDOW_SECONDS']).toBeUndefined();
  });
});

describe('grantProbeAccess', () => {
  const statements = rawStatementsOfRole(templateOf(consumer), logicalIdOf(consumer, probeRole));

  it('lets GET /health/system ask the dead-letter queue for its attributes and describe the event bus, each on its own ARN, and nothing more', () => {
    expect(statements.map((statement) => ({ Action: statement['Action'], Effect: statement['Effect'], Resource: JSON.stringify(statement['Resource']) }))).toEqual([
      { Action: 'sqs:GetQueueAttributes', Effect: 'Allow', Resource: expect.stringContaining(id(runtime.deadLetterQueue)) },
      { Action: 'events:DescribeEventBus', Effect: 'Allow', Resource: expect.stringContaining(id(runtime.eventBus)) },
    ]);
    for (const statement of statements) expect(JSON.stringify(statement['Resource'])).not.toContain('*');
  });

  it("names the queue and the bus with the engine's variables", () => {
    expect(Object.keys(runtime.probeEnvironment).sort()).toEqual([ENGINE_ENVIRONMENT.deadLetterQueueUrl, ENGINE_ENVIRONMENT.eventBusName].sort());
  });
});

describe('the worker entries', () => {
  const run = promisify(execFile);
  const workers = [
    ['status listener', runtime.statusListener],
    ['action runner', runtime.actionRunner],
    ['health sweep', runtime.healthSweep],
  ] as const;

  /** The variables CDK sets on the function, with stand-in values for the tokens (table names...). */
  function environmentOf(worker: (typeof workers)[number][1]): Record<string, string> {
    const variables = asRecord(asRecord(propertiesOf(template.Resources[id(worker.lambda)]!)['Environment'], 'Environment')['Variables'], 'Variables');
    return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, typeof value === 'string' ? value : `test-${name.toLowerCase()}`]));
  }

  async function load(entry: string, environment: Record<string, string>) {
    const base = { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'function-under-test', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_EC2_METADATA_DISABLED: 'true' };
    const script = `const m = await import(${JSON.stringify(entry)}); if (typeof m.handler !== 'function') { console.error('no handler'); process.exit(2); }`;
    return run(process.execPath, ['--input-type=module', '-e', script], { env: { ...base, ...environment } });
  }

  it.each(workers)('the %s entry loads and exports a handler with exactly the environment its function gets', async (_name, worker) => {
    await expect(load(worker.entry, environmentOf(worker))).resolves.toBeDefined();
  });

  it.each(workers)('the %s entry fails at load without its table name, rather than on its first event', async (_name, worker) => {
    const environment = Object.fromEntries(Object.entries(environmentOf(worker)).filter(([name]) => !name.endsWith('_TABLE_NAME')));
    await expect(load(worker.entry, environment)).rejects.toThrow(/TABLE_NAME/);
  });
});

describe('the runtime stack', () => {
  it('exports the ARNs and names other stacks and operators need', () => {
    expect(Object.keys(template.Outputs ?? {})).toEqual(
      expect.arrayContaining([
        'StateMachineExecutionRoleArn',
        'ActionRunnerFunctionArn',
        'StatusListenerFunctionArn',
        'WorkflowEventBusName',
        'WorkflowEventBusArn',
        'DeadLetterQueueUrl',
        'DeadLetterQueueArn',
        'StatusDeadLetterQueueArn',
        'StateMachineLogGroupName',
        'StateMachineNamePrefix',
        'PayloadBucketName',
      ]),
    );
  });

  it('names the bus and the log group after the prefix (the log group under /aws/vendedlogs/)', () => {
    expect(propertiesOf(template.Resources[id(runtime.eventBus)]!)['Name']).toBe('Orch-workflow-events');
    expect(propertiesOf(template.Resources[id(runtime.stateMachineLogs)]!)['LogGroupName']).toBe('/aws/vendedlogs/states/Orch-workflows');
  });

  it('passes cdk-nag AwsSolutions with only its acknowledged findings, the grantee included', () => {
    expect(() => app.synth()).not.toThrow();
    // The test tables stand in for the data stack's and are not checked here.
    for (const stack of [runtime, consumer]) {
      const report = new AwsSolutionsChecks().validateScope(stack);
      expect(report.violations.map((violation) => `${violation.ruleName}: ${violation.violatingResources.map((resource) => resource.constructPath).join(', ')}`)).toEqual([]);
    }
  });

  it('refuses a prefix state machine names cannot start with', () => {
    const other = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
    const data = new Stack(other, 'D');
    const table = new Table(data, 'T', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    expect(() => new RuntimeStack(other, 'R', { namePrefix: 'x'.repeat(41), workflowsTable: table, executionsTable: table, registryTable: table, eventsTable: table, subscriptionsTable: table })).toThrow(/prefix/);
  });
});
