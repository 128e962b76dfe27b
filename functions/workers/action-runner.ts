import { randomBytes } from 'node:crypto';
import { ActionErrorName } from '../../core/errors.ts';
import { RETRYABLE_ACTION_ERRORS } from '../../core/errors.ts';
import type { AttemptOutcome, Clock, ExecutionStore } from '../../core/ports.ts';
import type { CircuitPolicy } from '../../core/registry/circuit.ts';
import { systemClock } from '../../core/system.ts';
import { checkDestination, parseAllowedAddresses, systemLookup, type LookupAll, type OutboundPolicy } from './outbound-policy.ts';
import { callPrefix, dereferenceParameters, externalizeResult, PayloadReferenceError, tracePrefix, type PayloadStore } from './payload-refs.ts';
import { readBody, type BodyLimits } from './response-body.ts';
import {
  redactHeaders,
  redactParameters,
  redactUrl,
  ServiceCallError,
  truncatedValue,
  type ActionErrorNameValue,
  type ServiceCallFailure,
} from './service-call-errors.ts';
import type { ServiceCallPayload, ServiceCallResult } from './service-call.ts';
import { createServiceResolver, type CallOutcome, type ResolverRegistry, type ServiceResolver } from './service-resolver.ts';

/** Results go into Step Functions state data (256 KiB per state): a body above this is not put in it. */
export const DEFAULT_MAX_RESPONSE_BYTES = 200 * 1024;
/** With a payload store: a result larger than this (or the payload's `inline_result_bytes`) is passed by reference. */
export const DEFAULT_INLINE_RESULT_BYTES = 200 * 1024;
/** With a payload store: bodies are read up to this (a larger one still becomes a truncated preview). */
export const DEFAULT_MAX_STORED_BODY_BYTES = 10 * 1024 * 1024;
/** With a payload store: what one call's parameters may bring back from it in all. */
export const DEFAULT_MAX_DEREFERENCED_BYTES = 20 * 1024 * 1024;
/** References one response may be split into; beyond it the whole response is one. */
export const MAX_REFS_PER_RESPONSE = 16;
/** How much of a body over the limit the result keeps, as text. */
export const DEFAULT_PREVIEW_BYTES = 4 * 1024;
export const DEFAULT_MAX_REDIRECTS = 5;
/** How much of a failed call's response body its error keeps. */
const ERROR_RESPONSE_CHARS = 2 * 1024;

export interface ActionRunnerDeps {
  /** Services are looked up here first; calls to registered instances move their circuits here. */
  readonly registry: ResolverRegistry;
  /** Circuit breaking thresholds (default 5 failures within 60 s open a circuit for a 30 s cool-down). */
  readonly circuitPolicy?: Partial<CircuitPolicy>;
  /** How long what was read of a service is trusted, in ms (default 2000; 0: read the registry on every call). */
  readonly registryCacheTtlMs?: number;
  /** Circuit decisions, the registry cache's age and instance expiry are measured on it. Default: the system clock. */
  readonly clock?: Clock;
  /**
   * Configuration: a service that is not registered is called at `<NAME>_URL` (see serviceUrlVariable). The
   * composition root passes its environment; the runner never reads `process.env` itself.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Allow loopback and private addresses. Default false (AWS); the local runtime sets it to call localhost. */
  readonly allowPrivateNetworks?: boolean;
  /** IP addresses or CIDR networks allowed whatever their class, e.g. an internal load balancer's subnet. */
  readonly allowedAddresses?: readonly string[];
  /** Default 200 KiB. */
  readonly maxResponseBytes?: number;
  /** Default 4 KiB. */
  readonly previewBytes?: number;
  /** Default 5; each hop is checked like the first URL. */
  readonly maxRedirects?: number;
  /** Host name resolution (default: the system resolver, every address). */
  readonly lookup?: LookupAll;
  /** Default: the global fetch. */
  readonly fetch?: typeof globalThis.fetch;
  /**
   * Where each attempt's start and end are recorded as the action's progress (the executions table in AWS,
   * where nothing else sees a service call as it happens). Omitted locally: the local engine records it.
   */
  readonly progress?: { readonly attempts: Pick<ExecutionStore, 'startAttempt' | 'finishAttempt'>; readonly clock: Clock };
  /**
   * Where responses too large for state data go (S3): with it, bodies are read up to `maxBodyBytes` (default
   * 10 MiB), parts of a result over the payload's `inline_result_bytes` are stored and replaced by references,
   * and references in the parameters are replaced by the stored values before the call (only those of the
   * payload's own trace, at most `maxDereferencedBytes`, default 20 MiB, in all). Without it, a body over
   * `maxResponseBytes` becomes a truncated preview. See docs/adr/0005-large-results.md.
   */
  readonly payloads?: { readonly store: PayloadStore; readonly maxBodyBytes?: number; readonly maxDereferencedBytes?: number };
}

export interface RunOptions {
  /** Cancels the call (the execution was stopped); the runner then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export type ActionRunner = (payload: ServiceCallPayload, options?: RunOptions) => Promise<ServiceCallResult>;

/** `analysis_service` -> `ANALYSIS_SERVICE_URL`: upper case, every character but letters and digits becomes `_`. */
export function serviceUrlVariable(service: string): string {
  return `${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;
}

/** The configured URL of each service, from an environment map (`<NAME>_URL`); blank values count as unset. */
export function serviceUrlFromEnvironment(env: Readonly<Record<string, string | undefined>>): (service: string) => string | undefined {
  return (service) => {
    const value = env[serviceUrlVariable(service)]?.trim();
    return value ? value : undefined;
  };
}

/** Request headers the payload may not set: the HTTP client owns framing and the destination. */
const CLIENT_OWNED_HEADERS = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'expect']);

/** Kept when a redirect leaves the service's origin; the payload's other headers were meant for the service only. */
const CROSS_ORIGIN_HEADERS = new Set(['accept', 'content-type', 'traceparent', 'x-trace-id', 'x-request-id', 'x-workflow-execution-id']);

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** Failures of the exchange that count against an instance's circuit (see CallOutcome). */
const CIRCUIT_FAILURES: ReadonlySet<string> = new Set([ActionErrorName.ServiceUnavailable, ActionErrorName.ServiceTimeout, ActionErrorName.ServiceConnection]);

/**
 * The action runner: performs one `service_call` (see service-call.ts for the contract with the compiled
 * state machines). Resolves the service (a registered instance, chosen among the healthy ones whose circuit
 * admits the call, or else `<NAME>_URL`; the call's outcome goes to that instance's circuit), refuses
 * destinations the outbound policy forbids (checked for every address a name resolves to, and again at every
 * redirect), sends the request with trace headers within the action's timeout, and returns the response or throws a
 * ServiceCallError whose name the state machine's Retry/Catch match and whose message (JSON) carries the
 * request for the dead letter.
 */
export function createActionRunner(deps: ActionRunnerDeps): ActionRunner {
  const policy: OutboundPolicy = {
    allowPrivateNetworks: deps.allowPrivateNetworks ?? false,
    allowedAddresses: parseAllowedAddresses(deps.allowedAddresses ?? []),
  };
  const lookup = deps.lookup ?? systemLookup;
  const fetchImpl = deps.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const payloads = deps.payloads && {
    store: deps.payloads.store,
    maxDereferencedBytes: positive(deps.payloads.maxDereferencedBytes, DEFAULT_MAX_DEREFERENCED_BYTES, 'payloads.maxDereferencedBytes'),
  };
  const limits: BodyLimits = {
    // With a store, the state's limit is kept by storing what does not fit; the body's own limit is memory's.
    maxBytes: deps.payloads
      ? positive(deps.payloads.maxBodyBytes, DEFAULT_MAX_STORED_BODY_BYTES, 'payloads.maxBodyBytes')
      : positive(deps.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, 'maxResponseBytes'),
    previewBytes: positive(deps.previewBytes, DEFAULT_PREVIEW_BYTES, 'previewBytes'),
  };
  const maxRedirects = deps.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const configuredUrl = serviceUrlFromEnvironment(deps.env);
  // Instances are chosen and circuits moved here (see service-resolver.ts and ADR 0007).
  const resolver = createServiceResolver({ registry: deps.registry, clock: deps.clock ?? systemClock, policy: deps.circuitPolicy, cacheTtlMs: deps.registryCacheTtlMs });

  const perform: ActionRunner = async (payload, options = {}) => {
    const call = new CallState(payload);
    const timeoutSeconds = payload.timeout_seconds > 0 ? payload.timeout_seconds : 1;
    const timeout = AbortSignal.timeout(Math.ceil(timeoutSeconds * 1000));
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;

    /** Network and timer failures become the action error a state machine can retry or catch. */
    const networkFailure = (error: unknown): unknown => {
      if (error instanceof ServiceCallError) return error;
      if (options.signal?.aborted && !timeout.aborted) return options.signal.reason ?? error;
      const code = errorCode(error);
      if (timeout.aborted || (code !== undefined && TIMEOUT_CODES.has(code))) {
        return call.fail(ActionErrorName.ServiceTimeout, `${payload.service} did not answer within ${timeoutSeconds} s`, {}, error);
      }
      const host = call.currentUrl?.host ?? payload.service;
      // fetch refuses some ports outright (the Fetch standard's "bad ports": 6000, 6667, 10080...): not transient.
      if (error instanceof Error && error.cause instanceof Error && error.cause.message === 'bad port') {
        return call.fail(ActionErrorName.ForbiddenAddress, `refused to call ${host}: fetch never connects to port ${call.currentUrl?.port ?? '?'}`, {}, error);
      }
      const what = code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? `could not resolve ${host}` : `could not connect to ${host}`;
      return call.fail(ActionErrorName.ServiceConnection, `${what}: ${code ?? describe(error)}`, {}, error);
    };

    const traceId = traceIdOf(payload.trace_id);
    call.headers = buildHeaders(payload, call, traceId);
    const payloadFailure = (error: PayloadReferenceError): ServiceCallError =>
      call.fail(error.retryable ? ActionErrorName.ServiceConnection : ActionErrorName.ServiceRejected, error.message, {}, error);
    /** Payload references become their values; CallState keeps the references, so errors stay small. */
    const dereferenced = async (): Promise<ServiceCallPayload> => {
      if (!payloads || payload.parameters === undefined) return payload;
      // A call without a valid trace id of its own has no payloads it may read: every reference is refused.
      const allowedPrefix = payload.trace_id?.toLowerCase() === traceId ? tracePrefix(traceId) : undefined;
      try {
        const parameters = await dereferenceParameters(payload.parameters, { store: payloads.store, allowedPrefix, maxBytes: payloads.maxDereferencedBytes, signal });
        return parameters === payload.parameters ? payload : { ...payload, parameters };
      } catch (error) {
        throw error instanceof PayloadReferenceError ? payloadFailure(error) : error;
      }
    };
    const inlineBytes = Math.min(positiveOr(payload.inline_result_bytes, DEFAULT_INLINE_RESULT_BYTES), DEFAULT_INLINE_RESULT_BYTES);

    const target = await resolveTarget(payload.service, resolver, configuredUrl, call);
    const base = target.url;
    /** For the instance's circuit: stays `abandoned` unless the exchange with the instance ends one way or the other. */
    let outcome: CallOutcome = 'abandoned';
    /** From the first hop's address check until the final response's body is read. */
    let exchanging = false;
    try {
      call.url = buildUrl(base, payload, call);
      call.currentUrl = call.url;

      let method: string = payload.method;
      let body: string | undefined;
      let headers = call.headers;
      try {
        const request = await dereferenced();
        if (request !== payload) {
          // A GET's query carries the values too (errors shorten a long URL).
          call.url = buildUrl(base, request, call);
          call.currentUrl = call.url;
        }
        body = request.method === 'GET' || request.method === 'DELETE' ? undefined : JSON.stringify(request.parameters ?? {});
        exchanging = true;
        for (let redirects = 0; ; redirects++) {
          const url = call.currentUrl;
          const verdict = await checkDestination(url, policy, lookup, signal);
          if (!verdict.allowed) throw call.fail(ActionErrorName.ForbiddenAddress, `refused to call ${url.host}: ${verdict.reason}`);

          const response = await fetchImpl(url, { method, headers, body, redirect: 'manual', signal });
          const location = response.headers.get('location');
          if (isRedirect(response.status) && location !== null) {
            await response.body?.cancel().catch(() => undefined);
            if (redirects >= maxRedirects) throw call.fail(ActionErrorName.ServiceRejected, `more than ${maxRedirects} redirects`, { status_code: response.status });
            const next = redirectTarget(location, url, call, response.status);
            if (next.origin !== url.origin) headers = crossOriginHeaders(headers);
            if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
              method = 'GET';
              body = undefined;
              headers = withoutHeader(headers, 'content-type');
            }
            call.currentUrl = next;
            continue;
          }

          const read = await readBody(response, limits);
          const status = response.status;
          exchanging = false;
          outcome = status >= 500 ? 'failed' : 'answered';
          if (status >= 200 && status < 300) {
            const result: ServiceCallResult = { status_code: status, headers: responseHeaders(response.headers), response: read.value };
            if (!payloads) return result;
            const keyPrefix = callPrefix(traceId, payload.execution_id, payload.action_id, payload.item_index);
            try {
              return await externalizeResult(result, { store: payloads.store, inlineBytes, keyPrefix, maxRefs: MAX_REFS_PER_RESPONSE, signal });
            } catch (error) {
              throw error instanceof PayloadReferenceError ? payloadFailure(error) : error;
            }
          }
          const errorName: ActionErrorNameValue =
            status === 429 ? ActionErrorName.ServiceThrottled : status >= 500 ? ActionErrorName.ServiceUnavailable : ActionErrorName.ServiceRejected;
          const retryAfter = response.headers.get('retry-after');
          throw call.fail(errorName, `${payload.service} answered ${status}${response.statusText ? ` ${response.statusText}` : ''} to ${method} ${url.pathname}`, {
            status_code: status,
            ...(retryAfter === null ? {} : { retry_after: retryAfter }),
            response: truncatedValue(read.value, ERROR_RESPONSE_CHARS),
          });
        }
      } catch (error) {
        const failure = networkFailure(error);
        if (exchanging && failure instanceof ServiceCallError && CIRCUIT_FAILURES.has(failure.name)) outcome = 'failed';
        throw failure;
      }
    } finally {
      // Before the runner answers: a Lambda is frozen once it has.
      await target.report(outcome);
    }
  };
  return deps.progress ? withAttemptProgress(perform, deps.progress) : perform;
}

/**
 * Records each attempt as the action's progress around the call. The start is written while the request is
 * in flight; the end before the runner answers (Lambda freezes once it has). A write that fails is logged and
 * never fails the call: progress is a view, the state machine's own record decides the outcome. Foreach
 * items and compensations are not actions of their own (the final reconciliation records them).
 */
function withAttemptProgress(perform: ActionRunner, { attempts, clock }: NonNullable<ActionRunnerDeps['progress']>): ActionRunner {
  const quietly = async (what: string, payload: ServiceCallPayload, write: () => Promise<void>) => {
    try {
      await write();
    } catch (error) {
      console.warn(JSON.stringify({ message: `could not record the ${what} of an attempt`, execution_id: payload.execution_id, action_id: payload.action_id, error: describe(error) }));
    }
  };
  return async (payload, options) => {
    if (payload.item_index !== undefined || payload.action_id.includes('.')) return perform(payload, options);
    const started = quietly('start', payload, () => attempts.startAttempt(payload.execution_id, payload.action_id, clock.now()));
    let outcome: AttemptOutcome | undefined;
    try {
      const result = await perform(payload, options);
      outcome = { status: 'completed', ended_at: clock.now(), output: { status_code: result.status_code, response: result.response } };
      return result;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      // A retryable failure may be followed by another attempt: the action is still running until the run says otherwise.
      const status = RETRYABLE_ACTION_ERRORS.includes(name) ? 'running' : 'failed';
      outcome = { status, ended_at: clock.now(), error: { error: name, cause: error instanceof Error ? error.message : String(error) } };
      throw error;
    } finally {
      await started;
      const ended = outcome;
      if (ended) await quietly('end', payload, () => attempts.finishAttempt(payload.execution_id, payload.action_id, ended));
    }
  };
}

/** What the runner knows about one call, for the errors it throws. */
class CallState {
  readonly payload: ServiceCallPayload;
  headers: Headers = new Headers();
  /** The URL first requested; null until the service is resolved. */
  url: URL | null = null;
  /** The URL of the current hop (differs from `url` after a redirect). */
  currentUrl: URL | null = null;

  constructor(payload: ServiceCallPayload) {
    this.payload = payload;
  }

  fail(name: ActionErrorNameValue, message: string, extra: Omit<ServiceCallFailure, 'message' | 'request'> = {}, cause?: unknown): ServiceCallError {
    const final = this.currentUrl !== null && this.url !== null && this.currentUrl.href !== this.url.href ? { final_url: redactUrl(this.currentUrl) } : {};
    return new ServiceCallError(
      name,
      {
        message,
        ...extra,
        request: {
          service: this.payload.service,
          method: this.payload.method,
          url: this.url === null ? null : redactUrl(this.url),
          headers: redactHeaders(this.headers),
          ...(this.payload.parameters === undefined ? {} : { parameters: redactParameters(this.payload.parameters) }),
        },
        ...final,
      },
      cause === undefined ? undefined : { cause },
    );
  }
}

/** A service's base URL, and where the call's outcome goes (the circuit of the registered instance it came from). */
interface CallTarget {
  readonly url: string;
  report(outcome: CallOutcome): Promise<void>;
}

const UNREGISTERED_OUTCOME = () => Promise.resolve();

/**
 * The registry's choice among the service's instances (healthy and admitted by their circuits, round robin),
 * or `<NAME>_URL` when it has none. No instance able to take the call fails as CircuitOpenError when every
 * instance's circuit refused it, as ServiceUnavailableError otherwise (both retryable); the error says when.
 */
async function resolveTarget(service: string, resolver: ServiceResolver, configuredUrl: (service: string) => string | undefined, call: CallState): Promise<CallTarget> {
  let resolution: Awaited<ReturnType<ServiceResolver['resolve']>>;
  try {
    resolution = await resolver.resolve(service);
  } catch (error) {
    // Like a DNS failure: the name could not be resolved right now, and trying again may work.
    throw call.fail(ActionErrorName.ServiceConnection, `the service registry could not be read to resolve '${service}': ${describe(error)}`, {}, error);
  }
  if (resolution.kind === 'registered') {
    const chosen = resolution;
    return { url: chosen.url, report: (outcome) => resolver.record(chosen, outcome) };
  }
  if (resolution.kind === 'unavailable') {
    const retryAfter = resolution.retry_after_seconds === undefined ? {} : { retry_after: String(resolution.retry_after_seconds) };
    throw call.fail(resolution.circuit_open ? ActionErrorName.CircuitOpen : ActionErrorName.ServiceUnavailable, resolution.reason, retryAfter);
  }
  const url = configuredUrl(service);
  if (url === undefined) {
    throw call.fail(ActionErrorName.ServiceNotFound, `service '${service}' is not registered and ${serviceUrlVariable(service)} is not configured`);
  }
  return { url, report: UNREGISTERED_OUTCOME };
}

/** The service's base URL plus the endpoint; GET and DELETE carry the parameters as the query string. */
function buildUrl(base: string, payload: ServiceCallPayload, call: CallState): URL {
  let baseUrl: URL;
  try {
    baseUrl = new URL(base);
  } catch {
    throw call.fail(ActionErrorName.ServiceNotFound, `the URL configured for service '${payload.service}' is not a valid URL`);
  }
  if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:') {
    throw call.fail(ActionErrorName.ForbiddenAddress, `service '${payload.service}' has a ${baseUrl.protocol.replace(/:$/, '')} URL; only http and https are called`);
  }
  if (baseUrl.username !== '' || baseUrl.password !== '') {
    throw call.fail(ActionErrorName.ForbiddenAddress, `the URL of service '${payload.service}' contains credentials; send them as headers instead`);
  }
  const endpoint = payload.endpoint.startsWith('/') ? payload.endpoint : `/${payload.endpoint}`;
  let target: URL;
  try {
    target = new URL(`${baseUrl.origin}${baseUrl.pathname.replace(/\/+$/, '')}${endpoint}`);
  } catch {
    throw call.fail(ActionErrorName.ServiceRejected, `endpoint ${JSON.stringify(payload.endpoint)} does not make a valid URL`);
  }
  // The endpoint may hold rendered template text; it must never choose another host.
  if (target.origin !== baseUrl.origin || target.username !== '' || target.password !== '') {
    throw call.fail(ActionErrorName.ForbiddenAddress, `endpoint ${JSON.stringify(payload.endpoint)} leaves the service's origin ${baseUrl.origin}`);
  }
  if ((payload.method === 'GET' || payload.method === 'DELETE') && payload.parameters) {
    appendQuery(target, payload.parameters);
  }
  return target;
}

/**
 * Query encoding: scalars as text, arrays as repeated keys (`tag=a&tag=b`), objects as JSON; null and
 * undefined values are left out.
 */
export function appendQuery(url: URL, parameters: Readonly<Record<string, unknown>>): void {
  const text = (value: unknown): string => (typeof value === 'object' ? JSON.stringify(value) : String(value));
  for (const [key, value] of Object.entries(parameters)) {
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) {
      for (const item of value) if (item !== null && item !== undefined) url.searchParams.append(key, text(item));
    } else {
      url.searchParams.append(key, text(value));
    }
  }
}

function buildHeaders(payload: ServiceCallPayload, call: CallState, traceId: string): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(payload.headers ?? {})) {
    if (CLIENT_OWNED_HEADERS.has(name.toLowerCase())) continue;
    try {
      headers.set(name, value);
    } catch {
      call.headers = headers;
      throw call.fail(ActionErrorName.ServiceRejected, `header ${JSON.stringify(name)} is not a valid HTTP header name or value`);
    }
  }
  if (payload.method !== 'GET' && payload.method !== 'DELETE' && !headers.has('content-type')) headers.set('content-type', 'application/json');
  if (!headers.has('accept')) headers.set('accept', 'application/json, text/plain;q=0.9, */*;q=0.8');
  headers.set('traceparent', `00-${traceId}-${randomHex(8)}-01`);
  headers.set('x-trace-id', traceId);
  headers.set('x-request-id', `${payload.execution_id}:${payload.action_id}${payload.item_index === undefined ? '' : `:${payload.item_index}`}`);
  headers.set('x-workflow-execution-id', payload.execution_id);
  return headers;
}

/** The execution's W3C trace id when it is a valid one, otherwise a new one (this call is then its own trace). */
function traceIdOf(candidate: string | undefined): string {
  const id = candidate?.toLowerCase();
  return id !== undefined && /^[0-9a-f]{32}$/.test(id) && !/^0+$/.test(id) ? id : randomHex(16);
}

/** Random lowercase hex of `bytes` bytes, never all zeros (W3C trace context forbids all-zero ids). */
function randomHex(bytes: number): string {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(hex)) return hex;
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function redirectTarget(location: string, from: URL, call: CallState, status: number): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw call.fail(ActionErrorName.ServiceRejected, `redirected to an invalid location ${JSON.stringify(location.slice(0, 256))}`, { status_code: status });
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw call.fail(ActionErrorName.ForbiddenAddress, `redirected to a ${next.protocol.replace(/:$/, '')} URL; only http and https are followed`, { status_code: status });
  }
  if (next.username !== '' || next.password !== '') {
    throw call.fail(ActionErrorName.ForbiddenAddress, 'redirected to a URL with credentials', { status_code: status });
  }
  return next;
}

function crossOriginHeaders(headers: Headers): Headers {
  const kept = new Headers();
  for (const [name, value] of headers) if (CROSS_ORIGIN_HEADERS.has(name)) kept.set(name, value);
  return kept;
}

function withoutHeader(headers: Headers, name: string): Headers {
  const copy = new Headers(headers);
  copy.delete(name);
  return copy;
}

/** Response headers for the result; cookies are credentials and stay out of the execution history. */
function responseHeaders(headers: Headers): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of headers) if (name !== 'set-cookie') result[name] = value;
  return result;
}


/** The system error code of a failure, looking through fetch's `TypeError: fetch failed` wrapper. */
function errorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current !== null && typeof current === 'object' && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    // AggregateError (happy eyeballs tried several addresses): the first attempt's reason.
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      current = errors[0];
      continue;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describe(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return error instanceof Error ? `${error.message}${cause}` : String(error);
}

/** A payload's own limit when it is a positive integer (the compiler sets it), otherwise the default. */
function positiveOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : fallback;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`invalid configuration: ${name} must be a positive integer, got ${value}`);
  return value;
}
