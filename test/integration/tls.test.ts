import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiHandler } from '../../functions/middleware/http-handler.ts';
import { routes, type RouteName } from '../../functions/routes.ts';
import { readLocalConfig } from '../../local/config.ts';
import type { RequestGate } from '../../local/gate.ts';
import { createLocalServer, listen, type RunningServer } from '../../local/http-server.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import type { TlsMaterial } from '../../local/tls.ts';
import { startTestApi } from '../support/api.ts';
import { createCertificate, createCertificateAuthority } from '../support/certificates.ts';
import { get } from '../support/https.ts';

/**
 * `npm start` with ORCHESTRATOR_ENABLE_TLS: the configuration reads the certificate files, the runtime serves
 * HTTPS (and mutual TLS with a client CA) with the same handlers. Certificates are made by the test: a CA, a
 * server certificate for localhost and 127.0.0.1, a client certificate it signed, and one from another CA.
 */
const ORG = 'Orchestrator tests';
const ca = createCertificateAuthority('Orchestrator test CA');
const serverCertificate = createCertificate({ subject: { O: ORG, CN: 'localhost' }, issuer: ca, altNames: ['localhost', '127.0.0.1'], usage: 'server' });
const client = createCertificate({ subject: { O: ORG, CN: 'peer-b' }, issuer: ca, usage: 'client' });
const otherCa = createCertificateAuthority('Someone else');
const stranger = createCertificate({ subject: { O: ORG, CN: 'peer-b' }, issuer: otherCa, usage: 'client' });

/** The handshake alone: the negotiated version, or the error that ended it. */
function handshake(url: string, options: ConnectionOptions): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), servername: 'localhost', ...options }, () => {
      resolve(socket.getProtocol() ?? 'unknown');
      socket.end();
    });
    socket.on('error', reject);
  });
}

let dir: string;
/** The configuration `npm start` would read with these variables, files written under `dir`. */
async function tlsConfig(withClientCa: boolean): Promise<TlsMaterial> {
  const files = { 'ca.pem': ca.cert, 'server.pem': serverCertificate.cert, 'server-key.pem': serverCertificate.key };
  await Promise.all(Object.entries(files).map(([name, pem]) => writeFile(join(dir, name), pem, { mode: 0o600 })));
  const config = readLocalConfig({
    ORCHESTRATOR_ENABLE_TLS: 'true',
    ORCHESTRATOR_TLS_CERT_PATH: join(dir, 'server.pem'),
    ORCHESTRATOR_TLS_KEY_PATH: join(dir, 'server-key.pem'),
    ...(withClientCa ? { ORCHESTRATOR_TLS_CLIENT_CA_PATH: join(dir, 'ca.pem') } : {}),
  });
  return config.tls!;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orchestrator-tls-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('HTTPS (ORCHESTRATOR_ENABLE_TLS)', () => {
  let api: { runtime: LocalRuntime };

  beforeAll(async () => {
    const tls = await tlsConfig(false);
    expect(tls.clientCa).toBeUndefined();
    api = await startTestApi({ tls });
  });
  afterAll(() => api?.runtime.close());

  it('serves the API over HTTPS at an https:// URL to a client that trusts the CA', async () => {
    expect(api.runtime.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const reply = await get(`${api.runtime.url}/health`, { ca: ca.cert });
    expect(reply.status, reply.body).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ success: true, data: { version: 'test' } });
    expect(reply.protocol).toBe('TLSv1.3');
  });

  it('is refused by a client that does not trust its CA', async () => {
    await expect(get(`${api.runtime.url}/health`)).rejects.toThrow(/issuer|self.signed|verify/i);
  });

  it('answers nothing to plain HTTP on the TLS port', async () => {
    await expect(get(`${api.runtime.url.replace(/^https:/, 'http:')}/health`)).rejects.toThrow(/socket hang up|ECONNRESET|closed/i);
  });

  it('refuses TLS versions older than 1.2, and accepts 1.2', async () => {
    // The client offers TLS 1.0-1.1 only (its own security level lowered so that it may): the server alerts.
    // OpenSSL 3's default security level refuses them too; the unit test checks that minVersion says so as well.
    await expect(handshake(api.runtime.url, { ca: ca.cert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).rejects.toMatchObject({
      code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
    });
    expect(await handshake(api.runtime.url, { ca: ca.cert, maxVersion: 'TLSv1.2' })).toBe('TLSv1.2');
  });

  it('asks no client certificate without a client CA', async () => {
    expect((await get(`${api.runtime.url}/health`, { ca: ca.cert, cert: stranger.cert, key: stranger.key })).status).toBe(200);
  });
});

describe('mutual TLS (ORCHESTRATOR_TLS_CLIENT_CA_PATH)', () => {
  let api: { runtime: LocalRuntime };

  beforeAll(async () => {
    api = await startTestApi({ tls: await tlsConfig(true) });
  });
  afterAll(() => api?.runtime.close());

  it('answers a client whose certificate the CA signed', async () => {
    const reply = await get(`${api.runtime.url}/health`, { ca: ca.cert, cert: client.cert, key: client.key });
    expect(reply.status, reply.body).toBe(200);
  });

  it('refuses a client without a certificate', async () => {
    await expect(get(`${api.runtime.url}/health`, { ca: ca.cert })).rejects.toThrow(/certificate required|alert|socket hang up|ECONNRESET/i);
  });

  it('refuses a client whose certificate another CA signed, even with the same subject', async () => {
    await expect(get(`${api.runtime.url}/health`, { ca: ca.cert, cert: stranger.cert, key: stranger.key })).rejects.toThrow(/unknown ca|alert|socket hang up|ECONNRESET/i);
  });

  it('refuses a TLS 1.2 client without a certificate during the handshake', async () => {
    await expect(handshake(api.runtime.url, { ca: ca.cert, maxVersion: 'TLSv1.2' })).rejects.toThrow(/handshake failure|alert|ECONNRESET|socket hang up/i);
  });
});

describe("the proxy event's client certificate", () => {
  const events: APIGatewayProxyEvent[] = [];
  const capture: ApiHandler = async (event) => {
    events.push(event);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' };
  };
  const handlers = Object.fromEntries(Object.keys(routes).map((name) => [name, capture])) as Record<RouteName, ApiHandler>;
  // Authentication is not what this checks: every request is let through.
  const gate: RequestGate = { admit: async () => ({ context: { subject: 'test', roles: 'admin', tenant: 'default', method: 'test' } }) };
  const servers: RunningServer[] = [];
  const serve = async (tls?: TlsMaterial) => {
    const running = await listen(createLocalServer({ routes, handlers, gate, ...(tls ? { tls } : {}) }), 0, '127.0.0.1');
    servers.push(running);
    return running.url;
  };
  afterAll(() => Promise.all(servers.map((server) => server.close())));

  it("is the verified client's certificate, as API Gateway passes it with mutual TLS", async () => {
    const url = await serve({ cert: serverCertificate.cert, key: serverCertificate.key, clientCa: ca.cert });
    events.length = 0;
    expect((await get(`${url}/health`, { ca: ca.cert, cert: client.cert, key: client.key })).status).toBe(200);
    expect(events[0]?.requestContext.identity.clientCert).toEqual({
      clientCertPem: client.cert,
      subjectDN: `CN=peer-b,O=${ORG}`,
      issuerDN: `CN=Orchestrator test CA,O=${ORG}`,
      serialNumber: client.x509.serialNumber.toLowerCase().match(/../g)!.join(':'),
      validity: { notBefore: client.x509.validFrom, notAfter: client.x509.validTo },
    });
  });

  it('is null over HTTPS without mutual TLS, and over HTTP', async () => {
    events.length = 0;
    await get(`${await serve({ cert: serverCertificate.cert, key: serverCertificate.key })}/health`, { ca: ca.cert, cert: client.cert, key: client.key });
    await get(`${await serve()}/health`);
    expect(events.map((event) => event.requestContext.identity.clientCert)).toEqual([null, null]);
  });
});
