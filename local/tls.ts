import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { APIGatewayEventClientCertificate } from 'aws-lambda';

/**
 * HTTPS and mutual TLS for the local server: the certificate files, their checks at start-up, the server's TLS
 * options, and the client certificate a handler sees in its proxy event (as API Gateway passes it with mTLS).
 */

/** PEM text: the server's certificate (a chain may follow it), its private key, and the CAs client certificates must chain to. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  /** When present, every client must present a certificate signed by one of these CAs (mutual TLS). */
  readonly clientCa?: string;
}

/** What names each file in error messages: configuration variables, or option names. */
export interface TlsSourceNames {
  readonly cert: string;
  readonly key: string;
  readonly clientCa: string;
}

/** The configuration variables (local/config.ts), as errors name them. */
export const TLS_VARIABLES: TlsSourceNames = {
  cert: 'ORCHESTRATOR_TLS_CERT_PATH',
  key: 'ORCHESTRATOR_TLS_KEY_PATH',
  clientCa: 'ORCHESTRATOR_TLS_CLIENT_CA_PATH',
};

const OPTION_NAMES: TlsSourceNames = { cert: 'tls.cert', key: 'tls.key', clientCa: 'tls.clientCa' };

/** TLS 1.2 at least: older versions have known weaknesses and no current client needs them. */
export const MIN_TLS_VERSION = 'TLSv1.2';

export interface TlsSettings {
  /** ORCHESTRATOR_ENABLE_TLS */
  readonly enabled: boolean;
  readonly certPath?: string;
  readonly keyPath?: string;
  readonly clientCaPath?: string;
}

/**
 * The TLS material the settings ask for, read and checked, or undefined when TLS is off. Every problem is
 * reported at once, each naming its variable: TLS on without a certificate or key path, a TLS path set while
 * TLS is off (it would silently serve plain HTTP), a file that cannot be read or does not hold what it should.
 */
export function readTlsFiles(settings: TlsSettings, read: (path: string) => string = (path) => readFileSync(path, 'utf8')): TlsMaterial | undefined {
  const paths = { cert: settings.certPath, key: settings.keyPath, clientCa: settings.clientCaPath };
  if (!settings.enabled) {
    const set = (Object.keys(paths) as (keyof typeof paths)[]).filter((which) => paths[which] !== undefined).map((which) => TLS_VARIABLES[which]);
    if (set.length > 0) throw new TlsConfigurationError([`${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set but ORCHESTRATOR_ENABLE_TLS is not true: set it to serve HTTPS, or unset ${set.length === 1 ? 'it' : 'them'}`]);
    return undefined;
  }
  const problems: string[] = [];
  const contents: Partial<Record<keyof typeof paths, string>> = {};
  for (const which of ['cert', 'key', 'clientCa'] as const) {
    const path = paths[which];
    if (path === undefined) {
      if (which !== 'clientCa') problems.push(`${TLS_VARIABLES[which]} is required when ORCHESTRATOR_ENABLE_TLS is true`);
      continue;
    }
    try {
      contents[which] = read(path);
    } catch (error) {
      problems.push(`${TLS_VARIABLES[which]}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  if (problems.length > 0) throw new TlsConfigurationError(problems);
  const material = { cert: contents.cert!, key: contents.key!, ...(contents.clientCa === undefined ? {} : { clientCa: contents.clientCa }) };
  return checkTlsMaterial(material, TLS_VARIABLES);
}

/**
 * Checks PEM material before a server is built on it (Node's own errors, like `DECODER routines::unsupported`,
 * do not say which file is wrong): the certificate parses and has not expired, the key parses and belongs to it,
 * and the client CA bundle holds at least one certificate, each of which parses. Returns the material.
 */
export function checkTlsMaterial(material: TlsMaterial, names: TlsSourceNames = OPTION_NAMES, now: Date = new Date()): TlsMaterial {
  const problems: string[] = [];
  const certificates = parseCertificates(material.cert, names.cert, problems);
  let key: KeyObject | undefined;
  try {
    key = createPrivateKey(material.key);
  } catch {
    problems.push(`${names.key} does not hold a PEM private key (encrypted keys are not supported)`);
  }
  const certificate = certificates[0];
  if (certificate !== undefined) {
    if (Date.parse(certificate.validTo) <= now.getTime()) problems.push(`${names.cert}: the certificate expired on ${certificate.validTo}`);
    if (key !== undefined && !certificate.checkPrivateKey(key)) problems.push(`${names.key} is not the private key of the certificate in ${names.cert}`);
  }
  if (material.clientCa !== undefined) parseCertificates(material.clientCa, names.clientCa, problems);
  if (problems.length > 0) throw new TlsConfigurationError(problems);
  return material;
}

/** The server's TLS options: TLS 1.2 or later; with a client CA, a verified client certificate is required. */
export function tlsServerOptions(material: TlsMaterial): ServerOptions {
  return {
    cert: material.cert,
    key: material.key,
    minVersion: MIN_TLS_VERSION,
    ...(material.clientCa === undefined ? {} : { ca: material.clientCa, requestCert: true, rejectUnauthorized: true }),
  };
}

/**
 * The client certificate of a connection, as API Gateway puts it in `requestContext.identity.clientCert` with
 * mutual TLS, or null: only a certificate the TLS layer verified against the configured client CAs counts
 * (`socket.authorized`), so a handler can trust it. Distinguished names are written as RFC 2253 strings (most
 * specific first: `CN=client,O=Example`); the serial number as lower-case hex bytes separated by colons; the
 * validity dates as OpenSSL prints them (`May 28 12:30:02 2019 GMT`), as API Gateway does.
 */
export function clientCertificateOf(socket: Socket): APIGatewayEventClientCertificate | null {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return null;
  const peer = socket.getPeerCertificate();
  // Without a client certificate Node returns an empty object.
  if (peer === null || !Buffer.isBuffer(peer.raw) || peer.raw.length === 0) return null;
  const certificate = new X509Certificate(peer.raw);
  return {
    clientCertPem: certificate.toString(),
    subjectDN: distinguishedName(certificate.subject),
    issuerDN: distinguishedName(certificate.issuer),
    serialNumber: (certificate.serialNumber.length % 2 === 0 ? certificate.serialNumber : `0${certificate.serialNumber}`).toLowerCase().replace(/(..)(?!$)/g, '$1:'),
    validity: { notBefore: certificate.validFrom, notAfter: certificate.validTo },
  };
}

/** A problem with the TLS configuration or files; the message names each variable (or option) at fault. */
export class TlsConfigurationError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'TlsConfigurationError';
    this.problems = problems;
  }
}

/** Node prints a name one attribute a line in certificate order (values already escaped per RFC 2253); RFC 2253 lists them in reverse, comma-separated. */
function distinguishedName(printed: string): string {
  return printed.split('\n').filter((line) => line !== '').reverse().join(',');
}

function parseCertificates(pem: string, name: string, problems: string[]): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    problems.push(`${name} does not hold a PEM certificate (-----BEGIN CERTIFICATE-----)`);
    return [];
  }
  const parsed: X509Certificate[] = [];
  blocks.forEach((block, index) => {
    try {
      parsed.push(new X509Certificate(block));
    } catch {
      problems.push(`${name}: certificate ${index + 1} cannot be parsed`);
    }
  });
  return parsed;
}
