import * as z from 'zod';
import { EventEnvelopeSchema, type EventEnvelope } from '../../../core/events/envelope.ts';
import { jsonText } from './items.ts';
import type { IndexDesign, TableDesign } from './workflow-table.ts';

/**
 * The event history table, as plain data (CDK and the local runtime create it from this).
 *
 * One item per event (pk = `EV#<event_id>`, sk = `EVENT`), written by one conditional PutItem: keyed by the id
 * alone, a redelivered event (same id) is refused by `attribute_not_exists(pk)`, and writes spread over the
 * whole key space. Every read goes through an index sorted by `gsi_sk` = `<time as UTC ISO, ms>#<event_id>`,
 * so each filter is one Query, newest first, with since/until as key conditions; no listing reads more than
 * the partition its narrowest filter names:
 *   tenant-by-time       `T#<tenant>`: what a tenant sees
 *   all-by-time          `ALL`: every tenant's events, for admins and for clear. One partition: a GSI partition
 *                        takes about 1,000 write units a second, so past ~1,000 events/s (fewer when events are
 *                        over 1 KB) the index throttles and, through GSI back-pressure, so do the recorder's
 *                        puts (the recorder retries). A tenant partition has the same ceiling, so sharding only
 *                        this one would lift nothing for a single-tenant deployment; it would also turn every
 *                        admin page into one Query per shard and a merge. Shard (`ALL#<n>`) when a multi-tenant
 *                        deployment nears that rate.
 *   execution-by-time    `EX#<execution_id>`, sparse: only events of a run
 *   workflow-by-time     `WF#<workflow_id>`, sparse: only events of a workflow
 *   correlation-by-time  `CO#<correlation_id>`, sparse: only events with one
 * Each index copies the whole event (events are small and read whole, so a listing is one Query, not a
 * Query and a BatchGet): one event costs one PutItem, billed as the base write plus one write per index it
 * appears in (2 to 5). `expires_at_epoch` (event time + ORCHESTRATOR_EVENT_RETENTION_DAYS) is the TTL
 * attribute; DynamoDB deletes within days and the emulator never, so readers drop expired items themselves.
 */
export const EventIndex = {
  byTenant: { indexName: 'tenant-by-time', partitionKey: 'gsi_tenant_pk', sortKey: 'gsi_sk' },
  all: { indexName: 'all-by-time', partitionKey: 'gsi_all_pk', sortKey: 'gsi_sk' },
  byExecution: { indexName: 'execution-by-time', partitionKey: 'gsi_ex_pk', sortKey: 'gsi_sk' },
  byWorkflow: { indexName: 'workflow-by-time', partitionKey: 'gsi_wf_pk', sortKey: 'gsi_sk' },
  byCorrelation: { indexName: 'correlation-by-time', partitionKey: 'gsi_co_pk', sortKey: 'gsi_sk' },
} as const satisfies Record<string, IndexDesign>;

/** The constant partition of `EventIndex.all`. */
export const ALL_EVENTS_PARTITION = 'ALL';

/** Every attribute of an event item but its keys: each index copies them all. */
export const EVENT_ATTRIBUTES = [
  'event_id',
  'type',
  'source',
  'time',
  'subject',
  'trace_id',
  'correlation_id',
  'tenant',
  'data_json',
  'replayed',
  'expires_at_epoch',
] as const;

export const EVENT_TABLE: TableDesign = {
  id: 'Events',
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: Object.values(EventIndex),
  projectedAttributes: EVENT_ATTRIBUTES,
  timeToLiveAttribute: 'expires_at_epoch',
};

/**
 * One event item, from the table or any index, read back into the envelope it was written from. `data` is
 * JSON text (`data_json`), as a run's parameters are: an event's data may hold numbers DynamoDB refuses
 * (over 38 digits) or nesting deeper than its 32 levels.
 */
export const EventItemSchema = EventEnvelopeSchema.omit({ data: true })
  .extend({ data_json: jsonText(z.record(z.string(), z.unknown())), expires_at_epoch: z.number() })
  .transform(({ data_json, expires_at_epoch, ...event }): { event: EventEnvelope; expiresAtEpoch: number } => ({
    event: { ...event, data: data_json },
    expiresAtEpoch: expires_at_epoch,
  }));
