import type { OutboundCredential, SecretResolver } from '../../core/ports.ts';
import type { ServiceAuth } from '../../core/registry/model.ts';
import { DEFAULT_API_KEY_HEADER } from '../../core/registry/registration.ts';
import { SecretUnavailableError } from '../../core/registry/secret-ref.ts';

/** A service instance's credential, and the texts that must never leave the call (to redact them from what comes back). */
export interface ServiceCredential {
  readonly credential: OutboundCredential;
  /** The header value and the secret itself (and a basic password alone): at least 4 characters each. */
  readonly sensitive: readonly string[];
}

/**
 * The credential of an instance registered with `auth` (core/registry/registration.ts): the secret read by
 * reference, formatted for its type, scoped to the instance's base URL `scope`. Rejects with
 * SecretUnavailableError when the secret cannot be read or cannot be a header value; the message names the
 * reference, never the value.
 */
export async function serviceCredential(auth: ServiceAuth, scope: string, secrets: SecretResolver): Promise<ServiceCredential> {
  const secret = await secrets.resolve(auth.secret_ref);
  if (secret === '') throw new SecretUnavailableError(`the secret ${auth.secret_ref} is empty`);
  // A header value may not hold line breaks or NUL (they would split the request).
  if (/[\r\n\0]/.test(secret)) throw new SecretUnavailableError(`the secret ${auth.secret_ref} holds a line break or NUL: it cannot be sent in a header`);
  const sensitive = [secret];
  let credential: OutboundCredential;
  switch (auth.type) {
    case 'bearer':
      credential = { header: 'authorization', value: `Bearer ${secret}`, scope };
      break;
    case 'api_key':
      credential = { header: (auth.header ?? DEFAULT_API_KEY_HEADER).toLowerCase(), value: secret, scope };
      break;
    case 'basic': {
      const colon = secret.indexOf(':');
      if (colon < 0) throw new SecretUnavailableError(`the secret ${auth.secret_ref} of a basic credential must be user:password`);
      sensitive.push(secret.slice(colon + 1));
      credential = { header: 'authorization', value: `Basic ${Buffer.from(secret, 'utf8').toString('base64')}`, scope };
      break;
    }
  }
  return { credential, sensitive: [credential.value, ...sensitive].filter((text) => text.length >= 4) };
}

export const REDACTED_SECRET = '[redacted]';

/** `text` with every occurrence of a sensitive text replaced (a service that echoes the credential back). */
export function redactSecrets(text: string, sensitive: readonly string[]): string {
  let result = text;
  for (const secret of sensitive) if (result.includes(secret)) result = result.split(secret).join(REDACTED_SECRET);
  return result;
}
