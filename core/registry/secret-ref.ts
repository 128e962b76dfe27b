/**
 * References to the secrets the orchestrator authenticates to services with (a registration's
 * `auth.secret_ref`). A registration stores the reference; a SecretResolver (core/ports.ts) reads the value
 * when a call is made. The forms:
 *
 * - `env:NAME`: an environment variable of the local runtime. Not `AWS_*` or `ORCHESTRATOR_*`: those are the
 *   orchestrator's own credentials and settings, which a registration must not be able to send to a URL of
 *   its choosing;
 * - `file:/absolute/path`: a file of the local runtime (its content, trailing newline removed);
 * - `secretsmanager:orchestrator/<name>` or the secret's ARN (`arn:aws:secretsmanager:...:secret:orchestrator/...`);
 * - `ssm:/orchestrator/<name>`: an SSM parameter (SecureString, read with decryption).
 *
 * In AWS the action runner and the health sweep may read secrets and parameters under the `orchestrator/`
 * prefix only (infra/stacks/runtime-stack.ts grants exactly that), so a reference outside it is refused when
 * registered rather than failing every call.
 */

export type SecretRef =
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'secretsmanager'; readonly id: string }
  | { readonly kind: 'ssm'; readonly name: string };

/** The prefix of every secret name (Secrets Manager) and parameter path (SSM) the orchestrator may read. */
export const AWS_SECRET_PREFIX = 'orchestrator/';

/** Environment variables a reference may not name: the orchestrator's own credentials and settings. */
export const RESERVED_ENV_PREFIXES: readonly string[] = ['AWS_', 'ORCHESTRATOR_', 'OTEL_'];

export const SECRET_REF_FORMS = 'env:NAME, file:/absolute/path, secretsmanager:orchestrator/<name> (or its ARN) or ssm:/orchestrator/<name>';

const SECRETS_MANAGER_NAME = /^orchestrator\/[A-Za-z0-9/_+=.@-]{1,500}$/;
const SECRETS_MANAGER_ARN = /^arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:orchestrator\/[A-Za-z0-9/_+=.@-]{1,500}$/;
const SSM_NAME = /^\/orchestrator\/[A-Za-z0-9_./-]{1,1000}$/;

/** The reference, or the rule it breaks (a sentence naming the rule, for a 400). */
export function parseSecretRef(text: string): { readonly ref: SecretRef } | { readonly problem: string } {
  const colon = text.indexOf(':');
  const scheme = colon < 0 ? '' : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  switch (scheme) {
    case 'env': {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,255}$/.test(rest)) return { problem: 'an env: reference names an environment variable: letters, digits and _' };
      const reserved = RESERVED_ENV_PREFIXES.find((prefix) => rest.toUpperCase().startsWith(prefix));
      if (reserved) return { problem: `an env: reference may not name a ${reserved}* variable: those are the orchestrator's own credentials and settings` };
      return { ref: { kind: 'env', name: rest } };
    }
    case 'file': {
      if (!rest.startsWith('/') || rest.length > 1024 || rest.includes('\u0000')) return { problem: 'a file: reference is an absolute path, like file:/run/secrets/analysis-token' };
      if (rest.split('/').some((segment) => segment === '.' || segment === '..')) return { problem: 'a file: reference may not contain . or .. segments' };
      return { ref: { kind: 'file', path: rest } };
    }
    case 'secretsmanager': {
      if (SECRETS_MANAGER_NAME.test(rest) || SECRETS_MANAGER_ARN.test(rest)) return { ref: { kind: 'secretsmanager', id: rest } };
      return { problem: `a secretsmanager: reference names a secret under ${AWS_SECRET_PREFIX} (or its ARN): the orchestrator may read no other` };
    }
    case 'ssm': {
      if (SSM_NAME.test(rest)) return { ref: { kind: 'ssm', name: rest } };
      return { problem: `an ssm: reference names a parameter under /${AWS_SECRET_PREFIX}: the orchestrator may read no other` };
    }
    default:
      return { problem: `must be one of ${SECRET_REF_FORMS}` };
  }
}

/**
 * A secret could not be read: missing, not readable, a form this deployment does not serve, or the secret
 * store did not answer (`retryable`). The message names the reference, never a value.
 */
export class SecretUnavailableError extends Error {
  override readonly name = 'SecretUnavailableError';
  readonly retryable: boolean;

  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? false;
  }
}
