import * as z from 'zod';
import type { Role } from './model.ts';

/**
 * Managed API keys. A key is `ork_<key_id>_<secret>`: the id finds the stored record with one read, the
 * secret is checked against a SHA-256 hash (the secret has 256 bits of entropy, so a fast hash is enough:
 * there is nothing to brute-force). The secret itself is never stored.
 */

export const TenantSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a tenant is 1-63 lower-case letters, digits, - and _, starting with a letter or digit');

export const API_KEY_PREFIX = 'ork_';
const KEY_PATTERN = /^ork_([a-f0-9]{16})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyRecord {
  readonly key_id: string;
  readonly name: string;
  readonly role: Role;
  readonly tenant: string;
  /** Hex SHA-256 of the secret part. */
  readonly secret_hash: string;
  readonly created_by: string;
  readonly created_at: string;
  readonly expires_at?: string;
  readonly last_used_at?: string;
}

/** Splits a presented key into its id and secret; undefined when it is not of our format. */
export function parseApiKey(presented: string): { keyId: string; secret: string } | undefined {
  const match = KEY_PATTERN.exec(presented.trim());
  return match ? { keyId: match[1]!, secret: match[2]! } : undefined;
}

export function formatApiKey(keyId: string, secret: string): string {
  return `${API_KEY_PREFIX}${keyId}_${secret}`;
}

export function isExpired(record: Pick<ApiKeyRecord, 'expires_at'>, now: string): boolean {
  return record.expires_at !== undefined && Date.parse(record.expires_at) <= Date.parse(now);
}

/** What listings show: everything but the hash. */
export function describeApiKey(record: ApiKeyRecord, now: string) {
  const { secret_hash: _hash, ...rest } = record;
  return { ...rest, expired: isExpired(record, now) };
}
