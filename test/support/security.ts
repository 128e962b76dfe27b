import { randomBytes } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import type { ApiKeyRecord } from '../../core/auth/api-keys.ts';
import type { Role } from '../../core/auth/model.ts';
import { ConflictError } from '../../core/errors.ts';
import type { ApiKeyStore, AuditQuery, AuditRecord, AuditTrail, Clock } from '../../core/ports.ts';
import type { AuthSettings } from '../../functions/auth/authenticator.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from './api.ts';

/** Credentials, clocks and a test API for the security suites: real HS256 tokens, real loopback HTTP. */

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A random secret of `bytes` bytes, base64url. */
export const randomSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** An HS256 token with exactly `claims` (nothing added): negative cases leave out what they test. */
export function signHs256(claims: JWTPayload, secret: string, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(new TextEncoder().encode(secret));
}

export interface Identity {
  readonly sub: string;
  readonly roles?: readonly string[];
  readonly tenant?: string;
  /** Seconds from now; default 300. */
  readonly expiresIn?: number;
  readonly extra?: JWTPayload;
}

/** A good HS256 token for `identity`: iat now, exp in five minutes. */
export function hs256Token(identity: Identity, secret: string): Promise<string> {
  const now = nowSeconds();
  return signHs256(
    {
      sub: identity.sub,
      iat: now,
      exp: now + (identity.expiresIn ?? 300),
      ...(identity.roles === undefined ? {} : { roles: [...identity.roles] }),
      ...(identity.tenant === undefined ? {} : { tenant: identity.tenant }),
      ...identity.extra,
    },
    secret,
  );
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** A compact JWS assembled by hand (`alg: none`, forged signatures): header.payload.signature. */
export function handBuiltToken(header: Record<string, unknown>, payload: Record<string, unknown>, signature = ''): string {
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
export const apiKeyHeader = (key: string): Record<string, string> => ({ 'x-api-key': key });

/** A clock that only moves when told. */
export class ManualClock implements Clock {
  private at: number;
  constructor(start: string | number = Date.now()) {
    this.at = typeof start === 'number' ? start : Date.parse(start);
  }
  now(): string {
    return new Date(this.at).toISOString();
  }
  nowMs(): number {
    return this.at;
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

/** ApiKeyStore in memory, with the contract's semantics (ConflictError on a taken id, removal says whether it removed). */
export class MemoryApiKeyStore implements ApiKeyStore {
  readonly records = new Map<string, ApiKeyRecord>();
  /** How many times `get` read the store (cache tests). */
  reads = 0;

  async create(record: ApiKeyRecord): Promise<void> {
    if (this.records.has(record.key_id)) throw new ConflictError(`API key ${record.key_id} exists`);
    this.records.set(record.key_id, record);
  }
  async get(keyId: string): Promise<ApiKeyRecord | undefined> {
    this.reads++;
    return this.records.get(keyId);
  }
  async list(): Promise<ApiKeyRecord[]> {
    return [...this.records.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
  }
  async remove(keyId: string): Promise<boolean> {
    return this.records.delete(keyId);
  }
  async touch(keyId: string, at: string): Promise<void> {
    const record = this.records.get(keyId);
    if (record) this.records.set(keyId, { ...record, last_used_at: at });
  }
}

export type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;

export interface SecureApi {
  readonly runtime: LocalRuntime;
  /** Every call is recorded in `exchanges` (the secret-scanning tests read them). */
  readonly call: Call;
  readonly secret: string;
  readonly peerToken: string;
  readonly adminApiKey: string;
  /** The runtime's log lines, as JSON text. */
  readonly logs: string[];
  readonly exchanges: { method: string; path: string; status: number; headers: string; body: string }[];
  /** A good HS256 token of this API for `sub` with one role (or none) in `tenant` (default `default`). */
  token(sub: string, role?: Role, tenant?: string): Promise<string>;
}

export interface SecureApiOptions {
  readonly mode?: AuthSettings['mode'];
  readonly auth?: Partial<AuthSettings>;
  readonly overrides?: Partial<Parameters<typeof startTestApi>[0]>;
}

/** The local runtime (real server, dynalite) with authentication `required` and every credential kind configured. */
export async function startSecureApi(options: SecureApiOptions = {}): Promise<SecureApi> {
  const secret = randomSecret();
  const peerToken = `peer-${randomSecret()}`;
  const adminApiKey = `admin-${randomSecret()}`;
  const logs: string[] = [];
  const exchanges: SecureApi['exchanges'] = [];
  const { runtime, call: plainCall } = await startTestApi({
    auth: { mode: options.mode ?? 'required', anonymousRole: 'viewer', jwtSecret: secret, peerToken, adminApiKey, ...options.auth },
    log: (line) => logs.push(JSON.stringify(line)),
    ...options.overrides,
  });
  const call: Call = async <T,>(method: string, path: string, callOptions?: CallOptions) => {
    const reply = await plainCall<T>(method, path, callOptions);
    exchanges.push({ method, path, status: reply.status, headers: JSON.stringify([...reply.headers.entries()]), body: JSON.stringify(reply.body) });
    return reply;
  };
  return {
    runtime,
    call,
    secret,
    peerToken,
    adminApiKey,
    logs,
    exchanges,
    // A day: tests that move the server's clock (key expiry) must not outlive their callers' tokens.
    token: (sub, role, tenant = 'default') => hs256Token({ sub, roles: role === undefined ? [] : [role], tenant, expiresIn: 86_400 }, secret),
  };
}

/** Pages through `GET /audit` (as `headers`) with `query`, every record. */
export async function allAuditRecords(call: Call, headers: Record<string, string>, query: Record<string, string> = {}): Promise<AuditRecordReply[]> {
  const records: AuditRecordReply[] = [];
  let nextToken: string | null = null;
  do {
    const params = new URLSearchParams({ ...query, limit: '200', ...(nextToken ? { next_token: nextToken } : {}) });
    const reply: ApiReply<{ records: AuditRecordReply[]; next_token: string | null }> = await call('GET', `/audit?${params}`, { headers });
    if (reply.status !== 200) throw new Error(`GET /audit answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    records.push(...reply.body.data.records);
    nextToken = reply.body.data.next_token;
  } while (nextToken);
  return records;
}

export interface AuditRecordReply {
  audit_id: string;
  time: string;
  actor: string;
  method: string;
  roles: string[];
  tenant: string;
  action: string;
  route: string;
  targets: string[];
  outcome: number | null;
  request_id: string;
  source_ip: string;
  reason?: string;
}

/** Ids of the right shape that name nothing: what the route-table-driven suites put in paths. */
export const ABSENT_IDS: Readonly<Record<string, string>> = {
  workflow_id: 'wf-absent-0000',
  execution_id: 'ex-absent-0000',
  name: 'absent_service',
  key_id: '00000000000000aa',
};

/** A route's path with its `{params}` filled from `params`, else from ABSENT_IDS (else `absent`). */
export function pathOf(route: { readonly path: string }, params: Readonly<Record<string, string>> = {}): string {
  return route.path.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(params[name] ?? ABSENT_IDS[name] ?? 'absent'));
}

/** An AuditTrail in memory; `failing` makes every append reject (the fail-closed paths). */
export class MemoryAuditTrail implements AuditTrail {
  readonly records: AuditRecord[] = [];
  failing = false;

  async append(record: AuditRecord): Promise<void> {
    if (this.failing) throw new Error('audit trail unavailable');
    this.records.push(record);
  }
  async settle(auditId: string, outcome: number, targets: readonly string[] = []): Promise<void> {
    const index = this.records.findIndex((record) => record.audit_id === auditId && record.outcome === null);
    if (index < 0) throw new Error(`no open audit record ${auditId}`);
    const record = this.records[index]!;
    this.records[index] = { ...record, outcome, targets: [...record.targets, ...targets] };
  }
  async list(query: AuditQuery): Promise<{ items: AuditRecord[] }> {
    return { items: this.records.filter((record) => (query.actor === undefined || record.actor === query.actor) && (query.action === undefined || record.action === query.action)).slice(0, query.limit) };
  }
}
