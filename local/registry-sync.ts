import type { Clock, EventPublisher, IdGenerator, OutboundHttp, ServiceRegistry } from '../core/ports.ts';
import { createApiDriftService, type ApiDriftService } from '../core/registry/openapi-poll.ts';
import { createPeerService, type PeerService } from '../core/registry/peers.ts';
import { createHttpApiDocumentSource } from '../adapters/http/api-document-source.ts';
import { createHttpPeerClient } from '../adapters/http/peer-client.ts';
import { createOpenApiPollWorker } from '../functions/workers/openapi-poll.ts';
import { startRepeatingJob, type RepeatingJob } from './repeating-job.ts';

/** Peer sync and OpenAPI polling on one machine: the settings `npm start` reads (local/config.ts) and tests pass. */
export interface LocalRegistrySyncDeps {
  readonly registry: ServiceRegistry;
  /** The in-process event bus (drift events). */
  readonly events: EventPublisher;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Peer orchestrators' base URLs, already validated. */
  readonly peers: readonly string[];
  /** Per call to a peer (default 3000 ms). */
  readonly peerTimeoutMs?: number;
  /** Outbound HTTP for documents (the services' policy) and for peers (their hosts allowed too): local/outbound.ts. */
  readonly http: OutboundHttp;
  readonly peerHttp: OutboundHttp;
  /** ORCHESTRATOR_PEER_TOKEN: sent to peers as a bearer token. */
  readonly peerToken?: string;
}

/**
 * The same use cases as in AWS; documents are read under the local outbound policy (as for the action
 * runner), and drift events go to the in-process event bus.
 */
export function createLocalRegistrySync(deps: LocalRegistrySyncDeps): { peers: PeerService; apiDrift: ApiDriftService } {
  return {
    peers: createPeerService({
      registry: deps.registry,
      client: createHttpPeerClient({ http: deps.peerHttp, timeoutMs: deps.peerTimeoutMs, ...(deps.peerToken === undefined ? {} : { token: deps.peerToken }) }),
      peerUrls: deps.peers,
      clock: deps.clock,
    }),
    apiDrift: createApiDriftService({
      registry: deps.registry,
      documents: createHttpApiDocumentSource({ http: deps.http }),
      events: deps.events,
      clock: deps.clock,
      ids: deps.ids,
    }),
  };
}

/** Polls every `intervalSeconds` (the schedule's stand-in); the worker logs one line per poll. */
export function startOpenApiPollTimer(apiDrift: ApiDriftService, intervalSeconds: number, log: (line: Record<string, unknown>) => void): RepeatingJob {
  // A poll of an empty registry is not worth a line every interval.
  const poll = createOpenApiPollWorker({ apiDrift, log: (line) => (Object.values((line['counts'] ?? {}) as Record<string, number>).some((count) => count > 0) ? log(line) : undefined) });
  return startRepeatingJob('openapi_poll', poll, intervalSeconds, log);
}
