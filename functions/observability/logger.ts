import { Logger, LogFormatter, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import type { Log, LogEntry, LogLevel } from '../../core/ports.ts';
import { currentLogContext } from './log-context.ts';
import type { LogShipper, ShippedLog } from './log-shipper.ts';
import { createRedactor } from './redaction.ts';

export interface LoggerOptions {
  /** LOG_LEVEL: entries below it are dropped (default info). It wins over POWERTOOLS_LOG_LEVEL and LOG_LEVEL in
   * the environment; only Lambda's own log level (AWS_LAMBDA_LOG_LEVEL, advanced logging controls) can raise it. */
  readonly level?: LogLevel | 'silent';
  /** The `service` of every line (default `orchestrator`). */
  readonly service?: string;
  /** Secret values known to the composition root, scrubbed from every string of every line. */
  readonly secrets?: readonly string[];
  /** Ships every written line to the log collector as well (LOG_COLLECTOR_URL). */
  readonly collector?: LogShipper;
  /**
   * Where the JSON lines go, one call per line. Default: Powertools' own output, `console` on stdout (debug,
   * info) and stderr (warn, error), which Lambda sends to CloudWatch. Locally: `stderrDestination`.
   */
  readonly destination?: (line: string) => void;
}

/** A logger: the `Log` port, and `flush` for what its collector still holds (end of an invocation, shutdown). */
export type ManagedLog = Log & { flush(): Promise<void> };

/** Every line on stderr, so that a terminal's stdout keeps what `npm start` prints for people. */
export const stderrDestination = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const RANK: Readonly<Record<LogLevel | 'silent', number>> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };
const POWERTOOLS_LEVEL = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', silent: 'SILENT' } as const;

/**
 * Field names Powertools keeps for itself (it would drop them, with a warning line each time): an entry's own
 * field of that name is renamed. A `service` field names the service a call went to, not the logger's.
 */
const RENAMED_FIELDS: Readonly<Record<string, string>> = { service: 'target_service', timestamp: 'entry_timestamp', sampling_rate: 'entry_sampling_rate' };

/** A level as callers spell it (`warn`, `WARN`, `warning`, `fatal`...); unknown ones are info. */
function levelOf(level: unknown): LogLevel {
  const name = typeof level === 'string' ? level.toLowerCase() : 'info';
  if (name === 'debug' || name === 'trace') return 'debug';
  if (name === 'warn' || name === 'warning') return 'warn';
  if (name === 'error' || name === 'fatal' || name === 'critical') return 'error';
  return 'info';
}

/** The line's shape: level, timestamp, service, message, then the context and the entry's fields. */
class LineFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        message: attributes.message,
        xray_trace_id: attributes.xRayTraceId,
        function_request_id: attributes.lambdaContext?.awsRequestId,
      },
    }).addAttributes(additional);
  }
}

function toShipped(attributes: Readonly<Record<string, unknown>>): ShippedLog {
  const { service, level, message, timestamp, ...context } = attributes;
  return { service: String(service ?? ''), level: String(level ?? 'INFO'), message: typeof message === 'string' ? message : '', timestamp: String(timestamp ?? ''), context };
}

/**
 * The structured logger (Powertools Logger): one JSON line per entry with `level`, `timestamp`, `service`,
 * `message`, the current log context (log-context.ts: request, trace, execution, action ids, tenant, route) and
 * the entry's fields, every value redacted (redaction.ts). An entry without `level` is info; one with `kind`
 * and no message has its kind as message. Never throws, never waits: lines for the collector are queued.
 */
export function createLogger(options: LoggerOptions = {}): ManagedLog {
  const level = options.level ?? 'info';
  const threshold = RANK[level];
  const redactor = createRedactor({ secrets: options.secrets ?? [] });
  const { destination, collector } = options;
  let shipping = true;

  // printLog is where Powertools writes a finished line: the one place to send it elsewhere as well.
  class OrchestratorLogger extends Logger {
    protected override printLog(logLevel: number, log: LogItem): void {
      if (destination === undefined) {
        super.printLog(logLevel, log);
      } else {
        log.prepareForPrint();
        destination(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
      }
      if (collector !== undefined && shipping) collector.enqueue(toShipped(log.getAttributes() as Record<string, unknown>));
    }
  }
  const logger = new OrchestratorLogger({ logLevel: POWERTOOLS_LEVEL[level], serviceName: options.service ?? 'orchestrator', logFormatter: new LineFormatter() });

  const log = (entry: LogEntry): void => {
    try {
      const entryLevel = levelOf(entry.level);
      if (RANK[entryLevel] < threshold) return;
      const { level: _level, message, ...fields } = entry;
      const merged: Record<string, unknown> = { ...currentLogContext() };
      for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined) merged[RENAMED_FIELDS[key] ?? key] = value;
      }
      const text = message ?? (typeof fields.kind === 'string' ? fields.kind : '');
      logger[entryLevel](redactor(typeof text === 'string' ? text : String(text)) as string, redactor(merged) as LogAttributes);
    } catch (error) {
      // Logging never breaks the caller; say once, plainly, that a line was lost.
      try {
        stderrDestination(JSON.stringify({ level: 'ERROR', service: options.service ?? 'orchestrator', message: `a log line could not be written: ${error instanceof Error ? error.name : 'unknown error'}` }));
      } catch {
        // stderr itself failed: nothing left to tell.
      }
    }
  };

  // The shipper's own failures go to the local output only: shipping them could loop.
  collector?.reportTo((entry) => {
    shipping = false;
    try {
      log(entry);
    } finally {
      shipping = true;
    }
  });

  return Object.assign(log, { flush: () => collector?.flush() ?? Promise.resolve() });
}

let shared: ManagedLog | undefined;

/**
 * The process's logger, for code with no logger of its own injected (module-level defaults: `jsonLogger`, the
 * workers' `log` defaults, the Lambda composition roots). Until `configureSharedLog` is called it is
 * `createLogger()`: info and above, Powertools' output, nothing shipped.
 */
export const sharedLog: ManagedLog = Object.assign((entry: LogEntry) => (shared ??= createLogger())(entry), { flush: () => (shared ??= createLogger()).flush() });

/**
 * Configures the shared logger once, at the composition root (level from LOG_LEVEL, the collector from
 * LOG_COLLECTOR_URL, the known secrets, the destination). Returns it.
 */
export function configureSharedLog(options: LoggerOptions): ManagedLog {
  shared = createLogger(options);
  return sharedLog;
}
