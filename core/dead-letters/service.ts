import { ValidationError } from '../errors.ts';
import { DEAD_LETTER_QUEUES, parseDeadLetter, type DeadLetter, type DeadLetterQueueName } from './model.ts';
import { MAX_MESSAGES_READ, type DeadLetterInspector } from './ports.ts';
import { RETRY_OUTCOMES, retryDeadLetters, type DeadLetterCaller, type DeadLetterRetryDeps, type RetryOutcome, type RetryResult, type RetrySelection } from './retry.ts';
import { ageSeconds, queueStats, type QueueStats } from './stats.ts';

/**
 * The dead-letter use cases behind `/infrastructure/dlq/*`: stats of every queue this runtime has, a look
 * at one queue's messages, and retries. Each composition root says which queues it has (AWS: failed actions,
 * deployments and deliveries; locally: failed actions and deliveries); naming another is a 400.
 */

export interface DeadLetterServiceDeps extends DeadLetterRetryDeps {
  /** The queues this runtime has; a queue it lacks is absent. */
  readonly queues: Readonly<Partial<Record<DeadLetterQueueName, DeadLetterInspector>>>;
}

/** The largest body a message view shows whole; a larger one is shown as the start of its text. */
export const MAX_VIEW_BODY_CHARS = 16 * 1024;

/** A dead letter as `GET /infrastructure/dlq/messages` shows it. */
export interface DeadLetterView extends Omit<DeadLetter, 'body' | 'event'> {
  /** Seconds since the queue got it; null when the queue did not say when. */
  readonly age_seconds: number | null;
  /** The body (parsed JSON, or text), when at most MAX_VIEW_BODY_CHARS long. */
  readonly body?: unknown;
  /** The first MAX_VIEW_BODY_CHARS characters of a longer body. */
  readonly body_preview?: string;
}

export interface RetryReport {
  readonly queue: DeadLetterQueueName;
  readonly results: readonly RetryResult[];
  /** How many results had each outcome (every outcome listed, 0 included). */
  readonly counts: Readonly<Record<RetryOutcome, number>>;
}

/** The dead-letter use cases over `deps.queues`; a queue name the runtime lacks is a ValidationError naming those it has. */
export function createDeadLetterService(deps: DeadLetterServiceDeps) {
  const names = DEAD_LETTER_QUEUES.filter((name) => deps.queues[name] !== undefined);

  function inspectorOf(queue: string): { name: DeadLetterQueueName; inspector: DeadLetterInspector } {
    const name = names.find((candidate) => candidate === queue);
    if (name === undefined) {
      throw new ValidationError([
        { field: 'queue', message: names.length === 0 ? 'this runtime has no dead-letter queue' : `must be one of the queues this runtime has: ${names.join(', ')} (got '${queue}')` },
      ]);
    }
    return { name, inspector: deps.queues[name]! };
  }

  return {
    /** The queues this runtime has, in a stable order. */
    queueNames: (): readonly DeadLetterQueueName[] => names,

    /**
     * Every queue's counts and breakdown. The breakdown reads up to MAX_MESSAGES_READ messages of each queue
     * and makes them visible again at once (each read raises their receive count; none is lost or delayed).
     */
    async stats(): Promise<{ queues: QueueStats[] }> {
      const queues = await Promise.all(
        names.map(async (name) => {
          const inspector = deps.queues[name]!;
          const counts = await inspector.counts();
          // An empty queue is not read: a read waits for messages that will not come.
          const letters = counts.visible > 0 ? (await inspector.peek(MAX_MESSAGES_READ)).map((message) => parseDeadLetter(name, message)) : [];
          return queueStats(name, counts, letters, deps.clock.now());
        }),
      );
      return { queues };
    },

    /** Up to `limit` messages of `queue`, read and made visible again at once. */
    async messages(queue: string, limit: number): Promise<{ queue: DeadLetterQueueName; visible: number; in_flight: number; messages: DeadLetterView[] }> {
      const { name, inspector } = inspectorOf(queue);
      const counts = await inspector.counts();
      const received = await inspector.peek(Math.min(limit, MAX_MESSAGES_READ));
      const now = deps.clock.now();
      return { queue: name, visible: counts.visible, in_flight: counts.inFlight, messages: received.map((message) => deadLetterView(parseDeadLetter(name, message), now)) };
    },

    /** Retries the selected messages of `queue` (retry.ts says how each kind is retried, and once). */
    async retry(queue: string, selection: RetrySelection, caller: DeadLetterCaller): Promise<RetryReport> {
      const { name, inspector } = inspectorOf(queue);
      const results = await retryDeadLetters(deps, name, inspector, selection, caller);
      const counts = Object.fromEntries(RETRY_OUTCOMES.map((outcome) => [outcome, results.filter((result) => result.outcome === outcome).length])) as Record<RetryOutcome, number>;
      return { queue: name, results, counts };
    },
  };
}

export type DeadLetterService = ReturnType<typeof createDeadLetterService>;

/** A dead letter for display: its age, and its body whole or, past MAX_VIEW_BODY_CHARS, the start of it. */
export function deadLetterView(letter: DeadLetter, now: string): DeadLetterView {
  const { body, event: _event, ...rest } = letter;
  const sent = letter.sent_at === undefined ? Number.NaN : Date.parse(letter.sent_at);
  const age = Number.isFinite(sent) ? ageSeconds(sent, now) : null;
  if (letter.body_length <= MAX_VIEW_BODY_CHARS) return { ...rest, age_seconds: age, body };
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { ...rest, age_seconds: age, body_preview: text.slice(0, MAX_VIEW_BODY_CHARS) };
}
