import { secured } from '../aws-security.ts';
import { awsPeerReplication } from '../aws-peer-replication.ts';
import { createPeerHandlers } from '../http/peer-handlers.ts';

export const handler = createPeerHandlers(secured({ peers: awsPeerReplication() })).replicateInstances;
