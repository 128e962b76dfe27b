import { scopeOf } from '../../core/auth/model.ts';
import type { EventService } from '../../core/events/service.ts';
import { handlerFactory, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import type { Secured } from './services.ts';
import { catchUp, streamFilterOf } from './event-stream.ts';

export interface EventHttpServices extends Secured {
  readonly events: EventService;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** The events context's history, replay and clear handlers. */
export function createEventHandlers(services: EventHttpServices) {
  const handle = handlerFactory(services.security);
  return {
    getEventHistory: handle(routes.getEventHistory, async ({ query, caller }) => {
      const { tenant, next_token: cursor, ...filters } = query;
      const page = await services.events.history({ ...filters, ...(cursor === undefined ? {} : { cursor }) }, scopeOf(caller, tenant));
      return { message: plural(page.items.length, 'event'), data: { events: page.items, count: page.items.length, next_token: page.nextCursor ?? null } };
    }),

    streamEvents: handle(routes.streamEvents, async ({ query, headers, caller }) => {
      const filter = streamFilterOf(query, caller);
      const { text, count } = await catchUp(services.events, filter, query, headers['last-event-id']);
      return { message: `${plural(count, 'event')}`, data: text, raw: true, contentType: 'text/event-stream; charset=utf-8', headers: { 'cache-control': 'no-cache' } };
    }),

    replayEvents: handle(routes.replayEvents, async ({ body, caller }) => {
      const result = await services.events.replay(body, scopeOf(caller));
      return { message: `${plural(result.replayed, 'event')} replayed${result.subscription_id ? ` to subscription ${result.subscription_id}` : ''}`, data: result };
    }),

    clearEvents: handle(routes.clearEvents, async ({ body, caller }) => {
      const scope = scopeOf(caller, body.tenant);
      const cleared = await services.events.clear({ before: body.before, ...(body.types === undefined ? {} : { types: body.types }) }, scope);
      return { message: `${plural(cleared.deleted, 'event')} deleted`, data: { ...cleared, ...(scope.tenant === undefined ? {} : { tenant: scope.tenant }) } };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}
