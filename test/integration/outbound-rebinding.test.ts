import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LookupAll } from '../../adapters/http/guarded-agent.ts';
import { ActionErrorName } from '../../core/errors.ts';
import { createActionRunner } from '../../functions/workers/action-runner.ts';
import { ServiceCallError } from '../../functions/workers/service-call-errors.ts';
import { createCertificate, createCertificateAuthority } from '../support/certificates.ts';
import { fixedRegistry } from '../support/fixed-registry.ts';
import { testHttp } from '../support/outbound.ts';

/**
 * DNS rebinding: a name that answers an allowed address to one lookup and the metadata address to another.
 * The old runner checked the name's addresses, then let fetch resolve it again: 5 runs in 10 reached the
 * metadata path. The guarded agent resolves once per connection and connects to the address it checked.
 * 169.254.169.254 cannot be bound here, so the test watches every client socket this process opens
 * (diagnostics channel `net.client.socket`): none may go anywhere but the checked loopback address.
 */

const RUNS = 20;
let server: Server;
let port: number;
/** Requests the loopback server answered (it closes each connection, so every run connects anew). */
let answered = 0;
/** Every TCP client socket opened in this process while a test runs, and where each connected. */
let opened: Socket[] = [];
const connectedTo: string[] = [];
const onSocket = (message: unknown) => {
  const socket = (message as { socket: Socket }).socket;
  opened.push(socket);
  socket.once('connect', () => connectedTo.push(socket.remoteAddress ?? '?'));
};

beforeAll(async () => {
  server = createServer((_request, response) => {
    answered++;
    response.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end('{"role":"not metadata"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  answered = 0;
  opened = [];
  connectedTo.length = 0;
  subscribe('net.client.socket', onSocket);
});
afterEach(() => unsubscribe('net.client.socket', onSocket));

/** A lookup whose answers come from `answer(call number)`, counting its calls. */
function rebinding(answer: (call: number) => string): LookupAll & { calls: number } {
  const lookup = Object.assign(
    async () => {
      lookup.calls++;
      return [{ address: answer(lookup.calls), family: 4 }];
    },
    { calls: 0 },
  );
  return lookup;
}

describe('DNS rebinding', () => {
  it(`never reaches the metadata address with a name alternating between 127.0.0.1 and 169.254.169.254 (${RUNS} runs)`, async () => {
    const lookup = rebinding((call) => (call % 2 === 1 ? '127.0.0.1' : '169.254.169.254'));
    // The local runtime's default policy: loopback allowed, metadata never.
    const run = createActionRunner({ registry: fixedRegistry({ svc: `http://rebind.test:${port}` }), env: {}, http: testHttp({ lookup, allow: ['127.0.0.1/8'] }) });
    const outcomes: string[] = [];
    for (let index = 0; index < RUNS; index++) {
      const result = await run({ action_id: 'a', execution_id: `e${index}`, workflow_id: 'w', workflow_version: 1, service: 'svc', endpoint: '/latest/meta-data/iam/', method: 'GET', timeout_seconds: 2 }).then(
        (value) => `answered ${value.status_code}`,
        (error: unknown) => (error instanceof ServiceCallError ? `${error.name}: ${error.failure.message}` : String(error)),
      );
      outcomes.push(result);
    }
    expect(outcomes.filter((outcome) => outcome === 'answered 200')).toHaveLength(RUNS / 2);
    const refused = outcomes.filter((outcome) => outcome !== 'answered 200');
    expect(refused).toHaveLength(RUNS / 2);
    for (const outcome of refused) expect(outcome).toMatch(new RegExp(`^${ActionErrorName.ForbiddenAddress}: refused to call rebind\\.test:${port}: rebind\\.test resolves to 169\\.254\\.169\\.254, a cloud metadata address`));
    // One resolution per connection, and a socket only for the runs whose address was allowed: to that address.
    expect(lookup.calls).toBe(RUNS);
    expect(answered).toBe(RUNS / 2);
    expect(opened).toHaveLength(RUNS / 2);
    expect(connectedTo).toEqual(Array.from({ length: RUNS / 2 }, () => '127.0.0.1'));
  });

  it('connects to the address it checked: a second answer can never swap it', async () => {
    // Allowed to the first lookup, forbidden to every later one: a check-then-fetch design resolves twice.
    const lookup = rebinding((call) => (call === 1 ? '127.0.0.1' : '169.254.169.254'));
    const http = testHttp({ lookup, allow: ['127.0.0.1/8'] });
    const first = await http.send({ method: 'GET', url: `http://rebind.test:${port}/latest/meta-data/`, maxBodyBytes: 1024 });
    expect(first.status).toBe(200);
    expect(lookup.calls).toBe(1);
    expect(connectedTo).toEqual(['127.0.0.1']);
    for (let index = 1; index < RUNS; index++) {
      const error = await http.send({ method: 'GET', url: `http://rebind.test:${port}/latest/meta-data/`, maxBodyBytes: 1024 }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: 'OutboundHttpError', kind: 'refused', message: expect.stringMatching(/169\.254\.169\.254, a cloud metadata address/) });
    }
    expect(lookup.calls).toBe(RUNS);
    expect(answered).toBe(1);
    expect(opened).toHaveLength(1);
    await http.close();
  });

  it('checks every redirect hop at its own connection', async () => {
    const redirecting = createServer((_request, response) => response.writeHead(302, { location: `http://rebind.test:${port}/latest/meta-data/`, connection: 'close' }).end());
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const lookup = rebinding(() => '169.254.169.254');
      const http = testHttp({ lookup, allow: ['127.0.0.1/8'] });
      const error = await http.send({ method: 'GET', url: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/`, maxRedirects: 3, maxBodyBytes: 1024 }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ kind: 'refused', url: `http://rebind.test:${port}/latest/meta-data/` });
      expect(answered).toBe(0);
      await http.close();
    } finally {
      await new Promise<void>((resolve) => redirecting.close(() => resolve()));
    }
  });
});

describe('https by checked address', () => {
  it("still verifies the server's certificate for the host name, though the socket connects to the address", async () => {
    const ca = createCertificateAuthority('outbound test CA');
    const serve = async (name: string) => {
      const certificate = createCertificate({ subject: { CN: name }, issuer: ca, altNames: [name], usage: 'server' });
      const server = createHttpsServer({ cert: certificate.cert, key: certificate.key }, (_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"tls":true}'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    };
    const [good, other] = await Promise.all([serve('svc.test'), serve('other.test')]);
    try {
      const lookup = rebinding(() => '127.0.0.1');
      const http = testHttp({ lookup, allow: ['127.0.0.1/8'], ca: ca.cert });
      const answered = await http.send({ method: 'GET', url: `https://svc.test:${(good.address() as AddressInfo).port}/`, maxBodyBytes: 1024 });
      expect(answered).toMatchObject({ status: 200, body: { kind: 'complete', text: '{"tls":true}' } });
      // The certificate names another host: refused by TLS, not by the address policy.
      const mismatch = await http.send({ method: 'GET', url: `https://svc.test:${(other.address() as AddressInfo).port}/`, maxBodyBytes: 1024 }).catch((error: unknown) => error);
      expect(mismatch).toMatchObject({ kind: 'connection', code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
      await http.close();
    } finally {
      for (const server of [good, other]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }
  });
});
