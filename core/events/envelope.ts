import * as z from 'zod';
import type { Clock, IdGenerator } from '../ports.ts';

/**
 * The one envelope every domain event travels in (issue 12): on the workflow event bus (EventBridge in AWS,
 * the in-process bus locally), in the event history, to webhooks and on the live stream. Its fields map one
 * to one onto a CloudEvents 1.0 event (toCloudEvent), so a CloudEvents consumer reads it as it is; the
 * snake_case names are the API's own. Patterns (pattern.ts) are matched against this envelope.
 */

/** What happened, `orchestrator.<entity>.<change>`: a pattern can select a family with a prefix. */
export const EVENT_TYPES = [
  'orchestrator.workflow.created',
  'orchestrator.workflow.updated',
  'orchestrator.workflow.deleted',
  'orchestrator.workflow.version_published',
  'orchestrator.run.requested',
  'orchestrator.run.started',
  'orchestrator.run.paused',
  'orchestrator.run.resumed',
  'orchestrator.run.retried',
  'orchestrator.run.completed',
  'orchestrator.run.failed',
  'orchestrator.run.cancelled',
  'orchestrator.run.timed_out',
  'orchestrator.action.started',
  'orchestrator.action.retried',
  'orchestrator.action.completed',
  'orchestrator.action.failed',
  'orchestrator.action.skipped',
  'orchestrator.action.compensated',
  'orchestrator.service.registered',
  'orchestrator.service.health_changed',
  'orchestrator.service.circuit_opened',
  'orchestrator.service.circuit_closed',
  'orchestrator.service.api_drift',
  'orchestrator.dlq.added',
  'orchestrator.dlq.retried',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Every orchestrator event's source starts with it (the recorder's rule matches the prefix). */
export const EVENT_SOURCE_PREFIX = '/orchestrator';

/** The component that emitted an event (CloudEvents `source`, a URI reference). */
export const EVENT_SOURCES = {
  workflows: '/orchestrator/workflows',
  runs: '/orchestrator/runs',
  registry: '/orchestrator/registry',
  deadLetters: '/orchestrator/dead-letters',
} as const;

/**
 * The tenant of events about what every tenant shares (registered services, the platform's queues): not a
 * valid tenant name (core/auth/api-keys.ts TenantSchema), so no tenant's member ever reads them; admins do.
 */
export const PLATFORM_EVENT_TENANT = '@platform';

const SOURCE_OF_ENTITY: Readonly<Record<string, string>> = {
  workflow: EVENT_SOURCES.workflows,
  run: EVENT_SOURCES.runs,
  action: EVENT_SOURCES.runs,
  service: EVENT_SOURCES.registry,
  dlq: EVENT_SOURCES.deadLetters,
};

export const EventEnvelopeSchema = z.object({
  event_id: z.string().min(1).max(128),
  type: z.enum(EVENT_TYPES),
  source: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  /** What the event is about, as a path: `workflows/<id>`, `executions/<id>`, `executions/<id>/actions/<id>`, `services/<name>`. */
  subject: z.string().min(1).optional(),
  /** The run's W3C trace id (32 hex), when the event belongs to a run. */
  trace_id: z
    .string()
    .regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex digits (a W3C trace id)')
    .optional(),
  /** Ties events of one business transaction together: a run and the runs its retries and reruns made. */
  correlation_id: z.string().min(1).max(256).optional(),
  tenant: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
  /** Set on events delivered again by a replay; the event_id stays the original's, so receivers can deduplicate. */
  replayed: z.literal(true).optional(),
});
export type EventEnvelope = z.infer<typeof EventEnvelopeSchema>;

export interface NewEvent {
  readonly type: EventType;
  readonly tenant: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly subject?: string;
  readonly trace_id?: string;
  readonly correlation_id?: string;
}

/**
 * Events of one process in the order they were made. The history orders by `<time>#<event_id>`, and times
 * have millisecond precision: two events of one millisecond (a run's end and its last action's) would
 * otherwise come back in the order of their random ids.
 */
let sequence = 0;
const SEQUENCE_SPAN = 36 ** 8;

/**
 * A new event, stamped with the time now and an id that sorts after the previous event of this process
 * (a sequence number before the generated id); its source follows from its type.
 */
export function newEvent(event: NewEvent, clock: Clock, ids: IdGenerator): EventEnvelope {
  const entity = event.type.split('.')[1] ?? '';
  sequence = (sequence + 1) % SEQUENCE_SPAN;
  return EventEnvelopeSchema.parse({
    event_id: `${sequence.toString(36).padStart(8, '0')}-${ids.next()}`,
    type: event.type,
    source: SOURCE_OF_ENTITY[entity] ?? '/orchestrator',
    time: clock.now(),
    ...(event.subject === undefined ? {} : { subject: event.subject }),
    ...(event.trace_id === undefined || event.trace_id === '' ? {} : { trace_id: event.trace_id }),
    ...(event.correlation_id === undefined ? {} : { correlation_id: event.correlation_id }),
    tenant: event.tenant,
    data: { ...event.data },
  });
}

/** The same event delivered again by a replay: same id, same time, marked. */
export function replayedEvent(event: EventEnvelope): EventEnvelope {
  return { ...event, replayed: true };
}

/**
 * The event as a CloudEvents 1.0 structured-mode JSON document. Extension attribute names must be lowercase
 * letters and digits, so `trace_id` becomes `traceid` and `correlation_id` `correlationid`.
 */
export function toCloudEvent(event: EventEnvelope): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: event.event_id,
    type: event.type,
    source: event.source,
    time: event.time,
    ...(event.subject === undefined ? {} : { subject: event.subject }),
    datacontenttype: 'application/json',
    ...(event.trace_id === undefined ? {} : { traceid: event.trace_id }),
    ...(event.correlation_id === undefined ? {} : { correlationid: event.correlation_id }),
    tenant: event.tenant,
    ...(event.replayed ? { replayed: true } : {}),
    data: event.data,
  };
}

/** The envelope a CloudEvents document describes (the inverse of toCloudEvent), or the problems with it. */
export function fromCloudEvent(document: unknown): { event: EventEnvelope } | { issues: string[] } {
  const raw = (typeof document === 'object' && document !== null ? document : {}) as Record<string, unknown>;
  if (raw['specversion'] !== '1.0') return { issues: ['specversion: must be "1.0"'] };
  const parsed = EventEnvelopeSchema.safeParse({
    event_id: raw['id'],
    type: raw['type'],
    source: raw['source'],
    time: raw['time'],
    subject: raw['subject'],
    trace_id: raw['traceid'],
    correlation_id: raw['correlationid'],
    tenant: raw['tenant'],
    data: raw['data'],
    replayed: raw['replayed'],
  });
  if (parsed.success) return { event: parsed.data };
  // Issues name the document's own attributes, not the envelope's.
  const attribute: Readonly<Record<string, string>> = { event_id: 'id', trace_id: 'traceid', correlation_id: 'correlationid' };
  return { issues: parsed.error.issues.map((issue) => `${issue.path.map((part) => attribute[String(part)] ?? String(part)).join('.') || '(event)'}: ${issue.message}`) };
}
