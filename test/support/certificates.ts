import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * X.509 certificates for tests, made in-process with node:crypto (which can sign but not build certificates):
 * a small DER writer assembles the certificate, ECDSA P-256 with SHA-256 signs it. Enough for a CA, servers
 * (DNS and IP names) and clients; no openssl needed.
 */

export interface TestCertificate {
  /** PEM of the certificate and of its PKCS#8 private key. */
  readonly cert: string;
  readonly key: string;
  readonly x509: X509Certificate;
  readonly privateKey: KeyObject;
  /** The subject it was made with: what certificates it signs name as their issuer. */
  readonly subject: CertificateRequest['subject'];
}

export interface CertificateRequest {
  /** Subject attributes, most general first as written in the certificate: e.g. { O: 'Test', CN: 'client' }. */
  readonly subject: Readonly<Partial<Record<keyof typeof NAME_ATTRIBUTES, string>>>;
  /** Signs the certificate; omitted: self-signed. */
  readonly issuer?: TestCertificate;
  readonly ca?: boolean;
  /** DNS names and IP addresses (subjectAltName). */
  readonly altNames?: readonly string[];
  readonly usage?: 'server' | 'client';
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

const NAME_ATTRIBUTES = { C: '2.5.4.6', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3' } as const;
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const DAY_MS = 86_400_000;

/** A certificate (and key) as requested; see CertificateRequest. */
export function createCertificate(request: CertificateRequest): TestCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const issuerName = name(request.issuer?.subject ?? request.subject);
  const subjectName = name(request.subject);
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const now = Date.now();
  const extensions = [
    extension('2.5.29.19', true, sequence(request.ca ? [der(0x01, Buffer.from([0xff]))] : [])),
    // keyUsage: digitalSignature, plus keyCertSign and cRLSign for a CA.
    extension('2.5.29.15', true, request.ca ? bitString(Buffer.from([0x86]), 1) : bitString(Buffer.from([0x80]), 7)),
    extension('2.5.29.14', false, octetString(keyId(spki))),
    ...(request.issuer ? [extension('2.5.29.35', false, sequence([der(0x80, keyId(request.issuer.x509.publicKey.export({ type: 'spki', format: 'der' })))]))] : []),
    ...(request.usage ? [extension('2.5.29.37', false, sequence([oid(request.usage === 'server' ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.2')]))] : []),
    ...(request.altNames?.length ? [extension('2.5.29.17', false, sequence(request.altNames.map(altName)))] : []),
  ];
  const tbs = sequence([
    der(0xa0, integer(Buffer.from([2]))),
    integer(serial),
    sequence([oid(ECDSA_WITH_SHA256)]),
    issuerName,
    sequence([time(request.notBefore ?? new Date(now - DAY_MS)), time(request.notAfter ?? new Date(now + 30 * DAY_MS))]),
    subjectName,
    spki,
    der(0xa3, sequence(extensions)),
  ]);
  const signature = sign('sha256', tbs, request.issuer?.privateKey ?? privateKey);
  const certificate = sequence([tbs, sequence([oid(ECDSA_WITH_SHA256)]), bitString(signature, 0)]);
  const cert = `-----BEGIN CERTIFICATE-----\n${certificate.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), x509: new X509Certificate(cert), privateKey, subject: request.subject };
}

/** A self-signed certificate authority named `commonName`. */
export function createCertificateAuthority(commonName: string): TestCertificate {
  return createCertificate({ subject: { O: 'Orchestrator tests', CN: commonName }, ca: true });
}

/** A Name: one RDN per attribute, in the order given (an issuer's is written exactly as its subject was). */
function name(attributes: CertificateRequest['subject']): Buffer {
  const entries = Object.entries(attributes).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return sequence(
    entries.map(([type, value]) => {
      const identifier = NAME_ATTRIBUTES[type as keyof typeof NAME_ATTRIBUTES];
      if (identifier === undefined) throw new Error(`unsupported name attribute ${type}`);
      // Country is a PrintableString; the rest UTF8String.
      return der(0x31, sequence([oid(identifier), der(type === 'C' ? 0x13 : 0x0c, Buffer.from(value, 'utf8'))]));
    }),
  );
}

function altName(value: string): Buffer {
  const family = isIP(value);
  if (family === 4) return der(0x87, Buffer.from(value.split('.').map(Number)));
  if (family === 6) throw new Error('IPv6 alt names are not supported by this helper');
  return der(0x82, Buffer.from(value, 'ascii'));
}

function extension(identifier: string, critical: boolean, value: Buffer): Buffer {
  return sequence([oid(identifier), ...(critical ? [der(0x01, Buffer.from([0xff]))] : []), octetString(value)]);
}

function keyId(spki: Buffer): Buffer {
  return createHash('sha1').update(spki).digest();
}

function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const year = date.getUTCFullYear();
  // UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5).
  return year < 2050 ? der(0x17, Buffer.from(`${iso.slice(2)}Z`, 'ascii')) : der(0x18, Buffer.from(`${iso}Z`, 'ascii'));
}

function integer(bytes: Buffer): Buffer {
  return der(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [first! * 40 + second!];
  for (const arc of rest) {
    const groups = [arc & 0x7f];
    for (let value = arc >>> 7; value > 0; value >>>= 7) groups.unshift((value & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return der(0x06, Buffer.from(bytes));
}

function bitString(bytes: Buffer, unusedBits: number): Buffer {
  return der(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

function octetString(bytes: Buffer): Buffer {
  return der(0x04, bytes);
}

function sequence(items: readonly Buffer[]): Buffer {
  return der(0x30, Buffer.concat(items));
}

/** One DER element: tag, definite length, content. */
function der(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let header: number[];
  if (length < 0x80) header = [tag, length];
  else if (length < 0x100) header = [tag, 0x81, length];
  else if (length < 0x10000) header = [tag, 0x82, length >> 8, length & 0xff];
  else throw new Error('DER element too long for this helper');
  return Buffer.concat([Buffer.from(header), content]);
}
