import type { Attributes, HrTime, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { Span, SpanKind } from '../../core/observability/spans.ts';
import type { SpanExporter } from './span-recorder.ts';

/** OpenTelemetry's SpanKind enum values (INTERNAL 0, SERVER 1, CLIENT 2, PRODUCER 3, CONSUMER 4). */
const OTEL_KIND: Readonly<Record<SpanKind, number>> = { internal: 0, server: 1, client: 2, producer: 3, consumer: 4 };
/** SpanStatusCode: UNSET 0, OK 1, ERROR 2. */
const OTEL_STATUS = { unset: 0, ok: 1, error: 2 } as const;

export interface OtlpExporterOptions {
  /**
   * OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go to `<endpoint>/v1/traces` (OTLP/HTTP with
   * JSON bodies), as the OpenTelemetry specification says for that variable. The operator sets it, like the AWS
   * endpoints: it is not a workflow's destination, so the outbound rules for services do not apply to it.
   */
  readonly endpoint: string;
  /** The resource's `service.name`. */
  readonly serviceName: string;
  readonly serviceVersion?: string;
  /** Extra request headers (OTEL_EXPORTER_OTLP_HEADERS, parsed by the exporter itself when unset here). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMillis?: number;
}

/**
 * Spans to an OpenTelemetry collector over OTLP/HTTP with the official exporter. Its packages are loaded on
 * the first export, not at import: functions that export no spans never pay for them at cold start.
 */
export function createOtlpSpanExporter(options: OtlpExporterOptions): SpanExporter {
  let loaded: Promise<{ exporter: { export: (spans: ReadableSpan[], done: (result: { code: number; error?: Error }) => void) => void; shutdown: () => Promise<void> }; toReadable: (span: Span) => ReadableSpan }> | undefined;
  const load = () =>
    (loaded ??= (async () => {
      const [{ OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([import('@opentelemetry/exporter-trace-otlp-http'), import('@opentelemetry/resources')]);
      const resource = resourceFromAttributes({ 'service.name': options.serviceName, ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}) });
      const exporter = new OTLPTraceExporter({
        url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces`,
        ...(options.headers ? { headers: { ...options.headers } } : {}),
        ...(options.timeoutMillis ? { timeoutMillis: options.timeoutMillis } : {}),
      });
      return { exporter, toReadable: (span: Span) => readableSpan(span, resource) };
    })());
  return {
    name: 'otlp',
    async export(spans) {
      const { exporter, toReadable } = await load();
      await new Promise<void>((resolve, reject) => {
        exporter.export(spans.map(toReadable), (result) => (result.code === 0 ? resolve() : reject(result.error ?? new Error('OTLP export failed'))));
      });
    },
    async shutdown() {
      if (loaded) await (await loaded).exporter.shutdown();
    },
  };
}

/** A recorded span in the shape the OpenTelemetry SDK's exporters read. */
export function readableSpan(span: Span, resource: ReadableSpan['resource']): ReadableSpan {
  const context: SpanContext = { traceId: span.trace_id, spanId: span.span_id, traceFlags: 1 };
  const start = hrTime(Date.parse(span.start));
  const end = hrTime(Date.parse(span.start) + span.duration_ms);
  const attributes: Attributes = {
    ...span.attributes,
    'orchestrator.category': span.category,
    ...(span.service === 'orchestrator' ? {} : { 'peer.service': span.service }),
    ...(span.tenant === undefined ? {} : { 'orchestrator.tenant': span.tenant }),
    ...(span.workflow_id === undefined ? {} : { 'orchestrator.workflow_id': span.workflow_id }),
    ...(span.execution_id === undefined ? {} : { 'orchestrator.execution_id': span.execution_id }),
  };
  return {
    name: span.name,
    kind: OTEL_KIND[span.kind],
    spanContext: () => context,
    ...(span.parent_span_id === undefined ? {} : { parentSpanContext: { traceId: span.trace_id, spanId: span.parent_span_id, traceFlags: 1, isRemote: true } }),
    startTime: start,
    endTime: end,
    status: { code: OTEL_STATUS[span.status] },
    attributes,
    links: [],
    events: [],
    duration: hrTime(span.duration_ms),
    ended: true,
    resource,
    instrumentationScope: { name: 'serverless-orchestrator' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** Milliseconds as OpenTelemetry's [seconds, nanoseconds]. */
function hrTime(milliseconds: number): HrTime {
  const seconds = Math.floor(milliseconds / 1000);
  return [seconds, Math.round((milliseconds - seconds * 1000) * 1e6)];
}
