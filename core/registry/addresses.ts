/**
 * The registry's early refusal of service URLs whose host is an address literal no call may reach
 * (docs/adr/0004). It is a convenience, not the protection: the outbound adapter (adapters/http) checks every
 * address a connection is about to use, with ipaddr.js, whatever the registry accepted. So this stays small
 * and pure (core/ imports zod only): it reads the host as the WHATWG URL parser writes it, which has already
 * turned every IPv4 spelling (`2852039166`, `0xA9.0xFE.0xA9.0xFE`) into dotted decimal and every IPv6 one into
 * its compressed lower-case hex form (`[::ffff:a9fe:a9fe]`), so only those two forms need reading here.
 */

/** Classes of literal a service URL may not use: no configuration makes them callable. */
export type ForbiddenHostClass = 'metadata' | 'link-local' | 'unspecified' | 'broadcast' | 'multicast';

/**
 * Cloud instance and task metadata endpoints: AWS IMDS and its DNS and NTP neighbours, ECS task credentials,
 * EKS pod identity, Oracle Cloud, Alibaba Cloud (IPv4); AWS IMDS over IPv6 (fd00:ec2::/32, matched below).
 */
const METADATA_IPV4 = new Set(['169.254.169.254', '169.254.169.253', '169.254.169.123', '169.254.170.2', '169.254.170.23', '192.0.0.192', '100.100.100.200']);

/** The forbidden class of a URL host (`url.hostname`), or undefined when it is a name or an allowed literal. */
export function forbiddenHostClass(hostname: string): ForbiddenHostClass | undefined {
  if (hostname.startsWith('[') && hostname.endsWith(']')) return classifyIpv6(hostname.slice(1, -1));
  return /^\d+\.\d+\.\d+\.\d+$/.test(hostname) ? classifyIpv4(hostname.split('.').map(Number)) : undefined;
}

function classifyIpv4(octets: readonly number[]): ForbiddenHostClass | undefined {
  const [a = 0, b = 0] = octets;
  if (METADATA_IPV4.has(octets.join('.'))) return 'metadata';
  if (octets.every((octet) => octet === 255)) return 'broadcast';
  if (a === 0) return 'unspecified';
  if (a === 169 && b === 254) return 'link-local';
  if (a >= 224 && a <= 239) return 'multicast';
  return undefined;
}

function classifyIpv6(text: string): ForbiddenHostClass | undefined {
  const groups = expandIpv6(text);
  if (!groups) return undefined;
  const [g0 = 0, g1 = 0, , , , g5 = 0, g6 = 0, g7 = 0] = groups;
  const embedded = (high: number, low: number) => classifyIpv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  if (groups.every((group) => group === 0)) return 'unspecified';
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the IPv4 address they carry.
  if (groups.slice(0, 5).every((group) => group === 0) && g5 === 0xffff) return embedded(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && groups.slice(2, 6).every((group) => group === 0)) return embedded(g6, g7);
  if (g0 === 0x2002) return embedded(g1, groups[2] ?? 0);
  if (g0 === 0xfd00 && g1 === 0x0ec2) return 'metadata';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  return undefined;
}

/** `fd00:ec2::254` -> its eight groups; the URL parser's output has no dotted tail and at most one `::`. */
function expandIpv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':').map((group) => (/^[0-9a-f]{1,4}$/.test(group) ? parseInt(group, 16) : Number.NaN)));
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const groups = halves.length === 1 ? head : [...head, ...Array.from({ length: 8 - head.length - tail.length }, () => 0), ...tail];
  return groups.length === 8 && groups.every((group) => Number.isInteger(group)) ? groups : undefined;
}
