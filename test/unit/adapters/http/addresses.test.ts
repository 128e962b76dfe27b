import { describe, expect, it } from 'vitest';
import { cidrContains, classifyAddress, parseCidr, parseIp, toCanonical } from '../../../../adapters/http/addresses.ts';

describe('IP address classification (ipaddr.js)', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['2606:4700::1111', 'public'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.1.1', 'private'],
    ['100.100.100.200', 'metadata'],
    ['192.0.0.192', 'metadata'],
    ['169.254.170.23', 'metadata'],
    ['fd00:ec2::23', 'metadata'],
    ['fd12:3456::1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['2002:a9fe:a9fe::1', 'metadata'],
    ['169.254.0.1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.251', 'multicast'],
    ['ff02::1', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('is undefined for host names and malformed literals', () => {
    for (const text of ['example.com', 'localhost', '1.2.3', '1.2.3.256', '01.2.3.4', '1::2::3', '12345::', ':::', '1:2:3:4:5:6:7:8:9', '']) {
      expect(classifyAddress(text), text).toBeUndefined();
    }
  });

  it('parses every IPv6 spelling of an address to the same bytes, and formats it canonically', () => {
    const spellings = ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1', '2001:DB8:0::0:2:1', '[2001:db8::2:1]'];
    const formatted = spellings.map((text) => toCanonical(parseIp(text)!));
    expect(new Set(formatted)).toEqual(new Set(['2001:db8::2:1']));
    // Embedded IPv4 forms are the IPv4 address they carry.
    expect(toCanonical(parseIp('::ffff:1.2.3.4')!)).toBe('1.2.3.4');
    expect(toCanonical(parseIp('64:ff9b::a9fe:a9fe')!)).toBe('169.254.169.254');
    expect(toCanonical(parseIp('1:0:0:1:0:0:0:1')!)).toBe('1:0:0:1::1');
  });

  it('matches addresses against networks, IPv4-mapped IPv6 included', () => {
    const network = parseCidr('10.0.0.0/8')!;
    expect(cidrContains(network, parseIp('10.255.0.1')!)).toBe(true);
    expect(cidrContains(network, parseIp('::ffff:10.1.1.1')!)).toBe(true);
    expect(cidrContains(network, parseIp('11.0.0.1')!)).toBe(false);
    expect(cidrContains(parseCidr('fd00::/8')!, parseIp('fd12::1')!)).toBe(true);
    expect(cidrContains(parseCidr('172.16.0.0/12')!, parseIp('172.31.255.255')!)).toBe(true);
    expect(cidrContains(parseCidr('172.16.0.0/12')!, parseIp('172.32.0.0')!)).toBe(false);
    expect(cidrContains(parseCidr('169.254.170.2')!, parseIp('169.254.170.3')!)).toBe(false);
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', 'fd00::/129', '10.0.0.0/8/8', 'host/8']) expect(parseCidr(bad), bad).toBeUndefined();
  });
});
