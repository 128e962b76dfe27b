import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createAwsSecretResolver } from '../../../../adapters/aws/secrets/aws-secret-resolver.ts';
import { SecretUnavailableError } from '../../../../core/registry/secret-ref.ts';

/** No emulator serves Secrets Manager or SSM here: the requests the resolver sends are checked on SDK mocks. */
const secretsManager = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);
afterEach(() => {
  secretsManager.reset();
  ssm.reset();
});

/** A clock the test moves. */
function testClock(start = Date.parse('2026-11-20T10:00:00.000Z')) {
  let now = start;
  return { now: () => new Date(now).toISOString(), advance: (ms: number) => (now += ms) };
}

const resolver = (clock = testClock()) => createAwsSecretResolver({ secretsManager: new SecretsManagerClient({ region: 'us-east-1' }), ssm: new SSMClient({ region: 'us-east-1' }), clock });

describe('the AWS secret resolver', () => {
  it('reads a Secrets Manager secret by name or ARN, the SecretString as is', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'tok-123' });
    const secrets = resolver();
    expect(await secrets.resolve('secretsmanager:orchestrator/analysis-token')).toBe('tok-123');
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:orchestrator/billing-AbCdEf';
    expect(await secrets.resolve(`secretsmanager:${arn}`)).toBe('tok-123');
    expect(secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([{ SecretId: 'orchestrator/analysis-token' }, { SecretId: arn }]);
  });

  it('reads an SSM parameter with decryption', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/orchestrator/billing/key', Value: 'k-456', Type: 'SecureString' } });
    expect(await resolver().resolve('ssm:/orchestrator/billing/key')).toBe('k-456');
    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toEqual({ Name: '/orchestrator/billing/key', WithDecryption: true });
  });

  it('caches a value for a minute, shares a read in flight, then reads again', async () => {
    secretsManager.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'first' }).resolves({ SecretString: 'rotated' });
    const clock = testClock();
    const secrets = resolver(clock);
    const ref = 'secretsmanager:orchestrator/analysis-token';
    expect(await Promise.all([secrets.resolve(ref), secrets.resolve(ref)])).toEqual(['first', 'first']);
    clock.advance(59_000);
    expect(await secrets.resolve(ref)).toBe('first');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    clock.advance(2_000);
    expect(await secrets.resolve(ref)).toBe('rotated');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('does not cache failures, and says whether trying again may help', async () => {
    secretsManager.on(GetSecretValueCommand).rejectsOnce(new ResourceNotFoundException({ message: 'not found', $metadata: {} })).rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' })).resolves({ SecretString: 'finally' });
    const secrets = resolver();
    const ref = 'secretsmanager:orchestrator/missing';
    await expect(secrets.resolve(ref)).rejects.toMatchObject({ name: 'SecretUnavailableError', retryable: false, message: 'the secret secretsmanager:orchestrator/missing could not be read: ResourceNotFoundException' });
    await expect(secrets.resolve(ref)).rejects.toMatchObject({ retryable: true });
    expect(await secrets.resolve(ref)).toBe('finally');
  });

  it('refuses local references and references outside the orchestrator/ prefix, without a request', async () => {
    const secrets = resolver();
    for (const ref of ['env:ANALYSIS_TOKEN', 'file:/run/secrets/token', 'secretsmanager:prod/db-password', 'ssm:/prod/db/password']) {
      await expect(secrets.resolve(ref), ref).rejects.toBeInstanceOf(SecretUnavailableError);
    }
    expect(secretsManager.calls()).toHaveLength(0);
    expect(ssm.calls()).toHaveLength(0);
  });

  it('refuses a binary secret', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2]) });
    await expect(resolver().resolve('secretsmanager:orchestrator/binary')).rejects.toThrow(/binary secrets are not read/);
  });
});
