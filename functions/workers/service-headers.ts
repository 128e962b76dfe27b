import type { ServiceCallPayload } from './service-call.ts';
import { randomHex } from '../observability/trace-ids.ts';
import { formatTraceparent } from '../../core/observability/spans.ts';

/** Request headers the payload may not set: the HTTP client owns framing and the destination. */
export const CLIENT_OWNED_HEADERS: ReadonlySet<string> = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'expect']);

/**
 * Kept when a redirect leaves the service's origin; the payload's other headers were meant for the service
 * only. The Idempotency-Key goes on: whoever ends up performing the operation is who has to deduplicate it.
 */
export const CROSS_ORIGIN_HEADERS: readonly string[] = ['accept', 'content-type', 'traceparent', 'x-trace-id', 'x-request-id', 'x-workflow-execution-id', 'idempotency-key'];

/**
 * The `Idempotency-Key` the runner sends with a service call: `<execution_id>:<action_id>`, plus
 * `:<item_index>` for an item of a foreach. Services deduplicate with it, so it must name the operation, not
 * the attempt: it is made of the run's and the action's ids only, so every attempt, Retry, redrive, retry of
 * the run and resumption after a crash of this action (or item) in this run sends the same key, while a
 * compensation (`<action_id>.compensation`) and a rerun (a new execution id) send keys of their own.
 */
export function idempotencyKey(payload: Pick<ServiceCallPayload, 'execution_id' | 'action_id' | 'item_index'>): string {
  return `${payload.execution_id}:${payload.action_id}${payload.item_index === undefined ? '' : `:${payload.item_index}`}`;
}

/**
 * The headers of one call: the payload's own (client-owned ones dropped), content negotiation, the trace
 * context (`spanId`, the attempt's span, as the parent) and the correlation headers. An `Idempotency-Key` the action configured (any case) is kept as the
 * only one; otherwise the runner's (idempotencyKey) is added. `invalid` names a payload header that is not a
 * valid HTTP header name or value; `headers` then holds those before it, for the error.
 */
export function requestHeaders(payload: ServiceCallPayload, traceId: string, spanId: string = randomHex(8)): { headers: Headers; invalid?: string } {
  const headers = new Headers();
  for (const [name, value] of Object.entries(payload.headers ?? {})) {
    if (CLIENT_OWNED_HEADERS.has(name.toLowerCase())) continue;
    try {
      headers.set(name, value);
    } catch {
      return { headers, invalid: name };
    }
  }
  if (payload.method !== 'GET' && payload.method !== 'DELETE' && !headers.has('content-type')) headers.set('content-type', 'application/json');
  if (!headers.has('accept')) headers.set('accept', 'application/json, text/plain;q=0.9, */*;q=0.8');
  headers.set('traceparent', formatTraceparent(traceId, spanId));
  headers.set('x-trace-id', traceId);
  const key = idempotencyKey(payload);
  headers.set('x-request-id', key);
  // Headers compares names case-insensitively: an action's `IDEMPOTENCY-KEY` counts, and stays the only one sent.
  if (!headers.has('idempotency-key')) headers.set('idempotency-key', key);
  headers.set('x-workflow-execution-id', payload.execution_id);
  return { headers };
}

/** The execution's W3C trace id when it is a valid one, otherwise a new one (this call is then its own trace). */
export function traceIdOf(candidate: string | undefined): string {
  const id = candidate?.toLowerCase();
  return id !== undefined && /^[0-9a-f]{32}$/.test(id) && !/^0+$/.test(id) ? id : randomHex(16);
}
