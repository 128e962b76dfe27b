import { lookup as dnsLookup } from 'node:dns/promises';

/**
 * Host name resolution of outbound calls, apart from the HTTP client (guarded-agent.ts): what only judges a
 * destination (a webhook URL at subscription time) resolves names without carrying undici in its bundle.
 */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Every address a host name resolves to (like `dns.lookup(host, { all: true })`). Tests inject their own. */
export type LookupAll = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemLookup: LookupAll = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });
