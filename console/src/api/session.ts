import { createClient, OrchestratorApiError, type OrchestratorClient } from '../../../client/index.ts';
import type { Role, WhoAmI } from './types.ts';

/**
 * Who is signed in, and how. The credential is kept in sessionStorage only: it goes with the tab and is
 * never written where another tab or a later visit could read it.
 */
export type Credential = { readonly kind: 'token'; readonly value: string } | { readonly kind: 'apiKey'; readonly value: string } | { readonly kind: 'anonymous' };

export interface Session {
  readonly credential: Credential;
  readonly whoami: WhoAmI;
  readonly client: OrchestratorClient;
}

const STORAGE_KEY = 'orchestrator-console.credential';

export function storedCredential(): Credential | undefined {
  let text: string | null;
  try {
    text = sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return undefined;
  }
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || !('kind' in value)) return undefined;
    if (value.kind === 'anonymous') return { kind: 'anonymous' };
    if ((value.kind === 'token' || value.kind === 'apiKey') && 'value' in value && typeof value.value === 'string' && value.value !== '') return { kind: value.kind, value: value.value };
  } catch {
    // A value this console did not write: ignore it.
  }
  return undefined;
}

export function storeCredential(credential: Credential | undefined): void {
  try {
    if (credential) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credential));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage refused (private mode): the session lasts as long as the page.
  }
}

/**
 * A client sending `credential`; every 401 it meets calls `onUnauthorized`, so that an expired token or a
 * revoked key brings the sign-in back wherever the call was made.
 */
export function clientFor(apiUrl: string, credential: Credential, onUnauthorized: () => void): OrchestratorClient {
  const watched: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (response.status === 401) onUnauthorized();
    return response;
  };
  return createClient({
    baseUrl: apiUrl,
    fetch: watched,
    ...(credential.kind === 'token' ? { token: credential.value } : {}),
    ...(credential.kind === 'apiKey' ? { apiKey: credential.value } : {}),
  });
}

/** Signs in: who the server says the credential is (OrchestratorApiError 401 when it refuses it). */
export async function signIn(apiUrl: string, credential: Credential, onUnauthorized: () => void): Promise<Session> {
  // The check itself must not count as a lost session: its 401 is the answer to show on the form.
  const probe = clientFor(apiUrl, credential, () => undefined);
  const whoami = await probe.call('whoAmI');
  return { credential, whoami, client: clientFor(apiUrl, credential, onUnauthorized) };
}

/** Whether the server lets callers in without a credential, and as what (undefined: it does not). */
export async function anonymousAccess(apiUrl: string): Promise<WhoAmI | undefined> {
  try {
    return await clientFor(apiUrl, { kind: 'anonymous' }, () => undefined).call('whoAmI');
  } catch (error) {
    if (error instanceof OrchestratorApiError && (error.status === 401 || error.status === 403)) return undefined;
    throw error;
  }
}

const RANK: Readonly<Record<Role, number>> = { viewer: 0, operator: 1, admin: 2 };

/** Whether the signed-in caller holds `role` or a higher one. */
export function hasRole(whoami: WhoAmI, role: Role): boolean {
  return whoami.roles.some((held) => held !== 'peer' && RANK[held] >= RANK[role]);
}
