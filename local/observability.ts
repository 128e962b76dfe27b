import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoSpanStore } from '../adapters/aws/dynamo/dynamo-span-store.ts';
import { SPAN_TABLE } from '../adapters/aws/dynamo/span-table.ts';
import type { CursorCodec } from '../adapters/aws/dynamo/cursor-codec.ts';
import { SqsDeadLetterInspector } from '../adapters/aws/sqs/sqs-dead-letter-inspector.ts';
import type { EmitEvent } from '../core/events/emitter.ts';
import { withRunSpans } from '../core/observability/run-spans.ts';
import { createTracingService, type TracingService } from '../core/observability/tracing-service.ts';
import type { Clock, ExecutionStore, Log, ServiceRegistry, WorkflowStore } from '../core/ports.ts';
import type { ActionRunner } from '../functions/workers/action-runner.ts';
import { createPrometheusMetrics, queueDepths, type GaugeSources } from '../functions/observability/metrics.ts';
import { noopMetrics, type MetricsRecorder } from '../functions/observability/metric-recorder.ts';
import { meteredEmit, meteredModelCalls, meteredRunner } from '../functions/observability/run-metrics.ts';
import type { ModelInvoker } from '../core/ai/model-invoker.ts';
import { createOtlpSpanExporter } from '../functions/observability/otlp-exporter.ts';
import type { RequestObserver } from '../functions/observability/request-observer.ts';
import { recordHttpRequest } from '../functions/observability/http-metrics.ts';
import { createSpanRecorder, NO_SPANS, type SpanExporter, type SpanRecorder } from '../functions/observability/span-recorder.ts';
import type { MetricsExposition } from '../functions/http/observability-services.ts';
import { ensureTable } from './tables.ts';

/** ORCHESTRATOR_TRACING_ENABLED, ORCHESTRATOR_METRICS_ENABLED, OTEL_EXPORTER_OTLP_ENDPOINT, ORCHESTRATOR_SPAN_RETENTION_DAYS. */
export interface LocalObservabilitySettings {
  /** Default true. */
  readonly tracing?: boolean;
  /** Default true. */
  readonly metrics?: boolean;
  readonly otlpEndpoint?: string;
  /** OTEL_EXPORTER_OTLP_HEADERS, parsed. */
  readonly otlpHeaders?: Readonly<Record<string, string>>;
  /** Default 7. */
  readonly spanRetentionDays?: number;
  /** How often buffered spans are written; default 1000 ms (tests shorten it). */
  readonly spanFlushIntervalMs?: number;
}

export interface LocalObservability {
  readonly spans: SpanRecorder;
  readonly tracing: TracingService;
  readonly metrics: MetricsRecorder;
  readonly exposition: MetricsExposition;
  readonly observer: RequestObserver;
  readonly spansTableName: string;
  /** The run store, recording each run's spans when it ends. */
  traceRuns(store: ExecutionStore): ExecutionStore;
  /** The emitter, counting runs and actions from their events. */
  meterEvents(emit: EmitEvent): EmitEvent;
  /** The action runner, counting each service call. */
  meterCalls(runner: ActionRunner): ActionRunner;
  /** The model of llm actions, counting the tokens of each call (`orchestrator_llm_tokens_total`). */
  meterModels(invoke: ModelInvoker): ModelInvoker;
  /** Gauges read at scrape time; given once the runtime has built what they read. */
  measure(sources: { registry: ServiceRegistry; workflows: WorkflowStore; sqsClient: SQSClient; deadLetterQueues: Readonly<Record<string, string | undefined>> }): void;
  /** Writes the spans still buffered. */
  close(): Promise<void>;
}

/**
 * Tracing and metrics of the local runtime: spans in the spans table (the same DynamoDB design as in AWS, on
 * the emulator) and to an OpenTelemetry collector when one is configured; metrics in one prom-client registry
 * that `GET /metrics` renders. Either can be switched off; the API then answers with no spans, or an empty
 * exposition.
 */
export async function startLocalObservability(options: {
  readonly settings: LocalObservabilitySettings;
  readonly documentClient: DynamoDBDocumentClient;
  readonly spansTableName: string;
  readonly cursors: CursorCodec;
  readonly clock: Clock;
  readonly log: Log;
  readonly serviceVersion: string;
}): Promise<LocalObservability> {
  const { settings, documentClient, spansTableName, cursors, clock, log } = options;
  await ensureTable(documentClient, SPAN_TABLE, spansTableName);
  const store = new DynamoSpanStore(documentClient, spansTableName, { retentionDays: settings.spanRetentionDays ?? 7, clock, cursors, log });
  const exporters: SpanExporter[] = [{ name: 'spans table', export: (spans) => store.record(spans) }];
  if (settings.otlpEndpoint !== undefined) exporters.push(createOtlpSpanExporter({ endpoint: settings.otlpEndpoint, serviceName: 'orchestrator', serviceVersion: options.serviceVersion, ...(settings.otlpHeaders === undefined ? {} : { headers: settings.otlpHeaders }) }));
  const spans = settings.tracing === false ? NO_SPANS : createSpanRecorder({ exporters, flushIntervalMs: settings.spanFlushIntervalMs ?? 1000, log });
  let gauges: GaugeSources = {};
  const prometheus = createPrometheusMetrics({
    processMetrics: true,
    now: () => clock.now(),
    // Read through `gauges` at each scrape: the sources exist only once the runtime has built them.
    gauges: {
      services: () => (gauges.services ?? (() => Promise.resolve([])))(),
      deadLetters: () => (gauges.deadLetters ?? (() => Promise.resolve({})))(),
      workflows: () => (gauges.workflows ?? (() => Promise.resolve({})))(),
    },
  });
  const metricsOn = settings.metrics !== false;
  const metrics: MetricsRecorder = metricsOn ? prometheus : noopMetrics;
  return {
    spans,
    tracing: createTracingService({ spans: store, clock }),
    metrics,
    exposition: metricsOn ? prometheus : { render: () => Promise.resolve('') },
    observer: { spans, log, ...(metricsOn ? { httpRequest: recordHttpRequest(prometheus) } : {}) },
    spansTableName,
    traceRuns: (executions) =>
      spans === NO_SPANS
        ? executions
        : withRunSpans(
            executions,
            (recorded) => recorded.forEach((span) => spans.record(span)),
            (error, executionId) => log({ level: 'warn', message: 'run spans not recorded', execution_id: executionId, error: String(error) }),
          ),
    meterEvents: (emit) => (metricsOn ? meteredEmit(emit, prometheus) : emit),
    meterCalls: (runner) => (metricsOn ? meteredRunner(runner, prometheus) : runner),
    meterModels: (invoke) => (metricsOn ? meteredModelCalls(invoke, prometheus) : invoke),
    measure({ registry, workflows, sqsClient, deadLetterQueues }) {
      const inspectors = Object.fromEntries(Object.entries(deadLetterQueues).map(([queue, url]) => [queue, url === undefined ? undefined : new SqsDeadLetterInspector(sqsClient, url, { waitSeconds: 0 })]));
      gauges = {
        services: () => registry.list(),
        deadLetters: queueDepths(inspectors),
        workflows: async () => (await workflows.counts()).byStatus,
      };
    },
    close: () => spans.close(),
  };
}
