import type { Secured } from './services.ts';
import type { PeerService } from '../../core/registry/peers.ts';
import { handlerFactory, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';

/** What the peer routes need: the peer use cases (peer client, configured peers, registry). */
export interface PeerHttpServices {
  readonly peers: PeerService;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** Peer orchestrators: their reachability, registry sync, and the replication endpoint peers push to. */
export function createPeerHandlers({ peers, security }: PeerHttpServices & Secured) {
  const handle = handlerFactory(security);
  return {
    listPeers: handle(routes.listPeers, async () => {
      const listed = await peers.peers();
      const reachable = listed.filter((peer) => peer.reachable).length;
      return {
        message: listed.length === 0 ? 'no peers configured (ORCHESTRATOR_PEERS)' : `${plural(listed.length, 'peer')}, ${reachable} reachable`,
        data: { peers: listed, total: listed.length, reachable },
      };
    }),

    syncPeers: handle(routes.syncPeers, async () => {
      const results = await peers.sync();
      const synced = results.filter((result) => result.status === 'synced').length;
      const failed = results.length - synced;
      return {
        message: results.length === 0 ? 'no peers configured (ORCHESTRATOR_PEERS)' : `synced with ${synced} of ${plural(results.length, 'peer')}${failed > 0 ? `; ${failed} failed` : ''}`,
        data: { peers: results, synced, failed },
      };
    }),

    replicateInstances: handle(routes.replicateInstances, async ({ body }) => {
      const counts = await peers.replicate(body);
      return { message: `${counts.applied} applied, ${counts.stale} stale, ${counts.rejected} rejected`, data: counts };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}
