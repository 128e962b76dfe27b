import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupAll } from '../../adapters/http/guarded-agent.ts';
import { OutboundHttpError } from '../../adapters/http/outbound-http.ts';
import { ActionErrorName } from '../../core/errors.ts';
import { createActionRunner } from '../../functions/workers/action-runner.ts';
import type { ServiceCallPayload } from '../../functions/workers/service-call.ts';
import { fixedRegistry } from '../support/fixed-registry.ts';
import { testHttp, type TestOutboundOptions } from '../support/outbound.ts';
import { failure } from '../support/service-call-failure.ts';

/** The outbound policy as the action runner applies it: real undici connections to loopback servers. */

/** What the service saw: each request, and each connection (a refused call opens none). */
const seen: { url: string; host: string | undefined }[] = [];
let connections = 0;
let server: Server;
let port: number;
/** A server on every interface, for the "this host's address" case. */
let wide: Server;
let widePort: number;

const listen = async (handler: (request: IncomingMessage) => void, host: string): Promise<[Server, number]> => {
  const created = createServer((request, response) => {
    handler(request);
    if (request.url === '/redirect-metadata') response.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/iam/' }).end();
    else if (request.url === '/redirect-file') response.writeHead(302, { location: 'file:///etc/passwd' }).end();
    else response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  created.on('connection', () => connections++);
  await new Promise<void>((resolve) => created.listen(0, host, resolve));
  return [created, (created.address() as AddressInfo).port];
};

beforeAll(async () => {
  [server, port] = await listen((request) => seen.push({ url: request.url ?? '', host: request.headers.host }), '127.0.0.1');
  [wide, widePort] = await listen(() => undefined, '0.0.0.0');
});
afterAll(async () => {
  for (const each of [server, wide]) {
    each.closeAllConnections();
    await new Promise<void>((resolve) => each.close(() => resolve()));
  }
});

/** A resolver with fixed answers, so host names can "resolve" anywhere. */
const lookup: LookupAll = async (hostname) => {
  const answers: Record<string, string[]> = {
    'metadata.test': ['169.254.169.254'],
    'link-local.test': ['fe80::1'],
    'mixed.test': ['127.0.0.1', '169.254.169.254'],
    'loopback.test': ['127.0.0.1'],
    'both.test': ['10.0.0.5', '127.0.0.1'],
    'private.test': ['10.255.255.1'],
    'svc.test': ['127.0.0.1'],
  };
  const addresses = answers[hostname];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const payload: ServiceCallPayload = { action_id: 'call', execution_id: 'exec-1', workflow_id: 'wf-1', workflow_version: 1, service: 'svc', endpoint: '/', method: 'GET', timeout_seconds: 1 };
const runAt = (url: string, options: TestOutboundOptions = {}, endpoint = '/') =>
  createActionRunner({ registry: fixedRegistry({ svc: url }), env: {}, http: testHttp({ lookup, ...options }) })({ ...payload, endpoint });

describe('addresses that are never called', () => {
  it.each([
    ['http://169.254.169.254/latest', /cloud metadata/],
    ['http://[fd00:ec2::254]/', /cloud metadata/],
    ['http://[::ffff:169.254.169.254]/', /cloud metadata/],
    ['http://169.254.1.1:8080', /link-local/],
    ['http://[fe80::1]/', /link-local/],
    ['http://0.0.0.0:8080', /unspecified/],
    ['http://239.1.1.1', /multicast/],
    ['http://metadata.test/latest', /metadata\.test resolves to 169\.254\.169\.254, a cloud metadata address/],
    ['http://link-local.test', /link-local/],
    ['http://mixed.test', /mixed\.test resolves to 169\.254\.169\.254, a cloud metadata address/],
  ])('refuses %s with ForbiddenAddressError, without connecting', async (url, reason) => {
    const before = connections;
    const { error, details } = await failure(runAt(url));
    expect(error.name).toBe(ActionErrorName.ForbiddenAddress);
    expect(error.retryable).toBe(false);
    expect(details.message).toMatch(reason);
    expect(connections).toBe(before);
  });

  it('refuses cloud metadata even when an allow entry covers it (a network or a host name)', async () => {
    for (const allow of [['169.254.0.0/16'], ['0.0.0.0/0'], ['metadata.test'], ['::/0']]) {
      const { error, details } = await failure(runAt('http://metadata.test', { allow }));
      expect(error.name, allow.join()).toBe(ActionErrorName.ForbiddenAddress);
      expect(details.message).toMatch(/cloud metadata/);
    }
  });

  it('refuses to follow a redirect to a forbidden address or scheme', async () => {
    const before = seen.length;
    const { error, details } = await failure(runAt(`http://127.0.0.1:${port}`, {}, '/redirect-metadata'));
    expect(error.name).toBe(ActionErrorName.ForbiddenAddress);
    expect(details.final_url).toBe('http://169.254.169.254/latest/meta-data/iam/');
    expect(seen.length).toBe(before + 1);
    expect((await failure(runAt(`http://127.0.0.1:${port}`, {}, '/redirect-file'))).error.name).toBe(ActionErrorName.ForbiddenAddress);
  });

  it('refuses non-http schemes', async () => {
    for (const url of ['ftp://files.internal/', 'file:///etc/passwd', 'gopher://x']) {
      expect((await failure(runAt(url))).error.name, url).toBe(ActionErrorName.ForbiddenAddress);
    }
  });
});

describe("the orchestrator's own listeners", () => {
  it('are refused even though 127.0.0.1/8 is allowed, by address, by name and by host name entry', async () => {
    const before = connections;
    for (const [url, allow] of [
      [`http://127.0.0.1:${port}`, ['127.0.0.1/8']],
      [`http://loopback.test:${port}`, ['127.0.0.1/8']],
      [`http://svc.test:${port}`, ['svc.test']],
      [`http://0.0.0.0:${port}`, ['0.0.0.0/0', '127.0.0.1/8']],
    ] as const) {
      const { error, details } = await failure(runAt(url, { allow, ownPorts: new Set([port]) }));
      expect(error.name, url).toBe(ActionErrorName.ForbiddenAddress);
      expect(details.message).toMatch(new RegExp(`own listener \\(port ${port}\\)`));
    }
    expect(connections).toBe(before);
    // The same server is called when its port is not one of the orchestrator's.
    expect((await runAt(`http://127.0.0.1:${port}`, { ownPorts: new Set([port + 1]) })).status_code).toBe(200);
  });

  it("are refused on this host's other addresses too (an emulator listening on every interface)", async () => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal)?.address;
    if (address === undefined) return; // No interface but loopback on this machine: nothing to show.
    const { error, details } = await failure(runAt(`http://${address}:${widePort}`, { allow: ['0.0.0.0/0'], ownPorts: new Set([widePort]) }));
    expect(error.name).toBe(ActionErrorName.ForbiddenAddress);
    expect(details.message).toMatch(/own listener/);
  });
});

describe('ORCHESTRATOR_OUTBOUND_ALLOW', () => {
  it('refuses loopback and private addresses it does not list', async () => {
    for (const url of [`http://127.0.0.1:${port}`, `http://loopback.test:${port}`, 'http://private.test', `http://[::1]:${port}`]) {
      const { error, details } = await failure(runAt(url, { allow: [] }));
      expect(error.name, url).toBe(ActionErrorName.ForbiddenAddress);
      expect(details.message).toMatch(/address not allowed by ORCHESTRATOR_OUTBOUND_ALLOW/);
    }
  });

  it('allows an address by a CIDR entry, and a name by a host name entry (exact, case-insensitive)', async () => {
    expect((await runAt(`http://127.0.0.1:${port}`, { allow: ['127.0.0.1/32'] })).status_code).toBe(200);
    expect((await runAt(`http://SVC.test:${port}`, { allow: ['svc.TEST'] })).status_code).toBe(200);
    expect(seen.at(-1)?.host).toBe(`svc.test:${port}`);
    // Another name resolving to the same address is not covered by the entry.
    expect((await failure(runAt(`http://loopback.test:${port}`, { allow: ['svc.test'] }))).error.name).toBe(ActionErrorName.ForbiddenAddress);
  });

  it('lets a private network through when it lists it (the connection is then attempted)', async () => {
    const http = testHttp({ lookup, allow: ['10.0.0.0/8'] });
    const refusedWithout = await testHttp({ lookup, allow: [] })
      .send({ method: 'GET', url: 'http://private.test/', maxBodyBytes: 100, signal: AbortSignal.timeout(300) })
      .catch((error: unknown) => error);
    expect(refusedWithout).toMatchObject({ kind: 'refused' });
    // Whatever is (or is not) at 10.255.255.1 here, an answer or a network failure: not a refusal.
    const attempted = await http.send({ method: 'GET', url: 'http://private.test/', maxBodyBytes: 100, signal: AbortSignal.timeout(300) }).catch((error: unknown) => error);
    if (attempted instanceof OutboundHttpError) expect(attempted.kind).not.toBe('refused');
    else expect(attempted).toMatchObject({ status: expect.any(Number) });
  });

  it('connects to the allowed addresses of a name and skips the others (localhost is ::1 and 127.0.0.1)', async () => {
    expect((await runAt(`http://both.test:${port}`)).status_code).toBe(200);
  });

  it('refuses a malformed entry at start-up, naming it', () => {
    expect(() => testHttp({ allow: ['10.0.0.0/33'] })).toThrow(/ORCHESTRATOR_OUTBOUND_ALLOW: "10\.0\.0\.0\/33" is not an IP address, a CIDR network or a host name/);
  });
});
