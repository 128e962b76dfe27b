import * as z from 'zod';
import { AUTH_METHODS, GRANTS, ROLES } from '../../core/auth/model.ts';
import { TenantSchema } from '../../core/auth/api-keys.ts';
import { NextTokenSchema } from './workflow-schemas.ts';

/** Request and response shapes of the security API: who am I, managed API keys, the audit trail. */

export const WhoAmIResponse = z.object({
  subject: z.string(),
  roles: z.array(z.enum(GRANTS)),
  tenant: z.string(),
  method: z.enum(AUTH_METHODS).describe('How the caller authenticated'),
  key_id: z.string().optional().describe('The managed API key used, when one was'),
  auth_mode: z.enum(['optional', 'required', 'off']),
});

export const CreateApiKeyBody = z.strictObject({
  name: z.string().trim().min(1, 'name must not be empty').max(128, 'name must be at most 128 characters').describe('Shown in listings and as the subject of calls made with the key'),
  role: z.enum(ROLES, { error: `role must be one of ${ROLES.join(', ')}` }),
  tenant: TenantSchema.optional().describe("The tenant the key acts in; default: the caller's"),
  expires_at: z.iso.datetime({ offset: true, error: 'expires_at must be an ISO-8601 date-time, e.g. 2027-01-31T00:00:00Z' }).optional(),
});

const ApiKeySummary = z.object({
  key_id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  tenant: z.string(),
  created_by: z.string(),
  created_at: z.string(),
  expires_at: z.string().optional(),
  last_used_at: z.string().optional(),
  expired: z.boolean(),
});

export const CreatedApiKeyResponse = ApiKeySummary.extend({
  api_key: z.string().describe('The secret, shown this once: send it as X-API-Key. Only its hash is stored'),
});

export const ApiKeyListQuery = z.object({
  tenant: TenantSchema.optional(),
});

export const ApiKeyListResponse = z.object({ api_keys: z.array(ApiKeySummary), count: z.number().int() });

export const ApiKeyIdParams = z.object({
  key_id: z.string().regex(/^[a-f0-9]{16}$/, 'key_id is 16 lower-case hexadecimal characters'),
});

export const RevokeApiKeyResponse = z.object({ key_id: z.string(), revoked: z.literal(true) });

export const AuditQuery = z.object({
  actor: z.string().min(1, 'actor must not be empty').max(256, 'actor must be at most 256 characters').optional(),
  action: z.string().min(1, 'action must not be empty').max(128, 'action must be at most 128 characters').optional().describe('A route name (createWorkflow) or `METHOD /path`'),
  target: z.string().min(1, 'target must not be empty').max(256, 'target must be at most 256 characters').optional().describe('An id the request named: a workflow, an execution, a service, a key'),
  tenant: TenantSchema.optional(),
  since: z.iso.datetime({ offset: true, error: 'since must be an ISO-8601 date-time' }).optional(),
  until: z.iso.datetime({ offset: true, error: 'until must be an ISO-8601 date-time' }).optional(),
  limit: z.coerce.number({ error: (issue) => (issue.code === 'invalid_type' ? 'limit must be a number' : undefined) }).int('limit must be an integer').min(1, 'limit must be at least 1').max(200, 'limit must be at most 200').default(50),
  next_token: NextTokenSchema.optional(),
}).refine((query) => query.since === undefined || query.until === undefined || Date.parse(query.since) <= Date.parse(query.until), {
  path: ['until'],
  message: 'until must not be before since',
});

export const AuditRecordResponse = z.object({
  audit_id: z.string(),
  time: z.string(),
  actor: z.string(),
  method: z.enum(AUTH_METHODS),
  roles: z.array(z.string()),
  tenant: z.string(),
  action: z.string().describe('The route name'),
  route: z.string().describe('METHOD /path template'),
  targets: z.array(z.string()),
  outcome: z.number().int().nullable().describe('The response status; null while the request is in progress (or if it never finished)'),
  request_id: z.string(),
  source_ip: z.string(),
  user_agent: z.string().optional(),
  reason: z.string().optional().describe('Why a request was refused'),
});

export const AuditListResponse = z.object({ records: z.array(AuditRecordResponse), count: z.number().int(), next_token: z.string().nullable() });
