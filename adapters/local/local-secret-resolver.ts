import { readFile } from 'node:fs/promises';
import type { SecretResolver } from '../../core/ports.ts';
import { parseSecretRef, SecretUnavailableError } from '../../core/registry/secret-ref.ts';

export interface LocalSecretResolverOptions {
  /**
   * The variables `env:` references may read (local/config.ts passes the environment without the
   * orchestrator's own AWS_*, ORCHESTRATOR_* and OTEL_* variables).
   */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * SecretResolver of the local runtime: `env:NAME` from the environment it is given, `file:/path` from the
 * file (its content, without a trailing newline), read at every call so a rotated file is picked up. AWS
 * references are not served here: register those services with env: or file: locally.
 */
export function createLocalSecretResolver(options: LocalSecretResolverOptions): SecretResolver {
  return {
    async resolve(text) {
      const parsed = parseSecretRef(text);
      if ('problem' in parsed) throw new SecretUnavailableError(`the secret reference ${JSON.stringify(text)} is not valid: ${parsed.problem}`);
      const { ref } = parsed;
      if (ref.kind === 'env') {
        const value = options.env[ref.name];
        if (value === undefined || value === '') throw new SecretUnavailableError(`the secret ${text} is not set: the environment variable ${ref.name} is missing or empty`);
        return value;
      }
      if (ref.kind === 'file') {
        try {
          return (await readFile(ref.path, 'utf8')).replace(/\r?\n$/, '');
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          throw new SecretUnavailableError(`the secret ${text} could not be read${typeof code === 'string' ? ` (${code})` : ''}`);
        }
      }
      throw new SecretUnavailableError(`the secret ${text} is an AWS reference, which the local runtime does not read: use env: or file: here`);
    },
  };
}
