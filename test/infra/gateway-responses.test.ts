import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ErrorName } from '../../core/errors.ts';
import { ERROR_STATUS, errorResponse, ROUTE_NOT_FOUND, WWW_AUTHENTICATE } from '../../functions/middleware/envelope.ts';
import { WWW_AUTHENTICATE as GATEWAY_WWW_AUTHENTICATE } from '../../infra/constructs/envelope-gateway-responses.ts';
import { buildOrchestratorApp, logicalIdOf } from './fixture.ts';

/**
 * API Gateway answers some requests itself (no route, throttled, refused by the request validator, timed
 * out...). Those answers must use the error envelope of the Lambdas, so clients parse one format. The
 * expectations below are written out here, not read from infra/, and the codes come from the Lambdas' own
 * envelope module.
 */
const { api } = buildOrchestratorApp();
const template = Template.fromStack(api);

/** API Gateway's own message, whatever it is: the template must pass it through. */
const GATEWAY_MESSAGE = Symbol('the gateway message');

interface Expected {
  /** undefined: no StatusCode property, so API Gateway keeps each type's own status. */
  readonly status: number | undefined;
  readonly errorCode: string;
  readonly message: string | typeof GATEWAY_MESSAGE;
}

const validation = ERROR_STATUS[ErrorName.Validation]!;
const tooLarge = ERROR_STATUS[ErrorName.PayloadTooLarge]!;
const unauthenticated = ERROR_STATUS[ErrorName.Unauthenticated]!;
const forbidden = ERROR_STATUS[ErrorName.Forbidden]!;

/**
 * Sample values for the only `$context` variables the templates may use, as API Gateway substitutes them:
 * verbatim, with no escaping. `messageString` arrives already wrapped in double quotes; the others do not.
 */
const SAMPLE = {
  requestId: '0f5c2a1e-7d3b-4c55-9a0e-3b1f8e6d2c47',
  requestTime: '12/Mar/2025:10:00:00 +0000',
  message: 'Too Many Requests',
  responseType: 'WAF_FILTERED',
} as const;
const SAMPLE_CONTEXT: Readonly<Record<string, string>> = {
  '$context.requestId': SAMPLE.requestId,
  '$context.requestTime': SAMPLE.requestTime,
  '$context.error.messageString': JSON.stringify(SAMPLE.message),
  '$context.error.responseType': SAMPLE.responseType,
};

const EXPECTED: Readonly<Record<string, Expected>> = {
  // Unknown path, or a known path without this method: the local server's 404.
  MISSING_AUTHENTICATION_TOKEN: { status: ROUTE_NOT_FOUND.status, errorCode: ROUTE_NOT_FOUND.code, message: 'No route for this method and path' },
  THROTTLED: { status: 429, errorCode: 'TOO_MANY_REQUESTS', message: GATEWAY_MESSAGE },
  // The authorizer refused the credential (or there was none): the Lambdas' 401, with the same code.
  UNAUTHORIZED: { status: unauthenticated.status, errorCode: unauthenticated.code, message: 'A valid credential is required: a bearer token (Authorization) or an API key (X-API-Key)' },
  ACCESS_DENIED: { status: forbidden.status, errorCode: forbidden.code, message: GATEWAY_MESSAGE },
  BAD_REQUEST_PARAMETERS: { status: validation.status, errorCode: validation.code, message: GATEWAY_MESSAGE },
  BAD_REQUEST_BODY: { status: validation.status, errorCode: validation.code, message: GATEWAY_MESSAGE },
  REQUEST_TOO_LARGE: { status: tooLarge.status, errorCode: tooLarge.code, message: GATEWAY_MESSAGE },
  INTEGRATION_TIMEOUT: { status: 504, errorCode: 'GATEWAY_TIMEOUT', message: GATEWAY_MESSAGE },
  // The catch-alls name what happened with API Gateway's response type (WAF_FILTERED, INTEGRATION_FAILURE...).
  DEFAULT_4XX: { status: undefined, errorCode: SAMPLE.responseType, message: GATEWAY_MESSAGE },
  DEFAULT_5XX: { status: undefined, errorCode: SAMPLE.responseType, message: GATEWAY_MESSAGE },
};

/** Substitutes the sample values; any other `$` variable (a typo, an unsupported one) fails the test. */
function substitute(bodyTemplate: string): string {
  const rendered = bodyTemplate.replace(/\$context\.[A-Za-z0-9_.]*[A-Za-z0-9_]/g, (variable) => {
    const value = SAMPLE_CONTEXT[variable];
    if (value === undefined) throw new Error(`${variable} is not a variable these templates may use`);
    return value;
  });
  expect(rendered, 'no placeholder left after substitution').not.toMatch(/\$/);
  return rendered;
}

function propertiesOfType(responseType: string): Record<string, unknown> {
  const found = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse', { Properties: { ResponseType: responseType } }));
  expect(found, responseType).toHaveLength(1);
  return (found[0] as { Properties: Record<string, unknown> }).Properties;
}

/** The keys of a body the Lambdas build (functions/middleware/envelope.ts), so a new envelope field fails here. */
const LAMBDA_ERROR_KEYS = Object.keys(JSON.parse(errorResponse(404, 'NOT_FOUND', 'm', [], 'id').body) as object).sort();

describe('API Gateway errors', () => {
  it('are customized for exactly these response types', () => {
    const types = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse')).map((resource) => (resource as { Properties: { ResponseType: string } }).Properties.ResponseType);
    expect(types.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s answers with its status and the error envelope as JSON', (responseType, expected) => {
    const properties = propertiesOfType(responseType);
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: responseType,
      RestApiId: { Ref: logicalIdOf(api, api.restApi) },
      StatusCode: expected.status === undefined ? Match.absent() : String(expected.status),
    });

    const templates = properties['ResponseTemplates'] as Record<string, string>;
    expect(Object.keys(templates)).toEqual(['application/json']);
    const body: unknown = JSON.parse(substitute(templates['application/json']!));
    expect(body).toEqual({
      success: false,
      message: expected.message === GATEWAY_MESSAGE ? SAMPLE.message : expected.message,
      error_code: expected.errorCode,
      details: [],
      request_id: SAMPLE.requestId,
      timestamp: SAMPLE.requestTime,
    });
    expect(Object.keys(body as object).sort()).toEqual(LAMBDA_ERROR_KEYS);
  });

  it.each(Object.keys(EXPECTED).filter((type) => type !== 'UNAUTHORIZED'))('%s carries the request ID in x-request-id, as the Lambdas do', (responseType) => {
    // `context.requestId` is a mapping expression (a literal would be in single quotes).
    expect(propertiesOfType(responseType)['ResponseParameters']).toEqual({ 'gatewayresponse.header.x-request-id': 'context.requestId' });
  });

  it('UNAUTHORIZED (401) also names the accepted scheme in WWW-Authenticate, as the Lambdas do (RFC 6750)', () => {
    expect(GATEWAY_WWW_AUTHENTICATE).toBe(WWW_AUTHENTICATE);
    expect(propertiesOfType('UNAUTHORIZED')['ResponseParameters']).toEqual({
      'gatewayresponse.header.x-request-id': 'context.requestId',
      // A literal: single-quoted, the value as it is.
      'gatewayresponse.header.WWW-Authenticate': `'${WWW_AUTHENTICATE}'`,
    });
    expect(WWW_AUTHENTICATE).toMatch(/^Bearer realm="orchestrator"/);
  });

  it('take effect with the deployment: it depends on every gateway response', () => {
    const responseIds = Object.keys(template.findResources('AWS::ApiGateway::GatewayResponse'));
    const deployments = Object.values(template.findResources('AWS::ApiGateway::Deployment')) as Array<{ DependsOn?: string[] }>;
    expect(deployments).toHaveLength(1);
    expect(deployments[0]?.DependsOn).toEqual(expect.arrayContaining(responseIds));
  });
});
