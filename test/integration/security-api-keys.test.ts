import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiReply } from '../support/api.ts';
import { apiKeyHeader, bearer, ManualClock, startSecureApi, type SecureApi } from '../support/security.ts';

/**
 * Managed API keys over real HTTP: created by admins and shown once, usable at once as their name, role and
 * tenant, listed without secrets, refused at once when revoked, refused once expired.
 */

const clock = new ManualClock();
const marker = randomUUID().slice(0, 8);
const ADMIN = `keys-admin-${marker}`;
let api: SecureApi;
let admin: Record<string, string>;

interface CreatedKey {
  key_id: string;
  name: string;
  role: string;
  tenant: string;
  api_key: string;
  created_by: string;
  expires_at?: string;
  expired: boolean;
}

beforeAll(async () => {
  api = await startSecureApi({ mode: 'required', overrides: { clock } });
  admin = bearer(await api.token(ADMIN, 'admin'));
});
afterAll(() => api?.runtime.close());

async function createKey(body: Record<string, unknown>, headers = admin): Promise<ApiReply<CreatedKey>> {
  return api.call<CreatedKey>('POST', '/auth/api-keys', { headers, body });
}

async function newKey(body: Record<string, unknown>): Promise<CreatedKey> {
  const reply = await createKey(body);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.data;
}

const whoami = (key: string) => api.call('GET', '/auth/whoami', { headers: apiKeyHeader(key) });

describe('creating a key', () => {
  it('answers 201 with the key once, its Location, no-store, and no hash', async () => {
    const reply = await createKey({ name: `ci-bot-${marker}`, role: 'operator', tenant: 'acme' });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    const key = reply.body.data;
    expect(key.api_key).toMatch(/^ork_[a-f0-9]{16}_[A-Za-z0-9_-]{43}$/);
    expect(key.api_key.slice(4, 20)).toBe(key.key_id);
    expect(key).toMatchObject({ name: `ci-bot-${marker}`, role: 'operator', tenant: 'acme', created_by: ADMIN, expired: false });
    expect(reply.headers.get('location')).toBe(`/auth/api-keys/${key.key_id}`);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(JSON.stringify(reply.body)).not.toMatch(/secret_hash/);
  });

  it("gives the key the caller's tenant when none is named", async () => {
    expect((await newKey({ name: `default-tenant-${marker}`, role: 'viewer' })).tenant).toBe('default');
  });

  it('refuses an expires_at in the past, or not a date-time, with 400 naming expires_at', async () => {
    for (const expires_at of [new Date(clock.nowMs() - 60_000).toISOString(), 'next tuesday']) {
      const reply = await createKey({ name: `stale-${marker}`, role: 'viewer', expires_at });
      expect(reply.status, JSON.stringify(reply.body)).toBe(400);
      expect(reply.body.error_code).toBe('VALIDATION_ERROR');
      expect(reply.body.details?.map((detail) => detail.field)).toContain('expires_at');
    }
  });

  it('refuses an unknown role or an invalid tenant (400)', async () => {
    expect((await createKey({ name: `x-${marker}`, role: 'root' })).status).toBe(400);
    expect((await createKey({ name: `x-${marker}`, role: 'viewer', tenant: 'Not A Tenant' })).status).toBe(400);
  });

  it('lets neither a viewer key nor an operator key create keys (403)', async () => {
    for (const role of ['viewer', 'operator']) {
      const key = await newKey({ name: `${role}-key-${marker}`, role });
      expect((await whoami(key.api_key)).status).toBe(200);
      const reply = await createKey({ name: `escalated-${marker}`, role: 'admin' }, apiKeyHeader(key.api_key));
      expect(reply.status, JSON.stringify(reply.body)).toBe(403);
      expect(reply.body.error_code).toBe('FORBIDDEN');
    }
  });
});

describe('using a key', () => {
  it('authenticates as the key: subject = its name, its role and tenant, method api_key, key_id', async () => {
    const key = await newKey({ name: `deployer-${marker}`, role: 'operator', tenant: 'acme' });
    const reply = await whoami(key.api_key);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.data).toEqual({ subject: `deployer-${marker}`, roles: ['operator'], tenant: 'acme', method: 'api_key', key_id: key.key_id, auth_mode: 'required' });
  });

  it("acts in the key's tenant, as the key's name", async () => {
    const key = await newKey({ name: `builder-${marker}`, role: 'operator', tenant: 'acme' });
    const created = await api.call('POST', '/workflows', {
      headers: apiKeyHeader(key.api_key),
      body: { name: `by-key-${marker}`, actions: [{ action_id: 'tell', action_type: 'notification', config: { message: 'hi' } }] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.data).toMatchObject({ tenant: 'acme', created_by: `builder-${marker}` });
  });

  it('refuses a key with a wrong secret, a key of another format, and a key next to a bearer token (401)', async () => {
    const key = await newKey({ name: `tampered-${marker}`, role: 'viewer' });
    const tampered = `${key.api_key.slice(0, -1)}${key.api_key.endsWith('A') ? 'B' : 'A'}`;
    for (const headers of [apiKeyHeader(tampered), apiKeyHeader(`ork_${key.key_id}`), { ...apiKeyHeader(key.api_key), ...admin }]) {
      const reply = await api.call('GET', '/auth/whoami', { headers });
      expect(reply.status).toBe(401);
      expect(reply.body.error_code).toBe('UNAUTHENTICATED');
    }
  });
});

describe('listing keys', () => {
  it('shows every key without its secret or its hash', async () => {
    const key = await newKey({ name: `listed-${marker}`, role: 'viewer' });
    const secret = key.api_key.split('_').slice(2).join('_');
    const reply = await api.call<{ api_keys: Record<string, unknown>[]; count: number }>('GET', '/auth/api-keys', { headers: admin });
    expect(reply.status).toBe(200);
    const listed = reply.body.data.api_keys.find((entry) => entry.key_id === key.key_id);
    expect(listed).toMatchObject({ name: `listed-${marker}`, role: 'viewer', tenant: 'default', created_by: ADMIN, expired: false });
    expect(reply.body.data.count).toBe(reply.body.data.api_keys.length);
    const text = JSON.stringify(reply.body);
    for (const forbidden of [key.api_key, secret, createHash('sha256').update(secret).digest('hex'), 'secret_hash', '"api_key"']) expect(text).not.toContain(forbidden);
  });
});

describe('revoking and expiring keys', () => {
  it('revokes a key: 200, then the key gets 401 at once and is no longer listed; revoking again is a 404', async () => {
    const key = await newKey({ name: `revoked-${marker}`, role: 'operator' });
    expect((await whoami(key.api_key)).status).toBe(200);
    const revoked = await api.call('DELETE', `/auth/api-keys/${key.key_id}`, { headers: admin });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    expect(revoked.body.data).toEqual({ key_id: key.key_id, revoked: true });
    const after = await whoami(key.api_key);
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const listed = await api.call<{ api_keys: { key_id: string }[] }>('GET', '/auth/api-keys', { headers: admin });
    expect(listed.body.data.api_keys.map((entry) => entry.key_id)).not.toContain(key.key_id);
    expect((await api.call('DELETE', `/auth/api-keys/${key.key_id}`, { headers: admin })).status).toBe(404);
  });

  it('refuses a key once its expires_at has passed, and lists it as expired', async () => {
    const key = await newKey({ name: `expiring-${marker}`, role: 'viewer', expires_at: new Date(clock.nowMs() + 3_600_000).toISOString() });
    expect((await whoami(key.api_key)).status).toBe(200);
    clock.advance(3_600_000);
    expect((await whoami(key.api_key)).status).toBe(401);
    const listed = await api.call<{ api_keys: { key_id: string; expired: boolean }[] }>('GET', '/auth/api-keys', { headers: admin });
    expect(listed.body.data.api_keys.find((entry) => entry.key_id === key.key_id)?.expired).toBe(true);
  });

  it('does not let a non-admin revoke a key (403), nor an absent key id be revoked (404)', async () => {
    const key = await newKey({ name: `kept-${marker}`, role: 'operator' });
    expect((await api.call('DELETE', `/auth/api-keys/${key.key_id}`, { headers: apiKeyHeader(key.api_key) })).status).toBe(403);
    expect((await whoami(key.api_key)).status).toBe(200);
    expect((await api.call('DELETE', '/auth/api-keys/0000000000000000', { headers: admin })).status).toBe(404);
  });
});
