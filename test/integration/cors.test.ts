import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi } from '../support/api.ts';
import { readLocalConfig } from '../../local/config.ts';
import { readLambdaConfig } from '../../functions/config.ts';
import { CORS_ALLOWED_HEADERS } from '../../functions/cors.ts';

/**
 * ORCHESTRATOR_CORS_ORIGINS on the local server, over HTTP: the preflight of an allowed origin, the headers on
 * every answer to it (errors, the router's and the gate's included), nothing for any other origin, and nothing
 * at all by default.
 */

const ALLOWED = 'https://app.example.com';
const OTHER = 'https://evil.example.com';

let api: Awaited<ReturnType<typeof startTestApi>>;
let plain: Awaited<ReturnType<typeof startTestApi>>;

beforeAll(async () => {
  const cors = readLocalConfig({ ORCHESTRATOR_CORS_ORIGINS: `${ALLOWED}, http://localhost:3000` }).cors;
  [api, plain] = await Promise.all([startTestApi(cors === undefined ? {} : { cors }), startTestApi()]);
});
afterAll(async () => {
  await Promise.all([api.runtime.close(), plain.runtime.close()]);
});

const corsHeadersOf = (headers: Headers) => Object.fromEntries([...headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary'));
const preflight = (url: string, path: string, origin: string) =>
  fetch(`${url}${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });

describe('the preflight', () => {
  it("answers an allowed origin with 204, its origin, the path's methods, the request headers and a max age, and still Allow", async () => {
    const reply = await preflight(api.runtime.url, '/workflows', ALLOWED);
    expect(reply.status).toBe(204);
    expect(corsHeadersOf(reply.headers)).toEqual({
      'access-control-allow-origin': ALLOWED,
      vary: 'Origin',
      'access-control-allow-methods': 'GET, POST, HEAD, OPTIONS',
      'access-control-allow-headers': CORS_ALLOWED_HEADERS.join(', '),
      'access-control-max-age': '600',
    });
    expect(reply.headers.get('allow')).toBe('GET, POST, HEAD, OPTIONS');
    const item = await preflight(api.runtime.url, '/workflows/3f2a0c4e-0000-4000-8000-000000000000', ALLOWED);
    expect(item.headers.get('access-control-allow-methods')).toBe('GET, PUT, DELETE, HEAD, OPTIONS');
    for (const header of ['Authorization', 'Content-Type', 'If-Match', 'X-API-Key', 'X-User-ID', 'X-Request-ID']) expect(CORS_ALLOWED_HEADERS).toContain(header);
  });

  it('gives another origin no CORS header, only Allow', async () => {
    const reply = await preflight(api.runtime.url, '/workflows', OTHER);
    expect(reply.status).toBe(204);
    expect(corsHeadersOf(reply.headers)).toEqual({});
    expect(reply.headers.get('allow')).toBe('GET, POST, HEAD, OPTIONS');
  });
});

describe('answers to an allowed origin', () => {
  const send = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => fetch(`${api.runtime.url}${path}`, { method, headers: { origin: ALLOWED, ...headers }, body });
  const expectCors = (reply: Response, what: string) => {
    expect(reply.headers.get('access-control-allow-origin'), what).toBe(ALLOWED);
    expect(reply.headers.get('vary'), what).toBe('Origin');
    const exposed = (reply.headers.get('access-control-expose-headers') ?? '').split(', ');
    for (const header of ['ETag', 'X-Request-ID', 'Retry-After', 'Location']) expect(exposed, what).toContain(header);
  };

  it('carry the origin and the exposed headers on success and on every kind of error', async () => {
    const created = await send('POST', '/workflows', { 'content-type': 'application/json' }, JSON.stringify({ name: 'cors', actions: [{ action_id: 'a', action_type: 'notification', config: { message: 'hi' } }] }));
    expect(created.status).toBe(201);
    expectCors(created, 'created');
    const cases: Array<[string, Promise<Response>, number]> = [
      ['GET /health', send('GET', '/health'), 200],
      ['validation error', send('GET', '/workflows?page_size=500'), 400],
      ['unknown route', send('GET', '/nowhere'), 404],
      ['wrong method', send('PATCH', '/workflows'), 405],
      ['bad credential (the gate)', send('GET', '/workflows', { 'x-api-key': 'ork_0000000000000000_not-a-real-key-not-a-real-key-not-a-real-k' }), 401],
      ['too large', send('POST', '/workflows', { 'content-type': 'application/json' }, 'x'.repeat(1024 * 1024 + 1)), 413],
    ];
    for (const [what, pending, status] of cases) {
      const reply = await pending;
      expect(reply.status, what).toBe(status);
      expectCors(reply, what);
    }
  });

  it('are the same to a second listed origin, echoed as it came', async () => {
    const reply = await fetch(`${api.runtime.url}/health`, { headers: { origin: 'http://localhost:3000' } });
    expect(reply.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
  });
});

describe('no CORS headers', () => {
  it('for an origin not listed, or a request without Origin', async () => {
    expect(corsHeadersOf((await fetch(`${api.runtime.url}/health`, { headers: { origin: OTHER } })).headers)).toEqual({});
    expect(corsHeadersOf((await fetch(`${api.runtime.url}/health`)).headers)).toEqual({});
  });

  it('for anyone when ORCHESTRATOR_CORS_ORIGINS is unset (the default)', async () => {
    expect(corsHeadersOf((await fetch(`${plain.runtime.url}/health`, { headers: { origin: ALLOWED } })).headers)).toEqual({});
    const options = await preflight(plain.runtime.url, '/workflows', ALLOWED);
    expect(options.status).toBe(204);
    expect(corsHeadersOf(options.headers)).toEqual({});
  });
});

describe('the setting', () => {
  it('is the same for the local server and the Lambdas: unset or empty is none, * is any origin, otherwise origins', () => {
    for (const read of [(env: Record<string, string>) => readLocalConfig(env).cors, (env: Record<string, string>) => readLambdaConfig(env).ORCHESTRATOR_CORS_ORIGINS]) {
      expect(read({})).toBeUndefined();
      expect(read({ ORCHESTRATOR_CORS_ORIGINS: ' ' })).toBeUndefined();
      expect(read({ ORCHESTRATOR_CORS_ORIGINS: '*' })).toEqual({ anyOrigin: true });
      expect(read({ ORCHESTRATOR_CORS_ORIGINS: `${ALLOWED},http://localhost:3000` })).toEqual({ anyOrigin: false, origins: [ALLOWED, 'http://localhost:3000'] });
    }
  });

  it.each([['https://app.example.com/'], ['app.example.com'], ['*,https://app.example.com'], ['https://app.example.com/path']])('refuses %s, naming the variable', (value) => {
    expect(() => readLocalConfig({ ORCHESTRATOR_CORS_ORIGINS: value })).toThrow(/ORCHESTRATOR_CORS_ORIGINS/);
    expect(() => readLambdaConfig({ ORCHESTRATOR_CORS_ORIGINS: value })).toThrow(/ORCHESTRATOR_CORS_ORIGINS/);
  });
});
