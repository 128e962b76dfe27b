import { secured } from '../aws-security.ts';
import { awsPeerService } from '../aws-registry-sync-services.ts';
import { createPeerHandlers } from '../http/peer-handlers.ts';

export const handler = createPeerHandlers(secured({ peers: awsPeerService() })).listPeers;
