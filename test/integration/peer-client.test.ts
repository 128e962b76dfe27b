import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpPeerClient } from '../../functions/workers/peer-client.ts';

/** The HTTP peer client against loopback servers that are not (good) orchestrators. */
describe('the HTTP peer client', () => {
  let server: Server;
  let url: string;
  const hanging = new Set<ServerResponse>();

  beforeAll(async () => {
    server = createServer((request, response) => {
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
    const client = createHttpPeerClient({ timeoutMs: 150 });
    const started = Date.now();
    await expect(client.health(`${url}/slow`)).rejects.toThrow(`GET ${url}/slow/health: no answer within 150 ms`);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('flattens a listing into its instances, and refuses answers that are not an orchestrator envelope', async () => {
    const client = createHttpPeerClient();
    expect(await client.instances(url)).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
    await expect(client.instances(`${url}/html`)).rejects.toThrow(/did not answer with an orchestrator's JSON envelope/);
    await expect(client.replicate(`${url}/old`, [])).rejects.toThrow(/answered 404: no route for POST/);
  });

  it('refuses a body larger than its limit', async () => {
    await expect(createHttpPeerClient({ maxBytes: 20 }).instances(url)).rejects.toThrow(/limit is 20|larger than 20 bytes/);
  });
});
