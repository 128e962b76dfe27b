import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod';
import { AUTH_METHODS, DEFAULT_TENANT, GRANTS, type Grant, type Principal } from '../../core/auth/model.ts';

/**
 * How a verified principal travels from the authenticator to the handlers: as API Gateway's authorizer
 * context (`requestContext.authorizer`), whose values must be strings, numbers or booleans. The Lambda
 * authorizer writes it in AWS, the local server locally; handlers read identity from here alone, never
 * from raw headers.
 */
export interface AuthorizerContext {
  readonly subject: string;
  /** Comma-separated grants. */
  readonly roles: string;
  readonly tenant: string;
  readonly method: string;
  readonly key_id?: string;
  /** The caller's source address (what rate limits and audit records name). */
  readonly source_ip?: string;
}

const ContextSchema = z.object({
  subject: z.string().min(1).max(256),
  roles: z.string().max(256),
  tenant: z.string().min(1).max(63),
  method: z.enum(AUTH_METHODS),
  key_id: z.string().max(64).optional(),
});

export function toAuthorizerContext(principal: Principal): AuthorizerContext {
  return {
    subject: principal.subject,
    roles: principal.roles.join(','),
    tenant: principal.tenant,
    method: principal.method,
    ...(principal.keyId === undefined ? {} : { key_id: principal.keyId }),
  };
}

/** Routes without an authorizer (public ones in AWS) have no context: their caller is anonymous and holds nothing. */
export const UNAUTHENTICATED: Principal = { subject: 'anonymous', roles: [], tenant: DEFAULT_TENANT, method: 'anonymous' };

/**
 * The principal of a request, parsed from its authorizer context. A context that does not parse is treated
 * as no identity at all (never as a privileged one).
 */
export function principalOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>): Principal {
  const parsed = ContextSchema.safeParse(event.requestContext?.authorizer ?? undefined);
  if (!parsed.success) return UNAUTHENTICATED;
  const { subject, roles, tenant, method, key_id } = parsed.data;
  const grants = roles.split(',').filter((role): role is Grant => (GRANTS as readonly string[]).includes(role));
  return { subject, roles: grants, tenant, method, ...(key_id === undefined ? {} : { keyId: key_id }) };
}
