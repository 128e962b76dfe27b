import * as z from 'zod';
import { isAdmin, type Principal } from '../../core/auth/model.ts';
import type { EventEnvelope } from '../../core/events/envelope.ts';
import { matchesEventType, matchesHistoryQuery } from '../../core/events/history.ts';
import { matchesEventPattern, parseEventPattern, type EventPattern } from '../../core/events/pattern.ts';
import { ValidationError, type FieldIssue } from '../../core/errors.ts';
import type { EventService } from '../../core/events/service.ts';
import { eventTypeFilter } from './event-schemas.ts';
import { TenantFilter } from './workflow-schemas.ts';

/**
 * `GET /infrastructure/events/stream`: events as Server-Sent Events (text/event-stream). Every runtime
 * answers the catch-up: the recorded events after `Last-Event-ID` (or `since`) that the filter selects,
 * oldest first, then `retry:` so that an EventSource reconnects and asks again from the last id it saw (in
 * AWS that is the whole answer: API Gateway does not stream, so the stream is a poll the browser repeats).
 * The local server, for a client that accepts text/event-stream, keeps the connection open and writes live
 * events from the in-process bus as they are published (local/event-stream.ts).
 *
 * An event's SSE id is `<time>|<event_id>`: the history is ordered by both, so a reconnect resumes exactly.
 */

export const StreamQuery = z.object({
  pattern: z.string().max(4096, 'pattern must be at most 4096 characters').optional().describe('An EventBridge event pattern over the envelope, as JSON: {"type":[{"prefix":"orchestrator.run."}],"data":{"status":["failed"]}}'),
  type: eventTypeFilter('type').optional().describe('Shorthand: one event type, or a family ending with *'),
  execution_id: z.string().min(1, 'execution_id must not be empty').max(256, 'execution_id must be at most 256 characters').optional(),
  since: z.iso.datetime({ offset: true, error: 'since must be an ISO-8601 date-time with a time zone' }).optional().describe('Catch up from here when no Last-Event-ID is sent; default: only events from now on'),
  tenant: TenantFilter,
  limit: z.coerce.number({ error: (issue) => (issue.code === 'invalid_type' ? 'limit must be a number' : undefined) }).int('limit must be an integer').min(1, 'limit must be at least 1').max(500, 'limit must be at most 500').default(100).describe('The most recorded events one answer catches up with'),
});
export type StreamQueryInput = z.output<typeof StreamQuery>;

/** What a stream selects, from its query and its caller: tenants see their own events only. */
export interface StreamFilter {
  readonly pattern?: EventPattern;
  readonly type?: string;
  readonly execution_id?: string;
  /** Undefined: every tenant's (an admin without `tenant`). */
  readonly tenant?: string;
}

/** Reconnect after this long (ms): the SSE `retry:` field. */
export const STREAM_RETRY_MS = 2000;
/** Recorded events read at most per catch-up (the history pages newest first, the stream goes oldest first). */
const MAX_CATCH_UP_READ = 1000;

/** The filter of a stream request; ValidationError naming `pattern` (with each problem's path) when it is not a valid pattern. */
export function streamFilterOf(query: Pick<StreamQueryInput, 'pattern' | 'type' | 'execution_id' | 'tenant'>, caller: Principal): StreamFilter {
  let pattern: EventPattern | undefined;
  if (query.pattern !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(query.pattern);
    } catch {
      throw new ValidationError([{ field: 'pattern', message: 'must be a JSON object (an EventBridge event pattern)' }]);
    }
    const result = parseEventPattern(parsed);
    if ('issues' in result) throw new ValidationError(result.issues.map((issue: FieldIssue) => ({ field: issue.field === '' ? 'pattern' : `pattern.${issue.field}`, message: issue.message })));
    pattern = result.pattern;
  }
  const tenant = isAdmin(caller) ? query.tenant : caller.tenant;
  return { ...(pattern ? { pattern } : {}), ...(query.type ? { type: query.type } : {}), ...(query.execution_id ? { execution_id: query.execution_id } : {}), ...(tenant === undefined ? {} : { tenant }) };
}

/** Whether a stream with `filter` shows `event`. */
export function streamSelects(filter: StreamFilter, event: EventEnvelope): boolean {
  if (filter.tenant !== undefined && event.tenant !== filter.tenant) return false;
  if (filter.type !== undefined && !matchesEventType(event.type, filter.type)) return false;
  if (filter.execution_id !== undefined && !matchesHistoryQuery(event, { execution_id: filter.execution_id })) return false;
  return filter.pattern === undefined || matchesEventPattern(filter.pattern, event);
}

/** One event as an SSE message: its id (resumable), its type as the SSE event name, the envelope as data. */
export function sseMessage(event: EventEnvelope): string {
  return `id: ${event.time}|${event.event_id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** `Last-Event-ID` (`<time>|<event_id>`) as a position in the history; undefined when absent or not one of ours. */
export function streamPosition(lastEventId: string | undefined): { time: string; event_id: string } | undefined {
  const [time, eventId, ...rest] = (lastEventId ?? '').split('|');
  if (rest.length > 0 || !time || !eventId || Number.isNaN(Date.parse(time))) return undefined;
  return { time, event_id: eventId };
}

/**
 * The catch-up of a stream request: the recorded events after the position (exclusive) or `since`
 * (inclusive), oldest first, at most `limit`, as SSE text beginning with `retry:`. No position and no
 * `since`: nothing recorded, only what comes next.
 */
export async function catchUp(events: EventService, filter: StreamFilter, query: Pick<StreamQueryInput, 'since' | 'limit'>, lastEventId: string | undefined): Promise<{ text: string; count: number }> {
  const position = streamPosition(lastEventId);
  const from = position?.time ?? query.since;
  const head = `retry: ${STREAM_RETRY_MS}\n\n`;
  if (from === undefined) return { text: head, count: 0 };
  const collected: EventEnvelope[] = [];
  let cursor: string | undefined;
  do {
    const page = await events.history(
      { since: from, ...(filter.type ? { type: filter.type } : {}), ...(filter.execution_id ? { execution_id: filter.execution_id } : {}), limit: 200, ...(cursor ? { cursor } : {}) },
      filter.tenant === undefined ? {} : { tenant: filter.tenant },
    );
    collected.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined && collected.length < MAX_CATCH_UP_READ);
  const after = (event: EventEnvelope) => !position || `${event.time}|${event.event_id}` > `${position.time}|${position.event_id}`;
  const selected = collected.reverse().filter((event) => after(event) && streamSelects(filter, event)).slice(0, query.limit);
  return { text: head + selected.map(sseMessage).join(''), count: selected.length };
}
