import type { MetricsRecorder } from './metric-recorder.ts';

/** The label of requests that matched no route (the local server's 404 and 405 answers). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * `metrics.httpRequest` as the request observer's `httpRequest` (functions/observability/request-observer.ts,
 * which wraps every route handler in createHttpHandler, outside all its middlewares): recorded, then flushed
 * (EMF in a Lambda: the request is the invocation), and never throwing (the observer calls it in a `finally`).
 */
export function recordHttpRequest(metrics: MetricsRecorder): (route: string, method: string, status: number, seconds: number) => void {
  return (route, method, status, seconds) => {
    try {
      metrics.httpRequest(route, method, status, seconds);
      metrics.flush?.();
    } catch {
      // Measuring must never fail the request.
    }
  };
}
