import { ActionErrorName } from '../../core/errors.ts';
import type { Clock, OutboundHttp, OutboundResponse, SecretResolver } from '../../core/ports.ts';
import type { CircuitPolicy } from '../../core/registry/circuit.ts';
import type { ServiceAuth } from '../../core/registry/model.ts';
import { SecretUnavailableError } from '../../core/registry/secret-ref.ts';
import { systemClock } from '../../core/system.ts';
import { isOutboundHttpError } from '../../adapters/http/outbound-http.ts';
import { bodyValue, type BodyLimits } from '../../adapters/http/response-body.ts';
import { redactSecrets, serviceCredential, type ServiceCredential } from '../../adapters/http/service-credentials.ts';
import { callPrefix, dereferenceParameters, externalizeResult, PayloadReferenceError, tracePrefix, type PayloadStore } from './payload-refs.ts';
import {
  redactHeaders,
  redactParameters,
  redactUrl,
  ServiceCallError,
  truncatedValue,
  type ActionErrorNameValue,
  type ServiceCallFailure,
} from './service-call-errors.ts';
import { parseServiceCallPayload, type ServiceCallPayload, type ServiceCallResult } from './service-call.ts';
import { createServiceResolver, type CallOutcome, type ResolverRegistry, type ServiceResolver } from './service-resolver.ts';
import { CROSS_ORIGIN_HEADERS, requestHeaders, traceIdOf } from './service-headers.ts';
import { serviceUrl } from './service-url.ts';
import { withAttemptProgress, type AttemptProgress } from './attempt-progress.ts';
import { actionSpanId } from '../../core/observability/spans.ts';
import { openSpan, type SpanRecorder } from '../observability/span-recorder.ts';
import { withLogContext } from '../observability/log-context.ts';

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
  /**
   * Outbound HTTP (adapters/http): the outbound policy (ORCHESTRATOR_OUTBOUND_ALLOW, the orchestrator's own
   * listeners, metadata addresses) is applied there, to the address each connection uses.
   */
  readonly http: OutboundHttp;
  /** Reads the credentials of instances registered with `auth`. Without it, a call to such an instance fails. */
  readonly secrets?: SecretResolver;
  /** Default 200 KiB. */
  readonly maxResponseBytes?: number;
  /** Default 4 KiB. */
  readonly previewBytes?: number;
  /** Default 5; each hop is checked like the first URL. */
  readonly maxRedirects?: number;
  /**
   * Where each attempt's start and end are recorded as the action's progress (the executions table in AWS,
   * where nothing else sees a service call as it happens). Omitted locally: the local engine records it.
   */
  readonly progress?: AttemptProgress;
  /**
   * Where responses too large for state data go (S3): with it, bodies are read up to `maxBodyBytes` (default
   * 10 MiB), parts of a result over the payload's `inline_result_bytes` are stored and replaced by references,
   * and references in the parameters are replaced by the stored values before the call (only those of the
   * payload's own trace, at most `maxDereferencedBytes`, default 20 MiB, in all). Without it, a body over
   * `maxResponseBytes` becomes a truncated preview. See docs/adr/0005-large-results.md.
   */
  readonly payloads?: { readonly store: PayloadStore; readonly maxBodyBytes?: number; readonly maxDereferencedBytes?: number };
  /**
   * Each attempt becomes a client span (category `service_call`), child of its action's span, whose id is the
   * parent the service sees in `traceparent`. Omitted or disabled: no span; `traceparent` still carries the run's trace.
   */
  readonly spans?: SpanRecorder;
}

export interface RunOptions {
  /** Cancels the call (the execution was stopped); the runner then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * The span the call belongs to when the runner records none of its own (a proxied request's span): the
   * parent the service sees in `traceparent`.
   */
  readonly spanId?: string;
}

/**
 * Runs one service call. `payload` comes from outside (the Lambda event, the local engine's invoke): it is
 * read with ServiceCallPayloadSchema first, and one that is not a ServiceCallPayload fails as
 * InvalidPayloadError naming every problem, before anything is recorded or sent.
 */
export type ActionRunner = (payload: unknown, options?: RunOptions) => Promise<ServiceCallResult>;

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

export { appendQuery } from './service-url.ts';

/** Failures of the exchange that count against an instance's circuit (see CallOutcome). */
const CIRCUIT_FAILURES: ReadonlySet<string> = new Set([ActionErrorName.ServiceUnavailable, ActionErrorName.ServiceTimeout, ActionErrorName.ServiceConnection]);

/**
 * The action runner: performs one `service_call` (see service-call.ts for the contract with the compiled
 * state machines). Resolves the service (a registered instance, chosen among the healthy ones whose circuit
 * admits the call, or else `<NAME>_URL`; the call's outcome goes to that instance's circuit), builds the URL
 * (templated segments percent-encoded, never outside the service's base path), adds the instance's credential
 * when it was registered with one (sent to its own origin and base path only; the workflow's header of the
 * same name is replaced), and sends the request through the outbound adapter, which checks the address of
 * every connection and follows redirects. Every request carries an `Idempotency-Key` (service-headers.ts:
 * `<execution_id>:<action_id>[:<item_index>]`, or the action's own) so that services can deduplicate: the key
 * is the same on every attempt, retry, redrive and resumption after a crash of this action in this run. Returns the response, or throws a ServiceCallError whose name the
 * state machine's Retry/Catch match and whose message (JSON) carries the request, without credentials, for
 * the dead letter.
 */
export function createActionRunner(deps: ActionRunnerDeps): ActionRunner {
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

  const perform = async (payload: ServiceCallPayload, options: RunOptions = {}, spanId?: string): Promise<ServiceCallResult> => {
    const call = new CallState(payload);
    const timeoutSeconds = payload.timeout_seconds > 0 ? payload.timeout_seconds : 1;
    const timeout = AbortSignal.timeout(Math.ceil(timeoutSeconds * 1000));
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;

    /** Network and timer failures become the action error a state machine can retry or catch. */
    const networkFailure = (error: unknown): unknown => {
      if (error instanceof ServiceCallError) return error;
      if (options.signal?.aborted && !timeout.aborted) return options.signal.reason ?? error;
      if (isOutboundHttpError(error) && URL.canParse(error.url)) call.currentUrl = new URL(error.url);
      if (timeout.aborted || (isOutboundHttpError(error) && (error.kind === 'timeout' || error.kind === 'aborted'))) {
        return call.fail(ActionErrorName.ServiceTimeout, `${payload.service} did not answer within ${timeoutSeconds} s`, {}, error);
      }
      if (isOutboundHttpError(error)) {
        const status = error.status === undefined ? {} : { status_code: error.status };
        if (error.kind === 'refused') return call.fail(ActionErrorName.ForbiddenAddress, error.message, status, error);
        if (error.kind === 'redirect') return call.fail(ActionErrorName.ServiceRejected, error.message, status, error);
        return call.fail(ActionErrorName.ServiceConnection, error.message, {}, error);
      }
      return call.fail(ActionErrorName.ServiceConnection, `could not connect to ${call.currentUrl?.host ?? payload.service}: ${describe(error)}`, {}, error);
    };

    const traceId = traceIdOf(payload.trace_id);
    // Carries the call's Idempotency-Key (service-headers.ts): the same on every attempt of this action in this run.
    const built = requestHeaders(payload, traceId, spanId ?? options.spanId);
    call.headers = built.headers;
    if (built.invalid !== undefined) throw call.fail(ActionErrorName.ServiceRejected, `header ${JSON.stringify(built.invalid)} is not a valid HTTP header name or value`);
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
    /** For the instance's circuit: stays `abandoned` unless the exchange with the instance ends one way or the other. */
    let outcome: CallOutcome = 'abandoned';
    /** While the request is in flight. */
    let exchanging = false;
    try {
      call.url = urlOf(target.url, payload, call);
      call.currentUrl = call.url;
      const credential = target.auth ? await credentialOf(target.auth, target.url, deps.secrets, call) : undefined;
      // The instance's own credential wins over a header of the same name the workflow set.
      if (credential) call.headers.delete(credential.credential.header);
      try {
        const request = await dereferenced();
        // A GET's query carries the values too (errors shorten a long URL).
        if (request !== payload) call.currentUrl = call.url = urlOf(target.url, request, call);
        exchanging = true;
        const sent = await deps.http.send({
          method: request.method,
          url: call.url.href,
          headers: Object.fromEntries(call.headers),
          ...(request.method === 'GET' || request.method === 'DELETE' ? {} : { body: JSON.stringify(request.parameters ?? {}) }),
          signal,
          maxRedirects,
          crossOriginHeaders: CROSS_ORIGIN_HEADERS,
          ...(credential ? { credential: credential.credential } : {}),
          maxBodyBytes: limits.maxBytes,
          previewBytes: limits.previewBytes,
        });
        exchanging = false;
        call.currentUrl = new URL(sent.url);
        // A service that echoes the credential back (a debugging endpoint) must not put it in the run's history.
        const response = credential ? scrubbed(sent, credential) : sent;
        const value = bodyValue(response, limits);
        const status = response.status;
        outcome = status >= 500 ? 'failed' : 'answered';
        if (status >= 200 && status < 300) {
          const result: ServiceCallResult = { status_code: status, headers: responseHeaders(response.headers), response: value };
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
        const retryAfter = response.headers['retry-after'];
        throw call.fail(errorName, `${payload.service} answered ${status}${response.statusText ? ` ${response.statusText}` : ''} to ${response.method} ${call.currentUrl.pathname}`, {
          status_code: status,
          ...(retryAfter === undefined ? {} : { retry_after: retryAfter }),
          response: truncatedValue(value, ERROR_RESPONSE_CHARS),
        });
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
  const observed = deps.spans?.enabled ? withCallSpans(perform, deps.spans) : perform;
  const run = deps.progress ? withAttemptProgress(observed, deps.progress) : observed;
  return async (payload, options) => {
    const parsed = parseServiceCallPayload(payload);
    // Every line logged while the call runs names its run, action and trace.
    return withLogContext({ execution_id: parsed.execution_id, action_id: parsed.action_id, trace_id: traceIdOf(parsed.trace_id) }, () => run(parsed, options));
  };
}

type Perform = (payload: ServiceCallPayload, options?: RunOptions, spanId?: string) => Promise<ServiceCallResult>;

/**
 * Each attempt as a client span named `<METHOD> <service>` under the action's span (the action's span id is
 * derived from the run and action ids, so the runner needs nobody to tell it). The span's id goes to the
 * service as the parent in `traceparent`. (The metrics of calls wrap the runner: functions/observability/run-metrics.ts.)
 */
function withCallSpans(perform: Perform, spans: SpanRecorder): Perform {
  return async (payload, options) => {
    const span = openSpan(spans, {
      name: `${payload.method} ${payload.service}`,
      kind: 'client',
      category: 'service_call',
      service: payload.service,
      trace_id: traceIdOf(payload.trace_id),
      // A foreach item's call hangs under its action (item_index says which); a compensation's under `<action>.compensation`.
      parent_span_id: actionSpanId(payload.execution_id, payload.action_id),
      ...(payload.tenant === undefined ? {} : { tenant: payload.tenant }),
      workflow_id: payload.workflow_id,
      execution_id: payload.execution_id,
      attributes: { action_id: payload.action_id, 'http.method': payload.method, item_index: payload.item_index },
    });
    try {
      const result = await perform(payload, options, span.span_id);
      span.end('ok', { 'http.status_code': result.status_code });
      return result;
    } catch (error) {
      const failure = error instanceof ServiceCallError ? error.failure : undefined;
      span.end('error', { 'http.status_code': failure?.status_code ?? undefined, 'error.name': error instanceof Error ? error.name : 'Error', url: failure?.request?.url ?? undefined });
      throw error;
    }
  };
}

/** The call's URL, or the failure that says why it cannot be built. */
function urlOf(base: string, payload: ServiceCallPayload, call: CallState): URL {
  const url = serviceUrl(base, payload);
  if (url instanceof URL) return url;
  throw call.fail(url.error, url.message);
}

/** The instance's credential; a secret that cannot be read fails the call (retryable when the store may answer later). */
async function credentialOf(auth: ServiceAuth, scope: string, secrets: SecretResolver | undefined, call: CallState): Promise<ServiceCredential> {
  if (!secrets) throw call.fail(ActionErrorName.ServiceRejected, `service '${call.payload.service}' has a credential, and this runner reads no secrets`);
  try {
    return await serviceCredential(auth, scope, secrets);
  } catch (error) {
    const retryable = error instanceof SecretUnavailableError && error.retryable;
    const message = error instanceof Error ? error.message : String(error);
    throw call.fail(retryable ? ActionErrorName.ServiceConnection : ActionErrorName.ServiceRejected, `the credential of service '${call.payload.service}' could not be read: ${message}`);
  }
}

/** The response with every sensitive text of the credential replaced, in its headers and body. */
function scrubbed(response: OutboundResponse, { sensitive }: ServiceCredential): OutboundResponse {
  const headers = Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name, redactSecrets(value, sensitive)]));
  const body = response.body.kind === 'complete' ? { ...response.body, text: redactSecrets(response.body.text, sensitive) } : { ...response.body, preview: redactSecrets(response.body.preview, sensitive) };
  return { ...response, headers, body };
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

/** A service's base URL, its credential, and where the call's outcome goes (the circuit of the registered instance it came from). */
interface CallTarget {
  readonly url: string;
  /** Registered instances only: a `<NAME>_URL` fallback never gets another service's credential. */
  readonly auth?: ServiceAuth;
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
    return { url: chosen.url, ...(chosen.auth ? { auth: chosen.auth } : {}), report: (outcome) => resolver.record(chosen, outcome) };
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

/** Response headers for the result; cookies are credentials and stay out of the execution history. */
function responseHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (name !== 'set-cookie') result[name] = value;
  return result;
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
