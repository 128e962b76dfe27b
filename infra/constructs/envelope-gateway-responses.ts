import { CfnGatewayResponse, GatewayResponse, ResponseType, type IRestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Construct } from 'constructs';

/**
 * Errors API Gateway answers itself, before any Lambda runs, in the envelope the Lambdas use
 * (functions/middleware/envelope.ts): `{ success: false, message, error_code, details, request_id, timestamp }`.
 *
 * Gateway response templates are not Velocity: API Gateway substitutes `$context` variables as they are,
 * escaping nothing. So only values that cannot break the JSON are used:
 * - `$context.error.messageString` is API Gateway's own message already in double quotes, so it goes in bare;
 * - `$context.requestId` is a UUID; `$context.error.responseType` an upper-case enum name;
 * - `$context.requestTime` is the request time in UTC, as the access log records it
 *   (`12/Mar/2025:10:00:00 +0000`, CLF format). Chosen over `$context.requestTimeEpoch` (milliseconds, a
 *   number) because `timestamp` stays a string, as in every other response, and the value matches the access
 *   log line of the same request. Neither is ISO 8601 like the Lambdas' timestamps: gateway templates cannot
 *   compute, and API Gateway offers no ISO variable.
 * Request paths and headers are never echoed: they can contain quotes.
 *
 * The error codes repeat those of functions/middleware/envelope.ts (infra may not import the Lambda
 * middleware); test/infra/gateway-responses.test.ts checks they agree.
 */

/** What `message` says: API Gateway's own message, or a fixed text of ours. */
export type GatewayMessage = { readonly source: 'gateway' } | { readonly source: 'fixed'; readonly text: string };

export interface GatewayErrorSpec {
  readonly type: ResponseType;
  /**
   * The status to answer with; undefined keeps API Gateway's status for the type. Never set on DEFAULT_4XX or
   * DEFAULT_5XX: a status there would replace the status of every response type that falls back to them.
   */
  readonly statusCode?: string;
  /** A fixed code, or (for the catch-alls) `$context.error.responseType`, API Gateway's name for what happened. */
  readonly errorCode: string;
  readonly message: GatewayMessage;
  /** Static response headers (besides x-request-id), name -> value. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** API Gateway's response type name (`WAF_FILTERED`, `INTEGRATION_FAILURE`...): a stable, documented enum. */
export const RESPONSE_TYPE_ERROR_CODE = '$context.error.responseType';

const GATEWAY_MESSAGE: GatewayMessage = { source: 'gateway' };

/** RFC 6750: a 401 names the scheme that would be accepted; the same value as the Lambdas' (functions/middleware/envelope.ts). */
export const WWW_AUTHENTICATE = 'Bearer realm="orchestrator", charset="UTF-8"';

/**
 * MISSING_AUTHENTICATION_TOKEN is what API Gateway answers (403 "Missing Authentication Token") when no
 * resource matches the path, and also when the resource exists but has no method for the verb: with no IAM
 * authorization anywhere (and a Lambda authorizer without identity sources), it never means a missing token. So it becomes the local server's 404
 * ROUTE_NOT_FOUND, with a message that covers both cases (the local server answers the second one with a 405
 * and an Allow header, which API Gateway cannot produce without a method per verb).
 */
export const GATEWAY_ERRORS: readonly GatewayErrorSpec[] = [
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, statusCode: '404', errorCode: 'ROUTE_NOT_FOUND', message: { source: 'fixed', text: 'No route for this method and path' } },
  // Stage throttling (for all callers together: -c rateLimitRps / rateLimitBurst).
  { type: ResponseType.THROTTLED, statusCode: '429', errorCode: 'TOO_MANY_REQUESTS', message: GATEWAY_MESSAGE },
  // The authorizer threw `Unauthorized`: no credential where one is required, or one that does not verify. Its
  // reason is in the audit trail and the authorizer's log; API Gateway passes nothing of a thrown error on.
  {
    type: ResponseType.UNAUTHORIZED,
    statusCode: '401',
    errorCode: 'UNAUTHENTICATED',
    message: { source: 'fixed', text: 'A valid credential is required: a bearer token (Authorization) or an API key (X-API-Key)' },
    headers: { 'WWW-Authenticate': WWW_AUTHENTICATE },
  },
  // A policy denied the call (the authorizer allows or throws, so this means a Deny from elsewhere).
  { type: ResponseType.ACCESS_DENIED, statusCode: '403', errorCode: 'FORBIDDEN', message: GATEWAY_MESSAGE },
  // The request validator: path parameters today, body models if a method ever declares one.
  { type: ResponseType.BAD_REQUEST_PARAMETERS, statusCode: '400', errorCode: 'VALIDATION_ERROR', message: GATEWAY_MESSAGE },
  { type: ResponseType.BAD_REQUEST_BODY, statusCode: '400', errorCode: 'VALIDATION_ERROR', message: GATEWAY_MESSAGE },
  // API Gateway's 10 MB payload limit (the handlers refuse smaller bodies themselves, with the same code).
  { type: ResponseType.REQUEST_TOO_LARGE, statusCode: '413', errorCode: 'PAYLOAD_TOO_LARGE', message: GATEWAY_MESSAGE },
  // The 29 s integration timeout; the functions time out at 10 s, so this means API Gateway never got an answer.
  { type: ResponseType.INTEGRATION_TIMEOUT, statusCode: '504', errorCode: 'GATEWAY_TIMEOUT', message: GATEWAY_MESSAGE },
  // Everything else, keeping API Gateway's status for each type.
  { type: ResponseType.DEFAULT_4XX, errorCode: RESPONSE_TYPE_ERROR_CODE, message: GATEWAY_MESSAGE },
  { type: ResponseType.DEFAULT_5XX, errorCode: RESPONSE_TYPE_ERROR_CODE, message: GATEWAY_MESSAGE },
];

/**
 * Requests the WAF rate-based rule blocked (infra/constructs/waf-rate-limit.ts): added only with that web ACL,
 * which then is the stage's only one, so WAF_FILTERED can only mean "too many requests from this address".
 * RATE_LIMITED, as the local server's per-caller limit answers.
 */
export const WAF_RATE_LIMITED: GatewayErrorSpec = {
  type: ResponseType.WAF_FILTERED,
  statusCode: '429',
  errorCode: 'RATE_LIMITED',
  message: { source: 'fixed', text: 'Too many requests from this address; try again in a few minutes' },
};

/** The response body template: the error envelope with `$context` placeholders. */
export function envelopeTemplate(spec: Pick<GatewayErrorSpec, 'errorCode' | 'message'>): string {
  const message = spec.message.source === 'gateway' ? '$context.error.messageString' : JSON.stringify(spec.message.text);
  return `{"success":false,"message":${message},"error_code":${JSON.stringify(spec.errorCode)},"details":[],"request_id":"$context.requestId","timestamp":"$context.requestTime"}`;
}

/**
 * Adds one gateway response per entry of GATEWAY_ERRORS to the API. They are part of what a deployment
 * snapshots: the caller's Deployment must depend on them and change with them (see api-stack.ts).
 */
export function addEnvelopeGatewayResponses(scope: Construct, restApi: IRestApi, specs: readonly GatewayErrorSpec[] = GATEWAY_ERRORS): GatewayResponse[] {
  for (const spec of specs) {
    for (const [name, value] of Object.entries(spec.headers ?? {})) {
      if (value.includes("'")) throw new Error(`gateway response ${spec.type.responseType}: header ${name} cannot contain a single quote (literals are single-quoted)`);
    }
  }
  return specs.map(
    (spec) =>
      new GatewayResponse(scope, `GatewayResponse${pascalCaseOf(spec.type.responseType)}`, {
        restApi,
        type: spec.type,
        statusCode: spec.statusCode,
        // x-request-id is a mapping expression, not a literal (literals are in single quotes): the header carries
        // the ID too, as in the Lambdas' responses. Static headers are literals.
        responseHeaders: { 'x-request-id': 'context.requestId', ...Object.fromEntries(Object.entries(spec.headers ?? {}).map(([name, value]) => [name, `'${value}'`])) },
        templates: { 'application/json': envelopeTemplate(spec) },
      }),
  );
}

/** The AWS::ApiGateway::GatewayResponse behind a GatewayResponse construct. */
export function cfnGatewayResponseOf(response: GatewayResponse): CfnGatewayResponse {
  const resource = response.node.defaultChild;
  if (!(resource instanceof CfnGatewayResponse)) throw new Error(`${response.node.path} has no AWS::ApiGateway::GatewayResponse`);
  return resource;
}

/** `MISSING_AUTHENTICATION_TOKEN` -> `MissingAuthenticationToken`, for readable logical IDs. */
function pascalCaseOf(responseType: string): string {
  return responseType
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}
