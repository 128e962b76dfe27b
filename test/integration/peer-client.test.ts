import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpPeerClient, peersAllow } from '../../adapters/http/peer-client.ts';
import { testHttp } from '../support/outbound.ts';

/** The HTTP peer client against loopback servers that are not (good) orchestrators. */
describe('the HTTP peer client', () => {
  let server: Server;
  let url: string;
  const hanging = new Set<ServerResponse>();
  const authorizations: (string | undefined)[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      authorizations.push(request.headers.authorization);
      if (request.url?.startsWith('/slow')) {
        hanging.add(response);
        return;
      }
      if (request.url?.startsWith('/html')) {
        response.writeHead(200, { 'content-type': 'text/html' }).end('<html>not an orchestrator</html>');
        return;
      }
      if (request.url?.startsWith('/old')) {
        response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ success: false, message: 'no route for POST /old/registry/replicate' }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ success: true, data: { services: [{ instances: [{ a: 1 }] }, { instances: [{ b: 2 }, { c: 3 }] }] } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const response of hanging) response.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('gives up on a peer that does not answer within its timeout', async () => {
    const client = createHttpPeerClient({ http: testHttp(), timeoutMs: 150 });
    const started = Date.now();
    await expect(client.health(`${url}/slow`)).rejects.toThrow(`GET ${url}/slow/health: no answer within 150 ms`);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('flattens a listing into its instances, and refuses answers that are not an orchestrator envelope', async () => {
    const client = createHttpPeerClient({ http: testHttp() });
    expect(await client.instances(url)).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
    await expect(client.instances(`${url}/html`)).rejects.toThrow(/did not answer with an orchestrator's JSON envelope/);
    await expect(client.replicate(`${url}/old`, [])).rejects.toThrow(/answered 404: no route for POST/);
  });

  it('refuses a body larger than its limit', async () => {
    await expect(createHttpPeerClient({ http: testHttp(), maxBytes: 20 }).instances(url)).rejects.toThrow(/limit is 20|larger than 20 bytes/);
  });

  it('sends ORCHESTRATOR_PEER_TOKEN as a bearer token when it is set, and nothing otherwise', async () => {
    const token = 'peer-token-0123456789abcdef0123456789';
    await createHttpPeerClient({ http: testHttp(), token }).health(url);
    expect(authorizations.at(-1)).toBe(`Bearer ${token}`);
    await createHttpPeerClient({ http: testHttp(), token: async () => token }).replicate(url, []).catch(() => undefined);
    expect(authorizations.at(-1)).toBe(`Bearer ${token}`);
    await createHttpPeerClient({ http: testHttp() }).health(url);
    expect(authorizations.at(-1)).toBeUndefined();
  });

  it('may call a configured peer on a private network: its host is allowed for the peer client', async () => {
    await expect(createHttpPeerClient({ http: testHttp({ allow: [] }) }).health(url)).rejects.toThrow(/not allowed by ORCHESTRATOR_OUTBOUND_ALLOW/);
    expect((await createHttpPeerClient({ http: testHttp({ allow: peersAllow([url]) }) }).health(url)).status_code).toBe(200);
  });
});
