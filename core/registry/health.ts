import { HEALTH_HISTORY_LENGTH, type CheckedStatus, type HealthCheck, type InstanceHealth } from './model.ts';

/**
 * Health checks of service instances, as pure functions: what one probe of an instance's health path says
 * (classifyProbe), and how it changes what the registry keeps about the instance (foldHealth).
 */

/** What probing an instance's health URL gave: an answer (any status code), or no answer at all. */
export type ProbeResult =
  | {
      readonly status_code: number;
      /** From sending the request to having read the (small) body. */
      readonly latency_ms: number;
      /** The parsed JSON body when the service sent one (small bodies only), else its text or nothing. */
      readonly body?: unknown;
    }
  | {
      /** Why there was no answer: refused by the outbound policy, connection refused, DNS, timeout... */
      readonly error: string;
      readonly timed_out?: boolean;
    };

/** A 2xx slower than this is degraded. */
export const DEFAULT_DEGRADED_LATENCY_MS = 1000;
/**
 * Failed checks in a row before an instance that was answering is marked unhealthy; the first ones mark it
 * degraded. See foldHealth.
 */
export const DEFAULT_UNHEALTHY_AFTER = 2;

/**
 * Body `status` values that mean "working, but not fully" and "not working" in the formats services commonly
 * answer with: `degraded`/`unhealthy`, Spring Boot's `UP`/`DOWN`, the IETF health check draft's
 * `pass`/`warn`/`fail` (application/health+json). Compared case-insensitively.
 */
const DEGRADED_BODY_STATUSES = new Set(['degraded', 'partial', 'warn', 'warning']);
const FAILED_BODY_STATUSES = new Set(['unhealthy', 'fail', 'failed', 'failing', 'down', 'error', 'critical']);

export interface ClassifyOptions {
  /** Default DEFAULT_DEGRADED_LATENCY_MS. */
  readonly degradedLatencyMs?: number;
}

/**
 * One probe as a health check:
 * - no answer (timeout, connection refused, refused by the outbound policy): unhealthy, no latency;
 * - a status code outside 2xx: unhealthy;
 * - a 2xx whose JSON body says `status: "down"` (or fail, unhealthy...): unhealthy, the service's own word;
 * - a 2xx whose body says `status: "degraded"` (or partial, warn): degraded;
 * - a 2xx slower than `degradedLatencyMs`: degraded;
 * - any other 2xx: healthy.
 */
export function classifyProbe(result: ProbeResult, checkedAt: string, options: ClassifyOptions = {}): HealthCheck {
  if ('error' in result) {
    return { checked_at: checkedAt, status: 'unhealthy', latency_ms: null, status_code: null, detail: result.error };
  }
  const latency = Math.round(result.latency_ms);
  const base = { checked_at: checkedAt, latency_ms: latency, status_code: result.status_code };
  if (result.status_code < 200 || result.status_code > 299) {
    const said = bodyStatus(result.body);
    return { ...base, status: 'unhealthy', detail: `answered ${result.status_code}${said === undefined ? '' : ` (status "${said}")`}` };
  }
  const said = bodyStatus(result.body);
  const word = said?.toLowerCase();
  if (word !== undefined && FAILED_BODY_STATUSES.has(word)) return { ...base, status: 'unhealthy', detail: `answered ${result.status_code} but reports status "${said}"` };
  if (word !== undefined && DEGRADED_BODY_STATUSES.has(word)) return { ...base, status: 'degraded', detail: `reports status "${said}"` };
  const threshold = options.degradedLatencyMs ?? DEFAULT_DEGRADED_LATENCY_MS;
  if (latency > threshold) return { ...base, status: 'degraded', detail: `slow: answered in ${latency} ms (degraded above ${threshold} ms)` };
  return { ...base, status: 'healthy' };
}

export interface FoldOptions {
  /** Default DEFAULT_UNHEALTHY_AFTER; 1 turns the hysteresis off. */
  readonly unhealthyAfter?: number;
}

/**
 * What the registry keeps about an instance after one more check: the check first in the history (at most
 * HEALTH_HISTORY_LENGTH), `consecutive_failures` (checks in a row that were not healthy), and the status.
 *
 * The status is the check's, with one hysteresis: an instance that was answering (healthy or degraded) and
 * fails a check is first marked degraded, and unhealthy only after `unhealthyAfter` failed checks in a row.
 * The action runner stops sending calls to unhealthy instances until the next check, which in AWS is a
 * minute away; one dropped probe should not take the only instance of a service out for that long, while
 * its circuit breaker still guards the calls themselves. An instance never seen answering (unknown) or
 * already unhealthy is unhealthy at once, and one good check brings any instance back.
 */
export function foldHealth(previous: InstanceHealth, check: HealthCheck, options: FoldOptions = {}): InstanceHealth & { readonly status: CheckedStatus } {
  const history = [check, ...previous.history].slice(0, HEALTH_HISTORY_LENGTH);
  const consecutiveFailures = check.status === 'healthy' ? 0 : previous.consecutive_failures + 1;
  const unhealthyAfter = Math.max(1, options.unhealthyAfter ?? DEFAULT_UNHEALTHY_AFTER);
  let status: CheckedStatus = check.status;
  let detail = check.detail;
  if (check.status === 'unhealthy' && (previous.status === 'healthy' || previous.status === 'degraded')) {
    const failedInARow = leadingUnhealthy(history);
    if (failedInARow < unhealthyAfter) {
      status = 'degraded';
      detail = `${check.detail ?? 'check failed'}; ${failedInARow} failed check${failedInARow === 1 ? '' : 's'} in a row, unhealthy after ${unhealthyAfter}`;
    }
  }
  return {
    status,
    checked_at: check.checked_at,
    latency_ms: check.latency_ms,
    ...(detail === undefined ? {} : { detail }),
    history,
    consecutive_failures: consecutiveFailures,
  };
}

/** Checks in a row, newest first, that failed outright. */
function leadingUnhealthy(history: readonly HealthCheck[]): number {
  let count = 0;
  while (count < history.length && history[count]!.status === 'unhealthy') count++;
  return count;
}

/** A health body's own `status` (a short string), if it has one. */
function bodyStatus(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const status = (body as Record<string, unknown>).status;
  return typeof status === 'string' && status.length > 0 && status.length <= 64 ? status : undefined;
}
