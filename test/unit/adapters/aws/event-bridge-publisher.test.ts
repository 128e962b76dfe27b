import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher } from '../../../../adapters/aws/eventbridge/event-bridge-publisher.ts';

/** EventBridge has no emulator: the requests the adapter sends are checked against a mocked client. */
describe('EventBridgePublisher', () => {
  const eventBridge = mockClient(EventBridgeClient);
  const publisher = new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-1' }), 'orch-workflow-events');
  const event = { source: 'orchestrator.registry', detailType: 'Service API Drift Detected', detail: { service: 'pets', counts: { added: 1 } } };

  beforeEach(() => eventBridge.reset());

  it('puts one entry on its bus, the detail as JSON, and answers the event id', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] });
    expect(await publisher.publish(event)).toBe('evt-1');
    expect(eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input)).toEqual([
      { Entries: [{ EventBusName: 'orch-workflow-events', Source: 'orchestrator.registry', DetailType: 'Service API Drift Detected', Detail: '{"service":"pets","counts":{"added":1}}' }] },
    ]);
  });

  it('fails when EventBridge refuses the entry, although the call itself succeeded', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    await expect(publisher.publish(event)).rejects.toMatchObject({ name: 'DependencyUnavailableError', message: expect.stringMatching(/refused the event: InternalFailure \(try again\)/) });
  });

  it('fails as a retryable dependency error when the call fails', async () => {
    eventBridge.on(PutEventsCommand).rejects(new Error('socket hang up'));
    await expect(publisher.publish(event)).rejects.toMatchObject({ name: 'DependencyUnavailableError', retryable: true, message: expect.stringMatching(/did not take the event: socket hang up/) });
  });
});
