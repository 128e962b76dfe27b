import type { ApiKeyService } from '../../core/auth/api-key-service.ts';
import { scopeOf } from '../../core/auth/model.ts';
import type { AuditTrail } from '../../core/ports.ts';
import { handlerFactory } from '../middleware/http-handler.ts';
import type { ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import type { Secured } from './services.ts';

export interface SecurityHttpServices extends Secured {
  readonly apiKeys: ApiKeyService;
  readonly auditTrail: AuditTrail;
}

/** The security context's handlers: who am I, managed API keys, the audit trail. */
export function createSecurityHandlers(services: SecurityHttpServices) {
  // Services are read when a request needs them: each route's function gets only its own tables.
  const { security } = services;
  const handle = handlerFactory(security);
  return {
    whoAmI: handle(routes.whoAmI, async ({ caller }) => ({
      message: `you are '${caller.subject}' (${caller.roles.length > 0 ? caller.roles.join(', ') : 'no role'}) in tenant '${caller.tenant}'`,
      data: { subject: caller.subject, roles: [...caller.roles], tenant: caller.tenant, method: caller.method, ...(caller.keyId ? { key_id: caller.keyId } : {}), auth_mode: security.authMode },
    })),

    createApiKey: handle(routes.createApiKey, async ({ body, caller }) => {
      const created = await services.apiKeys.create(body, caller);
      return {
        message: `API key '${created.name}' created: store it now, it is not shown again`,
        data: created,
        headers: { location: `/auth/api-keys/${created.key_id}`, 'cache-control': 'no-store' },
      };
    }),

    listApiKeys: handle(routes.listApiKeys, async ({ query, caller }) => {
      const keys = await services.apiKeys.list(scopeOf(caller, query.tenant));
      return { message: `${keys.length} API key${keys.length === 1 ? '' : 's'}`, data: { api_keys: keys, count: keys.length } };
    }),

    revokeApiKey: handle(routes.revokeApiKey, async ({ params, caller }) => {
      await services.apiKeys.revoke(params.key_id, scopeOf(caller));
      return { message: `API key ${params.key_id} revoked`, data: { key_id: params.key_id, revoked: true as const } };
    }),

    listAuditRecords: handle(routes.listAuditRecords, async ({ query }) => {
      const page = await services.auditTrail.list({
        actor: query.actor,
        action: query.action,
        target: query.target,
        tenant: query.tenant,
        since: query.since,
        until: query.until,
        limit: query.limit,
        cursor: query.next_token,
      });
      return {
        message: `${page.items.length} audit record${page.items.length === 1 ? '' : 's'}`,
        data: { records: page.items.map((record) => ({ ...record, roles: [...record.roles], targets: [...record.targets] })), count: page.items.length, next_token: page.nextCursor ?? null },
      };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}
