import type middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { HttpResponse } from './envelope.ts';
import { corsResponseHeaders, type CorsPolicy } from '../cors.ts';

/**
 * The route Lambdas' CORS headers, on every response (success or error), added last so that nothing after
 * it can drop them. Without a policy it does nothing.
 */
export function corsMiddleware(policy: CorsPolicy | undefined): middy.MiddlewareObj<APIGatewayProxyEvent, HttpResponse> {
  const addHeaders = (request: middy.Request<APIGatewayProxyEvent, HttpResponse>): void => {
    if (policy === undefined || !request.response) return;
    const headers = request.event.headers ?? {};
    // API Gateway passes header names as the client wrote them; the normalizer may not have run on an early error.
    const origin = headers['origin'] ?? headers['Origin'] ?? Object.entries(headers).find(([name]) => name.toLowerCase() === 'origin')?.[1];
    const extra = corsResponseHeaders(policy, origin);
    if (Object.keys(extra).length > 0) request.response = { ...request.response, headers: { ...request.response.headers, ...extra } };
  };
  return { after: addHeaders, onError: addHeaders };
}
