import { describe, expect, it } from 'vitest';
import { createOutboundPolicy, describePolicy, judgeConnection, parseOutboundAllow, type OutboundPolicyOptions } from '../../../../adapters/http/outbound-policy.ts';

/** A policy whose host has one LAN address, so "this host" is known to the test. */
const policy = (options: OutboundPolicyOptions = {}) => createOutboundPolicy({ localAddresses: () => new Set(['192.0.2.2', 'fd00::2']), ...options });
const verdict = (options: OutboundPolicyOptions, host: string, port: number, addresses: string[]) => judgeConnection(policy(options), host, port, addresses);

describe('the outbound policy', () => {
  it('allows public addresses and nothing private by default', () => {
    expect(verdict({}, 'example.com', 443, ['93.184.216.34'])).toEqual({ allowed: true, addresses: ['93.184.216.34'] });
    for (const address of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '100.64.0.1', '127.0.0.1', '::1', 'fd12::1', '169.254.1.1', '0.0.0.0']) {
      expect(verdict({}, address, 80, [address]), address).toMatchObject({ allowed: false, reason: expect.stringMatching(/not allowed by ORCHESTRATOR_OUTBOUND_ALLOW/) });
    }
  });

  it('allows a private address by CIDR, by single address, or its name by a host name entry', () => {
    expect(verdict({ allow: ['10.0.0.0/8'] }, 'db.internal', 80, ['10.9.8.7']).allowed).toBe(true);
    expect(verdict({ allow: ['10.9.8.7'] }, '10.9.8.7', 80, ['10.9.8.7']).allowed).toBe(true);
    expect(verdict({ allow: ['10.9.8.7'] }, '10.9.8.6', 80, ['10.9.8.6']).allowed).toBe(false);
    expect(verdict({ allow: ['Db.Internal.'] }, 'db.internal', 80, ['10.9.8.7', '192.168.0.1']).allowed).toBe(true);
    expect(verdict({ allow: ['db.internal'] }, 'api.db.internal', 80, ['10.9.8.7']).allowed).toBe(false);
    // IPv4-mapped IPv6 is judged as the IPv4 address it carries.
    expect(verdict({ allow: ['10.0.0.0/8'] }, 'x', 80, ['::ffff:10.1.1.1']).allowed).toBe(true);
  });

  it('never allows instance metadata, whatever the entries', () => {
    for (const allow of [['169.254.169.254'], ['169.254.0.0/16'], ['0.0.0.0/0'], ['imds.test'], ['fd00:ec2::254'], ['::/0']]) {
      expect(verdict({ allow }, 'imds.test', 80, ['169.254.169.254']), allow.join()).toMatchObject({ allowed: false, reason: 'imds.test resolves to 169.254.169.254, a cloud metadata address' });
      expect(verdict({ allow }, 'fd00:ec2::254', 80, ['fd00:ec2::254']).allowed).toBe(false);
    }
  });

  it('opens a container credentials endpoint only for an entry naming exactly that address', () => {
    expect(verdict({ allow: ['169.254.0.0/16'] }, '169.254.170.2', 80, ['169.254.170.2']).allowed).toBe(false);
    expect(verdict({ allow: ['ecs.test'] }, 'ecs.test', 80, ['169.254.170.2']).allowed).toBe(false);
    expect(verdict({ allow: ['169.254.170.2'] }, '169.254.170.2', 80, ['169.254.170.2']).allowed).toBe(true);
  });

  it("refuses the orchestrator's own ports on loopback, unspecified and this host's addresses, whatever the entries", () => {
    const own = { allow: ['0.0.0.0/0', '::/0', 'self.test'], ownPorts: new Set([8000, 4566]) };
    for (const address of ['127.0.0.1', '127.9.9.9', '::1', '0.0.0.0', '::', '192.0.2.2', 'fd00::2', '::ffff:127.0.0.1']) {
      expect(verdict(own, 'self.test', 8000, [address]), address).toMatchObject({ allowed: false, reason: expect.stringMatching(/this orchestrator's own listener \(port 8000\)/) });
    }
    // Another port of this host, or the same port elsewhere, is a matter for the allow list.
    expect(verdict(own, 'self.test', 8001, ['127.0.0.1']).allowed).toBe(true);
    expect(verdict(own, 'self.test', 8000, ['10.1.1.1']).allowed).toBe(true);
  });

  it('reads the own ports at each check, so a port added after listen counts at once', () => {
    const ownPorts = new Set<number>();
    const live = policy({ allow: ['127.0.0.1/8'], ownPorts });
    expect(judgeConnection(live, '127.0.0.1', 5099, ['127.0.0.1']).allowed).toBe(true);
    ownPorts.add(5099);
    expect(judgeConnection(live, '127.0.0.1', 5099, ['127.0.0.1']).allowed).toBe(false);
  });

  it('refuses a name with a forbidden address among others, and skips addresses merely not allowed', () => {
    expect(verdict({ allow: ['127.0.0.1/8'] }, 'mixed.test', 80, ['127.0.0.1', '169.254.169.254']).allowed).toBe(false);
    expect(verdict({ allow: ['127.0.0.1/8'] }, 'localhost', 80, ['::1', '127.0.0.1'])).toEqual({ allowed: true, addresses: ['127.0.0.1'] });
    expect(verdict({}, 'nowhere.test', 80, [])).toMatchObject({ allowed: false, reason: 'nowhere.test resolves to no address' });
  });

  it('parses ORCHESTRATOR_OUTBOUND_ALLOW, naming each bad entry', () => {
    const { allow, problems } = parseOutboundAllow(' 10.0.0.0/16, api.internal ,, fd00::/8, 127.0.0.1/8, 10.0.0.0/33, a/b, 1.2.3.999, under_score.x');
    expect(allow.networks.map((cidr) => cidr.text)).toEqual(['10.0.0.0/16', 'fd00::/8', '127.0.0.1/8']);
    expect([...allow.hostnames]).toEqual(['api.internal']);
    expect(problems).toEqual([
      '"10.0.0.0/33" is not an IP address, a CIDR network or a host name',
      '"a/b" is not an IP address, a CIDR network or a host name',
      '"1.2.3.999" is not an IP address, a CIDR network or a host name',
      '"under_score.x" is not an IP address, a CIDR network or a host name',
    ]);
  });

  it('says what may be called, for npm start', () => {
    expect(describePolicy(policy({ allow: ['127.0.0.1/8'], ownPorts: new Set([5099, 4000]) }))).toEqual([
      'outbound calls (ORCHESTRATOR_OUTBOUND_ALLOW): public addresses, and 127.0.0.1/8',
      "  never: cloud metadata addresses, this orchestrator's own ports (4000, 5099) on this host",
    ]);
  });
});
