import type { Clock, EventPublisher, ServiceRegistry } from '../core/ports.ts';
import { createApiDriftService, type ApiDriftService } from '../core/registry/openapi-poll.ts';
import { createPeerService, type PeerService } from '../core/registry/peers.ts';
import { createHttpApiDocumentSource } from '../functions/workers/api-document-source.ts';
import { createOpenApiPollWorker } from '../functions/workers/openapi-poll.ts';
import { createHttpPeerClient } from '../functions/workers/peer-client.ts';
import type { LocalEventLog } from './integrations.ts';

/** Peer sync and OpenAPI polling on one machine: the settings `npm start` reads (local/config.ts) and tests pass. */
export interface LocalRegistrySyncDeps {
  readonly registry: ServiceRegistry;
  readonly eventLog: LocalEventLog;
  readonly clock: Clock;
  /** Peer orchestrators' base URLs, already validated. */
  readonly peers: readonly string[];
  /** Per call to a peer (default 3000 ms). */
  readonly peerTimeoutMs?: number;
}

/**
 * The same use cases as in AWS; documents are read under the local outbound policy (private networks
 * allowed, as for the action runner), and drift events go to the in-process event log.
 */
export function createLocalRegistrySync(deps: LocalRegistrySyncDeps): { peers: PeerService; apiDrift: ApiDriftService } {
  return {
    peers: createPeerService({ registry: deps.registry, client: createHttpPeerClient({ timeoutMs: deps.peerTimeoutMs }), peerUrls: deps.peers, clock: deps.clock }),
    apiDrift: createApiDriftService({
      registry: deps.registry,
      documents: createHttpApiDocumentSource({ allowPrivateNetworks: true }),
      events: eventLogPublisher(deps.eventLog),
      clock: deps.clock,
    }),
  };
}

/** EventPublisher on the local event log, entries shaped as PutEvents entries (like notifications'). */
export function eventLogPublisher(eventLog: LocalEventLog): EventPublisher {
  const { putEvent } = eventLog.integrations();
  return { publish: (event) => putEvent({ EventBusName: 'local', Source: event.source, DetailType: event.detailType, Detail: event.detail }) };
}

export interface PollTimer {
  /** Stops the timer and waits for a poll in progress (each fetch ends within its timeout). */
  stop(): Promise<void>;
}

/**
 * Polls every `intervalSeconds` (the schedule's stand-in), the next poll an interval after the previous one
 * ended, never two at once; the worker logs one line per poll. The timer does not keep the process alive.
 */
export function startOpenApiPollTimer(apiDrift: ApiDriftService, intervalSeconds: number, log: (line: Record<string, unknown>) => void): PollTimer {
  // A poll of an empty registry is not worth a line every interval.
  const poll = createOpenApiPollWorker({ apiDrift, log: (line) => (Object.values((line['counts'] ?? {}) as Record<string, number>).some((count) => count > 0) ? log(line) : undefined) });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = poll()
        .then(() => undefined)
        .catch((error: unknown) => log({ kind: 'openapi_poll', level: 'error', message: error instanceof Error ? error.message : String(error) }))
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, intervalSeconds * 1000);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
