import type { EventEnvelope } from './envelope.ts';

/**
 * The event history (issue 12): every event the bus carried, kept for a retention period and read back
 * newest first by `GET /infrastructure/events/history`. The port knows nothing of its storage; the DynamoDB
 * adapter (adapters/aws/dynamo/dynamo-event-history.ts) keys the filters it can and uses
 * matchesHistoryQuery for the others, so every implementation filters the same way.
 */

/** How long an event stays in the history when ORCHESTRATOR_EVENT_RETENTION_DAYS is not set. */
export const DEFAULT_EVENT_RETENTION_DAYS = 7;

export interface EventHistoryQuery {
  /** The caller's tenant: only its events come back. Undefined = every tenant's (admins only; the route decides). */
  tenant?: string;
  /** An exact type, or a family when it ends with `*`: `orchestrator.run.*` is every run event. */
  type?: string;
  /** The emitting component, exactly (`/orchestrator/runs`). */
  source?: string;
  /** Events of one run: its id in `data.execution_id`, or a subject `executions/<id>[/...]`. */
  execution_id?: string;
  /** Events of one workflow: its id in `data.workflow_id`, or a subject `workflows/<id>[/...]`. */
  workflow_id?: string;
  /** Events of one business transaction (the envelope's correlation_id). */
  correlation_id?: string;
  /** ISO-8601, inclusive, to the millisecond: events at or after it. */
  since?: string;
  /** ISO-8601, inclusive, to the millisecond: events at or before it. */
  until?: string;
  /** The most events one page holds. */
  limit: number;
  /** The nextCursor of the previous page, for the same filters; any other is refused (InvalidCursorError). */
  cursor?: string;
}

export interface EventHistoryPage {
  /** Newest first. */
  items: EventEnvelope[];
  /** Present when more events may follow; absent when the history is exhausted. */
  nextCursor?: string;
}

export interface EventHistory {
  /** Stores an event once: recording the same event_id again keeps the first and succeeds (redelivery). */
  record(event: EventEnvelope): Promise<void>;
  /** One page of the events the query selects, newest first; never an event past its retention. */
  query(query: EventHistoryQuery): Promise<EventHistoryPage>;
  /**
   * Deletes the events older than `before` (strictly), only those of `types` when given (each exact or a
   * `*` family, as EventHistoryQuery.type), only `tenant`'s when given; answers how many it deleted.
   */
  clear(options: { before: string; types?: readonly string[]; tenant?: string }): Promise<number>;
}

/** The run an event belongs to, if any: `data.execution_id`, else the id in an `executions/<id>` subject. */
export function eventExecutionId(event: EventEnvelope): string | undefined {
  return idIn(event.data['execution_id']) ?? subjectId(event.subject, 'executions');
}

/** The workflow an event belongs to, if any: `data.workflow_id`, else the id in a `workflows/<id>` subject. */
export function eventWorkflowId(event: EventEnvelope): string | undefined {
  return idIn(event.data['workflow_id']) ?? subjectId(event.subject, 'workflows');
}

/** Whether `type` is selected by a type filter: equal to it, or (filter ending with `*`) starting with the rest. */
export function matchesEventType(type: string, filter: string): boolean {
  return filter.endsWith('*') ? type.startsWith(filter.slice(0, -1)) : type === filter;
}

/**
 * Whether `event` passes every filter of `query` (limit and cursor aside). Times compare as instants, to
 * the millisecond, so offsets and precisions that differ in spelling still order correctly.
 */
export function matchesHistoryQuery(event: EventEnvelope, query: Omit<EventHistoryQuery, 'limit' | 'cursor'>): boolean {
  if (query.tenant !== undefined && event.tenant !== query.tenant) return false;
  if (query.type !== undefined && !matchesEventType(event.type, query.type)) return false;
  if (query.source !== undefined && event.source !== query.source) return false;
  if (query.execution_id !== undefined && eventExecutionId(event) !== query.execution_id) return false;
  if (query.workflow_id !== undefined && eventWorkflowId(event) !== query.workflow_id) return false;
  if (query.correlation_id !== undefined && event.correlation_id !== query.correlation_id) return false;
  const at = Date.parse(event.time);
  if (query.since !== undefined && at < Date.parse(query.since)) return false;
  if (query.until !== undefined && at > Date.parse(query.until)) return false;
  return true;
}

const idIn = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

function subjectId(subject: string | undefined, collection: string): string | undefined {
  const [head, id] = subject?.split('/') ?? [];
  return head === collection ? idIn(id) : undefined;
}
