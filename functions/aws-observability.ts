import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoSpanStore } from '../adapters/aws/dynamo/dynamo-span-store.ts';
import type { Span } from '../core/observability/spans.ts';
import type { Log, OutboundHttp } from '../core/ports.ts';
import { loggerLevelOf, type LambdaConfig } from './config.ts';
import { createLogShipper } from './observability/log-shipper.ts';
import { configureSharedLog, type ManagedLog } from './observability/logger.ts';
import { createOtlpSpanExporter } from './observability/otlp-exporter.ts';
import { createSpanRecorder, NO_SPANS, type SpanExporter, type SpanRecorder } from './observability/span-recorder.ts';

/**
 * The spans a Lambda records of the work it does: to the spans table (SPANS_TABLE_NAME, which CDK sets on
 * the functions that record spans), and to an OpenTelemetry collector when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 * No timer: a Lambda is frozen between invocations, so each invocation exports what it recorded before it
 * answers (flushAfter). Tracing switched off, or no table: nothing is recorded.
 */
export function awsSpanRecorder(config: LambdaConfig, log: Log): SpanRecorder {
  if (config.ORCHESTRATOR_TRACING_ENABLED === false) return NO_SPANS;
  const exporters: SpanExporter[] = [];
  if (config.SPANS_TABLE_NAME !== undefined) {
    const store = new DynamoSpanStore(sharedDocumentClient(), config.SPANS_TABLE_NAME, { retentionDays: config.ORCHESTRATOR_SPAN_RETENTION_DAYS, log });
    exporters.push({ name: 'spans table', export: (spans: readonly Span[]) => store.record(spans) });
  }
  if (config.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined) {
    exporters.push(createOtlpSpanExporter({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: config.POWERTOOLS_SERVICE_NAME ?? 'orchestrator', serviceVersion: config.SERVICE_VERSION, ...(config.OTEL_EXPORTER_OTLP_HEADERS === undefined ? {} : { headers: config.OTEL_EXPORTER_OTLP_HEADERS }) }));
  }
  return exporters.length === 0 ? NO_SPANS : createSpanRecorder({ exporters, flushIntervalMs: 0, log });
}

/**
 * The function's logger, set once at cold start: LOG_LEVEL, and the log collector (LOG_COLLECTOR_URL) when
 * the function has an outbound client to reach it with (`http`: the action runner's, under the outbound
 * rules). The route functions carry no outbound client (it would triple their bundles): their lines go to
 * CloudWatch Logs only, from where a subscription filter can forward them.
 */
export function configureAwsLog(config: LambdaConfig, http?: OutboundHttp): ManagedLog {
  const collector = http !== undefined && config.LOG_COLLECTOR_URL !== undefined ? createLogShipper({ url: config.LOG_COLLECTOR_URL, http }) : undefined;
  return configureSharedLog({ level: loggerLevelOf(config.LOG_LEVEL), service: config.POWERTOOLS_SERVICE_NAME ?? 'orchestrator', ...(collector === undefined ? {} : { collector }) });
}

/** Anything buffered per invocation: spans, metrics (EMF), log batches. */
export interface Flushable {
  flush(): Promise<void> | void;
}

/**
 * The handler, exporting what each invocation buffered before it answers (whether it succeeded or threw).
 * A flush that fails is logged by its owner and never changes the invocation's outcome.
 */
export function flushAfter<E, R>(handler: (event: E) => Promise<R>, ...flushables: readonly Flushable[]): (event: E) => Promise<R> {
  return async (event) => {
    try {
      return await handler(event);
    } finally {
      await Promise.allSettled(flushables.map(async (flushable) => flushable.flush()));
    }
  };
}
