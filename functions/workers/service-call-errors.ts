import { RETRYABLE_ACTION_ERRORS, type ActionErrorName } from '../../core/errors.ts';

export type ActionErrorNameValue = (typeof ActionErrorName)[keyof typeof ActionErrorName];

/** The request as it was (or would have been) sent, secrets redacted: what a replay from the dead letter needs. */
export interface FailedRequest {
  readonly service: string;
  readonly method: string;
  /** Null when the service could not be resolved to a URL. */
  readonly url: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly parameters?: unknown;
}

/** What a failed service call reports; serialized (bounded) as the error's `message`. */
export interface ServiceCallFailure {
  readonly message: string;
  readonly status_code?: number;
  readonly request: FailedRequest;
  /** Where redirects led, when they did. */
  readonly final_url?: string;
  /** Seconds (or an HTTP date) from a 429's or 503's Retry-After. */
  readonly retry_after?: string;
  /** The service's answer, truncated. */
  readonly response?: unknown;
}

/**
 * Step Functions copies the Lambda error into the state's `Cause` (at most 32,768 characters, and the Lambda
 * runtime adds the stack, which repeats the message) and from there into the dead-letter message. A bound
 * well below that keeps the whole cause intact.
 */
export const MAX_ERROR_MESSAGE_CHARS = 8 * 1024;
/** How much of a failed request's parameters or a service's error body the message keeps when it must shrink. */
const SHRUNK_VALUE_CHARS = 1024;

/**
 * A service call that failed. `name` is one of ActionErrorName (the compiled state machine's Retry/Catch match
 * it), `message` is the JSON of `failure`, so the dead letter carries the request that failed.
 */
export class ServiceCallError extends Error {
  override readonly name: ActionErrorNameValue;
  readonly retryable: boolean;
  readonly failure: ServiceCallFailure;

  constructor(name: ActionErrorNameValue, failure: ServiceCallFailure, options?: { cause?: unknown }) {
    super(boundedJson(failure), options);
    this.name = name;
    this.retryable = RETRYABLE_ACTION_ERRORS.includes(name);
    this.failure = failure;
  }
}

/** `failure` as JSON of at most MAX_ERROR_MESSAGE_CHARS characters: big parameters and bodies shrink first. */
export function boundedJson(failure: ServiceCallFailure): string {
  const full = JSON.stringify(failure);
  if (full.length <= MAX_ERROR_MESSAGE_CHARS) return full;
  const shrunk: ServiceCallFailure = {
    ...failure,
    request: { ...failure.request, headers: shrinkHeaders(failure.request.headers), ...(failure.request.parameters === undefined ? {} : { parameters: truncatedValue(failure.request.parameters, SHRUNK_VALUE_CHARS) }) },
    ...(failure.response === undefined ? {} : { response: truncatedValue(failure.response, SHRUNK_VALUE_CHARS) }),
  };
  const text = JSON.stringify(shrunk);
  if (text.length <= MAX_ERROR_MESSAGE_CHARS) return text;
  // Only a huge URL (a GET with big parameters) or message can still be too long.
  return JSON.stringify({
    ...shrunk,
    message: shrunk.message.slice(0, 1024),
    request: { ...shrunk.request, url: shrunk.request.url === null ? null : truncateText(shrunk.request.url, 2048), parameters: truncatedValue(shrunk.request.parameters, 256) },
    final_url: shrunk.final_url === undefined ? undefined : truncateText(shrunk.final_url, 1024),
  });
}

/** A value whose JSON is longer than `chars`, replaced by its size and the start of its JSON. */
export function truncatedValue(value: unknown, chars: number): unknown {
  if (value === undefined) return undefined;
  const json = typeof value === 'string' ? value : JSON.stringify(value);
  if (json === undefined || json.length <= chars) return value;
  return { truncated: true, size_bytes: Buffer.byteLength(json, 'utf8'), preview: json.slice(0, chars) };
}

function truncateText(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars)}…`;
}

function shrinkHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, truncateText(value, 256)]));
}

/**
 * Header and parameter names whose values are credentials. They never go into an error (and so never into
 * the execution history or the dead-letter queue).
 */
const SECRET_NAME = /authorization|cookie|credential|password|passwd|secret|signature|api[-_]?key|private[-_]?key|access[-_]?key|token$|^session(id)?$|^x-amz-security/i;

export const REDACTED = '[redacted]';

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export function redactHeaders(headers: Headers | Readonly<Record<string, string>>): Record<string, string> {
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  return Object.fromEntries(entries.map(([name, value]) => [name, isSecretName(name) ? REDACTED : value]));
}

/** Parameters with the values of secret-looking keys replaced, at any depth. */
export function redactParameters(value: unknown, depth = 0): unknown {
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactParameters(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, isSecretName(key) ? REDACTED : redactParameters(item, depth + 1)]));
}

/** A URL with the values of secret-looking query parameters replaced. */
export function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  for (const key of new Set(copy.searchParams.keys())) {
    if (isSecretName(key)) copy.searchParams.set(key, REDACTED);
  }
  return copy.href;
}
