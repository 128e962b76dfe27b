import * as z from 'zod';

/**
 * Cross-origin access for browser clients (ORCHESTRATOR_CORS_ORIGINS): which origins may call the API, and the
 * headers that tell a browser so. One policy, applied by the local server (every response and the preflight),
 * by the route Lambdas' middleware (functions/middleware/cors.ts: API Gateway's proxy integration adds nothing
 * to their responses) and, in AWS, by the RestApi's preflight and gateway responses (infra/, which reads
 * this module as data).
 */
export type CorsPolicy = { readonly anyOrigin: true } | { readonly anyOrigin: false; readonly origins: readonly string[] };

/** Request headers a browser may send: the credentials, the body's type, preconditions, idempotency, tracing. */
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'If-Match', 'Idempotency-Key', 'X-API-Key', 'X-User-ID', 'X-Request-ID'] as const;
/** Response headers a browser lets the page read besides the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS = ['ETag', 'Location', 'Retry-After', 'WWW-Authenticate', 'X-Request-ID'] as const;
/** How long a browser may cache a preflight's answer (seconds; browsers cap it, Chromium at 7200). */
export const CORS_MAX_AGE_SECONDS = 600;

/** `https://app.example.com` or `http://localhost:3000`: scheme, host and port only, as browsers send Origin. */
function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text;
  } catch {
    return false;
  }
}

/**
 * The setting: unset or empty, no cross-origin access (no CORS headers at all); `*`, any origin; otherwise
 * comma-separated origins (`https://app.example.com,http://localhost:3000`), each exactly as a browser sends it.
 * Returns the policy (undefined: none) or what is wrong with the text.
 */
export function parseCorsOrigins(text: string | undefined): { readonly policy?: CorsPolicy } | { readonly problem: string } {
  const entries = (text ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (entries.length === 0) return {};
  if (entries.includes('*')) return entries.length > 1 ? { problem: 'is * or a list of origins, not both' } : { policy: { anyOrigin: true } };
  const invalid = entries.filter((entry) => !isOrigin(entry));
  if (invalid.length > 0) return { problem: `lists origins such as https://app.example.com (http or https, host, optional port; no path or trailing slash): ${invalid.join(', ')} is not one` };
  return { policy: { anyOrigin: false, origins: [...new Set(entries)] } };
}

/** ORCHESTRATOR_CORS_ORIGINS, for the local and the Lambda configuration (parseCorsOrigins). */
export const CorsOriginsSetting = z
  .string()
  .optional()
  .transform((text, context): CorsPolicy | undefined => {
    const parsed = parseCorsOrigins(text);
    if ('problem' in parsed) {
      context.addIssue({ code: 'custom', message: `ORCHESTRATOR_CORS_ORIGINS ${parsed.problem}` });
      return undefined;
    }
    return parsed.policy;
  });

/** Whether `origin` (the request's Origin header) may read the API's responses. */
export function allowsOrigin(policy: CorsPolicy | undefined, origin: string | undefined): origin is string {
  if (policy === undefined || origin === undefined || origin === '') return false;
  return policy.anyOrigin || policy.origins.includes(origin);
}

/**
 * Headers of an ordinary response to `origin`: none unless it is allowed. A listed origin is echoed with
 * `Vary: Origin` (caches keep one answer per origin); with `*`, any origin reads it.
 */
export function corsResponseHeaders(policy: CorsPolicy | undefined, origin: string | undefined): Record<string, string> {
  if (!allowsOrigin(policy, origin)) return {};
  return {
    'access-control-allow-origin': policy?.anyOrigin ? '*' : origin,
    ...(policy?.anyOrigin ? {} : { vary: 'Origin' }),
    'access-control-expose-headers': CORS_EXPOSED_HEADERS.join(', '),
  };
}

/** Headers of a preflight's answer (OPTIONS with Access-Control-Request-Method) for a resource with `methods`. */
export function corsPreflightHeaders(policy: CorsPolicy | undefined, origin: string | undefined, methods: readonly string[]): Record<string, string> {
  if (!allowsOrigin(policy, origin)) return {};
  return {
    'access-control-allow-origin': policy?.anyOrigin ? '*' : origin,
    ...(policy?.anyOrigin ? {} : { vary: 'Origin' }),
    'access-control-allow-methods': methods.join(', '),
    'access-control-allow-headers': CORS_ALLOWED_HEADERS.join(', '),
    'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
  };
}
