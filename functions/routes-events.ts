import * as z from 'zod';
import * as events from './http/event-schemas.ts';
import { StreamQuery } from './http/event-stream.ts';
import type { RouteSpec } from './routes.ts';

/** The event history, replay and clear (`/infrastructure/events/*`, issue 12). Part of THE route table (routes.ts spreads it in). */
export const eventRoutes = {
  getEventHistory: {
    method: 'GET',
    path: '/infrastructure/events/history',
    auth: 'viewer',
    context: 'events',
    summary: "Recorded domain events, newest first (filters: type or type family, source, execution_id, workflow_id, correlation_id, since, until); a tenant's members see its events only",
    tag: 'events',
    successStatus: 200,
    query: events.EventHistoryQuery,
    response: events.EventHistoryResponse,
    tables: { events: 'read' },
  },
  streamEvents: {
    method: 'GET',
    path: '/infrastructure/events/stream',
    auth: 'viewer',
    context: 'events',
    summary:
      'Events as Server-Sent Events (filters: an EventBridge pattern, a type or family, a run): the recorded ones after Last-Event-ID (or since), then, locally with Accept: text/event-stream, live ones as they happen; in AWS the answer ends and the EventSource reconnects with its Last-Event-ID',
    tag: 'events',
    successStatus: 200,
    rawResponse: true,
    mediaType: 'text/event-stream',
    query: StreamQuery,
    response: z.string().describe('text/event-stream: `retry:`, then per event `id: <time>|<event_id>`, `event: <type>`, `data: <envelope JSON>`'),
    tables: { events: 'read' },
  },
  replayEvents: {
    method: 'POST',
    path: '/infrastructure/events/replay',
    auth: 'operator',
    context: 'events',
    summary: 'Deliver recorded events again to subscriptions, oldest first, each marked replayed with its original event_id; never to the bus, so nothing inside the orchestrator acts on them again',
    tag: 'events',
    successStatus: 200,
    body: events.ReplayEventsBody,
    response: events.ReplayEventsResponse,
    tables: { events: 'read', subscriptions: 'read' },
    deliveries: 'enqueue',
  },
  clearEvents: {
    method: 'POST',
    path: '/infrastructure/events/clear',
    auth: 'admin',
    context: 'events',
    summary: 'Delete recorded events before a time (of some types, of one tenant); answers the count; the request is audited',
    tag: 'events',
    successStatus: 200,
    body: events.ClearEventsBody,
    response: events.ClearEventsResponse,
    tables: { events: 'write' },
  },
} as const satisfies Record<string, RouteSpec>;
