import { OrchestratorApiError } from '../../../client/index.ts';

/** A local date and time, to the second; an em dash when there is none. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** A duration in ms as people read it: 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.floor(seconds % 60)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** Milliseconds between two ISO times (the second defaults to now); undefined without a start. */
export function durationBetween(start: string | undefined, end: string | undefined, now = Date.now()): number | undefined {
  if (!start) return undefined;
  const from = Date.parse(start);
  const to = end ? Date.parse(end) : now;
  return Number.isNaN(from) || Number.isNaN(to) ? undefined : to - from;
}

/** Seconds as an age: 45 s, 3 min, 2 h, 4 d. */
export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86_400)} d`;
}

/** What to tell a person about a failure: the API's message (and code), or the error's own. */
export function errorMessage(error: unknown): string {
  if (error instanceof OrchestratorApiError) {
    if (error.status === 0 || error.code === 'BAD_RESPONSE') return error.message;
    return `${error.message} (${error.status} ${error.code})`;
  }
  if (error instanceof Error) return error.message === 'Failed to fetch' ? 'The API did not answer (network error).' : error.message;
  return String(error);
}

/** The field problems of a 400, by field path. */
export function fieldErrors(error: unknown): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  if (error instanceof OrchestratorApiError) {
    for (const detail of error.details) map.set(detail.field, map.has(detail.field) ? `${map.get(detail.field)}; ${detail.message}` : detail.message);
  }
  return map;
}

/** JSON as people read it: two-space indents. */
export const pretty = (value: unknown): string => JSON.stringify(value, null, 2) ?? 'undefined';

/** A short form of an id for tables and headings: 8 characters, past a prefix such as `idem-`. */
export function shortId(id: string): string {
  return id.replace(/^[a-z]+-(?=[0-9a-f]{8})/i, '').slice(0, 8);
}

/**
 * An error cause as text and, when it carries one, the JSON document after it (the action runner's causes
 * are `ServiceUnavailableError: {"message": ..., "status_code": 500, ...}`), so it can be shown readably.
 */
export function splitCause(cause: string): { readonly text: string; readonly message?: string; readonly detail?: unknown } {
  const start = cause.indexOf('{');
  if (start < 0) return { text: cause };
  try {
    const detail: unknown = JSON.parse(cause.slice(start));
    const message = typeof detail === 'object' && detail !== null && 'message' in detail && typeof detail.message === 'string' ? detail.message : undefined;
    return { text: cause.slice(0, start).trim(), detail, ...(message ? { message } : {}) };
  } catch {
    return { text: cause };
  }
}
