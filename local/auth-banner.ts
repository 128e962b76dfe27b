import type { RateLimitPolicy } from '../core/auth/rate-limit.ts';
import type { AuthSettings } from '../functions/auth/authenticator.ts';

/** The start-up lines that say who can call this server; `off` is said loudly. */
export function describeAuth(auth: AuthSettings, rateLimit: RateLimitPolicy): string[] {
  const credentials = [
    auth.jwtSecret ? 'HS256 bearer tokens' : undefined,
    auth.jwksUrl ? `bearer tokens from ${auth.jwksUrl}` : undefined,
    auth.adminApiKey ? 'ORCHESTRATOR_API_KEY' : undefined,
    'managed API keys (POST /auth/api-keys)',
    auth.peerToken ? 'the peer token' : undefined,
  ].filter((entry): entry is string => entry !== undefined);
  const limit = `  rate limit: ${rateLimit.rate} requests/s per caller, bursts of ${rateLimit.burst}`;
  switch (auth.mode) {
    case 'off':
      return [
        '  ******************************************************************************',
        '  * AUTHENTICATION IS OFF (ORCHESTRATOR_AUTH_MODE=off): every caller is an admin *',
        '  * Use this for tests only, never on a network anyone else can reach.         *',
        '  ******************************************************************************',
        limit,
      ];
    case 'optional':
      return [`  auth: optional: anonymous callers act as '${auth.anonymousRole}' (X-User-ID names them); accepted credentials: ${credentials.join(', ')}`, limit];
    case 'required':
      return [`  auth: required (except GET /health and GET /openapi.json); accepted credentials: ${credentials.join(', ')}`, limit];
  }
}
