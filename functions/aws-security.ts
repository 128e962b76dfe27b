import { DynamoAuditTrail } from '../adapters/aws/dynamo/dynamo-audit-trail.ts';
import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { randomIds, systemClock } from '../core/system.ts';
import { cursorCodecOf, readLambdaConfig, required } from './config.ts';
import type { HandlerSecurity } from './middleware/security.ts';
import type { Secured } from './http/services.ts';
import type { SecurityHttpServices } from './http/security-handlers.ts';
import { createApiKeyService, type ApiKeyService } from '../core/auth/api-key-service.ts';
import { DynamoApiKeyStore } from '../adapters/aws/dynamo/dynamo-api-key-store.ts';
import { hashApiKeySecret, mintApiKey } from './auth/mint.ts';
import { jsonLogger } from './middleware/http-handler.ts';
import { awsSpanRecorder, configureAwsLog } from './aws-observability.ts';
import { assertDeployedRouteEnvironment } from './route-environment.ts';
import { awsEmfMetrics } from './aws-emf.ts';
import { recordHttpRequest } from './observability/http-metrics.ts';

let security: HandlerSecurity | undefined;

/** Access control and the audit trail of a route function (AUDIT_TABLE_NAME is set on every one by CDK). */
export function awsHandlerSecurity(): HandlerSecurity {
  if (security) return security;
  const config = readLambdaConfig();
  // A function deployed without what its route needs fails here, at init, naming each variable (ORCHESTRATOR_ROUTE, set by CDK).
  assertDeployedRouteEnvironment(config);
  configureAwsLog(config);
  const audit = new DynamoAuditTrail(sharedDocumentClient(), required(config.AUDIT_TABLE_NAME, 'AUDIT_TABLE_NAME'), config.ORCHESTRATOR_AUDIT_RETENTION_DAYS, { cursors: cursorCodecOf(config) });
  // ORCHESTRATOR_CORS_ORIGINS: API Gateway's proxy integration adds no CORS headers, so the function does.
  const cors = config.ORCHESTRATOR_CORS_ORIGINS;
  // Each request is a server span (SPANS_TABLE_NAME, set on every route function), exported before the function answers.
  // Its status and latency go to CloudWatch as EMF (ORCHESTRATOR_METRICS_ENABLED).
  const observer = {
    spans: awsSpanRecorder(config, jsonLogger),
    flushBeforeAnswer: true,
    log: jsonLogger,
    ...(config.ORCHESTRATOR_METRICS_ENABLED === false ? {} : { httpRequest: recordHttpRequest(awsEmfMetrics()) }),
  };
  security = { audit, authMode: config.ORCHESTRATOR_AUTH_MODE, clock: systemClock, ids: randomIds, log: jsonLogger, observer, ...(cors === undefined ? {} : { cors }) };
  return security;
}

/**
 * `services` with the function's security added, keeping its lazy getters lazy (spreading would call them:
 * a route would then build, and need the settings of, every service of its context).
 */
export function secured<T extends object>(services: T): T & Secured {
  return Object.create(services, { security: { value: awsHandlerSecurity(), enumerable: true } }) as T & Secured;
}

/** The security context's services: managed API keys (API_KEYS_TABLE_NAME) and the audit trail's reader. */
export function awsSecurityServices(): SecurityHttpServices {
  const config = readLambdaConfig();
  let apiKeys: ApiKeyService | undefined;
  return {
    get security() {
      return awsHandlerSecurity();
    },
    get auditTrail() {
      return awsHandlerSecurity().audit;
    },
    // Built on first use: only the key routes get API_KEYS_TABLE_NAME.
    get apiKeys() {
      return (apiKeys ??= createApiKeyService({
        store: new DynamoApiKeyStore(sharedDocumentClient(), required(config.API_KEYS_TABLE_NAME, 'API_KEYS_TABLE_NAME')),
        clock: systemClock,
        mint: mintApiKey,
        hash: hashApiKeySecret,
      }));
    },
  };
}
