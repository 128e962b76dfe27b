import { describe, expect, it } from 'vitest';
import { forbiddenHostClass } from '../../../core/registry/addresses.ts';
import { serviceUrlIssues } from '../../../core/registry/registration.ts';

describe('forbidden host literals (as the URL parser writes them)', () => {
  it.each([
    ['http://169.254.169.254/', 'metadata'],
    ['http://2852039166/', 'metadata'],
    ['http://0xA9.0xFE.0xA9.0xFE/', 'metadata'],
    ['http://169.254.170.2/', 'metadata'],
    ['http://100.100.100.200/', 'metadata'],
    ['http://[fd00:ec2::254]/', 'metadata'],
    ['http://[::ffff:169.254.169.254]/', 'metadata'],
    ['http://[64:ff9b::169.254.169.254]/', 'metadata'],
    ['http://[2002:a9fe:a9fe::1]/', 'metadata'],
    ['http://169.254.10.20/', 'link-local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://[::]/', 'unspecified'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://[ff02::1]/', 'multicast'],
    ['http://255.255.255.255/', 'broadcast'],
  ])('%s is %s', (url, expected) => {
    expect(forbiddenHostClass(new URL(url).hostname)).toBe(expected);
  });

  it('leaves host names and callable literals to the runtime check', () => {
    for (const url of ['http://example.com', 'http://127.0.0.1', 'http://10.1.2.3', 'http://[::1]', 'http://[fd12::1]', 'http://8.8.8.8']) {
      expect(forbiddenHostClass(new URL(url).hostname), url).toBeUndefined();
    }
  });
});

describe('service URL rules', () => {
  it('accepts http(s) URLs with a host name or an allowed literal', () => {
    for (const url of ['http://analysis.internal', 'https://svc.example.com:8443/api/v1', 'http://127.0.0.1:9000', 'http://[::1]:8080/']) {
      expect(serviceUrlIssues(url), url).toEqual([]);
    }
  });

  it('names every problem of a URL', () => {
    expect(serviceUrlIssues('ftp://user:pw@169.254.169.254/?x=1#y').map((issue) => issue.message)).toEqual([
      expect.stringMatching(/http or https/),
      expect.stringMatching(/credentials/),
      expect.stringMatching(/query string or fragment/),
      expect.stringMatching(/metadata address/),
    ]);
  });
});
