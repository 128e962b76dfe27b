import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalSecretResolver } from '../../adapters/local/local-secret-resolver.ts';
import { ActionErrorName } from '../../core/errors.ts';
import type { SecretResolver } from '../../core/ports.ts';
import type { ServiceAuth } from '../../core/registry/model.ts';
import { createActionRunner } from '../../functions/workers/action-runner.ts';
import type { ServiceCallPayload } from '../../functions/workers/service-call.ts';
import type { ResolverRegistry } from '../../functions/workers/service-resolver.ts';
import { instanceAt } from '../support/fixed-registry.ts';
import { serviceCallPayload, testHttp } from '../support/outbound.ts';
import { failure } from '../support/service-call-failure.ts';

/** Outbound credentials (a registration's `auth`), through the real runner and adapter to loopback servers. */

const SECRET = 'tok-9f8e7d6c5b4a';
interface Seen {
  server: 'service' | 'elsewhere';
  path: string;
  headers: IncomingMessage['headers'];
}
const seen: Seen[] = [];
let service: Server;
let elsewhere: Server;
let serviceOrigin: string;
let elsewhereOrigin: string;
let secretsDir: string;

const start = async (name: Seen['server'], handle: (path: string, respond: (status: number, body: unknown, headers?: Record<string, string>) => void, request: IncomingMessage) => void) => {
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    seen.push({ server: name, path, headers: request.headers });
    handle(path, (status, body, headers = {}) => response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body)), request);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return [server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`] as const;
};

beforeAll(async () => {
  [elsewhere, elsewhereOrigin] = await start('elsewhere', (_path, respond) => respond(200, { elsewhere: true }));
  [service, serviceOrigin] = await start('service', (path, respond, request) => {
    if (path === '/api/v1/echo') return respond(200, { authorization: request.headers.authorization ?? null, key: request.headers['x-api-key'] ?? null });
    if (path === '/api/v1/fail') return respond(500, { error: 'failed', saw: request.headers.authorization ?? null }, { 'x-echo': String(request.headers.authorization) });
    if (path === '/api/v1/same') return respond(302, {}, { location: '/api/v1/echo' });
    if (path === '/api/v1/outside') return respond(302, {}, { location: '/admin/echo' });
    if (path === '/api/v1/away') return respond(307, {}, { location: `${elsewhereOrigin}/api/v1/echo` });
    respond(200, { path });
  });
  secretsDir = await mkdtemp(join(tmpdir(), 'orchestrator-secrets-'));
});
afterAll(async () => {
  for (const server of [service, elsewhere]) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await rm(secretsDir, { recursive: true, force: true });
});

const secrets: SecretResolver = createLocalSecretResolver({ env: { SVC_TOKEN: SECRET, SVC_BASIC: `robot:${SECRET}` } });

/** `svc` registered at <service>/api/v1 with `auth`; `other` only configured (OTHER_URL), at the same place. */
function runner(auth: ServiceAuth, resolver: SecretResolver | null = secrets) {
  const instances = { svc: instanceAt('svc', `${serviceOrigin}/api/v1`, { auth }) };
  const registry: ResolverRegistry = { instancesOf: async (name) => (name === 'svc' ? [instances.svc] : []), updateCircuit: async () => true };
  return createActionRunner({ registry, env: { OTHER_URL: `${serviceOrigin}/api/v1` }, http: testHttp(), ...(resolver === null ? {} : { secrets: resolver }) });
}
const call = (endpoint: string, extra: Partial<ServiceCallPayload> = {}): ServiceCallPayload => serviceCallPayload(endpoint, { action_id: 'call', workflow_id: 'wf' }, extra);
const bearer: ServiceAuth = { type: 'bearer', secret_ref: 'env:SVC_TOKEN' };

describe('the credential a service is registered with', () => {
  it('arrives as a bearer token, replacing an Authorization header the workflow set; the echoed value is redacted', async () => {
    const result = await runner(bearer)(call('/echo', { headers: { Authorization: 'Bearer smuggled', 'X-Tenant': 'acme' } }));
    expect(seen.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(seen.at(-1)?.headers['x-tenant']).toBe('acme');
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect(result.response).toEqual({ authorization: '[redacted]', key: null });
  });

  it('arrives as an API key in its header (X-API-Key by default), and as basic credentials', async () => {
    await runner({ type: 'api_key', secret_ref: 'env:SVC_TOKEN', header: 'X-API-Key' })(call('/echo'));
    expect(seen.at(-1)?.headers['x-api-key']).toBe(SECRET);
    await runner({ type: 'api_key', secret_ref: 'env:SVC_TOKEN', header: 'X-Service-Key' })(call('/echo', { headers: { 'x-service-key': 'smuggled' } }));
    expect(seen.at(-1)?.headers['x-service-key']).toBe(SECRET);
    await runner({ type: 'basic', secret_ref: 'env:SVC_BASIC' })(call('/echo'));
    expect(seen.at(-1)?.headers.authorization).toBe(`Basic ${Buffer.from(`robot:${SECRET}`).toString('base64')}`);
  });

  it('follows a redirect within the base path, and is not sent on one outside it or to another origin', async () => {
    await runner(bearer)(call('/same'));
    expect(seen.slice(-2).map((entry) => [entry.path, entry.headers.authorization])).toEqual([
      ['/api/v1/same', `Bearer ${SECRET}`],
      ['/api/v1/echo', `Bearer ${SECRET}`],
    ]);
    await runner(bearer)(call('/outside'));
    expect(seen.at(-1)).toMatchObject({ server: 'service', path: '/admin/echo' });
    expect(seen.at(-1)?.headers.authorization).toBeUndefined();
    await runner(bearer)(call('/away'));
    expect(seen.at(-1)).toMatchObject({ server: 'elsewhere', path: '/api/v1/echo' });
    expect(seen.at(-1)?.headers.authorization).toBeUndefined();
  });

  it('is never sent to a service found by <NAME>_URL, even at the same address', async () => {
    await runner(bearer)(call('/echo', { service: 'other' }));
    expect(seen.at(-1)?.path).toBe('/api/v1/echo');
    expect(seen.at(-1)?.headers.authorization).toBeUndefined();
  });

  it('stays out of the error (and so of the dead letter) when the service fails and echoes it', async () => {
    const { error, details } = await failure(runner(bearer)(call('/fail', { headers: { Authorization: 'Bearer smuggled' } })));
    expect(error.name).toBe(ActionErrorName.ServiceUnavailable);
    expect(error.message).not.toContain(SECRET);
    expect(details.request.headers).not.toHaveProperty('authorization');
    expect(details.response).toEqual({ error: 'failed', saw: '[redacted]' });
  });

  it('fails the call, naming the reference and never a value, when the secret cannot be read', async () => {
    const { error, details } = await failure(runner({ type: 'bearer', secret_ref: 'env:MISSING_TOKEN' })(call('/echo')));
    expect(error.name).toBe(ActionErrorName.ServiceRejected);
    expect(details.message).toMatch(/credential of service 'svc' could not be read: the secret env:MISSING_TOKEN is not set/);
    const without = await failure(runner(bearer, null)(call('/echo')));
    expect(without.details.message).toMatch(/reads no secrets/);
    const basic = await failure(runner({ type: 'basic', secret_ref: 'env:SVC_TOKEN' })(call('/echo')));
    expect(basic.details.message).toMatch(/must be user:password/);
    expect(basic.error.message).not.toContain(SECRET);
  });
});

describe('the local secret resolver', () => {
  it('reads env: from the environment it was given and file: from the file, without its trailing newline', async () => {
    const path = join(secretsDir, 'token');
    await writeFile(path, `${SECRET}\n`);
    expect(await secrets.resolve('env:SVC_TOKEN')).toBe(SECRET);
    expect(await secrets.resolve(`file:${path}`)).toBe(SECRET);
    await runner({ type: 'bearer', secret_ref: `file:${path}` })(call('/echo'));
    expect(seen.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('refuses missing secrets, AWS references and the orchestrator’s own variables, naming the reference only', async () => {
    await expect(secrets.resolve(`file:${join(secretsDir, 'absent')}`)).rejects.toThrow(/could not be read \(ENOENT\)/);
    await expect(secrets.resolve('secretsmanager:orchestrator/x')).rejects.toThrow(/local runtime does not read/);
    const withOwn = createLocalSecretResolver({ env: { AWS_SECRET_ACCESS_KEY: 'aws-secret', ORCHESTRATOR_API_KEY: 'admin-key' } });
    for (const ref of ['env:AWS_SECRET_ACCESS_KEY', 'env:ORCHESTRATOR_API_KEY']) {
      const error = await withOwn.resolve(ref).then(
        () => new Error('resolved'),
        (caught: unknown) => caught as Error,
      );
      expect(error.message, ref).toMatch(/orchestrator's own credentials/);
      expect(error.message).not.toMatch(/aws-secret|admin-key/);
    }
  });
});
