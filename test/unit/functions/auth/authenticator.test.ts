import { createHmac } from 'node:crypto';
import { createLocalJWKSet, exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { formatApiKey, type ApiKeyRecord } from '../../../../core/auth/api-keys.ts';
import { createAuthenticator, type AuthenticatorDeps, type AuthOutcome, type AuthSettings, type CredentialInput } from '../../../../functions/auth/authenticator.ts';
import { hashApiKeySecret, mintApiKey } from '../../../../functions/auth/mint.ts';
import { handBuiltToken, hs256Token, ManualClock, MemoryApiKeyStore, nowSeconds, randomSecret, signHs256 } from '../../../support/security.ts';

const SECRET = randomSecret();
const ISSUER = 'https://issuer.example.test/';
const AUDIENCE = 'orchestrator-api';

const clock = new ManualClock();
const hs256: AuthSettings = { mode: 'required', anonymousRole: 'viewer', jwtSecret: SECRET };

function authenticator(settings: Partial<AuthSettings> = {}, deps: Partial<AuthenticatorDeps> = {}) {
  return createAuthenticator({ ...hs256, ...settings }, { clock, ...deps });
}

const withToken = (token: string, extra: Partial<CredentialInput> = {}): CredentialInput => ({ authorization: `Bearer ${token}`, ...extra });

function expectRefused(outcome: AuthOutcome, reason?: RegExp): void {
  expect(outcome.ok, JSON.stringify(outcome)).toBe(false);
  if (reason && !outcome.ok) expect(outcome.reason).toMatch(reason);
}

function principalOf(outcome: AuthOutcome) {
  if (!outcome.ok) throw new Error(`refused: ${outcome.reason}`);
  return outcome.principal;
}

/** `signingInput` with its HS256 signature under `secret`, however odd the input. */
const hmacSigned = (signingInput: string, secret: string): string => `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;

/** Claims every good token has; cases override or delete one. */
function claims(overrides: JWTPayload = {}): JWTPayload {
  const now = nowSeconds();
  return { sub: 'alice', roles: ['operator'], tenant: 'acme', iat: now, exp: now + 300, ...overrides };
}

describe('HS256 bearer tokens', () => {
  it('accepts a good token: subject, roles and tenant from its claims', async () => {
    const principal = principalOf(await authenticator().authenticate(withToken(await signHs256(claims(), SECRET))));
    expect(principal).toEqual({ subject: 'alice', roles: ['operator'], tenant: 'acme', method: 'jwt' });
  });

  it('takes roles from cognito:groups when there is no roles claim, and the default tenant when there is no tenant claim', async () => {
    const token = await signHs256(claims({ roles: undefined, tenant: undefined, 'cognito:groups': ['viewer', 'admin'] }), SECRET);
    expect(principalOf(await authenticator().authenticate(withToken(token)))).toMatchObject({ roles: ['viewer', 'admin'], tenant: 'default' });
  });

  it('keeps only known roles: unknown ones, a roles string and a claimed peer grant give nothing', async () => {
    const unknown = await signHs256(claims({ roles: ['superuser', 'peer', 'ADMIN'] }), SECRET);
    expect(principalOf(await authenticator().authenticate(withToken(unknown))).roles).toEqual([]);
    const scalar = await signHs256(claims({ roles: 'admin' }), SECRET);
    expect(principalOf(await authenticator().authenticate(withToken(scalar))).roles).toEqual([]);
  });

  it('accepts a token expired less than 60 s ago and one whose nbf is less than 60 s ahead (clock skew)', async () => {
    const now = nowSeconds();
    expect((await authenticator().authenticate(withToken(await signHs256(claims({ exp: now - 30 }), SECRET)))).ok).toBe(true);
    expect((await authenticator().authenticate(withToken(await signHs256(claims({ nbf: now + 30 }), SECRET)))).ok).toBe(true);
  });
});

describe('the JWT negative corpus', () => {
  it('refuses alg none, whichever key kind is configured', async () => {
    const token = handBuiltToken({ alg: 'none', typ: 'JWT' }, claims({ roles: ['admin'] }));
    expectRefused(await authenticator().authenticate(withToken(token)));
    const { jwks } = await keySet();
    expectRefused(await authenticator({ jwtSecret: undefined }, { jwks }).authenticate(withToken(token)));
    expectRefused(await authenticator({}, { jwks }).authenticate(withToken(token)));
    // ...and with a signature that is just any bytes.
    expectRefused(await authenticator({}, { jwks }).authenticate(withToken(`${token}AAAA`)));
  });

  it('refuses an HS256 token signed with the RSA public key (PEM) of the key set as its secret (algorithm confusion)', async () => {
    const { jwks, rsaPem } = await keySet();
    const header = { alg: 'HS256', typ: 'JWT', kid: 'rsa-1' };
    const signingInput = handBuiltToken(header, claims({ roles: ['admin'] })).slice(0, -1);
    const forged = hmacSigned(signingInput, rsaPem);
    // The key set alone (the usual OIDC set-up), and the key set next to an HS256 secret.
    expectRefused(await authenticator({ jwtSecret: undefined }, { jwks }).authenticate(withToken(forged)));
    expectRefused(await authenticator({}, { jwks }).authenticate(withToken(forged)));
    // Positive control: the same HMAC construction verifies when its key really is the configured secret.
    const honest = hmacSigned(signingInput, SECRET);
    expect((await authenticator({}, { jwks }).authenticate(withToken(honest))).ok).toBe(true);
  });

  it('refuses a token signed with another secret', async () => {
    expectRefused(await authenticator().authenticate(withToken(await signHs256(claims(), randomSecret()))), /signature/);
  });

  it('refuses a wrong or missing issuer and a wrong audience when they are configured', async () => {
    const strict = authenticator({ jwtIssuer: ISSUER, jwtAudience: AUDIENCE });
    expect((await strict.authenticate(withToken(await signHs256(claims({ iss: ISSUER, aud: AUDIENCE }), SECRET)))).ok).toBe(true);
    expectRefused(await strict.authenticate(withToken(await signHs256(claims({ iss: 'https://evil.example.test/', aud: AUDIENCE }), SECRET))), /iss/);
    expectRefused(await strict.authenticate(withToken(await signHs256(claims({ aud: AUDIENCE }), SECRET))), /iss/);
    expectRefused(await strict.authenticate(withToken(await signHs256(claims({ iss: ISSUER, aud: 'another-api' }), SECRET))), /aud/);
    expectRefused(await strict.authenticate(withToken(await signHs256(claims({ iss: ISSUER }), SECRET))), /aud/);
  });

  it('refuses a token expired more than 60 s ago', async () => {
    expectRefused(await authenticator().authenticate(withToken(await signHs256(claims({ exp: nowSeconds() - 90 }), SECRET))), /expired/);
  });

  it('refuses a token whose nbf is more than 60 s ahead', async () => {
    expectRefused(await authenticator().authenticate(withToken(await signHs256(claims({ nbf: nowSeconds() + 120 }), SECRET))), /nbf/);
  });

  it.each([
    ['two segments', 'a.b'],
    ['garbage', 'garbage'],
    ['three empty segments', '..'],
    ['a header that is not JSON', `${Buffer.from('{not json').toString('base64url')}.e30.sig`],
    ['a correctly signed payload that is not JSON', hmacSigned(`${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('not json').toString('base64url')}`, SECRET)],
    ['a correctly signed payload that is a JSON array', hmacSigned(`${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('["sub"]').toString('base64url')}`, SECRET)],
  ])('refuses a malformed token: %s', async (_case, token) => {
    expectRefused(await authenticator().authenticate(withToken(token)));
  });

  it('refuses an Authorization header that is not a bearer token, and an over-long credential', async () => {
    const good = await signHs256(claims(), SECRET);
    expectRefused(await authenticator().authenticate({ authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` }));
    expectRefused(await authenticator().authenticate({ authorization: 'Bearer' }));
    expectRefused(await authenticator().authenticate({ authorization: `Bearer ${good} extra` }));
    expectRefused(await authenticator().authenticate({ authorization: `Bearer ${good}${'A'.repeat(9000)}` }), /too long/);
  });

  it('refuses a token without sub, with an empty or over-long sub, or without exp', async () => {
    expectRefused(await authenticator().authenticate(withToken(await signHs256(claims({ sub: undefined }), SECRET))), /sub/);
    expectRefused(await authenticator().authenticate(withToken(await signHs256(claims({ sub: '' }), SECRET))), /sub/);
    expectRefused(await authenticator().authenticate(withToken(await signHs256(claims({ sub: 'x'.repeat(257) }), SECRET))), /sub/);
    expectRefused(await authenticator().authenticate(withToken(await signHs256(claims({ exp: undefined }), SECRET))), /exp/);
  });

  it.each([['upper case', 'ACME'], ['a path', '../globex'], ['empty', ''], ['a number', 7], ['a list', ['acme']], ['too long', 'a'.repeat(64)]])(
    'refuses a token whose tenant claim is invalid: %s',
    async (_case, tenant) => {
      expectRefused(await authenticator().authenticate(withToken(await signHs256(claims({ tenant }), SECRET))), /tenant/);
    },
  );

  it('refuses HS256 tokens when no secret is configured, and an invalid token even in optional mode (no fall-back to anonymous)', async () => {
    const token = await signHs256(claims(), SECRET);
    expectRefused(await authenticator({ jwtSecret: undefined }).authenticate(withToken(token)));
    expectRefused(await authenticator({ mode: 'optional', anonymousRole: 'admin' }).authenticate(withToken(await signHs256(claims(), randomSecret()))));
  });
});

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

interface KeySet {
  jwks: ReturnType<typeof createLocalJWKSet>;
  rsaPem: string;
  rsa: SigningKey;
  ec: SigningKey;
  strangerRsa: SigningKey;
}
let keys: KeySet | undefined;

/** An issuer's key set after a rotation: the old RSA key (kid rsa-1) and the new EC key (kid ec-2). */
async function keySet(): Promise<KeySet> {
  if (keys) return keys;
  const [rsa, ec, stranger] = await Promise.all([generateKeyPair('RS256', { extractable: true }), generateKeyPair('ES256', { extractable: true }), generateKeyPair('RS256')]);
  const published: JWK[] = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-2', alg: 'ES256', use: 'sig' },
  ];
  keys = { jwks: createLocalJWKSet({ keys: published }), rsaPem: await exportSPKI(rsa.publicKey), rsa: rsa.privateKey, ec: ec.privateKey, strangerRsa: stranger.privateKey };
  return keys;
}

const signWith = (key: SigningKey, alg: string, kid: string, payload: JWTPayload = claims()) => new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(key);

describe('RS256 and ES256 tokens from a key set', () => {
  let set: KeySet;
  beforeAll(async () => {
    set = await keySet();
  });
  const oidc = (extra: Partial<AuthSettings> = {}) => authenticator({ jwtSecret: undefined, jwtIssuer: ISSUER, jwtAudience: AUDIENCE, ...extra }, { jwks: set.jwks });
  const issued = (overrides: JWTPayload = {}) => claims({ iss: ISSUER, aud: AUDIENCE, ...overrides });

  it('verifies tokens of both keys after a rotation, choosing the key by kid', async () => {
    expect(principalOf(await oidc().authenticate(withToken(await signWith(set.rsa, 'RS256', 'rsa-1', issued()))))).toMatchObject({ subject: 'alice', method: 'jwt' });
    expect(principalOf(await oidc().authenticate(withToken(await signWith(set.ec, 'ES256', 'ec-2', issued({ sub: 'bob' })))))).toMatchObject({ subject: 'bob', roles: ['operator'] });
  });

  it('refuses an unknown kid, a kid naming the other key, and a key outside the set', async () => {
    expectRefused(await oidc().authenticate(withToken(await signWith(set.ec, 'ES256', 'ec-3', issued()))));
    expectRefused(await oidc().authenticate(withToken(await signWith(set.ec, 'ES256', 'rsa-1', issued()))));
    expectRefused(await oidc().authenticate(withToken(await signWith(set.strangerRsa, 'RS256', 'rsa-1', issued()))), /signature/);
  });

  it('accepts only the pinned algorithms, whatever keys the set holds', async () => {
    const ecOnly = oidc({ jwtAlgorithms: ['ES256'] });
    expectRefused(await ecOnly.authenticate(withToken(await signWith(set.rsa, 'RS256', 'rsa-1', issued()))));
    expect((await ecOnly.authenticate(withToken(await signWith(set.ec, 'ES256', 'ec-2', issued())))).ok).toBe(true);
  });

  it('checks iss, aud and expiry of key-set tokens too', async () => {
    expectRefused(await oidc().authenticate(withToken(await signWith(set.ec, 'ES256', 'ec-2', issued({ iss: 'https://evil.example.test/' })))));
    expectRefused(await oidc().authenticate(withToken(await signWith(set.ec, 'ES256', 'ec-2', issued({ aud: 'another-api' })))));
    expectRefused(await oidc().authenticate(withToken(await signWith(set.ec, 'ES256', 'ec-2', issued({ exp: nowSeconds() - 90 })))));
  });
});

describe('API keys', () => {
  const adminApiKey = `reference-${randomSecret()}`;

  async function managedKey(store: MemoryApiKeyStore, record: Partial<ApiKeyRecord> = {}): Promise<{ key: string; keyId: string; secret: string }> {
    const { keyId, secret } = mintApiKey();
    await store.create({ key_id: keyId, name: 'ci-deployer', role: 'operator', tenant: 'acme', secret_hash: hashApiKeySecret(secret), created_by: 'root', created_at: clock.now(), ...record });
    return { key: formatApiKey(keyId, secret), keyId, secret };
  }

  it("accepts the reference's admin key as admin of the default tenant", async () => {
    expect(principalOf(await authenticator({ adminApiKey }).authenticate({ apiKey: adminApiKey }))).toEqual({ subject: 'admin-api-key', roles: ['admin'], tenant: 'default', method: 'api_key' });
    expectRefused(await authenticator({ adminApiKey }).authenticate({ apiKey: `${adminApiKey}x` }));
  });

  it('accepts a managed key as its name, role and tenant, and refuses it with a wrong secret', async () => {
    const store = new MemoryApiKeyStore();
    const { key, keyId, secret } = await managedKey(store);
    const auth = authenticator({}, { apiKeys: store });
    expect(principalOf(await auth.authenticate({ apiKey: key }))).toEqual({ subject: 'ci-deployer', roles: ['operator'], tenant: 'acme', method: 'api_key', keyId });
    const wrong = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    expectRefused(await auth.authenticate({ apiKey: formatApiKey(keyId, wrong) }));
    expectRefused(await auth.authenticate({ apiKey: formatApiKey('0123456789abcdef', secret) }));
    expectRefused(await auth.authenticate({ apiKey: 'ork_not-a-key' }));
  });

  it('refuses a managed key once it has expired', async () => {
    const store = new MemoryApiKeyStore();
    const { key } = await managedKey(store, { expires_at: new Date(clock.nowMs() + 60_000).toISOString() });
    const auth = authenticator({}, { apiKeys: store });
    expect((await auth.authenticate({ apiKey: key })).ok).toBe(true);
    clock.advance(60_000);
    expectRefused(await auth.authenticate({ apiKey: key }), /expired/);
  });

  it('refuses a revoked key at once after forget, and in another process once its cache entry is older than the TTL', async () => {
    const store = new MemoryApiKeyStore();
    const { key, keyId } = await managedKey(store);
    const here = authenticator({}, { apiKeys: store });
    const elsewhere = authenticator({}, { apiKeys: store, apiKeyCacheTtlMs: 10_000 });
    expect((await here.authenticate({ apiKey: key })).ok).toBe(true);
    expect((await elsewhere.authenticate({ apiKey: key })).ok).toBe(true);
    await store.remove(keyId);
    here.forget(keyId);
    expectRefused(await here.authenticate({ apiKey: key }));
    // Without forget the other process trusts its cache for at most the TTL.
    clock.advance(10_000);
    expectRefused(await elsewhere.authenticate({ apiKey: key }));
  });

  it('keeps its key cache bounded when callers present ever new unknown key ids', async () => {
    const cached = new Set<Map<unknown, unknown>>();
    const set = Map.prototype.set;
    const spy = vi.spyOn(Map.prototype, 'set').mockImplementation(function (this: Map<unknown, unknown>, key: unknown, value: unknown) {
      if (typeof key === 'string' && /^[a-f0-9]{16}$/.test(key)) cached.add(this);
      return set.call(this, key, value);
    });
    try {
      const store = new MemoryApiKeyStore();
      const auth = authenticator({}, { apiKeys: store });
      const presented = 30_000;
      for (let index = 0; index < presented; index++) {
        const keyId = index.toString(16).padStart(16, '0');
        expectRefused(await auth.authenticate({ apiKey: formatApiKey(keyId, 'A'.repeat(43)) }));
      }
      expect(store.reads).toBe(presented);
      expect(cached.size).toBe(1);
      expect([...cached][0]!.size).toBeLessThan(presented);
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses a request presenting both a bearer token and an API key', async () => {
    const token = await signHs256(claims(), SECRET);
    expectRefused(await authenticator({ adminApiKey }).authenticate({ authorization: `Bearer ${token}`, apiKey: adminApiKey }), /not both/);
  });
});

describe('peers, client certificates and auth modes', () => {
  const peerToken = `peer-${randomSecret()}`;

  it('gives the peer token the peer grant and nothing else', async () => {
    expect(principalOf(await authenticator({ peerToken }).authenticate(withToken(peerToken)))).toEqual({ subject: 'peer', roles: ['peer'], tenant: 'default', method: 'peer_token' });
    expectRefused(await authenticator({ peerToken }).authenticate(withToken(`${peerToken}x`)));
  });

  it('adds peer to the roles of a caller with a verified client certificate', async () => {
    const token = await signHs256(claims(), SECRET);
    expect(principalOf(await authenticator().authenticate(withToken(token, { clientCertificateSubject: 'CN=orchestrator-b' })))).toMatchObject({ subject: 'alice', roles: ['operator', 'peer'], method: 'jwt' });
    expect(principalOf(await authenticator().authenticate({ clientCertificateSubject: 'CN=orchestrator-b' }))).toEqual({ subject: 'CN=orchestrator-b', roles: ['peer'], tenant: 'default', method: 'client_certificate' });
    expect(principalOf(await authenticator({ peerToken }).authenticate(withToken(peerToken, { clientCertificateSubject: 'CN=b' }))).roles).toEqual(['peer']);
    // A certificate never rescues a bad credential.
    expectRefused(await authenticator().authenticate(withToken(await signHs256(claims(), randomSecret()), { clientCertificateSubject: 'CN=b' })));
  });

  it('mode off: every caller is admin', async () => {
    expect(principalOf(await authenticator({ mode: 'off' }).authenticate({}))).toEqual({ subject: 'anonymous', roles: ['admin'], tenant: 'default', method: 'auth_off' });
  });

  it('mode optional: a caller without a credential gets the anonymous role, named by X-User-ID (not an over-long one)', async () => {
    const optional = authenticator({ mode: 'optional', anonymousRole: 'viewer' });
    expect(principalOf(await optional.authenticate({ userId: ' carol ' }))).toEqual({ subject: 'carol', roles: ['viewer'], tenant: 'default', method: 'anonymous' });
    expect(principalOf(await optional.authenticate({ userId: 'x'.repeat(257) })).subject).toBe('anonymous');
  });

  it('mode required: a caller without a credential holds no role, and may not name itself', async () => {
    expect(principalOf(await authenticator().authenticate({ userId: 'carol' }))).toEqual({ subject: 'anonymous', roles: [], tenant: 'default', method: 'anonymous' });
  });

  it("never lets X-User-ID override the subject of a token, a key or the peer credential", async () => {
    const token = await hs256Token({ sub: 'alice', roles: ['viewer'] }, SECRET);
    for (const mode of ['optional', 'required'] as const) {
      expect(principalOf(await authenticator({ mode }).authenticate(withToken(token, { userId: 'mallory' }))).subject).toBe('alice');
    }
    const store = new MemoryApiKeyStore();
    const { keyId, secret } = mintApiKey();
    await store.create({ key_id: keyId, name: 'build-bot', role: 'viewer', tenant: 'default', secret_hash: hashApiKeySecret(secret), created_by: 'root', created_at: clock.now() });
    expect(principalOf(await authenticator({}, { apiKeys: store }).authenticate({ apiKey: formatApiKey(keyId, secret), userId: 'mallory' })).subject).toBe('build-bot');
    expect(principalOf(await authenticator({ peerToken }).authenticate(withToken(peerToken, { userId: 'mallory' }))).subject).toBe('peer');
  });
});

describe('the verified-token cache', () => {
  it('reuses a verified token without checking its signature again, until the token expires', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const keySet = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] });
    const lookups = vi.fn(keySet);
    const local = new ManualClock();
    const rs = authenticator({ jwtSecret: undefined, jwksUrl: 'https://issuer.example.test/jwks.json' }, { jwks: lookups, clock: local });
    const exp = Math.floor(local.nowMs() / 1000) + 120;
    const token = await new SignJWT({ roles: ['viewer'] }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('cached').setExpirationTime(exp).sign(privateKey);
    expect(principalOf(await rs.authenticate(withToken(token))).subject).toBe('cached');
    expect(principalOf(await rs.authenticate(withToken(token))).subject).toBe('cached');
    expect(lookups).toHaveBeenCalledTimes(1);
    // Past exp (and the 60 s leeway) the cache does not answer: the token is checked again, and refused.
    local.advance(200_000);
    expectRefused(await rs.authenticate(withToken(token)), /expired/);
    expect(lookups).toHaveBeenCalledTimes(2);
  });

  it('never serves a token that differs from a cached one, even in its signature alone', async () => {
    const good = await signHs256(claims(), SECRET);
    const cached = authenticator();
    principalOf(await cached.authenticate(withToken(good)));
    const [header, payload, signature] = good.split('.');
    const tampered = `${header}.${payload}.${signature!.slice(0, -2)}${signature!.endsWith('AA') ? 'BB' : 'AA'}`;
    expectRefused(await cached.authenticate(withToken(tampered)));
  });
});
