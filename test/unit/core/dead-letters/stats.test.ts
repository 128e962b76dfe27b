import { describe, expect, it } from 'vitest';
import { parseDeadLetter, type DeadLetter } from '../../../../core/dead-letters/model.ts';
import { oldestAgeSeconds, queueStats } from '../../../../core/dead-letters/stats.ts';

const NOW = '2026-03-01T12:00:00.000Z';

let next = 0;
function failed(workflowId: string, actionId: string, error: string | null, sentAt: string, kind = 'action_failed'): DeadLetter {
  next += 1;
  const body = { kind, execution_id: `run-${next}`, action_id: actionId, workflow_id: workflowId, error, cause: 'boom' };
  return parseDeadLetter('actions', { messageId: `m-${next}`, receiptHandle: `h-${next}`, body: JSON.stringify(body), sentAt, attributes: {} });
}

describe('the breakdown of a queue', () => {
  const letters = [
    failed('orders', 'charge', 'ServiceUnavailableError', '2026-03-01T11:00:00.000Z'),
    failed('orders', 'charge', 'ServiceUnavailableError', '2026-03-01T11:30:00.000Z'),
    failed('orders', 'ship', 'States.Timeout', '2026-03-01T11:59:00.000Z'),
    failed('billing', 'charge', 'ServiceUnavailableError', '2026-03-01T10:00:00.000Z'),
    failed('billing', 'refund', null, '2026-03-01T11:45:00.000Z', 'compensation_failed'),
    parseDeadLetter('actions', { messageId: 'junk', receiptHandle: 'h', body: 'not json', attributes: {} }),
  ];

  it('counts by kind, workflow, action (within its workflow) and error type, largest first', () => {
    const stats = queueStats('actions', { visible: 6, inFlight: 1 }, letters, NOW);
    expect(stats).toMatchObject({ queue: 'actions', visible: 6, in_flight: 1, sampled: 6, breakdown_complete: true });
    expect(stats.by_kind).toEqual([
      { kind: 'action_failed', count: 4 },
      { kind: 'compensation_failed', count: 1 },
      { kind: 'unknown', count: 1 },
    ]);
    expect(stats.by_workflow).toEqual([
      { workflow_id: 'orders', count: 3 },
      { workflow_id: 'billing', count: 2 },
    ]);
    expect(stats.by_action).toEqual([
      { workflow_id: 'orders', action_id: 'charge', count: 2 },
      { workflow_id: 'billing', action_id: 'charge', count: 1 },
      { workflow_id: 'billing', action_id: 'refund', count: 1 },
      { workflow_id: 'orders', action_id: 'ship', count: 1 },
    ]);
    expect(stats.by_error_type).toEqual([
      { error_type: 'ServiceUnavailableError', count: 3 },
      { error_type: 'unknown', count: 2 },
      { error_type: 'States.Timeout', count: 1 },
    ]);
  });

  it("gives the oldest message's age in whole seconds, among the messages read", () => {
    expect(queueStats('actions', { visible: 6, inFlight: 0 }, letters, NOW).oldest_message_age_seconds).toBe(2 * 3600);
    expect(oldestAgeSeconds([{ sent_at: '2026-03-01T11:59:59.400Z' }], NOW)).toBe(0);
    // A sender's clock ahead of ours is no negative age.
    expect(oldestAgeSeconds([{ sent_at: '2026-03-01T12:00:05.000Z' }], NOW)).toBe(0);
  });

  it('says when the breakdown misses messages, and has no age without messages', () => {
    const partial = queueStats('actions', { visible: 250, inFlight: 0 }, letters, NOW);
    expect(partial).toMatchObject({ sampled: 6, breakdown_complete: false });
    const empty = queueStats('deliveries', { visible: 0, inFlight: 0 }, [], NOW);
    expect(empty).toMatchObject({ sampled: 0, breakdown_complete: true, oldest_message_age_seconds: null, by_kind: [], by_workflow: [], by_action: [], by_error_type: [] });
  });
});
