/**
 * Who is calling and what they may do. Pure domain: the verification of credentials (JWT, API keys,
 * certificates) happens at the edge; this module only says what a verified caller may reach.
 */

/** Roles in increasing order of power: each one may do what the roles before it may. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a route requires, from the route table:
 * - `public`: anyone, even without a credential when authentication is required;
 * - `authenticated`: any caller the auth mode lets in, whatever its roles (`GET /auth/whoami`);
 * - a role: that role or a more powerful one;
 * - `peer`: another orchestrator (the peer token or a client certificate), or an admin.
 */
export const ROUTE_ACCESS = ['public', 'authenticated', ...ROLES, 'peer'] as const;
export type RouteAccess = (typeof ROUTE_ACCESS)[number];

/** How the caller proved who they are. */
export const AUTH_METHODS = ['anonymous', 'jwt', 'api_key', 'peer_token', 'client_certificate', 'auth_off'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** The grant a caller holds: a role, or `peer` (replication between orchestrators). */
export type Grant = Role | 'peer';
export const GRANTS: readonly Grant[] = [...ROLES, 'peer'];

export const DEFAULT_TENANT = 'default';

/** The longest subject an anonymous caller may give itself with X-User-ID. */
export const MAX_USER_ID_LENGTH = 256;

/** A verified caller. */
export interface Principal {
  /** The token's `sub`, the API key's name, `X-User-ID` for anonymous callers, or `anonymous`. */
  readonly subject: string;
  readonly roles: readonly Grant[];
  readonly tenant: string;
  readonly method: AuthMethod;
  /** The managed API key used, when one was. */
  readonly keyId?: string;
}

/** The three auth modes (`ORCHESTRATOR_AUTH_MODE`). */
export const AUTH_MODES = ['optional', 'required', 'off'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** A principal's verdict for a route: allowed, or refused as unauthenticated (401) or forbidden (403). */
export type AccessVerdict = { readonly allowed: true } | { readonly allowed: false; readonly status: 401 | 403; readonly reason: string };

function rank(role: Role): number {
  return ROLES.indexOf(role);
}

/** The most powerful role a principal holds, if any. */
export function highestRole(principal: Pick<Principal, 'roles'>): Role | undefined {
  let best: Role | undefined;
  for (const grant of principal.roles) {
    if (grant !== 'peer' && (best === undefined || rank(grant) > rank(best))) best = grant;
  }
  return best;
}

export function isAdmin(principal: Pick<Principal, 'roles'>): boolean {
  return highestRole(principal) === 'admin';
}

/**
 * Whether `principal` may call a route requiring `access`. An anonymous caller with no role (auth mode
 * `required`) is unauthenticated (401) rather than forbidden: presenting a credential may change the answer.
 */
export function checkAccess(principal: Principal, access: RouteAccess, options: { readonly peerAllowed?: boolean } = {}): AccessVerdict {
  if (access === 'public') return { allowed: true };
  const unauthenticated = principal.method === 'anonymous' && principal.roles.length === 0;
  if (unauthenticated) return { allowed: false, status: 401, reason: 'this route needs a credential: a bearer token or an API key' };
  if (access === 'authenticated') return { allowed: true };
  // A route a peer reads while syncing (GET /registry) admits the peer credential besides its role.
  if (options.peerAllowed && principal.roles.includes('peer')) return { allowed: true };
  if (access === 'peer') {
    if (principal.roles.includes('peer') || isAdmin(principal)) return { allowed: true };
    return { allowed: false, status: 403, reason: 'this route is for peer orchestrators (the peer credential) and admins' };
  }
  const held = highestRole(principal);
  if (held !== undefined && rank(held) >= rank(access)) return { allowed: true };
  return { allowed: false, status: 403, reason: `this route needs the role '${access}'${held ? `; the caller has '${held}'` : '; the caller has no role'}` };
}

/**
 * Which tenants a caller sees: non-admins their own alone; admins every tenant, or the one they ask for.
 * `undefined` means every tenant.
 */
export interface TenantScope {
  readonly tenant?: string;
}

export function scopeOf(principal: Principal, requestedTenant?: string): TenantScope {
  if (isAdmin(principal)) return requestedTenant === undefined ? {} : { tenant: requestedTenant };
  return { tenant: principal.tenant };
}

/** Whether an object of `tenant` is visible in `scope` (objects stored before tenants existed belong to `default`). */
export function inScope(scope: TenantScope, tenant: string | undefined): boolean {
  return scope.tenant === undefined || scope.tenant === (tenant ?? DEFAULT_TENANT);
}
