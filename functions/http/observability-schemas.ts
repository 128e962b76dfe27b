import * as z from 'zod';
import { SPAN_CATEGORIES, SPAN_KINDS, SPAN_STATUSES } from '../../core/observability/spans.ts';
import { NextTokenSchema, TenantFilter } from './workflow-schemas.ts';

/** Request and response schemas of `/infrastructure/tracing/*`, `/metrics`, `/info` and `/config/effective` (issue 13). */

const isoTime = (field: string) => z.iso.datetime({ offset: true, error: `${field} must be an ISO-8601 date-time with a time zone (2026-12-06T10:00:00Z)` });

export const SpanSchema = z.object({
  trace_id: z.string(),
  span_id: z.string(),
  parent_span_id: z.string().optional().describe('Absent on the root span, and on a span whose parent was recorded by a system the orchestrator does not see (the caller)'),
  name: z.string(),
  kind: z.enum(SPAN_KINDS),
  category: z.enum(SPAN_CATEGORIES),
  service: z.string().describe('`orchestrator` for its own work; the called service for service calls'),
  start: z.string(),
  end: z.string(),
  duration_ms: z.number(),
  status: z.enum(SPAN_STATUSES),
  tenant: z.string().optional(),
  workflow_id: z.string().optional(),
  execution_id: z.string().optional(),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});

export const TraceParams = z.object({
  trace_id: z
    .string()
    .regex(/^[0-9a-f]{32}$/, 'trace_id must be 32 lower-case hex digits (a W3C trace id)')
    .refine((id) => !/^0+$/.test(id), 'trace_id must not be all zeros (W3C: an invalid trace id)'),
});

export const TraceSpan = SpanSchema.extend({
  depth: z.number().int().describe('0 for a root; a child is one deeper than its parent'),
});

export const TraceResponse = z.object({
  trace_id: z.string(),
  span_count: z.number().int(),
  root_span_ids: z.array(z.string()).describe('Spans whose parent is not in the trace (the caller’s span, or none)'),
  start: z.string(),
  end: z.string(),
  duration_ms: z.number(),
  spans: z.array(TraceSpan).describe('The tree depth first: each span is followed by its children, oldest first'),
  truncated: z.boolean().describe('True when the trace has more spans than were read (1,000)'),
});

export const ServiceTracesParams = z.object({
  service_name: z.string().min(1, 'service_name must not be empty').max(128, 'service_name must be at most 128 characters'),
});

export const ServiceTracesQuery = z.object({
  since: isoTime('since').optional(),
  limit: z.coerce.number({ error: (issue) => (issue.code === 'invalid_type' ? 'limit must be a number' : undefined) }).int('limit must be an integer').min(1, 'limit must be at least 1').max(500, 'limit must be at most 500').default(50),
  next_token: NextTokenSchema.optional(),
  tenant: TenantFilter,
});

export const ServiceCallSummary = z.object({
  trace_id: z.string(),
  span_id: z.string(),
  execution_id: z.string().optional(),
  workflow_id: z.string().optional(),
  action_id: z.string().optional(),
  name: z.string(),
  start: z.string(),
  duration_ms: z.number(),
  outcome: z.enum(['ok', 'error']),
  status_code: z.number().int().optional(),
  error: z.string().optional().describe('The action error name (ServiceUnavailableError, ServiceTimeoutError, ...)'),
  attempt: z.number().int().optional(),
});

export const ServiceTracesResponse = z.object({
  service: z.string(),
  calls: z.array(ServiceCallSummary).describe('Newest first'),
  count: z.number().int(),
  next_token: z.string().nullable(),
});

export const TracingStatsQuery = z.object({
  since: isoTime('since').optional().describe('Start of the window; default one hour ago'),
  tenant: TenantFilter,
});

const Latency = z.object({ p50: z.number(), p95: z.number(), p99: z.number(), mean: z.number(), max: z.number() });

export const TracingStatsResponse = z.object({
  since: z.string(),
  until: z.string(),
  spans_read: z.number().int(),
  truncated: z.boolean().describe('True when the window held more than 10,000 spans: the figures cover the newest 10,000'),
  services: z.array(
    z.object({
      service: z.string(),
      calls: z.number().int(),
      errors: z.number().int(),
      error_rate: z.number().describe('errors / calls, 0 to 1'),
      latency_ms: Latency,
    }),
  ),
  workflows: z.array(
    z.object({
      workflow_id: z.string(),
      runs: z.number().int(),
      failed: z.number().int(),
      mean_duration_ms: z.number(),
    }),
  ),
});

export const MetricsResponse = z.string().describe('Prometheus text exposition format 0.0.4');

export const InfoResponse = z.object({
  name: z.string(),
  version: z.string(),
  commit: z.string().describe('The git commit the code was built from, or `unknown`'),
  build_time: z.string().describe('When it was built (AWS: synthesized; locally: started), ISO-8601, or `unknown`'),
  runtime: z.object({ kind: z.enum(['local', 'aws']), region: z.string(), node: z.string() }),
  started_at: z.string(),
  uptime_seconds: z.number(),
  auth_mode: z.string(),
  features: z.record(z.string(), z.boolean()).describe('What is switched on: tracing, metrics, otlp_export, log_collector, tls, peers, ...'),
});

export const ConfigSetting = z.object({
  key: z.string().describe('The environment variable'),
  file_key: z.string().optional().describe('Where config/app.yaml may set it'),
  value: z.unknown().describe('"***" for secrets'),
  source: z.enum(['env', 'file', 'default']),
  secret: z.boolean(),
  description: z.string().optional(),
});

export const EffectiveConfigResponse = z.object({
  file: z.string().nullable().describe('The configuration file read, or null'),
  settings: z.array(ConfigSetting),
  notes: z.array(z.string()).describe('What was read and ignored (the redis section, settings of the reference this implementation does not use)'),
});
