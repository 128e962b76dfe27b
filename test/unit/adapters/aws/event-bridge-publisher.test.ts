import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher } from '../../../../adapters/aws/eventbridge/event-bridge-publisher.ts';
import type { EventEnvelope } from '../../../../core/events/envelope.ts';

/** EventBridge has no emulator: the requests the adapter sends are checked against a mocked client. */
describe('EventBridgePublisher', () => {
  const eventBridge = mockClient(EventBridgeClient);
  const publisher = new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-1' }), 'orch-workflow-events');
  const event: EventEnvelope = {
    event_id: 'e-1',
    type: 'orchestrator.service.api_drift',
    source: '/orchestrator/registry',
    time: '2026-12-06T10:00:00.000Z',
    subject: 'services/pets',
    tenant: '@platform',
    data: { service: 'pets', counts: { added: 1 } },
  };

  beforeEach(() => eventBridge.reset());

  it('puts one entry on its bus: the envelope as the detail, its type as the detail type, its source and time', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] });
    await publisher.publish(event);
    const sent = eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input);
    expect(sent).toEqual([
      { Entries: [{ EventBusName: 'orch-workflow-events', Source: '/orchestrator/registry', DetailType: 'orchestrator.service.api_drift', Detail: expect.any(String), Time: new Date('2026-12-06T10:00:00.000Z') }] },
    ]);
    expect(JSON.parse(sent[0]!.Entries![0]!.Detail!)).toEqual(event);
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
