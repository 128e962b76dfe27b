import * as z from 'zod';
import { ReplicateRequestSchema } from '../../core/registry/peers.ts';

/** Request and response shapes of the peer routes (GET /peers, POST /registry/sync-peers, POST /registry/replicate). */

export const PeerStatusResponse = z.object({
  url: z.string(),
  reachable: z.boolean().describe('GET <peer>/health answered 2xx within the timeout'),
  latency_ms: z.number(),
  status_code: z.number().int().optional(),
  status: z.string().optional().describe("The peer's own health status"),
  version: z.string().optional().describe("The peer's service version"),
  error: z.string().optional(),
});

export const PeerListResponse = z.object({
  peers: z.array(PeerStatusResponse),
  total: z.number().int(),
  reachable: z.number().int(),
});

const Counts = z.object({
  applied: z.number().int().describe('Copies that were new or newer than what was stored'),
  stale: z.number().int().describe('Copies no newer than what was stored (or expired)'),
});

export const ReplicateBody = ReplicateRequestSchema;
export const ReplicateResponse = Counts;

export const PeerSyncResponse = z.object({
  peers: z.array(
    z.object({
      url: z.string(),
      status: z.enum(['synced', 'failed']),
      pulled: Counts.extend({ rejected: z.number().int(), problems: z.array(z.string()).optional() }).optional().describe("What came from the peer's registry"),
      pushed: Counts.optional().describe('What the peer took of ours'),
      error: z.string().optional(),
    }),
  ),
  synced: z.number().int(),
  failed: z.number().int(),
});
