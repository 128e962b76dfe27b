import type { Span, SpanAttributeValue, SpanKind } from '../../core/observability/spans.ts';
import type { SpanExporter } from './span-recorder.ts';

/*
 * OTLP/HTTP with JSON bodies, written here rather than with @opentelemetry/exporter-trace-otlp-http: our spans
 * are already finished records, so the SDK's pipeline (providers, processors, ReadableSpan) has nothing to do
 * but convert them, and the exporter with its dependencies added about 35 KB and 5 ms to every Lambda's cold
 * start (measured with bench/observability.ts: a third of what observability cost at init). The encoding is
 * the specification's (opentelemetry-proto, OTLP/HTTP JSON: hex ids, enum numbers, 64-bit integers as
 * strings); the test decodes what a loopback collector receives.
 */

/** opentelemetry.proto.trace.v1.Span.SpanKind. */
const OTLP_KIND: Readonly<Record<SpanKind, number>> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
/** opentelemetry.proto.trace.v1.Status.StatusCode: UNSET 0, OK 1, ERROR 2. */
const OTLP_STATUS = { unset: 0, ok: 1, error: 2 } as const;
const SCOPE = { name: 'serverless-orchestrator' };
const DEFAULT_TIMEOUT_MS = 10_000;

export interface OtlpExporterOptions {
  /**
   * OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go to `<endpoint>/v1/traces`, as the
   * OpenTelemetry specification says for that variable. The operator sets it, like the AWS endpoints: it is
   * not a workflow's destination, so the outbound rules for services do not apply to it.
   */
  readonly endpoint: string;
  /** The resource's `service.name`. */
  readonly serviceName: string;
  readonly serviceVersion?: string;
  /** OTEL_EXPORTER_OTLP_HEADERS, parsed (parseOtlpHeaders): a collector's API key, for instance. */
  readonly headers?: Readonly<Record<string, string>>;
  /** One export's limit; default 10 s (the specification's default). */
  readonly timeoutMillis?: number;
  /** Default: the global fetch. */
  readonly fetch?: typeof fetch;
}

/** Spans to an OpenTelemetry collector: one POST per batch; a non-2xx answer or a timeout rejects. */
export function createOtlpSpanExporter(options: OtlpExporterOptions): SpanExporter {
  const url = `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
  const send = options.fetch ?? fetch;
  const resource = { attributes: attributesOf({ 'service.name': options.serviceName, ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}) }) };
  return {
    name: 'otlp',
    async export(spans) {
      const body = JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ scope: SCOPE, spans: spans.map(otlpSpan) }] }] });
      const response = await send(url, {
        method: 'POST',
        headers: { ...options.headers, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(options.timeoutMillis ?? DEFAULT_TIMEOUT_MS),
      });
      // The answer is an ExportTraceServiceResponse (a partial success at most): only its status matters.
      await response.body?.cancel();
      if (!response.ok) throw new Error(`OTLP export to ${url} answered ${response.status}`);
    },
  };
}

/** A recorded span as an OTLP JSON span. */
export function otlpSpan(span: Span): Record<string, unknown> {
  const startNanos = BigInt(Date.parse(span.start)) * 1_000_000n;
  const endNanos = startNanos + BigInt(Math.round(span.duration_ms * 1_000_000));
  return {
    traceId: span.trace_id,
    spanId: span.span_id,
    ...(span.parent_span_id === undefined ? {} : { parentSpanId: span.parent_span_id }),
    name: span.name,
    kind: OTLP_KIND[span.kind],
    startTimeUnixNano: startNanos.toString(),
    endTimeUnixNano: endNanos.toString(),
    attributes: attributesOf({
      ...span.attributes,
      'orchestrator.category': span.category,
      ...(span.service === 'orchestrator' ? {} : { 'peer.service': span.service }),
      ...(span.tenant === undefined ? {} : { 'orchestrator.tenant': span.tenant }),
      ...(span.workflow_id === undefined ? {} : { 'orchestrator.workflow_id': span.workflow_id }),
      ...(span.execution_id === undefined ? {} : { 'orchestrator.execution_id': span.execution_id }),
    }),
    status: { code: OTLP_STATUS[span.status] },
  };
}

/** KeyValue list; integers as intValue (a string: int64 in JSON), other numbers as doubleValue. */
function attributesOf(attributes: Readonly<Record<string, SpanAttributeValue>>): { key: string; value: Record<string, unknown> }[] {
  return Object.entries(attributes).map(([key, value]) => ({
    key,
    value: typeof value === 'string' ? { stringValue: value } : typeof value === 'boolean' ? { boolValue: value } : Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value },
  }));
}

/**
 * OTEL_EXPORTER_OTLP_HEADERS as the specification writes it: `key1=value1,key2=value2`, values
 * percent-encoded. A pair without `=` or with an empty key is an error naming it (not its value: headers carry
 * credentials).
 */
export function parseOtlpHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [index, pair] of text.split(',').entries()) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    const key = at < 0 ? '' : pair.slice(0, at).trim();
    if (key === '' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) throw new Error(`OTEL_EXPORTER_OTLP_HEADERS: pair ${index + 1} is not key=value with a valid header name`);
    try {
      headers[key.toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      throw new Error(`OTEL_EXPORTER_OTLP_HEADERS: the value of ${key} is not valid percent-encoding`);
    }
  }
  return headers;
}
