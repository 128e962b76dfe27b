import type { RouteSpec } from './routes.ts';
import * as dlq from './http/dlq-schemas.ts';

/**
 * The dead-letter queues: stats, messages, retry (`/infrastructure/dlq/*`, issue 12). Part of THE route table
 * (routes.ts spreads it in).
 *
 * Reading is for admins: the queues are the platform's, their messages span tenants, and a failed action's
 * message names no tenant (its run does). Retrying is for operators too: their retries reach their own
 * tenant's runs, deployments and deliveries only (core/dead-letters/retry.ts).
 */
export const deadLetterRoutes = {
  deadLetterStats: {
    method: 'GET',
    path: '/infrastructure/dlq/stats',
    auth: 'admin',
    context: 'events',
    summary:
      "Every dead-letter queue of this runtime (failed actions, deployments, deliveries): messages visible and in flight, the oldest message's age, and counts by kind, workflow, action and error type (from up to 100 messages per queue, read and made visible again at once)",
    tag: 'dead-letters',
    successStatus: 200,
    response: dlq.DeadLetterStatsResponse,
    tables: {},
    deadLetters: 'inspect',
  },
  listDeadLetters: {
    method: 'GET',
    path: '/infrastructure/dlq/messages',
    auth: 'admin',
    context: 'events',
    summary: "Up to `limit` messages of one dead-letter queue, read and made visible again at once: what failed, where, why, and the message's body",
    tag: 'dead-letters',
    successStatus: 200,
    query: dlq.DeadLetterMessagesQuery,
    response: dlq.DeadLetterMessagesResponse,
    tables: {},
    deadLetters: 'inspect',
  },
  retryDeadLetters: {
    method: 'POST',
    path: '/infrastructure/dlq/retry',
    auth: 'operator',
    context: 'events',
    summary:
      "Retry dead letters (message_ids, execution_id, or all with max): a failed action's run resumes from its failed step, a failed deployment's event is published again, a failed delivery is delivered again. A message is deleted once its retry was accepted; retrying it again has no effect. The outcome of each message",
    tag: 'dead-letters',
    successStatus: 200,
    body: dlq.RetryDeadLettersBody,
    response: dlq.RetryDeadLettersResponse,
    // The retry ledger lives in the events table; a run's retry reads its workflow and reopens the run.
    tables: { events: 'write', executions: 'write', workflows: 'read' },
    engine: true,
    bus: 'publish',
    deadLetters: 'redrive',
  },
} as const satisfies Record<string, RouteSpec>;
