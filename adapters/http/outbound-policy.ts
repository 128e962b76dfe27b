import { networkInterfaces } from 'node:os';
import * as z from 'zod';
import { ALLOWABLE_METADATA_ADDRESSES, cidrContains, classify, normalize, parseCidr, parseIp, toCanonical, type AddressClass, type Cidr, type IpAddress } from './addresses.ts';

/**
 * Which destinations the orchestrator's outbound calls may connect to (SSRF protection, docs/adr/0004). Judged
 * for every address a connection is about to use (guarded-agent.ts), in this order:
 *
 * 1. a cloud metadata address is never called (ECS and EKS credential endpoints only when an allow entry names
 *    exactly that address);
 * 2. the orchestrator's own listeners (`ownPorts` on a loopback, unspecified or this host's address: the
 *    local API, the embedded DynamoDB and SQS/S3 emulators) are never called, whatever the allow list says;
 * 3. a host name on the allow list may be called whatever it resolves to;
 * 4. an address in an allowed network may be called;
 * 5. a public address may be called; any other (private, loopback, link-local, reserved...) may not.
 */

/** The variable, in AWS and locally, that lists what may be called besides public addresses. */
export const OUTBOUND_ALLOW_VARIABLE = 'ORCHESTRATOR_OUTBOUND_ALLOW';

/** Locally, services on 127.0.0.1 work out of the box; other private networks must be configured. */
export const LOCAL_DEFAULT_OUTBOUND_ALLOW: readonly string[] = ['127.0.0.1/8'];

/** ORCHESTRATOR_OUTBOUND_ALLOW, parsed: networks (CIDRs or single addresses) and exact host names. */
export interface OutboundAllow {
  readonly entries: readonly string[];
  readonly networks: readonly Cidr[];
  /** Lower case, without a trailing dot. */
  readonly hostnames: ReadonlySet<string>;
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** `10.0.0.0/16, 10.1.2.3, api.internal` -> its entries (blank ones dropped). */
export function splitOutboundAllow(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** Every entry parsed, or the problems (one per bad entry, naming it). */
export function parseOutboundAllow(entries: string | readonly string[]): { allow: OutboundAllow; problems: string[] } {
  const list = typeof entries === 'string' ? splitOutboundAllow(entries) : entries.map((entry) => entry.trim()).filter((entry) => entry !== '');
  const networks: Cidr[] = [];
  const hostnames = new Set<string>();
  const problems: string[] = [];
  for (const entry of list) {
    const cidr = parseCidr(entry);
    if (cidr) {
      networks.push(cidr);
      continue;
    }
    const name = entry.toLowerCase().replace(/\.$/, '');
    if (!entry.includes('/') && !/^[\d.]+$/.test(name) && HOSTNAME.test(name)) hostnames.add(name);
    else problems.push(`${JSON.stringify(entry)} is not an IP address, a CIDR network or a host name`);
  }
  return { allow: { entries: list, networks, hostnames }, problems };
}

/** Like parseOutboundAllow, throwing at start-up on a bad entry. */
export function outboundAllowFrom(entries: string | readonly string[]): OutboundAllow {
  const { allow, problems } = parseOutboundAllow(entries);
  if (problems.length > 0) throw new Error(`invalid configuration: ${OUTBOUND_ALLOW_VARIABLE}: ${problems.join('; ')}`);
  return allow;
}

/**
 * ORCHESTRATOR_OUTBOUND_ALLOW as a configuration setting: unset gives `defaults`, an empty value allows
 * nothing but public addresses, a bad entry fails start-up naming it.
 */
export function outboundAllowSetting(defaults: readonly string[]) {
  return z
    .string()
    .optional()
    .transform((value, context): OutboundAllow => {
      const { allow, problems } = parseOutboundAllow(value ?? defaults);
      for (const problem of problems) context.addIssue({ code: 'custom', message: problem });
      return allow;
    });
}

export interface OutboundPolicy {
  readonly allow: OutboundAllow;
  /**
   * Ports of the orchestrator's own listeners. Read at every check, so a composition root may fill it after
   * its listeners are up (the local API's port is known only after listen).
   */
  readonly ownPorts: ReadonlySet<number>;
  /** This host's interface addresses (canonical), where the own ports also listen. */
  readonly localAddresses: () => ReadonlySet<string>;
}

export interface OutboundPolicyOptions {
  /** Entries (ORCHESTRATOR_OUTBOUND_ALLOW) or their parsed form. Default: nothing but public addresses. */
  readonly allow?: readonly string[] | OutboundAllow;
  readonly ownPorts?: ReadonlySet<number>;
  /** Default: the addresses of os.networkInterfaces(), read again every 10 s. */
  readonly localAddresses?: () => ReadonlySet<string>;
}

export function createOutboundPolicy(options: OutboundPolicyOptions = {}): OutboundPolicy {
  const allow = options.allow === undefined ? outboundAllowFrom([]) : Array.isArray(options.allow) ? outboundAllowFrom(options.allow as readonly string[]) : (options.allow as OutboundAllow);
  return { allow, ownPorts: options.ownPorts ?? new Set(), localAddresses: options.localAddresses ?? interfaceAddresses() };
}

/** This host's addresses, cached for a few seconds (interfaces change rarely; a check must stay cheap). */
function interfaceAddresses(ttlMs = 10_000): () => ReadonlySet<string> {
  let cached: { at: number; addresses: ReadonlySet<string> } | undefined;
  return () => {
    const now = Date.now();
    if (cached && now - cached.at < ttlMs) return cached.addresses;
    const addresses = new Set<string>();
    for (const entries of Object.values(networkInterfaces())) {
      for (const entry of entries ?? []) {
        const parsed = parseIp(entry.address.replace(/%.*$/, ''));
        if (parsed) addresses.add(toCanonical(parsed));
      }
    }
    cached = { at: now, addresses };
    return addresses;
  };
}

/** `allowed`; `not_allowed` (an allow entry would open it: skipped); `forbidden` (never, refuses the connection). */
export type AddressVerdict = { readonly kind: 'allowed' } | { readonly kind: 'not_allowed' | 'forbidden'; readonly why: string };

/** The verdict on connecting to `address` on `port`, on behalf of host `hostname` (a name, or the literal itself). */
export function judgeAddress(policy: OutboundPolicy, address: IpAddress, port: number, hostname: string): AddressVerdict {
  const normalized = normalize(address);
  const canonical = toCanonical(normalized);
  const addressClass: AddressClass = classify(normalized);
  const exactEntry = () => policy.allow.networks.some((cidr) => cidr.prefixLength === (cidr.address.kind() === 'ipv4' ? 32 : 128) && cidrContains(cidr, normalized));
  if (addressClass === 'metadata' && !(ALLOWABLE_METADATA_ADDRESSES.has(canonical) && exactEntry())) return { kind: 'forbidden', why: 'a cloud metadata address' };
  if (policy.ownPorts.has(port) && (addressClass === 'loopback' || addressClass === 'unspecified' || policy.localAddresses().has(canonical))) {
    return { kind: 'forbidden', why: `this orchestrator's own listener (port ${port})` };
  }
  if (addressClass === 'metadata') return { kind: 'allowed' };
  if (policy.allow.hostnames.has(hostname.toLowerCase().replace(/\.$/, ''))) return { kind: 'allowed' };
  if (policy.allow.networks.some((cidr) => cidrContains(cidr, normalized))) return { kind: 'allowed' };
  if (addressClass === 'public') return { kind: 'allowed' };
  return { kind: 'not_allowed', why: `a ${addressClass} address not allowed by ${OUTBOUND_ALLOW_VARIABLE}` };
}

export type ConnectionVerdict = { readonly allowed: true; readonly addresses: readonly string[] } | { readonly allowed: false; readonly reason: string };

/**
 * The addresses a connection to `hostname`:`port` may use, of those it resolved to (or the literal itself). A
 * forbidden address refuses the whole connection (a name that resolves to the metadata address is an attack,
 * not a service); addresses merely not allowed are skipped (`localhost` is ::1 and 127.0.0.1; only the
 * second is allowed by default); no address left refuses it.
 */
export function judgeConnection(policy: OutboundPolicy, hostname: string, port: number, resolved: readonly string[]): ConnectionVerdict {
  const literal = parseIp(hostname) !== undefined;
  const where = (address: string) => (literal ? address : `${hostname} resolves to ${address}`);
  if (resolved.length === 0) return { allowed: false, reason: `${hostname} resolves to no address` };
  const allowed: string[] = [];
  let skipped: string | undefined;
  for (const text of resolved) {
    const address = parseIp(text);
    if (!address) return { allowed: false, reason: `${where(text)}, which is not an IP address` };
    const verdict = judgeAddress(policy, address, port, hostname);
    if (verdict.kind === 'forbidden') return { allowed: false, reason: `${where(text)}, ${verdict.why}` };
    if (verdict.kind === 'not_allowed') skipped ??= `${where(text)}, ${verdict.why}`;
    else allowed.push(text);
  }
  return allowed.length > 0 ? { allowed: true, addresses: allowed } : { allowed: false, reason: skipped ?? `${hostname} resolves to no allowed address` };
}

/** What `npm start` prints: what may be called besides public addresses, and what never. */
export function describePolicy(policy: OutboundPolicy): string[] {
  const allowed = policy.allow.entries.length > 0 ? policy.allow.entries.join(', ') : 'nothing (public addresses only)';
  const own = [...policy.ownPorts].sort((a, b) => a - b).join(', ');
  return [
    `outbound calls (${OUTBOUND_ALLOW_VARIABLE}): public addresses, and ${allowed}`,
    `  never: cloud metadata addresses${own === '' ? '' : `, this orchestrator's own ports (${own}) on this host`}`,
  ];
}
