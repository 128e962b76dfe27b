import { createHash, createSecretKey, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { isExpired, parseApiKey, TenantSchema, type ApiKeyRecord } from '../../core/auth/api-keys.ts';
import { DEFAULT_TENANT, MAX_USER_ID_LENGTH, ROLES, type AuthMode, type Grant, type Principal, type Role } from '../../core/auth/model.ts';
import type { ApiKeyStore, Clock } from '../../core/ports.ts';

/**
 * The one verification module: the local server and the Lambda REQUEST authorizer both turn a request's
 * credential headers into a Principal here, so the rules cannot differ between the two runtimes.
 */

export interface AuthSettings {
  readonly mode: AuthMode;
  /** The role of anonymous callers in `optional` mode. */
  readonly anonymousRole: Role;
  /** HS256 secret (ORCHESTRATOR_JWT_SECRET). */
  readonly jwtSecret?: string;
  /** An OIDC issuer's key set (ORCHESTRATOR_JWKS_URL): RS256/ES256 tokens, keys cached, `kid` rotation. */
  readonly jwksUrl?: string;
  /** Algorithms accepted from the key set; never taken from the token. Default RS256 and ES256. */
  readonly jwtAlgorithms?: readonly string[];
  readonly jwtIssuer?: string;
  readonly jwtAudience?: string;
  /** The reference's single key (ORCHESTRATOR_API_KEY): role admin, tenant default. */
  readonly adminApiKey?: string;
  /** What peer orchestrators present as a bearer token (ORCHESTRATOR_PEER_TOKEN): role peer. */
  readonly peerToken?: string;
}

/** The parts of a request that carry identity. Header names lower-case. */
export interface CredentialInput {
  readonly authorization?: string;
  readonly apiKey?: string;
  readonly userId?: string;
  /** A client certificate the TLS layer (local mTLS, API Gateway's mTLS domain) has already verified. */
  readonly clientCertificateSubject?: string;
}

export type AuthOutcome =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reason: string };

export interface Authenticator {
  readonly mode: AuthMode;
  authenticate(input: CredentialInput): Promise<AuthOutcome>;
  /** Drops a cached API key at once (revocation in the same process). */
  forget(keyId: string): void;
}

export interface AuthenticatorDeps {
  readonly apiKeys?: ApiKeyStore;
  readonly clock: Clock;
  /** How long a looked-up API key is trusted before it is read again (revocation delay across processes). */
  readonly apiKeyCacheTtlMs?: number;
  /** Tests inject a key set instead of fetching one. */
  readonly jwks?: JWTVerifyGetKey;
}

/** `RS256, ES256` (ORCHESTRATOR_JWT_ALGORITHMS, locally and on the authorizer) -> the algorithms' names. */
export function algorithmsSetting(value: string | undefined): string[] | undefined {
  return value?.split(',').map((algorithm) => algorithm.trim());
}

/** RFC 8725: clock skew tolerated on exp/nbf, at most 60 s. */
export const JWT_CLOCK_TOLERANCE_SECONDS = 60;
const MAX_CREDENTIAL_LENGTH = 8192;
const DEFAULT_ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256'] as const;
/** Entries in each cache (API keys looked up, tokens verified): random ids or tokens cannot grow them further. */
const MAX_CACHED = 10_000;
const TOKEN_CACHE_MS = 5 * 60_000;
/** A use of a key is written at most this often (last_used_at), not on every request. */
const TOUCH_INTERVAL_MS = 60_000;

export function createAuthenticator(settings: AuthSettings, deps: AuthenticatorDeps): Authenticator {
  // A KeyObject made once: given raw bytes, jose would import the key again on every verification.
  const secretKey = settings.jwtSecret ? createSecretKey(Buffer.from(settings.jwtSecret, 'utf8')) : undefined;
  const keySet = deps.jwks ?? (settings.jwksUrl ? createRemoteJWKSet(new URL(settings.jwksUrl), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 }) : undefined);
  const asymmetric = settings.jwtAlgorithms?.length ? [...settings.jwtAlgorithms] : [...DEFAULT_ASYMMETRIC_ALGORITHMS];
  const adminKeyDigest = settings.adminApiKey ? digest(settings.adminApiKey) : undefined;
  const peerTokenDigest = settings.peerToken ? digest(settings.peerToken) : undefined;
  const cacheTtl = deps.apiKeyCacheTtlMs ?? 10_000;
  const keyCache = new Map<string, { record: ApiKeyRecord | undefined; at: number }>();
  const lastTouched = new Map<string, number>();
  const verifiedTokens = new Map<string, { principal: Principal; until: number }>();

  /**
   * A token that verified is trusted again, byte for byte, until it expires or for 5 minutes at most: a
   * client sends the same token on every request, and a signature check costs far more than the request.
   * Nothing a later check could refuse changes meanwhile (the keys are configuration; a JWT cannot be revoked).
   */
  async function verifyJwtCached(token: string): Promise<AuthOutcome> {
    const now = Date.parse(deps.clock.now());
    const cached = verifiedTokens.get(token);
    if (cached && now < cached.until) return { ok: true, principal: cached.principal };
    if (cached) verifiedTokens.delete(token);
    const outcome = await verifyJwt(token);
    if (outcome.ok) remember(verifiedTokens, token, { principal: outcome.principal, until: Math.min(outcome.expiresAt, now + TOKEN_CACHE_MS) });
    return outcome;
  }

  async function verifyJwt(token: string): Promise<AuthOutcome & { expiresAt: number }> {
    let header: { alg?: unknown };
    try {
      header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: unknown };
    } catch {
      return { ok: false, reason: 'the bearer token is not a JWT', expiresAt: 0 };
    }
    // The header only chooses which configured key to try; each key accepts only its own pinned algorithms,
    // so a token cannot pick HS256 against a public key (algorithm confusion) or `none`.
    const symmetric = typeof header.alg === 'string' && header.alg.startsWith('HS');
    const options = {
      issuer: settings.jwtIssuer,
      audience: settings.jwtAudience,
      clockTolerance: JWT_CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['sub', 'exp'],
      currentDate: new Date(deps.clock.now()),
    };
    let payload: JWTPayload;
    try {
      if (symmetric && secretKey) payload = (await jwtVerify(token, secretKey, { ...options, algorithms: ['HS256'] })).payload;
      else if (!symmetric && keySet) payload = (await jwtVerify(token, keySet, { ...options, algorithms: asymmetric })).payload;
      else return { ok: false, reason: `bearer tokens signed with ${typeof header.alg === 'string' ? header.alg : 'that algorithm'} are not accepted here`, expiresAt: 0 };
    } catch (error) {
      return { ok: false, reason: `invalid bearer token: ${describeJoseError(error)}`, expiresAt: 0 };
    }
    // `exp` is required, so it is a number here; no leeway in the cache: a token is re-verified once expired.
    return { ...principalFromClaims(payload), expiresAt: (payload.exp ?? 0) * 1000 };
  }

  async function verifyApiKey(presented: string): Promise<AuthOutcome> {
    if (adminKeyDigest && sameDigest(digest(presented), adminKeyDigest)) {
      return { ok: true, principal: { subject: 'admin-api-key', roles: ['admin'], tenant: DEFAULT_TENANT, method: 'api_key' } };
    }
    const parsed = parseApiKey(presented);
    if (!parsed || !deps.apiKeys) return { ok: false, reason: 'invalid API key' };
    const record = await lookup(parsed.keyId);
    if (!record || !sameDigest(digest(parsed.secret), Buffer.from(record.secret_hash, 'hex'))) return { ok: false, reason: 'invalid API key' };
    const now = deps.clock.now();
    if (isExpired(record, now)) return { ok: false, reason: 'the API key has expired' };
    touch(record.key_id, now);
    return { ok: true, principal: { subject: record.name, roles: [record.role], tenant: record.tenant, method: 'api_key', keyId: record.key_id } };
  }

  async function lookup(keyId: string): Promise<ApiKeyRecord | undefined> {
    const cached = keyCache.get(keyId);
    const now = Date.parse(deps.clock.now());
    if (cached && now - cached.at < cacheTtl) return cached.record;
    const record = await deps.apiKeys!.get(keyId);
    // Unknown ids are cached too: remember() keeps ever new ids from growing the cache without bound.
    remember(keyCache, keyId, { record, at: now });
    return record;
  }

  function touch(keyId: string, at: string): void {
    const now = Date.parse(at);
    if (now - (lastTouched.get(keyId) ?? 0) < TOUCH_INTERVAL_MS) return;
    lastTouched.set(keyId, now);
    // Best effort: a failed write must never fail the request it describes.
    deps.apiKeys?.touch(keyId, at).catch(() => undefined);
  }

  function withCertificate(outcome: AuthOutcome, input: CredentialInput): AuthOutcome {
    if (!outcome.ok || input.clientCertificateSubject === undefined) return outcome;
    const { principal } = outcome;
    return { ok: true, principal: { ...principal, roles: principal.roles.includes('peer') ? principal.roles : [...principal.roles, 'peer'] } };
  }

  return {
    mode: settings.mode,
    forget: (keyId) => void keyCache.delete(keyId),
    async authenticate(input) {
      // An over-long X-User-ID names nobody (the handler answers 400 for it); it is never cut to fit.
      const named = input.userId?.trim() || undefined;
      const userId = named !== undefined && named.length <= MAX_USER_ID_LENGTH ? named : undefined;
      if (settings.mode === 'off') {
        return { ok: true, principal: { subject: userId ?? 'anonymous', roles: ['admin'], tenant: DEFAULT_TENANT, method: 'auth_off' } };
      }
      const authorization = input.authorization?.trim();
      const apiKey = input.apiKey?.trim();
      if ((authorization?.length ?? 0) > MAX_CREDENTIAL_LENGTH || (apiKey?.length ?? 0) > MAX_CREDENTIAL_LENGTH) return { ok: false, reason: 'the credential is too long' };
      if (authorization && apiKey) return { ok: false, reason: 'send one credential: Authorization or X-API-Key, not both' };
      if (authorization) {
        const match = /^Bearer\s+(\S+)$/i.exec(authorization);
        if (!match) return { ok: false, reason: 'Authorization must be "Bearer <token>"' };
        const token = match[1]!;
        if (peerTokenDigest && sameDigest(digest(token), peerTokenDigest)) {
          return withCertificate({ ok: true, principal: { subject: 'peer', roles: ['peer'], tenant: DEFAULT_TENANT, method: 'peer_token' } }, input);
        }
        return withCertificate(await verifyJwtCached(token), input);
      }
      if (apiKey) return withCertificate(await verifyApiKey(apiKey), input);
      if (input.clientCertificateSubject !== undefined) {
        const roles: Grant[] = settings.mode === 'optional' ? [settings.anonymousRole, 'peer'] : ['peer'];
        return { ok: true, principal: { subject: input.clientCertificateSubject, roles, tenant: DEFAULT_TENANT, method: 'client_certificate' } };
      }
      // No credential: `optional` lets the caller in with the anonymous role, named by X-User-ID; in
      // `required` lets it reach public routes only; it may not name itself there (the audit's actor of its
      // refusals is not the caller's to choose).
      if (settings.mode === 'required') return { ok: true, principal: { subject: 'anonymous', roles: [], tenant: DEFAULT_TENANT, method: 'anonymous' } };
      return { ok: true, principal: { subject: userId ?? 'anonymous', roles: [settings.anonymousRole], tenant: DEFAULT_TENANT, method: 'anonymous' } };
    },
  };
}

/** Sets `key` in a cache of at most MAX_CACHED entries: a new key past that bound pushes out the oldest. */
function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (!cache.has(key) && cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
}

function principalFromClaims(payload: JWTPayload): AuthOutcome {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > MAX_USER_ID_LENGTH) return { ok: false, reason: 'invalid bearer token: the sub claim is missing or too long' };
  const claimed = Array.isArray(payload.roles) ? payload.roles : Array.isArray(payload['cognito:groups']) ? payload['cognito:groups'] : [];
  const roles = ROLES.filter((role) => claimed.includes(role));
  let tenant = DEFAULT_TENANT;
  if (payload.tenant !== undefined) {
    const parsed = TenantSchema.safeParse(payload.tenant);
    if (!parsed.success) return { ok: false, reason: 'invalid bearer token: the tenant claim is not a valid tenant name' };
    tenant = parsed.data;
  }
  return { ok: true, principal: { subject: payload.sub, roles, tenant, method: 'jwt' } };
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `the ${error.claim} claim is not acceptable (${error.reason})`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'its algorithm is not accepted';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the issuer matches its kid';
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return 'it is malformed';
  if (error instanceof joseErrors.JWKSTimeout) return "the issuer's key set did not answer";
  return 'it could not be verified';
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time comparison of two digests (equal lengths by construction). */
function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
