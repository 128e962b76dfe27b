/**
 * Domain errors. Each has a stable `name` (the HTTP edge maps names to status codes in one table, and the
 * compiler will use the same names in ASL `ErrorEquals`) and a `retryable` flag.
 */

/** One problem with a request or definition: where (a dotted/bracketed path) and why. */
export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

export const ErrorName = {
  Validation: 'ValidationError',
  NotFound: 'NotFoundError',
  Conflict: 'ConflictError',
  PayloadTooLarge: 'PayloadTooLargeError',
  UnsupportedMediaType: 'UnsupportedMediaTypeError',
  MalformedJson: 'MalformedJsonError',
  DependencyUnavailable: 'DependencyUnavailableError',
  Unauthenticated: 'UnauthenticatedError',
  Forbidden: 'ForbiddenError',
  RateLimited: 'RateLimitedError',
  InvalidCursor: 'InvalidCursorError',
  CorruptItem: 'CorruptItemError',
  BadGateway: 'BadGatewayError',
  GatewayTimeout: 'GatewayTimeoutError',
  UpstreamRejected: 'UpstreamRejectedError',
} as const;
export type ErrorName = (typeof ErrorName)[keyof typeof ErrorName];

export abstract class DomainError extends Error {
  abstract override readonly name: ErrorName;
  readonly retryable: boolean = false;
  readonly details: readonly FieldIssue[];

  constructor(message: string, details: readonly FieldIssue[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.details = details;
  }
}

/** The input is well-formed but wrong: every problem is listed with its field path. */
export class ValidationError extends DomainError {
  override readonly name = ErrorName.Validation;
  constructor(details: readonly FieldIssue[], message?: string) {
    super(message ?? summarize(details), details);
  }
}

export class NotFoundError extends DomainError {
  override readonly name = ErrorName.NotFound;
}

/** A precondition failed: a concurrent change won, or the resource already exists. */
export class ConflictError extends DomainError {
  override readonly name = ErrorName.Conflict;
}

export class PayloadTooLargeError extends DomainError {
  override readonly name = ErrorName.PayloadTooLarge;
}

export class UnsupportedMediaTypeError extends DomainError {
  override readonly name = ErrorName.UnsupportedMediaType;
}

export class MalformedJsonError extends DomainError {
  override readonly name = ErrorName.MalformedJson;
}

/** A backing service (table, queue, bus) could not be reached; trying again later may work. */
export class DependencyUnavailableError extends DomainError {
  override readonly name = ErrorName.DependencyUnavailable;
  override readonly retryable = true;
}

/**
 * A service the request was forwarded to (a proxy route) failed it: no connection, a 5xx, an answer that is
 * not one, an address the outbound rules refuse (502). A service down or not configured is a
 * DependencyUnavailableError (503) instead.
 */
export class BadGatewayError extends DomainError {
  override readonly name = ErrorName.BadGateway;
  override readonly retryable = true;
}

/** A service the request was forwarded to did not answer in time (504). */
export class GatewayTimeoutError extends DomainError {
  override readonly name = ErrorName.GatewayTimeout;
  override readonly retryable = true;
}

/**
 * A service the request was forwarded to refused it with a 4xx: the caller gets that status and the service's
 * message (and its Retry-After, for a 429).
 */
export class UpstreamRejectedError extends DomainError {
  override readonly name = ErrorName.UpstreamRejected;
  readonly status: number;
  readonly retryAfter?: string;
  constructor(status: number, message: string, details: readonly FieldIssue[] = [], retryAfter?: string) {
    super(message, details);
    this.status = status;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
  }
}

/** A `next_token` this API did not issue for this query: forged, truncated, or from another listing (400). */
export class InvalidCursorError extends DomainError {
  override readonly name = ErrorName.InvalidCursor;
  constructor(message: string) {
    super(message, [{ field: 'next_token', message }]);
  }
}

/**
 * A stored item that does not have the shape its table design says (a hand edit, a partial write, a bug):
 * our fault, so a 500, but one that names the item (its key), each attribute path and the rule it breaks,
 * instead of a TypeError somewhere later. `details` lists every problem, attribute by attribute.
 */
export class CorruptItemError extends DomainError {
  override readonly name = ErrorName.CorruptItem;
}

/** No credential where one is needed, or one that does not verify (401). */
export class UnauthenticatedError extends DomainError {
  override readonly name = ErrorName.Unauthenticated;
}

/** A verified caller whose role does not reach the route (403). */
export class ForbiddenError extends DomainError {
  override readonly name = ErrorName.Forbidden;
}

/** The caller is over its request rate (429); `retryAfterSeconds` says when a request will be accepted. */
export class RateLimitedError extends DomainError {
  override readonly name = ErrorName.RateLimited;
  override readonly retryable = true;
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

function summarize(details: readonly FieldIssue[]): string {
  if (details.length === 0) return 'Invalid request';
  const [first] = details;
  const more = details.length > 1 ? ` (and ${details.length - 1} more problem${details.length > 2 ? 's' : ''})` : '';
  return `${first?.field ? `${first.field}: ` : ''}${first?.message ?? 'invalid'}${more}`;
}

/**
 * Errors a `service_call` can end with, as the action runner throws them and as state machines match them
 * in `Retry` / `Catch` (`ErrorEquals`). One list, so the runner and the compiler cannot drift apart.
 */
export const ActionErrorName = {
  /** 5xx from the service. */
  ServiceUnavailable: 'ServiceUnavailableError',
  /** The service did not answer within the action's timeout. */
  ServiceTimeout: 'ServiceTimeoutError',
  /** 429 from the service. */
  ServiceThrottled: 'ServiceThrottledError',
  /** Connection refused, reset, DNS failure. */
  ServiceConnection: 'ServiceConnectionError',
  /** The service's circuit breaker is open. */
  CircuitOpen: 'CircuitOpenError',
  /** 4xx other than 429: the request is wrong and retrying will not help. */
  ServiceRejected: 'ServiceRejectedError',
  /** No registered service and no configured URL for the name. */
  ServiceNotFound: 'ServiceNotFoundError',
  /** The URL resolves to an address the runner may not call (SSRF protection). */
  ForbiddenAddress: 'ForbiddenAddressError',
  /**
   * The runner's payload is not a service call payload (a state machine compiled by another version, or a
   * hand-made invoke): no request was sent, and retrying the same payload cannot help.
   */
  InvalidPayload: 'InvalidPayloadError',
} as const;

/** Worth retrying with back-off: the service or the platform may recover. */
export const RETRYABLE_ACTION_ERRORS: readonly string[] = [
  ActionErrorName.ServiceUnavailable,
  ActionErrorName.ServiceTimeout,
  ActionErrorName.ServiceThrottled,
  ActionErrorName.ServiceConnection,
  ActionErrorName.CircuitOpen,
  // The Lambda service's own transient failures, and a task that hit its TimeoutSeconds.
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'States.Timeout',
];

/** Names the compiled state machines raise themselves. */
export const WorkflowErrorName = {
  /** An action failed with on_failure `fail` (the cause names the action). */
  ActionFailed: 'ActionFailed',
  /** An action failed with on_failure `compensate`; completed actions were compensated. */
  Compensated: 'WorkflowCompensated',
} as const;

/** The cause of an ActionFailed: `action <id> failed: <error>: <cause>` (the compiled Fail states write it). */
export function actionFailureCause(actionId: string): string {
  return `action ${actionId} failed: {}: {}`;
}

/** The action an ActionFailed cause names, if the text is one. */
export function failedActionOf(cause: string): string | undefined {
  return /^action (\S+) failed: /.exec(cause)?.[1];
}

/**
 * Raised by the action runner instead of calling a service while the call's run is paused (Step Functions
 * only; ADR 0012): the compiled state catches it and parks the call until the run is resumed. Never an
 * outcome: it is not retried, counted as an attempt, or dead-lettered.
 */
export const RUN_PAUSED_ERROR = 'RunPaused';
/**
 * A dependency gate could not be read, written or released (its store or Step Functions failed): the state
 * that reported or waited fails with this name, which its Retry matches, and its redelivery changes nothing
 * the first attempt did (ADR 0016).
 */
export const GATE_UNAVAILABLE_ERROR = 'GateUnavailableError';
