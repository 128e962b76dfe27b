import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

/**
 * The parts of API Gateway's proxy event and Lambda's context that runtimes outside Lambda fill in when they call
 * a route's handler themselves: the local server (local/http-server.ts) and `/mcp`'s in-process requests
 * (functions/mcp/in-process-fetch.ts).
 */

type Identity = APIGatewayProxyEvent['requestContext']['identity'];

/** The request's identity as API Gateway passes it: the caller's address and agent, and a verified client certificate only. */
export function proxyIdentity(caller: { readonly sourceIp: string; readonly userAgent: string | null; readonly clientCert?: Identity['clientCert'] }): Identity {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: caller.clientCert ?? null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: caller.sourceIp,
    user: null,
    userAgent: caller.userAgent,
    userArn: null,
  };
}

/** A Lambda context for `functionName`'s handler, with the time it has left. */
export function lambdaContextOf(functionName: string, requestId: string, remainingMs: () => number, where = 'local'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${where}:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/${where}/${functionName}`,
    logStreamName: where,
    getRemainingTimeInMillis: remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
