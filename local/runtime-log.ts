import type { LogLevel, OutboundHttp } from '../core/ports.ts';
import { createLogShipper, type LogShipper } from '../functions/observability/log-shipper.ts';
import { configureSharedLog, stderrDestination, type ManagedLog } from '../functions/observability/logger.ts';

export interface RuntimeLogSettings {
  /** LOG_LEVEL; default info. */
  readonly level?: LogLevel | 'silent';
  /** LOG_COLLECTOR_URL: every line is shipped there too, in batches, through the outbound rules. */
  readonly collectorUrl?: string;
  /** Secret values the configuration holds (JWT secret, API key, peer token...), scrubbed from every line. */
  readonly secrets?: readonly string[];
}

export interface RuntimeLog {
  readonly log: ManagedLog;
  /** Ships what is still buffered and stops the shipper (shutdown). */
  close(): Promise<void>;
}

/**
 * The process's logger for `npm start`: JSON lines on stderr (stdout keeps what is printed for people), the
 * shared logger configured the same way so that code with no logger injected writes alike, and the log
 * collector when LOG_COLLECTOR_URL is set.
 */
export function startRuntimeLog(settings: RuntimeLogSettings, http: OutboundHttp): RuntimeLog {
  const collector: LogShipper | undefined = settings.collectorUrl === undefined ? undefined : createLogShipper({ url: settings.collectorUrl, http });
  const log = configureSharedLog({
    level: settings.level ?? 'info',
    destination: stderrDestination,
    secrets: settings.secrets ?? [],
    ...(collector === undefined ? {} : { collector }),
  });
  return { log, close: () => collector?.close() ?? Promise.resolve() };
}
