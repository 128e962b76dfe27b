import { scopeOf } from '../../core/auth/model.ts';
import type { DeadLetterService } from '../../core/dead-letters/service.ts';
import type { RetrySelection } from '../../core/dead-letters/retry.ts';
import { handlerFactory } from '../middleware/http-handler.ts';
import type { ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import type { Secured } from './services.ts';

export interface DeadLetterHttpServices extends Secured {
  /** The dead-letter use cases over this runtime's queues (core/dead-letters/service.ts). */
  readonly deadLetters: DeadLetterService;
}

/** How many messages `all: true` reads and retries when the request gives no max. */
export const DEFAULT_RETRY_MAX = 10;

/** The dead-letter queues' handlers: stats, messages, retry. */
export function createDeadLetterHandlers(services: DeadLetterHttpServices) {
  // Services are read when a request needs them: each route's function gets only its own queues and tables.
  const handle = handlerFactory(services.security);
  return {
    deadLetterStats: handle(routes.deadLetterStats, async () => {
      const { queues } = await services.deadLetters.stats();
      const waiting = queues.reduce((sum, queue) => sum + queue.visible, 0);
      return { message: `${queues.length} dead-letter queue${queues.length === 1 ? '' : 's'}, ${waiting} message${waiting === 1 ? '' : 's'} waiting`, data: { queues } };
    }),

    listDeadLetters: handle(routes.listDeadLetters, async ({ query }) => {
      const page = await services.deadLetters.messages(query.queue, query.limit);
      return { message: `${page.messages.length} message${page.messages.length === 1 ? '' : 's'} of the ${page.queue} queue`, data: { ...page, count: page.messages.length } };
    }),

    retryDeadLetters: handle(routes.retryDeadLetters, async ({ body, caller, actor }) => {
      // The body's schema lets exactly one selector through.
      const selection: RetrySelection =
        body.message_ids !== undefined ? { messageIds: body.message_ids } : body.execution_id !== undefined ? { executionId: body.execution_id } : { all: true, max: body.max ?? DEFAULT_RETRY_MAX };
      const report = await services.deadLetters.retry(body.queue, selection, { actor, scope: scopeOf(caller) });
      return { message: `${report.counts.retried} of ${report.results.length} message${report.results.length === 1 ? '' : 's'} retried`, data: report };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}
