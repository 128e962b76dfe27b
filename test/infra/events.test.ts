import { describe, expect, it } from 'vitest';
import type { RouteName } from '../../functions/routes.ts';
import { deployedFunctionOf, readApiModel, type DeployedFunction } from './api-model.ts';
import { asArray, asRecord, buildOrchestratorApp, logicalIdOf, OBSERVABILITY_VARIABLES, propertiesOf, resourcesOfType, statementsOfRole, templateOf, type StatementJson } from './fixture.ts';

/**
 * Events and dead letters in AWS (issue 12, ADR 0013): the recorder's rule, the webhook deliveries' queues,
 * worker and queue policy, and what the event and dead-letter routes may do. (nag.test.ts: cdk-nag clean.)
 */
const stacks = buildOrchestratorApp();
const { runtime } = stacks;
const model = readApiModel(stacks);
const template = templateOf(runtime);
const id = (construct: Parameters<typeof logicalIdOf>[1]) => logicalIdOf(runtime, construct);
const getAtt = (construct: Parameters<typeof logicalIdOf>[1], attribute = 'Arn') => ({ 'Fn::GetAtt': [id(construct), attribute] });


const functionOf = (name: RouteName): DeployedFunction => deployedFunctionOf(model, name);
const actionsOf = (statements: readonly StatementJson[], prefix: string) => statements.flatMap((statement) => statement.Action.filter((action) => action.startsWith(prefix))).sort();
const environmentOf = (properties: Record<string, unknown>) => asRecord(asRecord(properties['Environment'], 'Environment')['Variables'], 'Variables');

describe('the event recorder', () => {
  const rule = propertiesOf(template.Resources[id(runtime.eventRecorder.rule)]!);

  it('gets every orchestrator event of the workflow bus (source prefix /orchestrator), retrying and then dead-lettering', () => {
    expect(rule['EventBusName']).toEqual({ Ref: id(runtime.eventBus) });
    expect(rule['EventPattern']).toEqual({ source: [{ prefix: '/orchestrator' }] });
    expect(rule['Targets']).toEqual([
      { Id: 'Target0', Arn: getAtt(runtime.eventRecorder.recorder.lambda), RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 6 * 3600 }, DeadLetterConfig: { Arn: getAtt(runtime.eventRecorder.deadLetterQueue) } },
    ]);
  });

  it('may put items in the events table and nothing else of the data (no read, no delete)', () => {
    const statements = statementsOfRole(template, id(runtime.eventRecorder.recorder.role));
    expect(actionsOf(statements, 'dynamodb:')).toEqual(['dynamodb:PutItem']);
    expect(Object.keys(environmentOf(propertiesOf(template.Resources[id(runtime.eventRecorder.recorder.lambda)]!))).sort()).toEqual(['EVENTS_TABLE_NAME', 'NODE_OPTIONS', ...OBSERVABILITY_VARIABLES].sort());
  });
});

describe('webhook deliveries', () => {
  const deliveries = runtime.eventDeliveries;
  const queue = propertiesOf(template.Resources[id(deliveries.queue)]!);

  it('move a delivery to the failed-deliveries queue after 8 receives, never while a worker may still hold it', () => {
    expect(queue['RedrivePolicy']).toEqual({ deadLetterTargetArn: getAtt(deliveries.deadLetterQueue), maxReceiveCount: 8 });
    expect(queue['VisibilityTimeout']).toBeGreaterThan(propertiesOf(template.Resources[id(deliveries.worker.lambda)]!)['Timeout'] as number);
    expect(queue['SqsManagedSseEnabled']).toBe(true);
  });

  it("take messages from this deployment's subscription rules only (events.amazonaws.com, rules <bus>/<prefix>-sub-*)", () => {
    const policies = resourcesOfType(template, 'AWS::SQS::QueuePolicy').filter(([, policy]) => JSON.stringify(propertiesOf(policy)['Queues']).includes(id(deliveries.queue)));
    const statements = policies.flatMap(([, policy]) => asArray(asRecord(propertiesOf(policy)['PolicyDocument'], 'PolicyDocument')['Statement'], 'Statement').map((raw) => asRecord(raw, 'Statement')));
    const fromRules = statements.filter((statement) => JSON.stringify(statement['Principal']).includes('events.amazonaws.com'));
    expect(fromRules).toHaveLength(1);
    expect(fromRules[0]!['Action']).toBe('sqs:SendMessage');
    expect(JSON.stringify(fromRules[0]!['Condition'])).toContain(':rule/Orchestrator-workflow-events/Orchestrator-sub-*');
  });

  it('are read by the delivery worker in batches that report their failures one by one', () => {
    const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(([, mapping]) => propertiesOf(mapping));
    expect(mappings).toEqual([expect.objectContaining({ EventSourceArn: getAtt(deliveries.queue), FunctionName: { Ref: id(deliveries.worker.lambda) }, BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] })]);
  });

  it('give the worker the subscription (GetItem), its back-off, the failed-deliveries queue and the bus, and nothing else', () => {
    const statements = statementsOfRole(template, id(deliveries.worker.role));
    expect(actionsOf(statements, 'dynamodb:')).toEqual(['dynamodb:GetItem']);
    expect(actionsOf(statements, 'events:')).toEqual(['events:PutEvents']);
    const sqs = statements.filter((statement) => statement.Action.some((action) => action.startsWith('sqs:')));
    const onDeadLetters = sqs.filter((statement) => JSON.stringify(statement.Resource).includes(id(deliveries.deadLetterQueue)));
    expect(onDeadLetters.flatMap((statement) => statement.Action)).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    expect(onDeadLetters.flatMap((statement) => statement.Action)).not.toContain('sqs:DeleteMessage');
    expect(Object.keys(environmentOf(propertiesOf(template.Resources[id(deliveries.worker.lambda)]!))).sort()).toEqual(
      ['EVENT_DELIVERY_DEAD_LETTER_QUEUE_URL', 'EVENT_DELIVERY_MAX_ATTEMPTS', 'EVENT_DELIVERY_QUEUE_URL', 'NODE_OPTIONS', 'SUBSCRIPTIONS_TABLE_NAME', 'WORKFLOW_EVENT_BUS_NAME', ...OBSERVABILITY_VARIABLES].sort(),
    );
  });
});

describe('the routes', () => {
  it.each(['createEventSubscription', 'deleteEventSubscription'] as const)('%s may make and remove the subscription rules of this deployment, and list rules', (name) => {
    const deployed = functionOf(name);
    const rules = deployed.statements.filter((statement) => statement.Action.includes('events:PutRule'));
    expect(rules).toHaveLength(1);
    expect([...rules[0]!.Action].sort()).toEqual(['events:DeleteRule', 'events:DescribeRule', 'events:PutRule', 'events:PutTargets', 'events:RemoveTargets']);
    expect(JSON.stringify(rules[0]!.Resource)).toContain(':rule/Orchestrator-workflow-events/Orchestrator-sub-*');
    expect(environmentOf(deployed.properties)).toHaveProperty('SUBSCRIPTION_RULE_PREFIX', 'Orchestrator');
    expect(environmentOf(deployed.properties)).toHaveProperty('EVENT_DELIVERY_QUEUE_ARN');
  });

  it('lets the replay route put deliveries on the delivery queue (and tells it the URL of that queue, no other), and the list route nothing of EventBridge or SQS', () => {
    expect(Object.keys(environmentOf(functionOf('replayEvents').properties)).filter((name) => name.endsWith('_URL'))).toEqual(['EVENT_DELIVERY_QUEUE_URL']);
    expect(functionOf('replayEvents').statements.filter((statement) => statement.Action.includes('sqs:SendMessage')).map((statement) => model.render(statement.Resource[0]))).toEqual([expect.stringMatching(/EventDeliveriesQueue/)]);
    const list = functionOf('listEventSubscriptions').statements;
    expect(actionsOf(list, 'events:')).toEqual([]);
    expect(actionsOf(list, 'sqs:')).toEqual([]);
  });

  it('lets the dead-letter routes read the three dead-letter queues, and only the retry route delete from them', () => {
    for (const name of ['deadLetterStats', 'listDeadLetters', 'retryDeadLetters'] as const) {
      const onQueues = functionOf(name).statements.filter((statement) => statement.Action.includes('sqs:ReceiveMessage'));
      expect(onQueues, name).toHaveLength(1);
      const rendered = onQueues[0]!.Resource.map(model.render).join(' ');
      for (const queue of ['DeadLetterQueue', 'DeployDeadLetterQueue', 'FailedDeliveries']) expect(rendered, `${name} ${queue}`).toContain(queue);
      expect(onQueues[0]!.Action.includes('sqs:DeleteMessage'), name).toBe(name === 'retryDeadLetters');
    }
  });
});
