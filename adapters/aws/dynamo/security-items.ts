import * as z from 'zod';
import { AUTH_METHODS, ROLES } from '../../../core/auth/model.ts';
import type { ApiKeyRecord } from '../../../core/auth/api-keys.ts';
import type { AuditRecord } from '../../../core/ports.ts';

/**
 * The security tables' items (security-tables.ts) as zod schemas: what DynamoApiKeyStore and DynamoAuditTrail
 * read through parseItem. A hand-edited key item must never become a credential with another role: a role
 * that is not one, or a hash that is not one, is a corrupt item, not a key.
 */

/** One managed API key (pk `KEY#<key_id>`, sk `KEY`). */
export const ApiKeyItemSchema = z.object({
  key_id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  tenant: z.string(),
  secret_hash: z.string().regex(/^[a-f0-9]{64}$/, 'must be the hex SHA-256 of the secret'),
  created_by: z.string(),
  created_at: z.string(),
  expires_at: z.string().optional(),
  last_used_at: z.string().optional(),
}) satisfies z.ZodType<ApiKeyRecord>;

/** A key as the listing index projects it: everything but the hash (listings never need it). */
export const ListedApiKeyItemSchema = ApiKeyItemSchema.omit({ secret_hash: true });

/**
 * One audit record (pk `AUDIT#<audit_id>`, sk `A`), also as the indexes project it. `outcome` is null until
 * the request has finished (a record written before its outcome attribute existed reads the same).
 */
export const AuditItemSchema = z.object({
  audit_id: z.string(),
  time: z.string(),
  actor: z.string(),
  method: z.enum(AUTH_METHODS),
  roles: z.array(z.string()),
  tenant: z.string(),
  action: z.string(),
  route: z.string(),
  targets: z.array(z.string()),
  outcome: z.number().int().nullable().default(null),
  request_id: z.string(),
  source_ip: z.string(),
  user_agent: z.string().optional(),
  reason: z.string().optional(),
}) satisfies z.ZodType<AuditRecord>;
