/**
 * Spans: what the orchestrator records of the work it does (API requests, runs, actions, service-call
 * attempts, notifications), in W3C Trace Context terms so that a caller's trace continues through a run and
 * into every service it calls. Plain data; the recorder, the store and the exporters live at the edges.
 */

/** OpenTelemetry's span kinds, lower-case. */
export const SPAN_KINDS = ['server', 'client', 'internal', 'producer', 'consumer'] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];

/** `unset` is OpenTelemetry's default; the orchestrator sets `ok` or `error` on every span it ends. */
export const SPAN_STATUSES = ['ok', 'error', 'unset'] as const;
export type SpanStatus = (typeof SPAN_STATUSES)[number];

export type SpanAttributeValue = string | number | boolean;

/** What a span is about; the span store indexes the service calls and runs by these. */
export const SPAN_CATEGORIES = ['request', 'run', 'action', 'service_call', 'notification', 'proxy'] as const;
export type SpanCategory = (typeof SPAN_CATEGORIES)[number];

/** The service name of spans of the orchestrator's own work (requests, runs, actions). */
export const ORCHESTRATOR_SERVICE = 'orchestrator';

export interface Span {
  /** 32 lower-case hex digits, never all zeros. */
  readonly trace_id: string;
  /** 16 lower-case hex digits, never all zeros. */
  readonly span_id: string;
  /** Absent on a trace's root span. */
  readonly parent_span_id?: string;
  readonly name: string;
  readonly kind: SpanKind;
  readonly category: SpanCategory;
  /** The orchestrator for its own work; the called service's name for a service call (its `/tracing/service/{name}`). */
  readonly service: string;
  /** ISO-8601 UTC, millisecond precision. */
  readonly start: string;
  readonly end: string;
  readonly duration_ms: number;
  readonly status: SpanStatus;
  /** Whose work it was: a tenant's members see its spans only. Absent: the platform's (admins). */
  readonly tenant?: string;
  /** The workflow whose run this span belongs to (runs, actions, service calls). */
  readonly workflow_id?: string;
  readonly execution_id?: string;
  readonly attributes: Readonly<Record<string, SpanAttributeValue>>;
}

/** A position in a trace: the trace, and the span new spans are children of. */
export interface TraceContext {
  readonly trace_id: string;
  readonly span_id: string;
  /** The caller's `sampled` flag; the orchestrator records every span but passes the flag on. */
  readonly sampled: boolean;
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ALL_ZEROS = /^0+$/;

export function isTraceId(value: string): boolean {
  return TRACE_ID.test(value) && !ALL_ZEROS.test(value);
}

export function isSpanId(value: string): boolean {
  return SPAN_ID.test(value) && !ALL_ZEROS.test(value);
}

/**
 * A `traceparent` header (W3C Trace Context, level 1): `00-<trace id>-<parent id>-<flags>`. Undefined when it
 * is absent or invalid, in which case the receiver starts a trace of its own (as the specification says). A
 * version other than 00 is read by its first four fields when they have the version 00 form; version ff is
 * invalid.
 */
export function parseTraceparent(header: string | undefined): TraceContext | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  const match = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/.exec(value);
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff') return undefined;
  if (version === '00' && rest !== undefined) return undefined;
  if (!isTraceId(traceId) || !isSpanId(spanId)) return undefined;
  return { trace_id: traceId, span_id: spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

/** The `traceparent` value that makes `spanId` the parent of what the receiver does. */
export function formatTraceparent(traceId: string, spanId: string, sampled = true): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/**
 * The span id of a run: derived from its execution id, so that whoever records a span of the run (the API that
 * started it, the engine, the action runner in another Lambda) names the same parent without asking anyone.
 */
export function runSpanId(executionId: string): string {
  return derivedSpanId(`run:${executionId}`);
}

/** The span id of one action of a run (one item of a foreach with `itemIndex`); derived like runSpanId. */
export function actionSpanId(executionId: string, actionId: string, itemIndex?: number): string {
  return derivedSpanId(`action:${executionId}:${actionId}${itemIndex === undefined ? '' : `#${itemIndex}`}`);
}

/**
 * 64-bit FNV-1a of the text, as 16 hex digits (never all zeros). Not a security measure: span ids only need to
 * be unique within a trace, and a run's trace holds a few thousand spans at most.
 */
export function derivedSpanId(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= BigInt(text.charCodeAt(index));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  const hex = hash.toString(16).padStart(16, '0');
  return ALL_ZEROS.test(hex) ? '0000000000000001' : hex;
}

/** Milliseconds between two ISO timestamps, never negative. */
export function durationBetween(start: string, end: string): number {
  return Math.max(0, Date.parse(end) - Date.parse(start));
}
