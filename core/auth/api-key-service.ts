import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { ApiKeyStore, Clock } from '../ports.ts';
import { describeApiKey, formatApiKey, type ApiKeyRecord } from './api-keys.ts';
import { inScope, type Principal, type Role, type TenantScope } from './model.ts';

export interface ApiKeyServiceDeps {
  readonly store: ApiKeyStore;
  readonly clock: Clock;
  /** A fresh key id (16 hex) and secret (43 base64url characters, 256 bits) from a secure random source. */
  readonly mint: () => { keyId: string; secret: string };
  /** Hex SHA-256 of a secret. */
  readonly hash: (secret: string) => string;
  /** Called once a key is gone, so an authenticator in this process stops trusting it at once. */
  readonly onRevoke?: (keyId: string) => void;
}

export interface NewApiKey {
  readonly name: string;
  readonly role: Role;
  readonly tenant?: string;
  readonly expires_at?: string;
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;

/** Managed API keys: created by admins, shown once, stored as hashes, revoked at once. */
export function createApiKeyService(deps: ApiKeyServiceDeps) {
  return {
    async create(input: NewApiKey, caller: Principal) {
      const now = deps.clock.now();
      if (input.expires_at !== undefined && Date.parse(input.expires_at) <= Date.parse(now)) {
        throw new ValidationError([{ field: 'expires_at', message: `must be in the future (it is now ${now})` }]);
      }
      const { keyId, secret } = deps.mint();
      const record: ApiKeyRecord = {
        key_id: keyId,
        name: input.name,
        role: input.role,
        tenant: input.tenant ?? caller.tenant,
        secret_hash: deps.hash(secret),
        created_by: caller.subject,
        created_at: now,
        ...(input.expires_at === undefined ? {} : { expires_at: new Date(input.expires_at).toISOString() }),
      };
      try {
        await deps.store.create(record);
      } catch (error) {
        if (error instanceof ConflictError) throw new ConflictError('a key with that id was just created; try again', [], { cause: error });
        throw error;
      }
      return { ...describeApiKey(record, now), api_key: formatApiKey(keyId, secret) };
    },

    async list(scope: TenantScope) {
      const now = deps.clock.now();
      return (await deps.store.list()).filter((record) => inScope(scope, record.tenant)).map((record) => describeApiKey(record, now));
    },

    async revoke(keyId: string, scope: TenantScope): Promise<void> {
      const record = await deps.store.get(keyId);
      if (!record || !inScope(scope, record.tenant) || !(await deps.store.remove(keyId))) throw new NotFoundError(`API key '${keyId}' not found`);
      deps.onRevoke?.(keyId);
    },
  };
}
