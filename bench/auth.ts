/**
 * Authentication overhead: `GET /workflows/{id}` through the local server with each credential (HS256 JWT,
 * RS256 JWT from a JWKS with a warm cache, managed API key with its cache, the reference admin key) against
 * the same request made anonymously, interleaved in rounds on one runtime so that load drifts hit every mode
 * alike. Also the verification alone, in process (a token's first use, and its reuse from the cache).
 */
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { systemClock } from '../core/system.ts';
import { createAuthenticator } from '../functions/auth/authenticator.ts';
import { startLocalRuntime } from '../local/runtime.ts';
import { median, round, table, verdict } from './stats.ts';

const ROUNDS = 15;
const REQUESTS_PER_ROUND = 20;
const VERIFY_ITERATIONS = 2000;
export const AUTH_OVERHEAD_TARGET = 1.05;
/** One kept-alive connection, so each request measures the server's work rather than TCP set-up. */
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';

export interface AuthSection {
  readonly requests: number;
  readonly modes: ReadonlyArray<{ mode: string; medianMs: number; ratio: number; withinTarget: boolean }>;
  readonly verifyMicroseconds: ReadonlyArray<{ mode: string; micros: number }>;
}

export async function measureAuth(): Promise<AuthSection> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' };
  const jwks = await serveJson({ keys: [jwk] });
  const runtime = await startLocalRuntime({
    port: 0,
    host: '127.0.0.1',
    workflowsTableName: 'bench-auth',
    region: 'us-east-1',
    serviceVersion: 'bench',
    log: () => undefined,
    auth: { mode: 'optional', anonymousRole: 'admin', jwtSecret: SECRET, jwksUrl: jwks.url, adminApiKey: 'bench-admin-key-0123456789' },
  });
  try {
    const now = Math.floor(Date.now() / 1000);
    const hs256 = await new SignJWT({ roles: ['admin'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('bench').setIssuedAt(now).setExpirationTime(now + 3600).sign(new TextEncoder().encode(SECRET));
    const rs256 = await new SignJWT({ roles: ['admin'] }).setProtectedHeader({ alg: 'RS256', kid: 'bench-1' }).setSubject('bench').setIssuedAt(now).setExpirationTime(now + 3600).sign(privateKey);
    const created = await call(runtime.url, 'POST', '/auth/api-keys', {}, { name: 'bench', role: 'admin' });
    const managedKey = (created.body as { data: { api_key: string } }).data.api_key;
    const workflow = await call(runtime.url, 'POST', '/workflows', {}, { name: 'bench', actions: [{ action_id: 'a', action_type: 'notification', config: { message: 'hi' } }] });
    const path = `/workflows/${(workflow.body as { data: { workflow_id: string } }).data.workflow_id}`;

    const modes: Record<string, Record<string, string>> = {
      anonymous: {},
      'HS256 JWT': { authorization: `Bearer ${hs256}` },
      'RS256 JWT (JWKS, warm)': { authorization: `Bearer ${rs256}` },
      'managed API key (cached)': { 'x-api-key': managedKey },
      'ORCHESTRATOR_API_KEY': { 'x-api-key': 'bench-admin-key-0123456789' },
    };
    const samples = new Map<string, number[]>(Object.keys(modes).map((mode) => [mode, []]));
    // Warm-up: JIT, the JWKS fetch, the key cache.
    for (const headers of Object.values(modes)) for (let i = 0; i < 20; i++) await expectOk(call(runtime.url, 'GET', path, headers));
    const entries = Object.entries(modes);
    for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
      // Each round starts with another credential, so no mode always follows the same one.
      const order = [...entries.slice(roundIndex % entries.length), ...entries.slice(0, roundIndex % entries.length)];
      for (const [mode, headers] of order) {
        for (let i = 0; i < REQUESTS_PER_ROUND; i++) {
          const started = performance.now();
          await expectOk(call(runtime.url, 'GET', path, headers));
          samples.get(mode)!.push(performance.now() - started);
        }
      }
    }
    const baseline = median(samples.get('anonymous')!);
    const rows = [...samples].map(([mode, values]) => {
      const ratio = round(median(values) / baseline, 3);
      return { mode, medianMs: round(median(values), 3), ratio, withinTarget: ratio < AUTH_OVERHEAD_TARGET };
    });

    const authenticator = createAuthenticator({ mode: 'optional', anonymousRole: 'admin', jwtSecret: SECRET, jwksUrl: jwks.url }, { clock: systemClock });
    // Verification alone: the first use of a token (a signature check) and its reuse (the verified-token cache).
    const verifyMicroseconds = [];
    for (const [mode, input] of [
      ['anonymous', {}],
      ['HS256 JWT', { authorization: `Bearer ${hs256}` }],
      ['RS256 JWT (JWKS, warm)', { authorization: `Bearer ${rs256}` }],
    ] as const) {
      await authenticator.authenticate(input);
      const started = performance.now();
      for (let i = 0; i < VERIFY_ITERATIONS; i++) await authenticator.authenticate(input);
      verifyMicroseconds.push({ mode: `${mode} (same token)`, micros: round(((performance.now() - started) * 1000) / VERIFY_ITERATIONS, 1) });
    }
    for (const [mode, sign] of [
      ['HS256 JWT', (sub: string) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime(now + 3600).sign(new TextEncoder().encode(SECRET))],
      ['RS256 JWT (JWKS, warm)', (sub: string) => new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'bench-1' }).setSubject(sub).setExpirationTime(now + 3600).sign(privateKey)],
    ] as const) {
      const tokens = await Promise.all(Array.from({ length: 500 }, (_, index) => sign(`fresh-${index}`)));
      const started = performance.now();
      for (const token of tokens) await authenticator.authenticate({ authorization: `Bearer ${token}` });
      verifyMicroseconds.push({ mode: `${mode} (new token)`, micros: round(((performance.now() - started) * 1000) / tokens.length, 1) });
    }
    return { requests: ROUNDS * REQUESTS_PER_ROUND, modes: rows, verifyMicroseconds };
  } finally {
    agent.destroy();
    await runtime.close();
    await new Promise<void>((resolve) => jwks.server.close(() => resolve()));
  }
}

export function renderAuthSection(section: AuthSection): string {
  return [
    `7. Authentication overhead: GET /workflows/{id}, ${section.requests} requests per credential, interleaved rounds, median vs anonymous (target < ${AUTH_OVERHEAD_TARGET})`,
    table(
      ['credential', 'median ms', 'ratio', 'target'],
      section.modes.map((row) => [row.mode, row.medianMs, row.ratio, verdict(row.withinTarget)]),
    ),
    `   verification alone, in process: ${section.verifyMicroseconds.map((row) => `${row.mode} ${row.micros} µs`).join(', ')}`,
    '   The REQUEST authorizer\'s bundle size and cold init are in section 1.',
  ].join('\n');
}

async function expectOk(response: Promise<{ status: number }>): Promise<void> {
  const { status } = await response;
  if (status !== 200) throw new Error(`expected 200, got ${status}`);
}

function call(baseUrl: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const outgoing = request(`${baseUrl}${path}`, { method, agent, headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
    });
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

async function serveJson(document: unknown): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(document));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`, server };
}
