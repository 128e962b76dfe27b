import { createLocalSecretResolver } from '../adapters/local/local-secret-resolver.ts';
import type { LookupAll } from '../adapters/http/guarded-agent.ts';
import { createOutboundHttp, type ClosableOutboundHttp } from '../adapters/http/outbound-http.ts';
import { createOutboundPolicy, describePolicy, LOCAL_DEFAULT_OUTBOUND_ALLOW, outboundAllowFrom, type OutboundPolicy } from '../adapters/http/outbound-policy.ts';
import { peersAllow } from '../adapters/http/peer-client.ts';
import type { SecretResolver } from '../core/ports.ts';

export interface LocalOutboundOptions {
  /** ORCHESTRATOR_OUTBOUND_ALLOW entries; default 127.0.0.1/8 (services on this machine's loopback). */
  readonly allow?: readonly string[];
  /** Endpoints the orchestrator itself listens on or uses (the emulators): their ports are never destinations. */
  readonly ownEndpoints: readonly (string | undefined)[];
  /** Peer orchestrators' base URLs: their hosts are allowed for the peer client only. */
  readonly peers: readonly string[];
  /** What `env:` secret references may read. */
  readonly secretEnvironment: Readonly<Record<string, string | undefined>>;
  /** Host name resolution at connection time (tests). */
  readonly lookup?: LookupAll;
}

/** The local runtime's outbound side: one policy, the adapters on it, and the port set it fills after listen. */
export interface LocalOutbound {
  /** Services: the action runner, the health probe, the OpenAPI poll. */
  readonly http: ClosableOutboundHttp;
  /** Peers: the same policy, with the configured peers' hosts allowed. */
  readonly peerHttp: ClosableOutboundHttp;
  readonly secrets: SecretResolver;
  /** The orchestrator's own ports; the API's is added once it listens. */
  readonly ownPorts: Set<number>;
  /** The services' policy (webhook URLs are judged by it at subscription time). */
  readonly policy: OutboundPolicy;
  /** What `npm start` prints about it. */
  describe(): string[];
  close(): Promise<void>;
}

/**
 * Outbound HTTP of the local runtime, under the same policy as in AWS: public addresses, what
 * ORCHESTRATOR_OUTBOUND_ALLOW lists (127.0.0.1/8 by default), never cloud metadata, and never the
 * orchestrator's own listeners (the API, the embedded DynamoDB and SQS/S3 emulators, and the endpoints it was
 * pointed at), whatever the allow list says: a workflow must not reach the orchestrator's own data.
 */
export function createLocalOutbound(options: LocalOutboundOptions): LocalOutbound {
  const ownPorts = new Set<number>();
  for (const endpoint of options.ownEndpoints) {
    if (endpoint === undefined) continue;
    const url = new URL(endpoint);
    ownPorts.add(Number(url.port) || (url.protocol === 'https:' ? 443 : 80));
  }
  const allow = outboundAllowFrom(options.allow ?? LOCAL_DEFAULT_OUTBOUND_ALLOW);
  const policy = createOutboundPolicy({ allow, ownPorts });
  const http = createOutboundHttp({ policy, ...(options.lookup ? { lookup: options.lookup } : {}) });
  const peerPolicy = createOutboundPolicy({ allow: outboundAllowFrom([...allow.entries, ...peersAllow(options.peers)]), ownPorts });
  const peerHttp = options.peers.length === 0 ? http : createOutboundHttp({ policy: peerPolicy, ...(options.lookup ? { lookup: options.lookup } : {}) });
  return {
    http,
    peerHttp,
    secrets: createLocalSecretResolver({ env: options.secretEnvironment }),
    ownPorts,
    policy,
    describe: () => describePolicy(policy),
    close: async () => {
      await http.close();
      if (peerHttp !== http) await peerHttp.close();
    },
  };
}
