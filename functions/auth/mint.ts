import { randomBytes } from 'node:crypto';
import { digestHex } from './authenticator.ts';

/** A new API key's id and secret, from the system's secure random source. */
export function mintApiKey(): { keyId: string; secret: string } {
  return { keyId: randomBytes(8).toString('hex'), secret: randomBytes(32).toString('base64url') };
}

export const hashApiKeySecret = digestHex;
