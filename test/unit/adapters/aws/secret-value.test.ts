import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { secretOnFirstUse } from '../../../../adapters/aws/secrets/secret-value.ts';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:peer-token-AbCdEf';
const secrets = mockClient(SecretsManagerClient);

afterEach(() => secrets.reset());

describe('a secret read on first use (the peer token of the peer routes)', () => {
  it('asks Secrets Manager for that ARN once, however often it is used', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: 'peer-token-value' });
    const token = secretOnFirstUse(ARN);
    expect(await Promise.all([token(), token(), token()])).toEqual(['peer-token-value', 'peer-token-value', 'peer-token-value']);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('does not keep a failed read: the next use asks again', async () => {
    secrets.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolves({ SecretString: 'second-try' });
    const token = secretOnFirstUse(ARN);
    await expect(token()).rejects.toThrow('throttled');
    expect(await token()).toBe('second-try');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});
