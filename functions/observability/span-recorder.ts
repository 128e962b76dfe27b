import type { Span, SpanAttributeValue, SpanCategory, SpanKind, SpanStatus } from '../../core/observability/spans.ts';
import type { Log } from '../../core/ports.ts';
import { newSpanId, newTraceId } from './trace-ids.ts';

/** Where finished spans go: the span store (DynamoDB), an OTLP collector. */
export interface SpanExporter {
  /** Named in the recorder's failure logs. */
  readonly name: string;
  export(spans: readonly Span[]): Promise<void>;
  shutdown?(): Promise<void>;
}

export interface SpanRecorderStats {
  readonly recorded: number;
  readonly exported: number;
  readonly dropped: number;
  readonly failedExports: number;
}

/**
 * Takes finished spans without ever making the caller wait (record() only buffers) and hands them to the
 * exporters in batches: on a timer in a long-lived process, and on flush() where the process may be frozen
 * as soon as it answers (a Lambda flushes before it returns).
 */
export interface SpanRecorder {
  readonly enabled: boolean;
  record(span: Span): void;
  /** Exports what is buffered; resolves when every exporter has answered (or failed, which is logged). */
  flush(): Promise<void>;
  /** Flushes, stops the timer and shuts the exporters down. */
  close(): Promise<void>;
  stats(): SpanRecorderStats;
}

/** Tracing switched off (ORCHESTRATOR_TRACING_ENABLED=false): nothing is recorded. */
export const NO_SPANS: SpanRecorder = {
  enabled: false,
  record: () => undefined,
  flush: () => Promise.resolve(),
  close: () => Promise.resolve(),
  stats: () => ({ recorded: 0, exported: 0, dropped: 0, failedExports: 0 }),
};

export interface SpanRecorderOptions {
  readonly exporters: readonly SpanExporter[];
  /** 0: no timer, flush() only (Lambda). Default 1000 ms. */
  readonly flushIntervalMs?: number;
  /** Spans held at most; beyond it the oldest are dropped (and counted). Default 10,000. */
  readonly maxBuffered?: number;
  /** A flush starts early once this many spans wait. Default 500. */
  readonly batchSize?: number;
  readonly log?: Log;
}

export function createSpanRecorder(options: SpanRecorderOptions): SpanRecorder {
  const maxBuffered = options.maxBuffered ?? 10_000;
  const batchSize = options.batchSize ?? 500;
  let buffer: Span[] = [];
  let recorded = 0;
  let exported = 0;
  let dropped = 0;
  let failedExports = 0;
  // One export at a time: a Lambda's flush waits for the timer's export in flight instead of racing it.
  let exporting: Promise<void> = Promise.resolve();

  const exportBatch = async (batch: readonly Span[]): Promise<void> => {
    const results = await Promise.allSettled(options.exporters.map((exporter) => exporter.export(batch)));
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') return;
      failedExports += 1;
      options.log?.({ level: 'warn', message: 'spans not exported', exporter: options.exporters[index]?.name, spans: batch.length, error: String(result.reason) });
    });
    exported += batch.length;
  };
  const flush = (): Promise<void> => {
    exporting = exporting.then(async () => {
      while (buffer.length > 0) {
        const batch = buffer;
        buffer = [];
        await exportBatch(batch);
      }
    });
    return exporting;
  };
  const timer = (options.flushIntervalMs ?? 1000) > 0 ? setInterval(() => void flush(), options.flushIntervalMs ?? 1000) : undefined;
  timer?.unref();

  return {
    enabled: true,
    record(span) {
      recorded += 1;
      buffer.push(span);
      if (buffer.length > maxBuffered) {
        const excess = buffer.length - maxBuffered;
        buffer.splice(0, excess);
        dropped += excess;
      }
      if (timer !== undefined && buffer.length >= batchSize) void flush();
    },
    flush,
    async close() {
      if (timer !== undefined) clearInterval(timer);
      await flush();
      await Promise.allSettled(options.exporters.map((exporter) => exporter.shutdown?.()));
    },
    stats: () => ({ recorded, exported, dropped, failedExports }),
  };
}

/** What a span about to start knows: its trace and parent (absent: a new trace), and what it is about. */
export interface SpanStart {
  readonly name: string;
  readonly kind: SpanKind;
  readonly category: SpanCategory;
  readonly service: string;
  readonly trace_id?: string;
  readonly parent_span_id?: string;
  /** A span id fixed in advance (runs and actions derive theirs); default a random one. */
  readonly span_id?: string;
  readonly tenant?: string;
  readonly workflow_id?: string;
  readonly execution_id?: string;
  readonly attributes?: Readonly<Record<string, SpanAttributeValue | undefined>>;
}

/** A span in progress: its ids are known (to pass on in `traceparent`), its end is not. */
export interface OpenSpan {
  readonly trace_id: string;
  readonly span_id: string;
  set(attributes: Readonly<Record<string, SpanAttributeValue | undefined>>): void;
  /** Ends the span and records it; a second end is ignored. Returns the finished span. */
  end(status: SpanStatus, attributes?: Readonly<Record<string, SpanAttributeValue | undefined>>): Span;
}

/**
 * Opens a span timed by the monotonic clock (its start is the wall clock's, its duration performance.now()'s,
 * so a clock step while it runs cannot make it negative).
 */
export function openSpan(recorder: SpanRecorder, start: SpanStart): OpenSpan {
  const trace_id = start.trace_id ?? newTraceId();
  const span_id = start.span_id ?? newSpanId();
  const startedAt = Date.now();
  const startedMonotonic = performance.now();
  const attributes: Record<string, SpanAttributeValue> = {};
  const set = (more: Readonly<Record<string, SpanAttributeValue | undefined>> | undefined): void => {
    for (const [key, value] of Object.entries(more ?? {})) if (value !== undefined) attributes[key] = value;
  };
  set(start.attributes);
  let finished: Span | undefined;
  return {
    trace_id,
    span_id,
    set,
    end(status, more) {
      if (finished) return finished;
      set(more);
      const duration = Math.max(0, performance.now() - startedMonotonic);
      finished = {
        trace_id,
        span_id,
        ...(start.parent_span_id === undefined ? {} : { parent_span_id: start.parent_span_id }),
        name: start.name,
        kind: start.kind,
        category: start.category,
        service: start.service,
        start: new Date(startedAt).toISOString(),
        end: new Date(startedAt + duration).toISOString(),
        duration_ms: Math.round(duration * 1000) / 1000,
        status,
        ...(start.tenant === undefined ? {} : { tenant: start.tenant }),
        ...(start.workflow_id === undefined ? {} : { workflow_id: start.workflow_id }),
        ...(start.execution_id === undefined ? {} : { execution_id: start.execution_id }),
        attributes,
      };
      recorder.record(finished);
      return finished;
    },
  };
}
