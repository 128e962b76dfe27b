import { describe, expect, it } from 'vitest';
import { announceDeadLetter, announceFailedDelivery } from '../../../../core/events/dead-letter-notice.ts';
import { newEvent, type NewEvent } from '../../../../core/events/envelope.ts';

const clock = { now: () => '2026-12-06T10:00:00.000Z' };
const ids = { next: () => 'id' };
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function recorder() {
  const events: NewEvent[] = [];
  return { events, emit: async (event: NewEvent) => void events.push(event) };
}

describe('dead-letter announcements (orchestrator.dlq.added)', () => {
  it("announce a failed action's dead letter in its workflow's tenant, tied to the run and its trace", async () => {
    const { events, emit } = recorder();
    const payload = { dead_letter_added: { queue: 'actions', kind: 'action_failed', action_id: 'ship', execution_id: 'run-1', workflow_id: 'wf', workflow_version: 2, tenant: 'acme', trace_id: TRACE, error: 'ServiceUnavailableError' } };
    expect(await announceDeadLetter(payload, emit)).toEqual({ announced: true });
    expect(events).toEqual([
      {
        type: 'orchestrator.dlq.added',
        tenant: 'acme',
        subject: 'executions/run-1/actions/ship',
        correlation_id: 'run-1',
        trace_id: TRACE,
        data: { queue: 'actions', kind: 'action_failed', action_id: 'ship', execution_id: 'run-1', workflow_id: 'wf', workflow_version: 2, error: 'ServiceUnavailableError' },
      },
    ]);
  });

  it('refuse a payload that is not a notice, naming the field', async () => {
    await expect(announceDeadLetter({ dead_letter_added: { queue: 'actions', kind: 'action_failed' } }, recorder().emit)).rejects.toThrow(/action_id/);
  });

  it('announce a failed delivery in the tenant of the event it carried, but never a failed delivery of a dead-letter event (no feedback loop)', async () => {
    const { events, emit } = recorder();
    const completed = newEvent({ type: 'orchestrator.run.completed', tenant: 'acme', data: { execution_id: 'run-1' } }, clock, ids);
    await announceFailedDelivery(emit, { subscription_id: 'sub-1', event: completed, error: 'the receiver answered 500', attempts: 5 });
    expect(events).toEqual([expect.objectContaining({ type: 'orchestrator.dlq.added', tenant: 'acme', subject: 'subscriptions/sub-1', data: expect.objectContaining({ queue: 'deliveries', event_id: completed.event_id, attempts: 5 }) })]);
    const announcement = newEvent(events[0]!, clock, ids);
    await announceFailedDelivery(emit, { subscription_id: 'sub-1', event: announcement, error: 'the receiver answered 500', attempts: 5 });
    expect(events).toHaveLength(1);
  });
});
