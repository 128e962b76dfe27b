import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What every log line written while serving one request or running one action carries: set once where the
 * work starts (the API middleware, the action runner), read by the logger for each line.
 */
export interface LogContext {
  readonly request_id?: string;
  readonly trace_id?: string;
  readonly span_id?: string;
  readonly execution_id?: string;
  readonly action_id?: string;
  readonly tenant?: string;
  /** `POST /workflows/{workflow_id}/execute`. */
  readonly route?: string;
}

const storage = new AsyncLocalStorage<LogContext>();
const EMPTY: LogContext = Object.freeze({});

/**
 * Runs `fn` with `fields` added to the current log context (nested calls merge; an inner field wins, an
 * undefined one leaves the outer value). The context follows `fn`'s awaits, timers and promises, and ends
 * with it: concurrent requests never see each other's ids.
 */
export function withLogContext<T>(fields: LogContext, fn: () => T): T {
  const merged: Record<string, string> = { ...storage.getStore() } as Record<string, string>;
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) merged[key] = value;
  }
  return storage.run(Object.freeze(merged) as LogContext, fn);
}

/** The fields of the innermost `withLogContext` around the caller; empty outside any. */
export function currentLogContext(): LogContext {
  return storage.getStore() ?? EMPTY;
}
