/**
 * IP address literals: parsing, classification and CIDR matching, in plain TypeScript (core/ may not use
 * node:net). The registry refuses service URLs whose host is a forbidden literal, and the action runner
 * applies the same classification to every address a host name resolves to (SSRF protection).
 */

export type AddressFamily = 4 | 6;

export interface IpAddress {
  readonly family: AddressFamily;
  /** 4 or 16 bytes, network order. */
  readonly bytes: readonly number[];
}

/**
 * What an address is, for the purpose of deciding whether the platform may call it:
 * - `public`: anything routable on the internet;
 * - `private`: RFC 1918, carrier-grade NAT (100.64.0.0/10, which also holds Alibaba's metadata address),
 *   IPv6 unique-local (fc00::/7) and site-local: reachable only inside a network;
 * - `loopback`: 127.0.0.0/8, ::1 (in Lambda, 127.0.0.1:9001 is the runtime API);
 * - `link-local`: 169.254.0.0/16, fe80::/10;
 * - `metadata`: cloud instance / task metadata endpoints (169.254.169.254, 169.254.170.2, fd00:ec2::254);
 * - `unspecified`, `broadcast`, `multicast`, `reserved` (240.0.0.0/4, 192.0.0.0/24, documentation ranges...).
 */
export type AddressClass = 'public' | 'private' | 'loopback' | 'link-local' | 'metadata' | 'unspecified' | 'broadcast' | 'multicast' | 'reserved';

/** Never called, whatever the configuration says about private networks (an explicit allow-list entry still wins). */
export const ALWAYS_FORBIDDEN_CLASSES: readonly AddressClass[] = ['link-local', 'metadata', 'unspecified', 'broadcast', 'multicast', 'reserved'];

/** Called only where the deployment allows private networks (the local runtime, a VPC deployment). */
export const PRIVATE_NETWORK_CLASSES: readonly AddressClass[] = ['private', 'loopback'];

/** Parses an IPv4 (dotted decimal) or IPv6 literal; brackets and an IPv6 zone (`%eth0`) are accepted. */
export function parseIp(text: string): IpAddress | undefined {
  const literal = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (literal.includes(':')) {
    const bytes = parseIpv6(literal.replace(/%.*$/, ''));
    return bytes ? { family: 6, bytes } : undefined;
  }
  const bytes = parseIpv4(literal);
  return bytes ? { family: 4, bytes } : undefined;
}

/** Classifies an address literal; undefined when `text` is not one (a host name). */
export function classifyAddress(text: string): AddressClass | undefined {
  const address = parseIp(text);
  return address ? classify(address) : undefined;
}

export function classify(address: IpAddress): AddressClass {
  const embedded = embeddedIpv4(address);
  if (embedded) return classifyIpv4(embedded);
  return address.family === 4 ? classifyIpv4(address.bytes) : classifyIpv6(address.bytes);
}

/** A network: `10.0.0.0/8`, `fd00::/8`, or one address (`169.254.170.2`). */
export interface Cidr {
  readonly address: IpAddress;
  readonly prefixLength: number;
  readonly text: string;
}

export function parseCidr(text: string): Cidr | undefined {
  const [addressText = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return undefined;
  const address = parseIp(addressText);
  if (!address) return undefined;
  const max = address.family === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefixLength = prefixText === undefined ? max : Number(prefixText);
  if (prefixLength > max) return undefined;
  if (address.family === 6 && isMapped(address.bytes)) {
    // `::ffff:10.0.0.0/104` is the IPv4 network 10.0.0.0/8.
    if (prefixLength < 96) return undefined;
    return { address: normalize(address), prefixLength: prefixLength - 96, text: text.trim() };
  }
  return { address, prefixLength, text: text.trim() };
}

/** Whether `address` lies in `cidr`; IPv4-mapped IPv6 addresses match IPv4 networks. */
export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  const candidate = normalize(address);
  if (candidate.family !== cidr.address.family) return false;
  let remaining = cidr.prefixLength;
  for (let index = 0; remaining > 0; index++) {
    const bits = Math.min(8, remaining);
    const mask = (0xff << (8 - bits)) & 0xff;
    if (((candidate.bytes[index] ?? 0) & mask) !== ((cidr.address.bytes[index] ?? 0) & mask)) return false;
    remaining -= bits;
  }
  return true;
}

/** The canonical text of an address: dotted decimal, or IPv6 in the RFC 5952 compressed form. */
export function formatIp(address: IpAddress): string {
  if (address.family === 4) return address.bytes.join('.');
  const groups = Array.from({ length: 8 }, (_, index) => ((address.bytes[index * 2] ?? 0) << 8) | (address.bytes[index * 2 + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; ) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is the IPv4 address it maps: compare and classify it as one. */
function normalize(address: IpAddress): IpAddress {
  if (address.family === 6 && isMapped(address.bytes)) return { family: 4, bytes: address.bytes.slice(12) };
  return address;
}

function isMapped(bytes: readonly number[]): boolean {
  return bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * IPv6 forms that carry an IPv4 address a packet may end up at: IPv4-mapped (::ffff:0:0/96), IPv4-compatible
 * (::/96, deprecated), NAT64 (64:ff9b::/96) and 6to4 (2002::/16). They are judged by that IPv4 address, so
 * `[::ffff:169.254.169.254]` is as forbidden as `169.254.169.254`.
 */
function embeddedIpv4(address: IpAddress): readonly number[] | undefined {
  if (address.family !== 6) return undefined;
  const bytes = address.bytes;
  if (isMapped(bytes)) return bytes.slice(12);
  const firstTwelveZero = bytes.slice(0, 12).every((byte) => byte === 0);
  // ::/128 and ::1 are the unspecified and loopback addresses, not IPv4-compatible ones.
  if (firstTwelveZero && !bytes.slice(12, 15).every((byte) => byte === 0)) return bytes.slice(12);
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && bytes.slice(4, 12).every((byte) => byte === 0)) return bytes.slice(12);
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.slice(2, 6);
  return undefined;
}

function classifyIpv4(bytes: readonly number[]): AddressClass {
  const [a = 0, b = 0, c = 0, d = 0] = bytes;
  if (a === 169 && b === 254 && ((c === 169 && (d === 254 || d === 253 || d === 123)) || (c === 170 && (d === 2 || d === 23)))) return 'metadata';
  if (a === 255 && b === 255 && c === 255 && d === 255) return 'broadcast';
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 169 && b === 254) return 'link-local';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)) return 'private';
  // Benchmarking (198.18.0.0/15) is used as private address space in practice.
  if (a === 198 && (b === 18 || b === 19)) return 'private';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a >= 240) return 'reserved';
  // 192.0.0.0/24 (IETF assignments; 192.0.0.192 is Oracle Cloud's metadata address) and the documentation ranges.
  if ((a === 192 && b === 0 && c === 0) || (a === 192 && b === 0 && c === 2) || (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)) return 'reserved';
  return 'public';
}

function classifyIpv6(bytes: readonly number[]): AddressClass {
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = bytes;
  if (bytes.every((byte) => byte === 0)) return 'unspecified';
  if (bytes.slice(0, 15).every((byte) => byte === 0) && bytes[15] === 1) return 'loopback';
  // fd00:ec2::254, the EC2 instance metadata service over IPv6 (and its DNS and NTP neighbours).
  if (b0 === 0xfd && b1 === 0x00 && b2 === 0x0e && b3 === 0xc2 && bytes.slice(4, 14).every((byte) => byte === 0)) return 'metadata';
  if (b0 === 0xff) return 'multicast';
  if (b0 === 0xfe && (b1 & 0xc0) === 0x80) return 'link-local';
  if (b0 === 0xfe && (b1 & 0xc0) === 0xc0) return 'private';
  if ((b0 & 0xfe) === 0xfc) return 'private';
  // Discard-only 100::/64 and documentation 2001:db8::/32.
  if (b0 === 0x01 && b1 === 0x00 && bytes.slice(2, 8).every((byte) => byte === 0)) return 'reserved';
  if (b0 === 0x20 && b1 === 0x01 && b2 === 0x0d && b3 === 0xb8) return 'reserved';
  return 'public';
}

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes.push(value);
  }
  return bytes;
}

function parseIpv6(text: string): number[] | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string, allowIpv4Tail: boolean): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    const bytes: number[] = [];
    for (let index = 0; index < groups.length; index++) {
      const group = groups[index] ?? '';
      if (allowIpv4Tail && index === groups.length - 1 && group.includes('.')) {
        const ipv4 = parseIpv4(group);
        if (!ipv4) return undefined;
        bytes.push(...ipv4);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
      const value = parseInt(group, 16);
      bytes.push(value >> 8, value & 0xff);
    }
    return bytes;
  };
  if (halves.length === 1) {
    const bytes = parseGroups(text, true);
    return bytes && bytes.length === 16 ? bytes : undefined;
  }
  const head = parseGroups(halves[0] ?? '', false);
  const tail = parseGroups(halves[1] ?? '', true);
  if (!head || !tail || head.length + tail.length > 14) return undefined;
  return [...head, ...Array.from({ length: 16 - head.length - tail.length }, () => 0), ...tail];
}
