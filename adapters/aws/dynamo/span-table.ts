import type { IndexDesign, TableDesign } from './workflow-table.ts';

/**
 * The spans table, as plain data (CDK and the local runtime create it from this; issue 13).
 *
 * A trace is one item collection: pk = `TRACE#<trace_id>`, sk = `<start>#<span_id>` (start as UTC ISO with
 * milliseconds), so `trace` is one Query in start order and a span written twice (same trace, start and id)
 * overwrites itself: kept once, without a condition, which lets the recorder write in BatchWriteItem batches.
 *
 * Two questions are asked by time, each from a sparse index sorted by `gsi_end_sk` = `<end>#<span_id>`:
 *   service calls   spans of category `service_call` and `proxy` only, partitioned by the called service;
 *   window          service calls and runs only (what the statistics count), partitioned by the HOUR the span
 *                   ended in (`WIN#2026-11-25T12`): a window reads one Query per hour it covers, newest hour
 *                   first, and stops at its limit, so its cost follows the spans it reads, never the table.
 *                   Hourly buckets also spread writes: one GSI partition takes about 1,000 writes a second,
 *                   so a single `WIN` partition for all time would cap the whole platform's call rate, and a
 *                   bucket is hot for one hour only. Past ~1,000 service calls a second, shard the bucket.
 * Tenants are in the keys, not in filters: each index exists twice, platform-wide (admins, who read every
 * tenant's spans) and per tenant (`T#<tenant>#...`, what a tenant's members read). With a filter on the
 * platform-wide partition instead, a small tenant's page or statistics would read (and pay for) every other
 * tenant's spans first and, under the 10,000-span limit of the statistics, could find none of its own at all.
 * A span without a tenant is the platform's: it carries the platform-wide keys only, so only admins see it.
 * Tenants (`[a-z0-9][a-z0-9_-]*`) hold no `#`, so `T#<tenant>#SVC#<service>` is unambiguous whatever the service.
 *
 * A service-call span costs the base write and four index writes; a run span three; other spans one. Every
 * index copies the whole span (it is small and read whole). `expires_at` (epoch seconds: the span's end plus
 * ORCHESTRATOR_SPAN_RETENTION_DAYS) is the TTL attribute; DynamoDB deletes within days and the emulator never,
 * so readers drop expired spans themselves and never read further back than the retention.
 */
export const SpanIndex = {
  serviceCalls: { indexName: 'service-by-end', partitionKey: 'gsi_svc_pk', sortKey: 'gsi_end_sk' },
  tenantServiceCalls: { indexName: 'tenant-service-by-end', partitionKey: 'gsi_tenant_svc_pk', sortKey: 'gsi_end_sk' },
  window: { indexName: 'window-by-end', partitionKey: 'gsi_win_pk', sortKey: 'gsi_end_sk' },
  tenantWindow: { indexName: 'tenant-window-by-end', partitionKey: 'gsi_tenant_win_pk', sortKey: 'gsi_end_sk' },
} as const satisfies Record<string, IndexDesign>;

/** Every attribute of a span item but its keys: each index copies them all (16 x 4 of DynamoDB's 100 projected attributes). */
export const SPAN_ATTRIBUTES = [
  'trace_id',
  'span_id',
  'parent_span_id',
  'name',
  'kind',
  'category',
  'service',
  'start',
  'end',
  'duration_ms',
  'status',
  'tenant',
  'workflow_id',
  'execution_id',
  'attributes_json',
  'expires_at',
] as const;

export const SPAN_TABLE: TableDesign = {
  id: 'Spans',
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: Object.values(SpanIndex),
  projectedAttributes: SPAN_ATTRIBUTES,
  timeToLiveAttribute: 'expires_at',
};

/** How long spans are kept when ORCHESTRATOR_SPAN_RETENTION_DAYS is not set. */
export const DEFAULT_SPAN_RETENTION_DAYS = 7;

/** The partition of a trace. */
export const tracePartition = (traceId: string): string => `TRACE#${traceId}`;

/** The service-call index partition of `service`: platform-wide, or the tenant's. */
export function serviceCallPartition(service: string, tenant: string | undefined): string {
  return tenant === undefined ? `SVC#${service}` : `T#${tenant}#SVC#${service}`;
}

/** The window index partition of the hour `hour` (`yyyy-mm-ddThh`, UTC): platform-wide, or the tenant's. */
export function windowPartition(hour: string, tenant: string | undefined): string {
  return tenant === undefined ? `WIN#${hour}` : `T#${tenant}#WIN#${hour}`;
}

/** The hour bucket (`yyyy-mm-ddThh`) of a UTC ISO time with milliseconds. */
export const hourOf = (isoTime: string): string => isoTime.slice(0, 13);
