/**
 * Ships log lines to the log collector (`LOG_COLLECTOR_URL`) in batches, in the background.
 *
 * The collector contract:
 *
 * ```
 * POST <LOG_COLLECTOR_URL>/logs/batch
 * Content-Type: application/json
 *
 * {"items": [
 *   {"service": "orchestrator", "level": "ERROR", "message": "could not record the end of the run",
 *    "timestamp": "2025-01-31T12:00:00.000Z",
 *    "context": {"request_id": "…", "trace_id": "…", "execution_id": "…", "action_id": "…", "tenant": "…", "error": "…"}}
 * ]}
 * ```
 *
 * `level` is DEBUG, INFO, WARN or ERROR; `context` holds every other field of the line, already redacted. At
 * most `batchSize` (100) items per request; any 2xx is success. A batch that fails (an error status, no answer
 * within `timeoutMs` (5 s), the address refused by the outbound policy) is sent once more, then dropped and
 * counted. Lines are sent at least every `flushIntervalMs` (1 s) and whenever a full batch is waiting.
 *
 * Logging never waits for the collector: `enqueue` only appends to a buffer of at most `maxBuffered` lines
 * (10,000; the oldest are dropped and counted beyond it). The shipper's own failures are reported to the
 * local output only (see `reportTo`), never shipped.
 */
import { clearInterval, setImmediate, setInterval } from 'node:timers';
import type { Log, LogEntry, OutboundHttp } from '../../core/ports.ts';

/** One line as the collector receives it. */
export interface ShippedLog {
  readonly service: string;
  readonly level: string;
  readonly message: string;
  readonly timestamp: string;
  readonly context: Readonly<Record<string, unknown>>;
}

export interface LogShipperStats {
  /** Lines the collector accepted. */
  readonly shipped: number;
  /** Lines lost: pushed out of a full buffer, in a batch that failed twice, or still buffered at `close`. */
  readonly dropped: number;
  /** Batches that failed twice and were dropped. */
  readonly failed_batches: number;
}

export interface LogShipper {
  /** Buffers one line (synchronous, O(1)); a full batch is sent soon after, in the background. */
  enqueue(item: ShippedLog): void;
  /** Sends what is buffered (the end of a Lambda invocation, shutdown). Never rejects. */
  flush(): Promise<void>;
  /** Stops the timer and flushes; what could not be sent is counted as dropped. Never rejects. */
  close(): Promise<void>;
  stats(): LogShipperStats;
  /** Where the shipper reports its own failures: the logger's local output (set by createLogger). */
  reportTo(report: Log): void;
}

export interface LogShipperOptions {
  /** LOG_COLLECTOR_URL: the collector's base URL; lines go to `<url>/logs/batch`. */
  readonly url: string;
  /** Outbound HTTP under the outbound policy (every connection checked): never a bare fetch. */
  readonly http: OutboundHttp;
  readonly batchSize?: number;
  readonly flushIntervalMs?: number;
  readonly maxBuffered?: number;
  /** How long one POST may take before it counts as failed. */
  readonly timeoutMs?: number;
  /** Called with the number of lines dropped each time some are (buffer overflow, a failed batch, close). */
  readonly onDrop?: (count: number) => void;
  /** Where failures are reported until `reportTo` is called (default: a JSON line on stderr). */
  readonly report?: Log;
}

const COLLECTOR_PATH = '/logs/batch';
/** The collector's answer is read for its status only. */
const MAX_ANSWER_BYTES = 4096;

/** The collector's endpoint for a base URL (a trailing slash or a path prefix kept). */
export function collectorEndpoint(url: string): string {
  const base = new URL(url);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`LOG_COLLECTOR_URL must be an http or https URL (got ${base.protocol})`);
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}${COLLECTOR_PATH}`;
}

/** The shipper (see the module comment for the contract and its guarantees). */
export function createLogShipper(options: LogShipperOptions): LogShipper {
  const endpoint = collectorEndpoint(options.url);
  const { http, batchSize = 100, flushIntervalMs = 1000, maxBuffered = 10_000, timeoutMs = 5000, onDrop } = options;
  let report: Log = options.report ?? ((entry: LogEntry) => process.stderr.write(`${JSON.stringify({ level: 'warn', ...entry })}\n`));

  // A queue as an array and the index of its oldest line: dropping the oldest and taking a batch are O(1).
  let buffer: ShippedLog[] = [];
  let head = 0;
  const size = () => buffer.length - head;
  let shipped = 0;
  let dropped = 0;
  let failedBatches = 0;
  let overflowed = 0;
  let overflowReported = 0;

  const drop = (count: number) => {
    if (count <= 0) return;
    dropped += count;
    onDrop?.(count);
  };

  const take = (count: number): ShippedLog[] => {
    const batch = buffer.slice(head, head + count);
    head += batch.length;
    if (head === buffer.length) {
      buffer = [];
      head = 0;
    } else if (head > 1024 && head * 2 > buffer.length) {
      buffer = buffer.slice(head);
      head = 0;
    }
    return batch;
  };

  const post = async (body: string): Promise<void> => {
    const answer = await http.send({ method: 'POST', url: endpoint, headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(timeoutMs), maxBodyBytes: MAX_ANSWER_BYTES });
    if (answer.status < 200 || answer.status > 299) throw new Error(`the collector answered ${answer.status} ${answer.statusText}`.trim());
  };

  /** Sends one batch, once more if it fails; false when it was dropped. */
  const sendBatch = async (batch: ShippedLog[]): Promise<boolean> => {
    let body: string;
    try {
      body = JSON.stringify({ items: batch });
    } catch (error) {
      failedBatches += 1;
      drop(batch.length);
      safeReport({ level: 'warn', message: `${batch.length} log lines not shipped: not serialisable`, error: describe(error) });
      return false;
    }
    let failure: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await post(body);
        shipped += batch.length;
        return true;
      } catch (error) {
        failure = error;
      }
    }
    failedBatches += 1;
    drop(batch.length);
    safeReport({ level: 'warn', message: `log collector unavailable: ${batch.length} log lines dropped`, collector: endpoint, error: describe(failure) });
    return false;
  };

  const safeReport = (entry: LogEntry) => {
    try {
      report(entry);
    } catch {
      // Reporting must not break shipping.
    }
  };

  /** Sends full batches (or, with `all`, everything); stops at the first failed batch until the next round. False then. */
  const drain = async (all: boolean): Promise<boolean> => {
    let delivered = true;
    while (delivered && size() > 0 && (all || size() >= batchSize)) delivered = await sendBatch(take(batchSize));
    // Overflow is reported once per round, not once per line.
    if (overflowed > overflowReported) {
      const lost = overflowed - overflowReported;
      overflowReported = overflowed;
      safeReport({ level: 'warn', message: `log collector behind: ${lost} log lines dropped from a full buffer`, shipped, dropped, failed_batches: failedBatches });
    }
    return delivered;
  };

  // One drain at a time; a request made meanwhile runs after it, and its promise covers that run.
  let running: Promise<void> | undefined;
  let again = false;
  let againAll = false;
  const pump = (all: boolean): Promise<void> => {
    if (running !== undefined) {
      again = true;
      againAll ||= all;
      return running;
    }
    running = (async () => {
      let mode = all;
      try {
        for (;;) {
          again = false;
          againAll = false;
          // After a failed batch, requests made meanwhile wait for the next round (the timer, a later flush).
          if (!(await drain(mode)) || !again) break;
          mode = againAll;
        }
      } catch {
        // drain reports its own failures; nothing escapes into the background.
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // Not even the start of a request runs in the logging caller's turn.
    setImmediate(() => {
      scheduled = false;
      void pump(false);
    }).unref();
  };

  let timer: NodeJS.Timeout | undefined = setInterval(() => {
    if (size() > 0) void pump(true);
  }, flushIntervalMs);
  timer.unref();

  return {
    enqueue: (item) => {
      buffer.push(item);
      if (size() > maxBuffered) {
        const excess = take(size() - maxBuffered).length;
        overflowed += excess;
        drop(excess);
      }
      if (size() >= batchSize) schedule();
    },
    flush: () => pump(true),
    close: async () => {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await pump(true);
      const left = size();
      if (left > 0) {
        take(left);
        drop(left);
        safeReport({ level: 'warn', message: `${left} log lines not shipped before stopping` });
      }
    },
    stats: () => ({ shipped, dropped, failed_batches: failedBatches }),
    reportTo: (next) => {
      report = next;
    },
  };
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const kind = (error as { kind?: unknown }).kind;
  return typeof kind === 'string' ? `${error.name} (${kind}): ${error.message}` : `${error.name}: ${error.message}`;
}
