import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoServiceRegistry } from '../adapters/aws/dynamo/dynamo-service-registry.ts';
import { createHealthSweep, type HealthSweep } from '../core/registry/health-sweep.ts';
import { systemClock } from '../core/system.ts';
import { readLambdaConfig, required } from './config.ts';
import { createHttpHealthProbe } from '../adapters/http/http-health-probe.ts';
import { awsOutboundHttp, awsSecretResolver } from './aws-outbound.ts';
import { withRegistryEvents } from '../core/events/registry-events.ts';
import { awsEventEmitter } from './aws-events.ts';

/**
 * Composition root of the health sweep in AWS (the scheduled worker and `POST /registry/health-check`): the
 * registry table and outbound HTTP. It throws at init, naming the variable, when its function was not given
 * the table. The system health (`GET /health/system`) is composed in aws-system-health.ts: it makes no
 * outbound call, so its bundle carries no HTTP client.
 */

/**
 * The health sweep on the registry table, probing under the action runner's outbound policy
 * (ORCHESTRATOR_OUTBOUND_ALLOW), with the credentials of instances registered with `auth`.
 */
export function awsHealthSweep(): HealthSweep {
  const config = readLambdaConfig();
  // Health changes are service events on the bus (WORKFLOW_EVENT_BUS_NAME).
  const registry = withRegistryEvents(new DynamoServiceRegistry(sharedDocumentClient(), required(config.REGISTRY_TABLE_NAME, 'REGISTRY_TABLE_NAME')), awsEventEmitter(config));
  const probe = createHttpHealthProbe({ http: awsOutboundHttp(config), secrets: awsSecretResolver() });
  return createHealthSweep({ registry, probe, clock: systemClock });
}
