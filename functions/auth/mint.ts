import { createHash, randomBytes } from 'node:crypto';

/** A new API key's id and secret, from the system's secure random source. */
export function mintApiKey(): { keyId: string; secret: string } {
  return { keyId: randomBytes(8).toString('hex'), secret: randomBytes(32).toString('base64url') };
}

/** Hex SHA-256 of a key's secret: the form the API keys table stores (the authenticator compares digests). */
export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
