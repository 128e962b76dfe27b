import { fetch, type Agent, type Response } from 'undici';
import type { OutboundCredential, OutboundFailureKind, OutboundHttp, OutboundMethod, OutboundRequest, OutboundResponse } from '../../core/ports.ts';
import { AddressRefusedError, createGuardedAgent, type LookupAll } from './guarded-agent.ts';
import type { OutboundPolicy } from './outbound-policy.ts';
import { readBodyWithin } from './response-body.ts';

/** Why an outbound request failed (core/ports.ts OutboundFailureKind), with the URL of the hop that failed. */
export class OutboundHttpError extends Error {
  override readonly name = 'OutboundHttpError';
  readonly kind: OutboundFailureKind;
  readonly url: string;
  /** The redirect's status, for `redirect` failures and refused redirect targets. */
  readonly status?: number;
  /** The system or client error code (`ECONNREFUSED`, `ENOTFOUND`, `UND_ERR_HEADERS_TIMEOUT`). */
  readonly code?: string;

  constructor(kind: OutboundFailureKind, message: string, details: { url: string; status?: number; code?: string; cause?: unknown }) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.url = details.url;
    if (details.status !== undefined) this.status = details.status;
    if (details.code !== undefined) this.code = details.code;
  }
}

export function isOutboundHttpError(error: unknown): error is OutboundHttpError {
  return error instanceof OutboundHttpError;
}

export interface OutboundHttpOptions {
  readonly policy: OutboundPolicy;
  /** Host name resolution at connection time (default: the system resolver). Tests inject their own. */
  readonly lookup?: LookupAll;
  readonly connectTimeoutMs?: number;
  /** Certificate authorities trusted for https instead of the system's (tests). */
  readonly ca?: string;
}

/** The port, and a way to close its connections (a process that stops; tests). */
export interface ClosableOutboundHttp extends OutboundHttp {
  readonly policy: OutboundPolicy;
  close(): Promise<void>;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);

/**
 * OutboundHttp on undici's fetch through a guarded agent (guarded-agent.ts): every connection is checked when
 * it is made, redirects are followed here, one hop at a time (each a request of its own, so its connection is
 * checked too), and a credential goes only to the hops within its scope. See docs/adr/0004.
 */
export function createOutboundHttp(options: OutboundHttpOptions): ClosableOutboundHttp {
  const agent: Agent = createGuardedAgent(options);

  const send = async (request: OutboundRequest): Promise<OutboundResponse> => {
    let url = startUrl(request.url);
    let method: OutboundMethod = request.method;
    let body = request.body;
    let headers = new Headers(request.headers);
    const credential = request.credential;
    // The credential wins over a header of the same name the caller passed (a workflow cannot set it).
    if (credential) headers.delete(credential.header);
    const maxRedirects = request.maxRedirects ?? 0;
    const crossOrigin = new Set((request.crossOriginHeaders ?? []).map((name) => name.toLowerCase()));

    for (let redirects = 0; ; redirects++) {
      const hopHeaders = new Headers(headers);
      if (credential && inScope(url, credential)) hopHeaders.set(credential.header, credential.value);
      let response: Response;
      try {
        response = await fetch(url, { method, headers: [...hopHeaders], body, redirect: 'manual', signal: request.signal, dispatcher: agent });
      } catch (error) {
        throw failure(error, url, request.signal);
      }
      const location = response.headers.get('location');
      if (maxRedirects > 0 && isRedirect(response.status) && location !== null) {
        await response.body?.cancel().catch(() => undefined);
        if (redirects >= maxRedirects) throw new OutboundHttpError('redirect', `more than ${maxRedirects} redirects`, { url: url.href, status: response.status });
        const next = redirectTarget(location, url, response.status);
        if (next.origin !== url.origin) headers = keepOnly(headers, crossOrigin);
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
          headers.delete('content-type');
        }
        url = next;
        continue;
      }
      try {
        const read = await readBodyWithin(response, request.maxBodyBytes, request.previewBytes ?? 0);
        return { status: response.status, statusText: response.statusText, headers: Object.fromEntries(response.headers), url: url.href, method, body: read };
      } catch (error) {
        throw failure(error, url, request.signal);
      }
    }
  };

  return { send, policy: options.policy, close: () => agent.close() };
}

/** Whether `url` is within the credential's scope: the instance's origin, and its base path or under it. */
export function inScope(url: URL, credential: Pick<OutboundCredential, 'scope'>): boolean {
  let scope: URL;
  try {
    scope = new URL(credential.scope);
  } catch {
    return false;
  }
  if (url.origin !== scope.origin) return false;
  const base = scope.pathname.replace(/\/+$/, '');
  return base === '' || url.pathname === base || url.pathname.startsWith(`${base}/`);
}

function startUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OutboundHttpError('refused', `not a valid URL: ${JSON.stringify(text.slice(0, 256))}`, { url: text });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundHttpError('refused', `a ${url.protocol.replace(/:$/, '')} URL; only http and https are called`, { url: url.href });
  if (url.username !== '' || url.password !== '') throw new OutboundHttpError('refused', 'a URL with credentials; send them as headers instead', { url: url.href });
  return url;
}

function redirectTarget(location: string, from: URL, status: number): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new OutboundHttpError('redirect', `redirected to an invalid location ${JSON.stringify(location.slice(0, 256))}`, { url: from.href, status });
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new OutboundHttpError('refused', `redirected to a ${next.protocol.replace(/:$/, '')} URL; only http and https are followed`, { url: from.href, status });
  }
  if (next.username !== '' || next.password !== '') throw new OutboundHttpError('refused', 'redirected to a URL with credentials', { url: from.href, status });
  return next;
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function keepOnly(headers: Headers, names: ReadonlySet<string>): Headers {
  const kept = new Headers();
  for (const [name, value] of headers) if (names.has(name)) kept.set(name, value);
  return kept;
}

/** A failure of fetch or of reading the body, as an OutboundHttpError of the right kind. */
function failure(error: unknown, url: URL, signal: AbortSignal | undefined): OutboundHttpError {
  if (error instanceof OutboundHttpError) return error;
  if (signal?.aborted) return new OutboundHttpError('aborted', 'the request was aborted', { url: url.href, cause: signal.reason ?? error });
  const refused = findCause(error, (cause) => cause instanceof AddressRefusedError);
  if (refused instanceof Error) return new OutboundHttpError('refused', refused.message, { url: url.href, code: 'ERR_OUTBOUND_REFUSED', cause: error });
  // fetch never connects to the Fetch standard's "bad ports" (6000, 6667, 10080...).
  if (findCause(error, (cause) => cause instanceof Error && cause.message === 'bad port')) {
    return new OutboundHttpError('refused', `refused to call ${url.host}: fetch never connects to port ${url.port}`, { url: url.href, cause: error });
  }
  const code = errorCode(error);
  if (code !== undefined && DNS_CODES.has(code)) return new OutboundHttpError('dns', `could not resolve ${url.host}: ${code}`, { url: url.href, code, cause: error });
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new OutboundHttpError('timeout', `${url.host} did not answer in time: ${code}`, { url: url.href, code, cause: error });
  return new OutboundHttpError('connection', `could not connect to ${url.host}: ${code ?? describe(error)}`, { url: url.href, ...(code === undefined ? {} : { code }), cause: error });
}

function findCause(error: unknown, test: (cause: unknown) => boolean): unknown {
  for (let current: unknown = error, depth = 0; current !== null && current !== undefined && depth < 6; depth++) {
    if (test(current)) return current;
    current = typeof current === 'object' ? (current as { cause?: unknown }).cause : undefined;
  }
  return undefined;
}

/** The system error code of a failure, looking through fetch's `TypeError: fetch failed` wrapper. */
function errorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current !== null && typeof current === 'object' && depth < 6; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    // AggregateError (several addresses tried): the first attempt's reason.
    const errors = (current as { errors?: unknown }).errors;
    current = Array.isArray(errors) && errors.length > 0 ? errors[0] : (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describe(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return error instanceof Error ? `${error.message}${cause}` : String(error);
}
