import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

let client: SecretsManagerClient | undefined;

/** The string value of a Secrets Manager secret, by ARN (the auth secrets, the peer token). */
export async function readSecretString(arn: string): Promise<string | undefined> {
  client ??= new SecretsManagerClient({});
  return (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString ?? undefined;
}

/**
 * A secret read on first use and kept for the life of the function instance; a failed read is not kept, so
 * the next use tries again. Rotation takes effect when instances are replaced (ADR 0010).
 */
export function secretOnFirstUse(arn: string): () => Promise<string | undefined> {
  let pending: Promise<string | undefined> | undefined;
  return () => {
    pending ??= readSecretString(arn).catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
