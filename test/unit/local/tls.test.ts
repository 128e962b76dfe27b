import { createServer as createNetServer, connect as netConnect, type Socket } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { readLocalConfig } from '../../../local/config.ts';
import { checkTlsMaterial, clientCertificateOf, readTlsFiles, tlsServerOptions, TlsConfigurationError } from '../../../local/tls.ts';
import { createCertificate, createCertificateAuthority, type TestCertificate } from '../../support/certificates.ts';

const ca = createCertificateAuthority('Unit CA');
const server = createCertificate({ subject: { O: 'Unit', CN: 'localhost' }, issuer: ca, altNames: ['localhost', '127.0.0.1'], usage: 'server' });
const client = createCertificate({ subject: { C: 'FR', O: 'Unit, Inc.', CN: 'peer-b' }, issuer: ca, usage: 'client' });
const stranger = createCertificate({ subject: { CN: 'peer-b' }, issuer: createCertificateAuthority('Other CA'), usage: 'client' });

/**
 * The server side of one real TLS connection on loopback: a server that asks for a client certificate but
 * lets every client in (rejectUnauthorized: false), so that the function is shown a certificate it did not
 * verify too; what it returns for the socket the client connected on.
 */
async function serverSideOf(clientCertificate?: TestCertificate): Promise<ReturnType<typeof clientCertificateOf>> {
  const tlsServer = createServer({ cert: server.cert, key: server.key, ca: ca.cert, requestCert: true, rejectUnauthorized: false });
  const accepted = new Promise<TLSSocket>((resolve) => tlsServer.once('secureConnection', resolve));
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  const { port } = tlsServer.address() as { port: number };
  const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.cert, ...(clientCertificate ? { cert: clientCertificate.cert, key: clientCertificate.key } : {}) });
  try {
    return clientCertificateOf(await accepted);
  } finally {
    socket.destroy();
    await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
  }
}

describe('the client certificate of a connection', () => {
  it('is the verified certificate, with its names in RFC 2253 order, serial, validity and PEM', async () => {
    expect(await serverSideOf(client)).toEqual({
      clientCertPem: client.cert,
      subjectDN: 'CN=peer-b,O=Unit\\, Inc.,C=FR',
      issuerDN: 'CN=Unit CA,O=Orchestrator tests',
      serialNumber: expect.stringMatching(/^[0-9a-f]{2}(:[0-9a-f]{2}){15}$/),
      validity: { notBefore: client.x509.validFrom, notAfter: client.x509.validTo },
    });
    expect((await serverSideOf(client))?.serialNumber.replaceAll(':', '')).toBe(client.x509.serialNumber.toLowerCase());
  });

  it('is null when the certificate does not chain to the client CA, when there is none, and on a plain socket', async () => {
    expect(await serverSideOf(stranger)).toBeNull();
    expect(await serverSideOf()).toBeNull();
    const plain = createNetServer();
    const accepted = new Promise<Socket>((resolve) => plain.once('connection', resolve));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const socket = netConnect((plain.address() as { port: number }).port, '127.0.0.1');
    expect(clientCertificateOf(await accepted)).toBeNull();
    socket.destroy();
    await new Promise<void>((resolve) => plain.close(() => resolve()));
  });
});

describe('TLS server options', () => {
  it('require TLS 1.2 or later, and a verified client certificate only with a client CA', () => {
    expect(tlsServerOptions({ cert: server.cert, key: server.key })).toEqual({ cert: server.cert, key: server.key, minVersion: 'TLSv1.2' });
    expect(tlsServerOptions({ cert: server.cert, key: server.key, clientCa: ca.cert })).toMatchObject({ minVersion: 'TLSv1.2', ca: ca.cert, requestCert: true, rejectUnauthorized: true });
  });
});

describe('TLS material', () => {
  const problems = (run: () => unknown): readonly string[] => {
    try {
      run();
    } catch (error) {
      if (error instanceof TlsConfigurationError) return error.problems;
      throw error;
    }
    throw new Error('expected a TlsConfigurationError');
  };

  it('accepts a certificate with its own key, and a CA bundle', () => {
    const material = { cert: server.cert, key: server.key, clientCa: `${ca.cert}${stranger.cert}` };
    expect(checkTlsMaterial(material)).toBe(material);
  });

  it('names each option at fault: not PEM, a key of another certificate, an expired certificate, an empty CA bundle', () => {
    expect(problems(() => checkTlsMaterial({ cert: 'not a certificate', key: 'not a key', clientCa: '' }))).toEqual([
      'tls.cert does not hold a PEM certificate (-----BEGIN CERTIFICATE-----)',
      'tls.key does not hold a PEM private key (encrypted keys are not supported)',
      'tls.clientCa does not hold a PEM certificate (-----BEGIN CERTIFICATE-----)',
    ]);
    expect(problems(() => checkTlsMaterial({ cert: server.cert, key: client.key }))).toEqual(['tls.key is not the private key of the certificate in tls.cert']);
    const expired = createCertificate({ subject: { CN: 'old' }, notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') });
    expect(problems(() => checkTlsMaterial({ cert: expired.cert, key: expired.key }))).toEqual([`tls.cert: the certificate expired on ${expired.x509.validTo}`]);
  });

  it('reads the files named by the configuration, naming each variable and path that fails', () => {
    const files: Record<string, string> = { '/tls/cert.pem': server.cert, '/tls/key.pem': server.key, '/tls/ca.pem': ca.cert };
    const read = (path: string) => {
      const found = files[path];
      if (found === undefined) throw Object.assign(new Error(`ENOENT: no such file ${path}`), { code: 'ENOENT' });
      return found;
    };
    expect(readTlsFiles({ enabled: true, certPath: '/tls/cert.pem', keyPath: '/tls/key.pem', clientCaPath: '/tls/ca.pem' }, read)).toEqual({ cert: server.cert, key: server.key, clientCa: ca.cert });
    expect(readTlsFiles({ enabled: false }, read)).toBeUndefined();
    expect(problems(() => readTlsFiles({ enabled: true, certPath: '/tls/missing.pem', keyPath: '/tls/key.pem', clientCaPath: '/tls/gone.pem' }, read))).toEqual([
      'ORCHESTRATOR_TLS_CERT_PATH: cannot read /tls/missing.pem (ENOENT)',
      'ORCHESTRATOR_TLS_CLIENT_CA_PATH: cannot read /tls/gone.pem (ENOENT)',
    ]);
    expect(problems(() => readTlsFiles({ enabled: true, certPath: '/tls/key.pem', keyPath: '/tls/key.pem' }, read))).toEqual([
      'ORCHESTRATOR_TLS_CERT_PATH does not hold a PEM certificate (-----BEGIN CERTIFICATE-----)',
    ]);
  });
});

describe('TLS configuration (local/config.ts)', () => {
  it('refuses TLS without a certificate or key path, naming both variables (and where TLS was switched on)', () => {
    expect(() => readLocalConfig({ ORCHESTRATOR_ENABLE_TLS: 'true' })).toThrow(
      'invalid configuration: ORCHESTRATOR_TLS_CERT_PATH is required when ORCHESTRATOR_ENABLE_TLS (env) is true; ORCHESTRATOR_TLS_KEY_PATH is required when ORCHESTRATOR_ENABLE_TLS (env) is true',
    );
  });

  it('refuses a file it cannot read, naming the variable and the path', () => {
    expect(() => readLocalConfig({ ORCHESTRATOR_ENABLE_TLS: 'true', ORCHESTRATOR_TLS_CERT_PATH: '/nonexistent/cert.pem', ORCHESTRATOR_TLS_KEY_PATH: '/nonexistent/key.pem' })).toThrow(
      /^invalid configuration: ORCHESTRATOR_TLS_CERT_PATH \(env\): cannot read \/nonexistent\/cert\.pem \(ENOENT\); ORCHESTRATOR_TLS_KEY_PATH \(env\): cannot read \/nonexistent\/key\.pem \(ENOENT\)$/,
    );
  });

  it('refuses TLS paths while TLS is off rather than serve plain HTTP, and a flag that is not a boolean', () => {
    expect(() => readLocalConfig({ ORCHESTRATOR_TLS_CLIENT_CA_PATH: '/tls/ca.pem' })).toThrow(
      'invalid configuration: ORCHESTRATOR_TLS_CLIENT_CA_PATH (env) is set but ORCHESTRATOR_ENABLE_TLS is not true: set it to serve HTTPS, or unset it',
    );
    expect(() => readLocalConfig({ ORCHESTRATOR_ENABLE_TLS: 'yes' })).toThrow('ORCHESTRATOR_ENABLE_TLS (env): ORCHESTRATOR_ENABLE_TLS must be true or false');
  });

  it('serves plain HTTP when TLS is not enabled', () => {
    expect(readLocalConfig({}).tls).toBeUndefined();
    expect(readLocalConfig({ ORCHESTRATOR_ENABLE_TLS: 'false' }).tls).toBeUndefined();
  });
});
