import { sharedDocumentClient } from '../../adapters/aws/dynamo/client.ts';
import { readSecretString } from '../../adapters/aws/secrets/secret-value.ts';
import { DynamoApiKeyStore } from '../../adapters/aws/dynamo/dynamo-api-key-store.ts';
import { DynamoAuditTrail } from '../../adapters/aws/dynamo/dynamo-audit-trail.ts';
import { randomIds, systemClock } from '../../core/system.ts';
import { algorithmsSetting, createAuthenticator } from '../auth/authenticator.ts';
import { createAuthorizer } from '../auth/authorizer.ts';
import { readLambdaConfig, required } from '../config.ts';
import { jsonLogger } from '../middleware/http-handler.ts';

/** The API's REQUEST authorizer. Secrets are read once, at init, from Secrets Manager (their ARNs only are in the environment). */
const config = readLambdaConfig();
const secret = async (arn: string | undefined): Promise<string | undefined> => (arn === undefined ? undefined : readSecretString(arn));
const [jwtSecret, adminApiKey, peerToken] = await Promise.all([
  secret(config.ORCHESTRATOR_JWT_SECRET_ARN),
  secret(config.ORCHESTRATOR_API_KEY_SECRET_ARN),
  secret(config.ORCHESTRATOR_PEER_TOKEN_SECRET_ARN),
]);
const documentClient = sharedDocumentClient();

export const handler = createAuthorizer({
  authenticator: createAuthenticator(
    {
      mode: config.ORCHESTRATOR_AUTH_MODE,
      anonymousRole: config.ORCHESTRATOR_ANONYMOUS_ROLE,
      jwtSecret,
      jwksUrl: config.ORCHESTRATOR_JWKS_URL,
      jwtAlgorithms: algorithmsSetting(config.ORCHESTRATOR_JWT_ALGORITHMS),
      jwtIssuer: config.ORCHESTRATOR_JWT_ISSUER,
      jwtAudience: config.ORCHESTRATOR_JWT_AUDIENCE,
      adminApiKey,
      peerToken,
    },
    { apiKeys: new DynamoApiKeyStore(documentClient, required(config.API_KEYS_TABLE_NAME, 'API_KEYS_TABLE_NAME')), clock: systemClock },
  ),
  audit: new DynamoAuditTrail(documentClient, required(config.AUDIT_TABLE_NAME, 'AUDIT_TABLE_NAME'), config.ORCHESTRATOR_AUDIT_RETENTION_DAYS),
  clock: systemClock,
  ids: randomIds,
  log: jsonLogger,
});
