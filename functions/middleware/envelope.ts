import { ErrorName, type FieldIssue } from '../../core/errors.ts';

/** The one response envelope. Success and error bodies are built only here. */

export interface SuccessEnvelope<T> {
  readonly success: true;
  readonly message: string;
  readonly data: T;
  readonly request_id: string;
  readonly timestamp: string;
}

export interface ErrorEnvelope {
  readonly success: false;
  readonly message: string;
  readonly error_code: string;
  readonly details: readonly FieldIssue[];
  readonly request_id: string;
  readonly timestamp: string;
}

/** Domain error name -> HTTP status and stable error code. Anything not listed is a 500. */
export const ERROR_STATUS: Readonly<Record<string, { status: number; code: string }>> = {
  [ErrorName.Validation]: { status: 400, code: 'VALIDATION_ERROR' },
  [ErrorName.MalformedJson]: { status: 400, code: 'MALFORMED_JSON' },
  [ErrorName.NotFound]: { status: 404, code: 'NOT_FOUND' },
  [ErrorName.Conflict]: { status: 409, code: 'CONFLICT' },
  [ErrorName.PayloadTooLarge]: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  [ErrorName.UnsupportedMediaType]: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  [ErrorName.DependencyUnavailable]: { status: 503, code: 'SERVICE_UNAVAILABLE' },
  [ErrorName.Unauthenticated]: { status: 401, code: 'UNAUTHENTICATED' },
  [ErrorName.Forbidden]: { status: 403, code: 'FORBIDDEN' },
  [ErrorName.RateLimited]: { status: 429, code: 'RATE_LIMITED' },
  [ErrorName.InvalidCursor]: { status: 400, code: 'INVALID_CURSOR' },
  // A stored item that fails its schema is our fault: a 5xx, but one that names the item.
  [ErrorName.CorruptItem]: { status: 500, code: 'CORRUPT_ITEM' },
  [ErrorName.BadGateway]: { status: 502, code: 'BAD_GATEWAY' },
  [ErrorName.GatewayTimeout]: { status: 504, code: 'GATEWAY_TIMEOUT' },
  // The status is the service's own 4xx (UpstreamRejectedError.status); 400 is what the table documents.
  [ErrorName.UpstreamRejected]: { status: 400, code: 'UPSTREAM_REJECTED' },
};

/** RFC 6750: a 401 names the scheme that would be accepted. */
export const WWW_AUTHENTICATE = 'Bearer realm="orchestrator", charset="UTF-8"';

export const INTERNAL_ERROR = { status: 500, code: 'INTERNAL_ERROR' } as const;
export const ROUTE_NOT_FOUND = { status: 404, code: 'ROUTE_NOT_FOUND' } as const;
export const METHOD_NOT_ALLOWED = { status: 405, code: 'METHOD_NOT_ALLOWED' } as const;

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const;

export function successResponse<T>(status: number, message: string, data: T, requestId: string, headers: Record<string, string> = {}): HttpResponse {
  const body: SuccessEnvelope<T> = { success: true, message, data, request_id: requestId, timestamp: new Date().toISOString() };
  return { statusCode: status, headers: { ...JSON_HEADERS, 'x-request-id': requestId, ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(
  status: number,
  code: string,
  message: string,
  details: readonly FieldIssue[],
  requestId: string,
  headers: Record<string, string> = {},
): HttpResponse {
  const body: ErrorEnvelope = { success: false, message, error_code: code, details, request_id: requestId, timestamp: new Date().toISOString() };
  return { statusCode: status, headers: { ...JSON_HEADERS, 'x-request-id': requestId, ...headers }, body: JSON.stringify(body) };
}
