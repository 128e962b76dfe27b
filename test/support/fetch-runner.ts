import type { LocalIntegrations } from '../../adapters/local/local-engine.ts';
import type { ServiceCallPayload } from '../../functions/workers/service-call.ts';
import { renderEndpoint } from '../../functions/workers/service-url.ts';

/**
 * A minimal stand-in for the action runner, calling the test's loopback services at `baseUrl()`: for tests
 * of the engine and the execution routes (the real runner has its own tests). 5xx become the retryable
 * ServiceUnavailableError the compiled machines retry on.
 */
export function fetchRunner(baseUrl: () => string): LocalIntegrations['invokeRunner'] {
  return async (payload, signal) => {
    const { method, parameters } = payload as { method: string; parameters?: Record<string, unknown> };
    // Templated segments arrive beside the endpoint (`/items/{}` and its values): encoded as the runner does.
    const rendered = renderEndpoint(payload as unknown as Pick<ServiceCallPayload, 'endpoint' | 'endpoint_values'>);
    if ('error' in rendered) throw Object.assign(new Error(rendered.message), { name: rendered.error });
    const endpoint = rendered.path;
    const query = method === 'GET' ? `?${new URLSearchParams(Object.entries(parameters ?? {}).map(([key, value]): [string, string] => [key, String(value)]))}` : '';
    const response = await fetch(`${baseUrl()}${endpoint}${query}`, {
      method,
      signal,
      headers: { 'content-type': 'application/json' },
      ...(method === 'GET' ? {} : { body: JSON.stringify(parameters ?? {}) }),
    });
    const body: unknown = await response.json();
    if (response.status >= 500) throw Object.assign(new Error(JSON.stringify({ message: `HTTP ${response.status}`, request: { endpoint } })), { name: 'ServiceUnavailableError' });
    return { status_code: response.status, headers: {}, response: body };
  };
}
