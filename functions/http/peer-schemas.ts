import * as z from 'zod';
import { MAX_REPLICATION_CLOCK_SKEW_MS, ReplicateRequestSchema } from '../../core/registry/peers.ts';

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

/** What a receiver did with copies: also those it refused (invalid, or `updated_at` too far in the future), with the first reasons. */
const ReceivedCounts = Counts.extend({
  rejected: z.number().int().describe(`Copies not stored: invalid entries, or an updated_at more than ${MAX_REPLICATION_CLOCK_SKEW_MS / 60_000} minutes ahead of this orchestrator's clock`),
  problems: z.array(z.string()).optional().describe('Why copies were rejected (the first 10)'),
});

export const ReplicateBody = ReplicateRequestSchema;
export const ReplicateResponse = ReceivedCounts;

export const PeerSyncResponse = z.object({
  peers: z.array(
    z.object({
      url: z.string(),
      status: z.enum(['synced', 'failed']),
      pulled: ReceivedCounts.optional().describe("What came from the peer's registry"),
      pushed: Counts.extend({ rejected: z.number().int() }).optional().describe('What the peer did with ours: applied, stale, and rejected (dated too far ahead of its clock)'),
      error: z.string().optional(),
    }),
  ),
  synced: z.number().int(),
  failed: z.number().int(),
});
