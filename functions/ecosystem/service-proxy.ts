import { ActionErrorName, BadGatewayError, DependencyUnavailableError, GatewayTimeoutError, UpstreamRejectedError } from '../../core/errors.ts';
import { EcosystemService } from '../../core/ecosystem/system-workflows.ts';
import type { HTTP_METHODS } from '../../core/workflow/definition.ts';
import { DEFAULT_PROXY_TIMEOUT_SECONDS } from '../config.ts';
import { randomHex } from '../observability/trace-ids.ts';
import { openSpan, type SpanRecorder } from '../observability/span-recorder.ts';
import type { ActionRunner } from '../workers/action-runner.ts';
import { ServiceCallError, type ServiceCallFailure } from '../workers/service-call-errors.ts';
import type { ServiceCallPayload } from '../workers/service-call.ts';
import { appendQuery } from '../workers/service-url.ts';

export { DEFAULT_PROXY_TIMEOUT_SECONDS };
/** Attempts of an idempotent call (GET, PUT, DELETE, or a call with an Idempotency-Key) whose service failed transiently. */
export const PROXY_ATTEMPTS = 3;
const BACKOFF_MS = 100;

/** The methods the action runner sends (a workflow's `service_call` methods). */
export type ProxyMethod = (typeof HTTP_METHODS)[number];

interface ProxyCallCommon {
  readonly service: string;
  readonly method: ProxyMethod;
  /** Appended to the service's URL as it is (percent-encode what a caller filled in). */
  readonly path: string;
  /** Headers for the service; the orchestrator's own (who it acts for, the trace) win over ones of the same name. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The caller's Idempotency-Key: sent on, and it makes a POST (or PATCH) safe to retry. */
  readonly idempotencyKey?: string;
}

/**
 * One request forwarded to a service: either `parameters`, as the action runner places them (the query of a
 * GET or DELETE, the JSON body otherwise; what the ecosystem proxies send), or a `query` and a `body` apart
 * (a service operation called as a tool: a POST may have both).
 */
export type ProxyCall = ProxyCallCommon &
  (
    | { readonly parameters?: Readonly<Record<string, unknown>>; readonly query?: never; readonly body?: never }
    | {
        readonly parameters?: never;
        /** Appended to the path whatever the method: scalars as text, arrays as repeated keys, null left out. */
        readonly query?: Readonly<Record<string, unknown>>;
        /** The JSON body: POST, PUT and PATCH only (the runner sends none with GET and DELETE). */
        readonly body?: Readonly<Record<string, unknown>>;
      }
  );

/** Who forwards: the request (its id and trace) and the caller it acts for. */
export interface ProxyContext {
  readonly requestId: string;
  readonly trace?: { readonly trace_id: string; readonly span_id: string };
  readonly caller: { readonly subject: string; readonly tenant: string };
}

export interface ProxyAnswer {
  readonly status: number;
  /** The service's body: JSON-parsed when it says JSON, text otherwise. */
  readonly body: unknown;
  readonly attempts: number;
}

export type ServiceProxy = (call: ProxyCall, context: ProxyContext) => Promise<ProxyAnswer>;

export interface ServiceProxyOptions {
  /**
   * The action runner (functions/workers/action-runner.ts), built without spans: it resolves the service (the
   * registry with its circuits, else `<NAME>_URL`), applies the outbound rules, credentials and limits.
   */
  readonly runner: ActionRunner;
  /** Each forward is a `proxy` client span under the request's span. */
  readonly spans?: SpanRecorder;
  readonly timeoutSeconds?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const IDEMPOTENT_METHODS: ReadonlySet<ProxyMethod> = new Set(['GET', 'PUT', 'DELETE']);

/** Failures worth another attempt when the call is idempotent: the service may be back a moment later. */
const TRANSIENT: ReadonlySet<string> = new Set([ActionErrorName.ServiceUnavailable, ActionErrorName.ServiceConnection]);

/**
 * Forwards requests to ecosystem services the way the action runner calls them in a run (same resolution,
 * outbound rules, circuit breaker, credentials and trace headers), within one time budget
 * (`timeoutSeconds`, shared by every attempt), retrying idempotent calls on transient failures. Failures
 * become the HTTP errors a gateway answers: a refusal (4xx) passes on with the service's status and message;
 * a service not configured, not healthy or behind an open circuit is 503; no connection, a 5xx, or an address
 * the outbound rules refuse is 502; no answer in time is 504. Never a 500.
 */
export function createServiceProxy(options: ServiceProxyOptions): ServiceProxy {
  const budgetMs = Math.round((options.timeoutSeconds ?? DEFAULT_PROXY_TIMEOUT_SECONDS) * 1000);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  return async (call, context) => {
    const traceId = context.trace?.trace_id ?? randomHex(16);
    const span = options.spans?.enabled
      ? openSpan(options.spans, {
          name: `${call.method} ${call.service}`,
          kind: 'client',
          category: 'proxy',
          service: call.service,
          trace_id: traceId,
          ...(context.trace ? { parent_span_id: context.trace.span_id } : {}),
          tenant: context.caller.tenant,
          attributes: { 'http.method': call.method, path: call.path, request_id: context.requestId },
        })
      : undefined;
    // Sending a GET, PUT or DELETE twice has the effect of sending it once (RFC 9110); a POST or PATCH only with a key.
    const idempotent = IDEMPOTENT_METHODS.has(call.method) || call.idempotencyKey !== undefined;
    const deadline = Date.now() + budgetMs;
    let attempts = 0;
    try {
      for (;;) {
        attempts += 1;
        const remainingMs = deadline - Date.now();
        try {
          const result = await options.runner(payloadOf(call, context, traceId, remainingMs / 1000), span ? { spanId: span.span_id } : {});
          span?.end('ok', { 'http.status_code': result.status_code, attempts });
          return { status: result.status_code, body: result.response, attempts };
        } catch (error) {
          const retry = idempotent && error instanceof ServiceCallError && TRANSIENT.has(error.name) && attempts < PROXY_ATTEMPTS;
          const pause = BACKOFF_MS * 2 ** (attempts - 1);
          if (!retry || Date.now() + pause >= deadline) throw error;
          await sleep(pause);
        }
      }
    } catch (error) {
      const failure = error instanceof ServiceCallError ? error.failure : undefined;
      span?.end('error', { 'http.status_code': failure?.status_code ?? undefined, 'error.name': error instanceof Error ? error.name : 'Error', attempts });
      throw gatewayError(call.service, error);
    }
  };
}

function payloadOf(call: ProxyCall, context: ProxyContext, traceId: string, timeoutSeconds: number): ServiceCallPayload {
  if (call.body !== undefined && (call.method === 'GET' || call.method === 'DELETE')) {
    // The runner would send it as the query: a caller's mistake, never something to send.
    throw new TypeError(`a ${call.method} call to ${call.service} carries no body`);
  }
  const parameters = call.parameters ?? call.body;
  return {
    // The runner's Idempotency-Key and X-Request-Id are `<execution_id>:<action_id>`: here the request's id.
    execution_id: context.requestId,
    action_id: 'proxy',
    workflow_id: 'proxy',
    workflow_version: 0,
    service: call.service,
    endpoint: call.query === undefined ? call.path : withQuery(call.path, call.query),
    method: call.method,
    ...(parameters === undefined ? {} : { parameters }),
    headers: {
      ...call.headers,
      // Who the orchestrator acts for; never the caller's own credential, which is for this API only.
      'x-orchestrator-subject': context.caller.subject,
      'x-orchestrator-tenant': context.caller.tenant,
      ...(call.idempotencyKey === undefined ? {} : { 'idempotency-key': call.idempotencyKey }),
    },
    timeout_seconds: Math.max(timeoutSeconds, 0.001),
    trace_id: traceId,
    tenant: context.caller.tenant,
  };
}

/**
 * `path` with `query` after it, encoded as the runner encodes a GET's parameters (appendQuery): the runner
 * appends parameters to the query of GET and DELETE only, so a POST's query has to be in its endpoint. The
 * endpoint is taken as it is (no templated segments), and the runner still keeps it under the service's base path.
 */
function withQuery(path: string, query: Readonly<Record<string, unknown>>): string {
  const encoded = new URL('http://query.invalid/');
  appendQuery(encoded, query);
  if (encoded.search === '') return path;
  return path.includes('?') ? `${path}&${encoded.search.slice(1)}` : `${path}${encoded.search}`;
}

/** The HTTP error a failed forward answers with (see createServiceProxy). */
export function gatewayError(service: string, error: unknown): Error {
  if (!(error instanceof ServiceCallError)) {
    return new BadGatewayError(`${service} could not be called: ${error instanceof Error ? error.message : String(error)}`, [], { cause: error });
  }
  const failure: ServiceCallFailure = error.failure;
  const detail = [{ field: 'service', message: `${service}: ${failure.message}` }];
  switch (error.name) {
    case ActionErrorName.ServiceRejected:
    case ActionErrorName.ServiceThrottled:
      if (failure.status_code !== undefined && failure.status_code !== null && failure.status_code >= 400 && failure.status_code < 500) {
        return new UpstreamRejectedError(failure.status_code, `${service} refused the request: ${messageOf(failure.response) ?? failure.message}`, detail, failure.retry_after ?? undefined);
      }
      return new BadGatewayError(`${service}: ${failure.message}`, detail, { cause: error });
    case ActionErrorName.ServiceTimeout:
      return new GatewayTimeoutError(`${service} did not answer in time: ${failure.message}`, detail, { cause: error });
    case ActionErrorName.ServiceNotFound:
    case ActionErrorName.CircuitOpen:
      return new DependencyUnavailableError(`${service} is unavailable: ${failure.message}`, detail, { cause: error });
    case ActionErrorName.ServiceUnavailable:
      // A 5xx answer is the service failing (502); no healthy instance at all is it being down (503).
      return failure.status_code === undefined || failure.status_code === null
        ? new DependencyUnavailableError(`${service} is unavailable: ${failure.message}`, detail, { cause: error })
        : new BadGatewayError(`${service} failed: ${failure.message}`, detail, { cause: error });
    default:
      return new BadGatewayError(`${service} could not be called: ${failure.message}`, detail, { cause: error });
  }
}

/** The service's own message in its error body (`message`, `detail`, `error`), when it has one. */
function messageOf(response: unknown): string | undefined {
  if (typeof response === 'string') return response.slice(0, 500) || undefined;
  if (response === null || typeof response !== 'object') return undefined;
  for (const key of ['message', 'detail', 'error', 'title']) {
    const value = (response as Record<string, unknown>)[key];
    if (typeof value === 'string' && value !== '') return value.slice(0, 500);
  }
  return undefined;
}

/** `/demo/e2e` reads the log analysis from the log collector when LOG_COLLECTOR_URL is set, else from reporting. */
export function logAnalysisServiceOf(config: { LOG_COLLECTOR_URL?: string | undefined }): string {
  return config.LOG_COLLECTOR_URL === undefined ? EcosystemService.reporting : EcosystemService.logCollector;
}
