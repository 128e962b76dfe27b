import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Clock, SecretResolver } from '../../../core/ports.ts';
import { parseSecretRef, SecretUnavailableError } from '../../../core/registry/secret-ref.ts';

/** How long a value read is reused: short, so a rotated secret is picked up within a minute. */
export const DEFAULT_SECRET_CACHE_TTL_MS = 60_000;

export interface AwsSecretResolverOptions {
  readonly secretsManager?: SecretsManagerClient;
  readonly ssm?: SSMClient;
  /** Default DEFAULT_SECRET_CACHE_TTL_MS; 0 reads on every call. */
  readonly cacheTtlMs?: number;
  /** The cache's age is measured on it (tests move it). Default: the system clock. */
  readonly clock?: Clock;
}

/** Errors that say the reference is wrong or not readable, whatever the number of tries. */
const PERMANENT = new Set(['ResourceNotFoundException', 'ParameterNotFound', 'ParameterVersionNotFound', 'AccessDeniedException', 'InvalidRequestException', 'InvalidParameterException', 'ValidationException', 'DecryptionFailure', 'InvalidKeyId']);

/**
 * SecretResolver in AWS: `secretsmanager:` with GetSecretValue (the SecretString as is), `ssm:` with
 * GetParameter WithDecryption. Values are cached per reference for a short TTL (a Lambda serving a stream of
 * calls reads each secret about once a minute), and concurrent reads of one reference share one request.
 * `env:` and `file:` references are refused: in AWS the environment is the function's own configuration.
 * The function's role may read `orchestrator/*` only (infra/stacks/runtime-stack.ts).
 */
export function createAwsSecretResolver(options: AwsSecretResolverOptions = {}): SecretResolver {
  const ttlMs = options.cacheTtlMs ?? DEFAULT_SECRET_CACHE_TTL_MS;
  const now = () => (options.clock ? Date.parse(options.clock.now()) : Date.now());
  let secretsManager = options.secretsManager;
  let ssm = options.ssm;
  const cache = new Map<string, { value: string; readAt: number }>();
  const reading = new Map<string, Promise<string>>();

  const read = async (text: string): Promise<string> => {
    const parsed = parseSecretRef(text);
    if ('problem' in parsed) throw new SecretUnavailableError(`the secret reference ${JSON.stringify(text)} is not valid: ${parsed.problem}`);
    const { ref } = parsed;
    try {
      if (ref.kind === 'secretsmanager') {
        secretsManager ??= new SecretsManagerClient({});
        const output = await secretsManager.send(new GetSecretValueCommand({ SecretId: ref.id }));
        if (typeof output.SecretString !== 'string') throw new SecretUnavailableError(`the secret ${text} has no string value (binary secrets are not read)`);
        return output.SecretString;
      }
      if (ref.kind === 'ssm') {
        ssm ??= new SSMClient({});
        const output = await ssm.send(new GetParameterCommand({ Name: ref.name, WithDecryption: true }));
        const value = output.Parameter?.Value;
        if (typeof value !== 'string') throw new SecretUnavailableError(`the parameter ${text} has no value`);
        return value;
      }
    } catch (error) {
      if (error instanceof SecretUnavailableError) throw error;
      const name = error instanceof Error ? error.name : 'Error';
      // The SDK's messages name the secret, never its value; the name alone is enough to act on.
      throw new SecretUnavailableError(`the secret ${text} could not be read: ${name}`, { retryable: !PERMANENT.has(name), cause: error });
    }
    throw new SecretUnavailableError(`the secret ${text} is a local reference (${ref.kind}:), which is not read in AWS: use secretsmanager: or ssm:`);
  };

  return {
    resolve(text) {
      const cached = cache.get(text);
      if (cached && ttlMs > 0 && now() - cached.readAt < ttlMs) return Promise.resolve(cached.value);
      const pending = reading.get(text);
      if (pending) return pending;
      const readAt = now();
      const promise = read(text).then((value) => {
        cache.set(text, { value, readAt });
        return value;
      });
      reading.set(text, promise);
      void promise.finally(() => reading.delete(text)).catch(() => undefined);
      return promise;
    },
  };
}
