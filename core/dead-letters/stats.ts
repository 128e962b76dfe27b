import { DEAD_LETTER_KINDS, type DeadLetter, type DeadLetterKind, type DeadLetterQueueName } from './model.ts';
import type { QueueCounts } from './ports.ts';

/**
 * The stats of one dead-letter queue: its own approximate counts, and a breakdown of the messages read from
 * it (every visible one while the queue holds at most MAX_MESSAGES_READ). SQS has no attribute for the
 * oldest message's age (only a CloudWatch metric), so it is the oldest among the messages read.
 */
export interface QueueStats {
  readonly queue: DeadLetterQueueName;
  readonly visible: number;
  readonly in_flight: number;
  /** How many messages the breakdown counts. */
  readonly sampled: number;
  /** Whether every message visible when the counts were read is in the breakdown. */
  readonly breakdown_complete: boolean;
  /** Seconds since the oldest message read was sent; null when none was read. */
  readonly oldest_message_age_seconds: number | null;
  readonly by_kind: ReadonlyArray<{ readonly kind: DeadLetterKind; readonly count: number }>;
  readonly by_workflow: ReadonlyArray<{ readonly workflow_id: string; readonly count: number }>;
  readonly by_action: ReadonlyArray<{ readonly workflow_id: string; readonly action_id: string; readonly count: number }>;
  readonly by_error_type: ReadonlyArray<{ readonly error_type: string; readonly count: number }>;
}

/** The stats of `queue` from its counts and the dead letters read from it; `now` is ISO-8601. */
export function queueStats(queue: DeadLetterQueueName, counts: QueueCounts, letters: readonly DeadLetter[], now: string): QueueStats {
  const byKind = new Map<DeadLetterKind, number>();
  const byWorkflow = new Map<string, number>();
  // Action ids are unique within a workflow only, so an action is counted under its workflow.
  const byAction = new Map<string, { workflow_id: string; action_id: string; count: number }>();
  const byErrorType = new Map<string, number>();
  for (const letter of letters) {
    increment(byKind, letter.kind);
    increment(byErrorType, letter.error_type);
    if (letter.workflow_id === undefined) continue;
    increment(byWorkflow, letter.workflow_id);
    if (letter.action_id === undefined) continue;
    const key = JSON.stringify([letter.workflow_id, letter.action_id]);
    const entry = byAction.get(key) ?? { workflow_id: letter.workflow_id, action_id: letter.action_id, count: 0 };
    entry.count += 1;
    byAction.set(key, entry);
  }
  return {
    queue,
    visible: counts.visible,
    in_flight: counts.inFlight,
    sampled: letters.length,
    breakdown_complete: letters.length >= counts.visible,
    oldest_message_age_seconds: oldestAgeSeconds(letters, now),
    by_kind: DEAD_LETTER_KINDS.filter((kind) => byKind.has(kind)).map((kind) => ({ kind, count: byKind.get(kind)! })),
    by_workflow: sorted([...byWorkflow].map(([workflow_id, count]) => ({ workflow_id, count })), (entry) => entry.workflow_id),
    by_action: sorted([...byAction.values()], (entry) => `${entry.workflow_id}\u0000${entry.action_id}`),
    by_error_type: sorted([...byErrorType].map(([error_type, count]) => ({ error_type, count })), (entry) => entry.error_type),
  };
}

/** Whole seconds since the oldest `sent_at` among `letters` (never negative: clocks differ); null without one. */
export function oldestAgeSeconds(letters: readonly Pick<DeadLetter, 'sent_at'>[], now: string): number | null {
  const sent = letters.map((letter) => (letter.sent_at === undefined ? Number.NaN : Date.parse(letter.sent_at))).filter((at) => Number.isFinite(at));
  if (sent.length === 0) return null;
  return ageSeconds(Math.min(...sent), now);
}

/** Whole seconds from `sentAtMs` to `now`, at least 0. */
export function ageSeconds(sentAtMs: number, now: string): number {
  return Math.max(0, Math.floor((Date.parse(now) - sentAtMs) / 1000));
}

function increment<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** Largest count first; ties in name order, so the answer is the same for the same messages. */
function sorted<T extends { count: number }>(entries: T[], name: (entry: T) => string): T[] {
  return entries.sort((a, b) => b.count - a.count || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
}
