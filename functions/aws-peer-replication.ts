import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoServiceRegistry } from '../adapters/aws/dynamo/dynamo-service-registry.ts';
import type { PeerClient } from '../core/ports.ts';
import { createPeerService, type PeerService } from '../core/registry/peers.ts';
import { systemClock } from '../core/system.ts';
import { readLambdaConfig, required } from './config.ts';

/** Replication stores what a peer pushed and calls no peer: a client that says so if it ever were asked. */
const NO_PEER_CALLS: PeerClient = {
  health: () => Promise.reject(new Error('POST /registry/replicate calls no peer')),
  instances: () => Promise.reject(new Error('POST /registry/replicate calls no peer')),
  replicate: () => Promise.reject(new Error('POST /registry/replicate calls no peer')),
};

/**
 * The peer service of `POST /registry/replicate`, on the registry table: it only stores the copies it is
 * sent, so it is composed without the HTTP client (aws-registry-sync-services.ts has the one that calls peers),
 * and its function's bundle carries none.
 */
export function awsPeerReplication(): PeerService {
  const config = readLambdaConfig();
  const registry = new DynamoServiceRegistry(sharedDocumentClient(), required(config.REGISTRY_TABLE_NAME, 'REGISTRY_TABLE_NAME'));
  return createPeerService({ registry, client: NO_PEER_CALLS, peerUrls: [], clock: systemClock });
}
