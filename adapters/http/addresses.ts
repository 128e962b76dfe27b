import ipaddr from 'ipaddr.js';

/**
 * IP addresses for the outbound policy, with ipaddr.js: parsing, classification and network matching of the
 * addresses a connection may use (docs/adr/0004).
 */

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * What an address is, for deciding whether the orchestrator may connect to it:
 * - `public`: routable on the internet;
 * - `private`: RFC 1918, carrier-grade NAT (100.64.0.0/10), IPv6 unique-local (fc00::/7) and site-local;
 * - `loopback`: 127.0.0.0/8, ::1 (in Lambda, 127.0.0.1:9001 is the runtime API);
 * - `link-local`: 169.254.0.0/16, fe80::/10;
 * - `metadata`: cloud instance and task metadata endpoints (METADATA_ADDRESSES);
 * - `unspecified` (0.0.0.0/8, ::: "this host"), `broadcast`, `multicast`, `reserved` (240.0.0.0/4,
 *   192.0.0.0/24, benchmarking, documentation ranges, discard-only, Teredo...).
 */
export type AddressClass = 'public' | 'private' | 'loopback' | 'link-local' | 'metadata' | 'unspecified' | 'broadcast' | 'multicast' | 'reserved';

/**
 * Cloud metadata endpoints: AWS IMDS (IPv4 and IPv6) with its DNS and NTP neighbours, ECS task credentials
 * (169.254.170.2), EKS pod identity (169.254.170.23, fd00:ec2::23), Oracle Cloud (192.0.0.192), Alibaba Cloud
 * (100.100.100.200). Canonical forms (`toCanonical`).
 */
export const METADATA_ADDRESSES: ReadonlySet<string> = new Set([
  '169.254.169.254',
  '169.254.169.253',
  '169.254.169.123',
  '169.254.170.2',
  '169.254.170.23',
  '192.0.0.192',
  '100.100.100.200',
  'fd00:ec2::254',
  'fd00:ec2::253',
  'fd00:ec2::123',
  'fd00:ec2::23',
]);

/**
 * Metadata endpoints that an allow-list entry naming exactly that address may open (a task that must call its
 * own container credentials endpoint); every other metadata address is never called.
 */
export const ALLOWABLE_METADATA_ADDRESSES: ReadonlySet<string> = new Set(['169.254.170.2', '169.254.170.23', 'fd00:ec2::23']);

const IPV4_CLASSES: Readonly<Record<string, AddressClass>> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'private',
  private: 'private',
  unicast: 'public',
};

const IPV6_CLASSES: Readonly<Record<string, AddressClass>> = {
  unspecified: 'unspecified',
  linkLocal: 'link-local',
  multicast: 'multicast',
  loopback: 'loopback',
  uniqueLocal: 'private',
  deprecatedSiteLocal: 'private',
  unicast: 'public',
};

/** Parses an address literal (brackets and an IPv6 zone accepted); undefined for a host name or garbage. */
export function parseIp(text: string): IpAddress | undefined {
  const literal = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // Only the usual spellings: ipaddr.js also reads `127.1` and octal parts, which no resolver returns.
  if (!literal.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(literal)) return undefined;
  try {
    return ipaddr.parse(literal);
  } catch {
    return undefined;
  }
}

/**
 * The IPv4 address an IPv6 address stands for, if it carries one a packet ends up at: IPv4-mapped
 * (::ffff:0:0/96), IPv4-compatible (::/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16). Such an address is
 * judged as that IPv4 address, so `::ffff:169.254.169.254` is as forbidden as `169.254.169.254`.
 */
export function normalize(address: IpAddress): IpAddress {
  if (address.kind() === 'ipv4') return address;
  const v6 = address as ipaddr.IPv6;
  const parts = v6.parts;
  const fromParts = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  const [p0 = 0, p1 = 0, p2 = 0, , , , p6 = 0, p7 = 0] = parts;
  const zeros = (from: number, to: number) => parts.slice(from, to).every((part) => part === 0);
  // ::/96 minus :: and ::1, which are the unspecified and loopback addresses.
  if (zeros(0, 6) && (p6 !== 0 || p7 > 1)) return fromParts(p6, p7);
  if (p0 === 0x64 && p1 === 0xff9b && zeros(2, 6)) return fromParts(p6, p7);
  if (p0 === 0x2002) return fromParts(p1, p2);
  return v6;
}

/** One spelling per address: dotted decimal, or RFC 5952 for IPv6 (embedded IPv4 forms as IPv4). */
export function toCanonical(address: IpAddress): string {
  const normalized = normalize(address);
  return normalized.kind() === 'ipv4' ? normalized.toString() : (normalized as ipaddr.IPv6).toRFC5952String();
}

export function classify(address: IpAddress): AddressClass {
  const normalized = normalize(address);
  if (METADATA_ADDRESSES.has(toCanonical(normalized))) return 'metadata';
  if (normalized.kind() === 'ipv6' && normalized.match(ipaddr.IPv6.parse('fd00:ec2::'), 32)) return 'metadata';
  const range = normalized.range();
  return (normalized.kind() === 'ipv4' ? IPV4_CLASSES : IPV6_CLASSES)[range] ?? 'reserved';
}

/** Classifies an address literal; undefined when `text` is not one. */
export function classifyAddress(text: string): AddressClass | undefined {
  const address = parseIp(text);
  return address ? classify(address) : undefined;
}

/** A network: `10.0.0.0/8`, `fd00::/8`, `127.0.0.1/8` (host bits ignored), or one address (`169.254.170.2`). */
export interface Cidr {
  readonly address: IpAddress;
  readonly prefixLength: number;
  readonly text: string;
}

export function parseCidr(text: string): Cidr | undefined {
  const trimmed = text.trim();
  const [addressText = '', prefixText, extra] = trimmed.split('/');
  if (extra !== undefined) return undefined;
  const parsed = parseIp(addressText);
  if (!parsed) return undefined;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const max = parsed.kind() === 'ipv4' ? 32 : 128;
  const prefixLength = prefixText === undefined ? max : Number(prefixText);
  if (prefixLength > max) return undefined;
  // `::ffff:10.0.0.0/104` is the IPv4 network 10.0.0.0/8.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    if (prefixLength < 96) return undefined;
    return { address: (parsed as ipaddr.IPv6).toIPv4Address(), prefixLength: prefixLength - 96, text: trimmed };
  }
  return { address: parsed, prefixLength, text: trimmed };
}

/** Whether `address` lies in `cidr`; embedded IPv4 forms match IPv4 networks. */
export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  const candidate = normalize(address);
  if (candidate.kind() !== cidr.address.kind()) return false;
  return candidate.match(cidr.address, cidr.prefixLength);
}
