import { lookup as dnsLookup } from 'node:dns/promises';
import {
  ALWAYS_FORBIDDEN_CLASSES,
  classify,
  cidrContains,
  formatIp,
  parseCidr,
  parseIp,
  PRIVATE_NETWORK_CLASSES,
  type AddressClass,
  type Cidr,
} from '../../core/registry/addresses.ts';

/** Which destinations the action runner may call (SSRF protection). */
export interface OutboundPolicy {
  /** Loopback and private ranges (RFC 1918, fc00::/7...). False in AWS; the local runtime calls services on localhost. */
  readonly allowPrivateNetworks: boolean;
  /** Addresses or networks (`169.254.170.2`, `10.1.0.0/16`) allowed whatever their class. */
  readonly allowedAddresses: readonly Cidr[];
}

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Every address a host name resolves to (like `dns.lookup(host, { all: true })`). Tests inject their own. */
export type LookupAll = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemLookup: LookupAll = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export type DestinationVerdict =
  | { readonly allowed: true; readonly addresses: readonly string[] }
  | { readonly allowed: false; readonly reason: string; readonly addresses: readonly string[] };

/** Parses `allowedAddresses`; a malformed entry fails at start-up, naming it. */
export function parseAllowedAddresses(entries: readonly string[]): Cidr[] {
  return entries.map((entry) => {
    const cidr = parseCidr(entry);
    if (!cidr) throw new Error(`invalid configuration: allowed address ${JSON.stringify(entry)} is not an IP address or CIDR network`);
    return cidr;
  });
}

/**
 * Whether the runner may connect to `url`'s host: an address literal is judged as is, a host name by every
 * address it resolves to (one forbidden address is enough to refuse: the connection could use any of them).
 * DNS failures propagate (the caller reports them as connection errors).
 */
export async function checkDestination(url: URL, policy: OutboundPolicy, lookup: LookupAll, signal?: AbortSignal): Promise<DestinationVerdict> {
  return signal ? abortable(verdictFor(url, policy, lookup), signal) : verdictFor(url, policy, lookup);
}

async function verdictFor(url: URL, policy: OutboundPolicy, lookup: LookupAll): Promise<DestinationVerdict> {
  const host = url.hostname;
  const literal = parseIp(host);
  const addresses = literal ? [formatIp(literal)] : (await lookup(host)).map((resolved) => resolved.address);
  if (addresses.length === 0) return { allowed: false, reason: `${host} resolves to no address`, addresses };
  for (const address of addresses) {
    const refusal = refusalOf(address, policy);
    if (refusal !== undefined) {
      const where = literal ? address : `${host} resolves to ${address}`;
      return { allowed: false, reason: `${where}, a ${refusal} address`, addresses };
    }
  }
  return { allowed: true, addresses };
}

/** Why `address` may not be called (its class), or undefined when it may. */
function refusalOf(address: string, policy: OutboundPolicy): string | undefined {
  const parsed = parseIp(address);
  if (!parsed) return 'unparseable';
  if (policy.allowedAddresses.some((cidr) => cidrContains(cidr, parsed))) return undefined;
  const addressClass: AddressClass = classify(parsed);
  if (ALWAYS_FORBIDDEN_CLASSES.includes(addressClass)) return addressClass === 'metadata' ? 'cloud metadata' : addressClass;
  if (PRIVATE_NETWORK_CLASSES.includes(addressClass) && !policy.allowPrivateNetworks) {
    return `${addressClass} (private networks are not allowed here)`;
  }
  return undefined;
}

/** Rejects with the signal's reason once it aborts: a DNS lookup takes no signal of its own. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

/** The variable that lists addresses every outbound caller (runner, health probe, OpenAPI poll) may call in AWS. */
export const ALLOWED_ADDRESSES_VARIABLE = 'ACTION_RUNNER_ALLOWED_ADDRESSES';

/** `10.0.0.0/16, 10.1.2.3` -> its entries (blank ones dropped). */
export function allowedAddressesFrom(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}
