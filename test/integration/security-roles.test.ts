import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes, type RouteSpec } from '../../functions/routes.ts';
import type { ApiReply } from '../support/api.ts';
import { bearer, startSecureApi, pathOf, type SecureApi } from '../support/security.ts';

/**
 * The role matrix, generated from the route table: every route, every kind of caller, over real HTTP with
 * authentication `required`. A route added later is covered without touching this file; a route whose `auth`
 * this file does not know fails it.
 */

/** Every value `auth` may take. A new kind of access must be added here, with its expectations below. */
const KNOWN_ACCESS = ['public', 'authenticated', 'viewer', 'operator', 'admin', 'peer'] as const;
type Access = (typeof KNOWN_ACCESS)[number];
const RANK = { viewer: 0, operator: 1, admin: 2 } as const;

type Caller = 'anonymous' | 'roleless' | 'viewer' | 'operator' | 'admin' | 'peer';
const CALLERS: readonly Caller[] = ['anonymous', 'roleless', 'viewer', 'operator', 'admin', 'peer'];

/** What access control must answer `caller` on `route`: let it through, 401 or 403. */
function expectedFor(route: RouteSpec, caller: Caller): 'through' | 401 | 403 {
  const access = route.auth as Access;
  if (!(KNOWN_ACCESS as readonly string[]).includes(access)) throw new Error(`${route.method} ${route.path}: unknown auth ${JSON.stringify(route.auth)}`);
  if (access === 'public') return 'through';
  if (caller === 'anonymous') return 401;
  if (access === 'authenticated') return 'through';
  if (access === 'peer') return caller === 'peer' || caller === 'admin' ? 'through' : 403;
  if (caller === 'peer') return route.peerAccess === true ? 'through' : 403;
  if (caller === 'roleless') return 403;
  return RANK[caller] >= RANK[access] ? 'through' : 403;
}

/** Statuses a request that got past access control may end with, given ids that name nothing and minimal bodies. */
const THROUGH_STATUSES = new Set([200, 201, 202, 204, 400, 404, 409, 503]);

let api: SecureApi;
const headersOf: Record<Caller, Record<string, string>> = { anonymous: {}, roleless: {}, viewer: {}, operator: {}, admin: {}, peer: {} };

beforeAll(async () => {
  api = await startSecureApi({ mode: 'required' });
  headersOf.roleless = bearer(await api.token('matrix-nobody'));
  headersOf.viewer = bearer(await api.token('matrix-viewer', 'viewer'));
  headersOf.operator = bearer(await api.token('matrix-operator', 'operator'));
  headersOf.admin = bearer(await api.token('matrix-admin', 'admin'));
  headersOf.peer = bearer(api.peerToken);
});
afterAll(() => api?.runtime.close());

function send(route: RouteSpec, caller: Caller): Promise<ApiReply> {
  // Ids that exist nowhere (DELETE routes remove nothing) and the smallest body: access is decided before either is read.
  return api.call(route.method, pathOf(route), { headers: headersOf[caller], ...(route.body ? { body: {} } : {}) });
}

describe('the route table', () => {
  it('gives every route a known auth', () => {
    const unknown = Object.entries(routes)
      .filter(([, route]) => !(KNOWN_ACCESS as readonly string[]).includes((route as RouteSpec).auth ?? 'missing'))
      .map(([name, route]) => `${name}: ${JSON.stringify((route as RouteSpec).auth)}`);
    expect(unknown).toEqual([]);
  });

  it('has routes at every level (the matrix below is not vacuous)', () => {
    const levels = new Set(Object.values(routes).map((route) => (route as RouteSpec).auth));
    expect([...levels].sort()).toEqual([...KNOWN_ACCESS].sort());
  });
});

describe('access control by role, for every route', () => {
  for (const [name, spec] of Object.entries(routes)) {
    const route = spec as RouteSpec;
    it(`${name} (${route.method} ${route.path}, ${route.auth}${route.peerAccess ? ' + peers' : ''})`, async () => {
      const problems: string[] = [];
      for (const caller of CALLERS) {
        const expected = expectedFor(route, caller);
        const reply = await send(route, caller);
        const seen = `${caller}: ${reply.status} ${reply.body.error_code ?? ''} ${reply.body.message}`;
        if (expected === 'through') {
          if (!THROUGH_STATUSES.has(reply.status)) problems.push(`${seen} (expected access control to let it through)`);
        } else if (reply.status !== expected) {
          problems.push(`${seen} (expected ${expected})`);
        } else if (expected === 401) {
          if (reply.body.error_code !== 'UNAUTHENTICATED') problems.push(`${seen} (expected error_code UNAUTHENTICATED)`);
          if (!/^Bearer /.test(reply.headers.get('www-authenticate') ?? '')) problems.push(`${seen} (expected a WWW-Authenticate: Bearer header)`);
        } else if (reply.body.error_code !== 'FORBIDDEN') {
          problems.push(`${seen} (expected error_code FORBIDDEN)`);
        }
      }
      expect(problems).toEqual([]);
    });
  }
});

describe('refusals that do not depend on the route', () => {
  it('answers 401 with WWW-Authenticate for a bad token, even where a role would have been enough', async () => {
    const forged = await api.token('matrix-admin', 'admin');
    const tampered = `${forged.slice(0, -2)}${forged.endsWith('AA') ? 'BB' : 'AA'}`;
    const reply = await api.call('GET', '/workflows', { headers: bearer(tampered) });
    expect(reply.status).toBe(401);
    expect(reply.body.error_code).toBe('UNAUTHENTICATED');
    expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
  });

  it('decides access before reading the body: malformed JSON or a wrong content type still gets 401 or 403, not 400 or 415', async () => {
    const malformed = { rawBody: '{"name": ', headers: { 'content-type': 'application/json' } };
    expect((await api.call('POST', '/workflows', malformed)).status).toBe(401);
    expect((await api.call('POST', '/workflows', { ...malformed, headers: { ...malformed.headers, ...headersOf.viewer } })).status).toBe(403);
    expect((await api.call('POST', '/workflows', { rawBody: 'name=x', headers: { 'content-type': 'text/plain', ...headersOf.viewer } })).status).toBe(403);
    // ...while a caller with the role gets the body's errors.
    expect((await api.call('POST', '/workflows', { ...malformed, headers: { ...malformed.headers, ...headersOf.operator } })).status).toBe(400);
  });

  it('does not let X-User-ID or identity-looking headers stand in for a credential', async () => {
    const reply = await api.call('GET', '/workflows', { headers: { 'x-user-id': 'matrix-admin', 'x-amzn-oidc-identity': 'matrix-admin', 'x-forwarded-user': 'admin' } });
    expect(reply.status).toBe(401);
  });

  it('reports who the caller is from the credential alone', async () => {
    const reply = await api.call('GET', '/auth/whoami', { headers: { ...headersOf.operator, 'x-user-id': 'someone-else' } });
    expect(reply.status).toBe(200);
    expect(reply.body.data).toMatchObject({ subject: 'matrix-operator', roles: ['operator'], tenant: 'default', method: 'jwt', auth_mode: 'required' });
  });
});
