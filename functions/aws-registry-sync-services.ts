import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoServiceRegistry } from '../adapters/aws/dynamo/dynamo-service-registry.ts';
import { lazyEventBridgePublisher } from '../adapters/aws/eventbridge/event-bridge-publisher.ts';
import { createApiDriftService, type ApiDriftService } from '../core/registry/openapi-poll.ts';
import { createPeerService, type PeerService } from '../core/registry/peers.ts';
import { randomIds, systemClock } from '../core/system.ts';
import { readLambdaConfig, required } from './config.ts';
import { createHttpApiDocumentSource } from '../adapters/http/api-document-source.ts';
import { createHttpPeerClient } from '../adapters/http/peer-client.ts';
import { awsOutboundHttp, awsPeerOutboundHttp } from './aws-outbound.ts';
import { secretOnFirstUse } from '../adapters/aws/secrets/secret-value.ts';

/**
 * Composition roots, in AWS, of the registry's peer sync and of OpenAPI polling. Each reads what its function
 * was given: GET /peers needs no table (only ORCHESTRATOR_PEERS), replication and sync need the registry
 * table, and polling also publishes on the workflow event bus (WORKFLOW_EVENT_BUS_NAME).
 */

/** Peers from ORCHESTRATOR_PEERS; the registry table is opened on first use (GET /peers never touches it). */
export function awsPeerService(): PeerService {
  const config = readLambdaConfig();
  let registry: DynamoServiceRegistry | undefined;
  const table = () => (registry ??= new DynamoServiceRegistry(sharedDocumentClient(), required(config.REGISTRY_TABLE_NAME, 'REGISTRY_TABLE_NAME')));
  return createPeerService({
    registry: { list: () => table().list(), replicate: (instance) => table().replicate(instance) },
    // Configured peers are allowed wherever they are. The peer token goes to each as a bearer token: from its
    // secret (ORCHESTRATOR_PEER_TOKEN_SECRET_ARN, what CDK sets), or ORCHESTRATOR_PEER_TOKEN.
    client: createHttpPeerClient({ http: awsPeerOutboundHttp(config), ...peerToken(config) }),
    peerUrls: config.ORCHESTRATOR_PEERS,
    clock: systemClock,
  });
}

function peerToken(config: ReturnType<typeof readLambdaConfig>): { token?: string | (() => Promise<string | undefined>) } {
  if (config.ORCHESTRATOR_PEER_TOKEN_SECRET_ARN !== undefined) return { token: secretOnFirstUse(config.ORCHESTRATOR_PEER_TOKEN_SECRET_ARN) };
  return config.ORCHESTRATOR_PEER_TOKEN === undefined ? {} : { token: config.ORCHESTRATOR_PEER_TOKEN };
}

/**
 * OpenAPI polling on the registry table, reading documents under the action runner's outbound policy (no
 * private addresses but those ORCHESTRATOR_OUTBOUND_ALLOW lists), drift published on the workflow event bus.
 */
export function awsApiDriftService(): ApiDriftService {
  const config = readLambdaConfig();
  const registry = new DynamoServiceRegistry(sharedDocumentClient(), required(config.REGISTRY_TABLE_NAME, 'REGISTRY_TABLE_NAME'));
  // The bus is named at init (a function without it fails at once); its client is built on the first drift.
  const busName = required(config.WORKFLOW_EVENT_BUS_NAME, 'WORKFLOW_EVENT_BUS_NAME');
  const events = lazyEventBridgePublisher(busName);
  return createApiDriftService({
    registry,
    documents: createHttpApiDocumentSource({ http: awsOutboundHttp(config) }),
    events,
    clock: systemClock,
    ids: randomIds,
  });
}
