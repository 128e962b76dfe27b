import { Agent, buildConnector } from 'undici';
import { parseIp } from './addresses.ts';
import { judgeConnection, type OutboundPolicy } from './outbound-policy.ts';
import { systemLookup, type LookupAll } from './lookup.ts';

export { systemLookup, type LookupAll, type ResolvedAddress } from './lookup.ts';

/** The outbound policy refused a connection; `message` says to what and why (never anything secret). */
export class AddressRefusedError extends Error {
  override readonly name = 'AddressRefusedError';
  readonly code = 'ERR_OUTBOUND_REFUSED';
}

export interface GuardedAgentOptions {
  readonly policy: OutboundPolicy;
  /** Host name resolution (default: the system resolver, every address). */
  readonly lookup?: LookupAll;
  /** Per address tried (default 10 s); the caller's deadline still covers the whole request. */
  readonly connectTimeoutMs?: number;
  /** Certificate authorities trusted for https instead of the system's (tests with their own CA). */
  readonly ca?: string;
}

/**
 * An undici dispatcher whose connections go only to checked addresses. For each new connection it resolves
 * the host once (or takes the literal), judges every address (outbound-policy.ts), and connects to the first
 * allowed one by address, trying the next on failure, so the address the socket uses is the address that was
 * checked: a second resolution (DNS rebinding between a check and the connection) cannot happen. TLS still
 * verifies the certificate for the host name (SNI and identity use `servername`), and the Host header is the
 * URL's. Redirects are new requests, so each hop gets its own connection check.
 */
export function createGuardedAgent(options: GuardedAgentOptions): Agent {
  const lookup = options.lookup ?? systemLookup;
  const base = buildConnector({ timeout: options.connectTimeoutMs ?? 10_000, ...(options.ca === undefined ? {} : { ca: options.ca }) });

  const connect: buildConnector.connector = (connectOptions, callback) => {
    const { hostname, protocol } = connectOptions;
    const port = Number(connectOptions.port) || (protocol === 'https:' ? 443 : 80);
    const literal = parseIp(hostname) !== undefined;
    const resolving: Promise<readonly string[]> = literal ? Promise.resolve([hostname]) : lookup(hostname).then((found) => found.map((entry) => entry.address));

    const attempt = (addresses: readonly string[], index: number): void => {
      const address = addresses[index]!;
      // By address: the socket connects to what was judged. The name stays the TLS server name.
      const servername = connectOptions.servername ?? (literal || protocol !== 'https:' ? undefined : hostname);
      base({ ...connectOptions, hostname: address, ...(servername ? { servername } : {}) }, (error, socket) => {
        if (error !== null && index + 1 < addresses.length) {
          attempt(addresses, index + 1);
          return;
        }
        if (error !== null) callback(error, null);
        else callback(null, socket);
      });
    };

    resolving.then(
      (addresses) => {
        const verdict = judgeConnection(options.policy, hostname, port, addresses);
        if (!verdict.allowed) {
          callback(new AddressRefusedError(`refused to call ${connectOptions.host ?? hostname}: ${verdict.reason}`), null);
          return;
        }
        attempt(verdict.addresses, 0);
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), null),
    );
  };

  return new Agent({ connect });
}
