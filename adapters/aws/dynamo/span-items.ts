import * as z from 'zod';
import { SPAN_CATEGORIES, SPAN_KINDS, SPAN_STATUSES, type Span, type SpanAttributeValue, type SpanCategory } from '../../../core/observability/spans.ts';
import { jsonText } from './items.ts';
import { hourOf, serviceCallPartition, tracePartition, windowPartition } from './span-table.ts';

/** How span items are written and read back (span-table.ts has the design). */

/** Categories the service-call index holds (SpanStore.serviceCalls). */
export const SERVICE_CALL_CATEGORIES: ReadonlySet<SpanCategory> = new Set<SpanCategory>(['service_call', 'proxy']);
/** Categories the window index holds: the service calls and the runs the statistics count (SpanStore.window). */
export const WINDOW_CATEGORIES: ReadonlySet<SpanCategory> = new Set<SpanCategory>(['service_call', 'proxy', 'run']);

/**
 * The longest string attribute value kept, in characters; a longer one is cut and ends with `…`. A span is
 * telemetry: a 400 KB value (DynamoDB's item limit) would fail the whole batch of 25 it was written in.
 */
export const MAX_ATTRIBUTE_CHARS = 4096;

const AttributeValue = z.union([z.string(), z.number(), z.boolean()]);

/**
 * One span item, from the table or any index, read back into the span it was written from. Attributes are
 * JSON text (`attributes_json`): their keys are free-form (`http.status_code`), and one attribute holding a
 * number DynamoDB refuses would otherwise fail the item.
 */
export const SpanItemSchema = z
  .object({
    trace_id: z.string(),
    span_id: z.string(),
    parent_span_id: z.string().optional(),
    name: z.string(),
    kind: z.enum(SPAN_KINDS),
    category: z.enum(SPAN_CATEGORIES),
    service: z.string(),
    start: z.string(),
    end: z.string(),
    duration_ms: z.number(),
    status: z.enum(SPAN_STATUSES),
    tenant: z.string().optional(),
    workflow_id: z.string().optional(),
    execution_id: z.string().optional(),
    attributes_json: jsonText(z.record(z.string(), AttributeValue)),
    expires_at: z.number(),
  })
  .transform(({ attributes_json, expires_at, ...span }): { span: Span; expiresAt: number } => ({ span: { ...span, attributes: attributes_json }, expiresAt: expires_at }));

/**
 * A time as the keys spell it: UTC with milliseconds, so strings order as instants whatever offset the
 * recorder wrote. Undefined when it is no time at all.
 */
export function timeKey(time: string): string | undefined {
  const at = Date.parse(time);
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
}

/**
 * The item of `span`, expiring `retentionSeconds` after the span ended; a string saying why when the span
 * cannot be stored (a start or end that is no time).
 */
export function spanItem(span: Span, retentionSeconds: number): Record<string, unknown> | string {
  const start = timeKey(span.start);
  const end = timeKey(span.end);
  if (start === undefined) return `start ${JSON.stringify(span.start)} is not an ISO-8601 time`;
  if (end === undefined) return `end ${JSON.stringify(span.end)} is not an ISO-8601 time`;
  if (!Number.isFinite(span.duration_ms)) return `duration_ms ${String(span.duration_ms)} is not a finite number`;
  const { attributes, ...fields } = span;
  const tenant = span.tenant;
  const endKey = `${end}#${span.span_id}`;
  const indexed = SERVICE_CALL_CATEGORIES.has(span.category);
  const windowed = WINDOW_CATEGORIES.has(span.category);
  return {
    pk: tracePartition(span.trace_id),
    sk: `${start}#${span.span_id}`,
    ...withoutUndefined(fields),
    attributes_json: JSON.stringify(storableAttributes(attributes)),
    ...(indexed || windowed ? { gsi_end_sk: endKey } : {}),
    ...(indexed ? { gsi_svc_pk: serviceCallPartition(span.service, undefined) } : {}),
    ...(indexed && tenant !== undefined ? { gsi_tenant_svc_pk: serviceCallPartition(span.service, tenant) } : {}),
    ...(windowed ? { gsi_win_pk: windowPartition(hourOf(end), undefined) } : {}),
    ...(windowed && tenant !== undefined ? { gsi_tenant_win_pk: windowPartition(hourOf(end), tenant) } : {}),
    // Retention runs from the span's end: an hour-long run is kept as long after it as a 10 ms call.
    expires_at: Math.floor(Date.parse(end) / 1000) + retentionSeconds,
  };
}

/** Attributes as JSON can hold them: numbers that are not finite dropped (JSON has no NaN), long strings cut. */
function storableAttributes(attributes: Readonly<Record<string, SpanAttributeValue>>): Record<string, SpanAttributeValue> {
  const kept: Record<string, SpanAttributeValue> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === 'number' && !Number.isFinite(value)) continue;
    kept[key] = typeof value === 'string' && value.length > MAX_ATTRIBUTE_CHARS ? `${value.slice(0, MAX_ATTRIBUTE_CHARS - 1)}…` : value;
  }
  return kept;
}

function withoutUndefined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}
