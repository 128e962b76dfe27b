import { DeleteRuleCommand, EventBridgeClient, ListRulesCommand, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeSubscriptionRules, subscriptionRuleName } from '../../../../adapters/aws/eventbridge/subscription-rules.ts';
import { EVENT_SOURCES, type EventEnvelope } from '../../../../core/events/envelope.ts';
import { matchesEventPattern, type EventPattern } from '../../../../core/events/pattern.ts';
import type { Subscription } from '../../../../core/events/subscriptions.ts';

/** EventBridge has no emulator: the requests the subscription rules send are checked against a mocked client. */
describe('EventBridgeSubscriptionRules', () => {
  const eventBridge = mockClient(EventBridgeClient);
  const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:orch-event-deliveries';
  const rules = new EventBridgeSubscriptionRules(new EventBridgeClient({ region: 'us-east-1' }), { busName: 'orch-workflow-events', queueArn: QUEUE, namePrefix: 'orch' });
  const ID = '6f1c2a52-1d1e-4a8e-9a53-3f0d4c1b2e77';
  const subscription: Subscription = {
    subscription_id: ID,
    url: 'https://hooks.example.com/in',
    pattern: { type: [{ prefix: 'orchestrator.run.' }] },
    tenant: 'acme',
    created_by: 'alice',
    created_at: '2026-12-01T10:00:00.000Z',
  };
  const notFound = Object.assign(new Error('Rule orch-sub-x does not exist'), { name: 'ResourceNotFoundException' });

  beforeEach(() => eventBridge.reset());

  it('puts one rule per subscription on the bus, its effective pattern under detail, then the delivery queue as its target', async () => {
    eventBridge.on(PutRuleCommand).resolves({ RuleArn: 'arn:rule' }).on(PutTargetsCommand).resolves({ FailedEntryCount: 0, FailedEntries: [] });
    await rules.put(subscription);
    expect(eventBridge.calls().map((call) => call.args[0].constructor.name)).toEqual(['PutRuleCommand', 'PutTargetsCommand']);
    const rule = eventBridge.commandCalls(PutRuleCommand)[0]!.args[0].input;
    expect(rule).toEqual({ Name: `orch-sub-${ID}`, EventBusName: 'orch-workflow-events', EventPattern: expect.any(String), State: 'ENABLED', Description: `orchestrator webhook subscription ${ID}` });
    expect(JSON.parse(rule.EventPattern!)).toEqual({ source: [{ prefix: '/orchestrator' }], detail: { type: [{ prefix: 'orchestrator.run.' }], tenant: ['acme'] } });
    expect(eventBridge.commandCalls(PutTargetsCommand)[0]!.args[0].input).toEqual({
      Rule: `orch-sub-${ID}`,
      EventBusName: 'orch-workflow-events',
      Targets: [{ Id: 'delivery', Arn: QUEUE, InputTransformer: { InputPathsMap: { detail: '$.detail' }, InputTemplate: `{"subscription_id":"${ID}","event":<detail>}` } }],
    });
  });

  it("writes a rule pattern that matches the bus's events as the subscription's own pattern matches envelopes", async () => {
    eventBridge.on(PutRuleCommand).resolves({}).on(PutTargetsCommand).resolves({ FailedEntryCount: 0 });
    await rules.put(subscription);
    const pattern = JSON.parse(eventBridge.commandCalls(PutRuleCommand)[0]!.args[0].input.EventPattern!) as EventPattern;
    const envelope = (tenant: string): EventEnvelope => ({ event_id: 'ev-1', type: 'orchestrator.run.failed', source: EVENT_SOURCES.runs, time: '2026-12-01T10:00:00.000Z', tenant, data: {} });
    // As EventBridge sees an event the publisher put: the envelope is the detail.
    const onBus = (detail: EventEnvelope) => ({ source: detail.source, 'detail-type': detail.type, detail });
    expect(matchesEventPattern(pattern, onBus(envelope('acme')))).toBe(true);
    expect(matchesEventPattern(pattern, onBus(envelope('globex')))).toBe(false);
    expect(matchesEventPattern(pattern, { ...onBus(envelope('acme')), source: 'aws.states' })).toBe(false);
  });

  it('makes each subscription its own message group on a FIFO delivery queue, so its deliveries stay in order', async () => {
    eventBridge.on(PutRuleCommand).resolves({}).on(PutTargetsCommand).resolves({ FailedEntryCount: 0 });
    const fifo = new EventBridgeSubscriptionRules(new EventBridgeClient({ region: 'us-east-1' }), { busName: 'orch-workflow-events', queueArn: `${QUEUE}.fifo`, namePrefix: 'orch' });
    await fifo.put(subscription);
    expect(eventBridge.commandCalls(PutTargetsCommand)[0]!.args[0].input.Targets?.[0]).toMatchObject({ Arn: `${QUEUE}.fifo`, SqsParameters: { MessageGroupId: ID } });
  });

  it('fails retryably when EventBridge refuses the target, although the call succeeded', async () => {
    eventBridge.on(PutRuleCommand).resolves({}).on(PutTargetsCommand).resolves({ FailedEntryCount: 1, FailedEntries: [{ TargetId: 'delivery', ErrorCode: 'AccessDenied', ErrorMessage: 'no' }] });
    await expect(rules.put(subscription)).rejects.toMatchObject({ name: 'DependencyUnavailableError', retryable: true, message: expect.stringMatching(/refused the target .*AccessDenied \(no\)/) });
  });

  it('removes the target before the rule, and takes either being gone already as done', async () => {
    eventBridge.on(RemoveTargetsCommand).rejects(notFound).on(DeleteRuleCommand).rejects(notFound);
    await rules.remove(ID);
    expect(eventBridge.calls().map((call) => [call.args[0].constructor.name, call.args[0].input])).toEqual([
      ['RemoveTargetsCommand', { Rule: `orch-sub-${ID}`, EventBusName: 'orch-workflow-events', Ids: ['delivery'] }],
      ['DeleteRuleCommand', { Name: `orch-sub-${ID}`, EventBusName: 'orch-workflow-events' }],
    ]);
  });

  it('fails retryably on any other error of a removal', async () => {
    eventBridge.on(RemoveTargetsCommand).resolves({ FailedEntryCount: 0 }).on(DeleteRuleCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(rules.remove(ID)).rejects.toMatchObject({ name: 'DependencyUnavailableError', message: expect.stringMatching(/Rate exceeded/) });
  });

  it('lists the subscriptions that have a rule, page after page, leaving alone rules under the prefix it did not make', async () => {
    eventBridge
      .on(ListRulesCommand, { NextToken: undefined })
      .resolves({ Rules: [{ Name: 'orch-sub-a', Description: 'orchestrator webhook subscription a' }, { Name: 'orch-sub-hand-made', Description: 'mine' }], NextToken: 'page-2' })
      .on(ListRulesCommand, { NextToken: 'page-2' })
      .resolves({ Rules: [{ Name: 'orch-sub-b', Description: 'orchestrator webhook subscription b' }, { Name: 'orch-sub-c', Description: 'orchestrator webhook subscription d' }] });
    expect(await rules.list()).toEqual(['a', 'b']);
    expect(eventBridge.commandCalls(ListRulesCommand).map((call) => call.args[0].input)).toEqual([
      { EventBusName: 'orch-workflow-events', NamePrefix: 'orch-sub-', Limit: 100 },
      { EventBusName: 'orch-workflow-events', NamePrefix: 'orch-sub-', Limit: 100, NextToken: 'page-2' },
    ]);
  });

  it('keeps rule names within 64 characters and under the prefix, whatever the prefix', () => {
    const prefix = 'a'.repeat(40);
    const name = subscriptionRuleName(prefix, ID);
    expect(name).toHaveLength(64);
    expect(name.startsWith(`${prefix}-sub-`)).toBe(true);
    expect(subscriptionRuleName(prefix, `${ID.slice(0, -1)}8`)).not.toBe(name);
    expect(subscriptionRuleName('orch', ID)).toBe(`orch-sub-${ID}`);
  });
});
