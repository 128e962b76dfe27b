import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
type Instance = { name: string; instance_id: string; url: string; version?: string; registered_at: string; updated_at: string; expires_at?: string; health: { status: string }; circuit: { state: string } };
type Listing = { services: { name: string; instances: Instance[] }[] };
type Counts = { applied: number; stale: number };
type Received = Counts & { rejected: number; problems?: string[] };
type SyncResult = { url: string; status: string; pulled?: Counts & { rejected: number; problems?: string[] }; pushed?: Counts & { rejected: number }; error?: string };
type Sync = { peers: SyncResult[]; synced: number; failed: number };
type PeerList = { peers: { url: string; reachable: boolean; latency_ms: number; status_code?: number; status?: string; version?: string; error?: string }[]; total: number; reachable: number };

/** A port nothing listens on: found free, then released. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A loopback forwarder in front of an orchestrator that counts the requests it passes on: B reaches A only
 * through it, so the count shows whether B ever calls A back while A syncs with it.
 */
async function countingProxy(): Promise<{ server: Server; url: string; requests: string[]; target: { url?: string } }> {
  const requests: string[] = [];
  const target: { url?: string } = {};
  const server = createServer((incoming, outgoing) => {
    requests.push(`${incoming.method} ${incoming.url}`);
    const destination = new URL(incoming.url ?? '/', target.url);
    const forwarded = httpRequest(destination, { method: incoming.method, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    forwarded.on('error', () => outgoing.writeHead(502).end());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, target };
}

const services = (listing: ApiReply<Listing>) =>
  Object.fromEntries(listing.body.data.services.flatMap((service) => service.instances.map((instance) => [`${service.name}/${instance.instance_id}`, instance.url])));
const instanceOf = async (call: Call, name: string) => (await call<{ instances: Instance[] }>('GET', `/registry/${name}`)).body.data.instances[0]!;
const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('two orchestrators syncing their registries as peers', () => {
  let a: { runtime: LocalRuntime; call: Call };
  let b: { runtime: LocalRuntime; call: Call };
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let bUrl: string;
  let deadUrl: string;

  beforeAll(async () => {
    proxy = await countingProxy();
    const [bPort, deadPort] = [await unusedPort(), await unusedPort()];
    bUrl = `http://127.0.0.1:${bPort}`;
    deadUrl = `http://127.0.0.1:${deadPort}`;
    // A knows B and a peer that is down; B knows A (through the counting proxy).
    a = await startTestApi({ peers: [bUrl, deadUrl], peerTimeoutMs: 2000 });
    proxy.target.url = a.runtime.url;
    b = await startTestApi({ port: bPort, peers: [proxy.url], peerTimeoutMs: 2000 });
  });
  afterAll(async () => {
    await Promise.all([a?.runtime.close(), b?.runtime.close()]);
    await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
  });

  it('lists its peers with their reachability, status and version, and the one that is down with its error', async () => {
    const reply = await a.call<PeerList>('GET', '/peers');
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.data).toMatchObject({ total: 2, reachable: 1 });
    const [up, down] = reply.body.data.peers;
    expect(up).toMatchObject({ url: bUrl, reachable: true, status_code: 200, status: 'healthy', version: 'test', latency_ms: expect.any(Number) });
    expect(down).toMatchObject({ url: deadUrl, reachable: false, error: expect.stringMatching(/ECONNREFUSED|connect/i) });
  });

  it('ends with the union of both registries on both sides after one sync, and reports the peer that is down', async () => {
    expect((await a.call('POST', '/registry/register', { body: { name: 'alpha', instance_id: 'a1', url: 'http://10.0.1.1:8080', tags: ['from-a'] } })).status).toBe(201);
    expect((await b.call('POST', '/registry/register', { body: { name: 'beta', instance_id: 'b1', url: 'http://10.0.2.1:8080', openapi_path: '/openapi.json' } })).status).toBe(201);
    proxy.requests.length = 0;

    const reply = await a.call<Sync>('POST', '/registry/sync-peers');
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.data).toMatchObject({ synced: 1, failed: 1 });
    const [withB, withDead] = reply.body.data.peers;
    // A pulled beta; it pushed alpha and beta, and B already had beta.
    expect(withB).toEqual({ url: bUrl, status: 'synced', pulled: { applied: 1, stale: 0, rejected: 0 }, pushed: { applied: 1, stale: 1, rejected: 0 } });
    expect(withDead).toMatchObject({ url: deadUrl, status: 'failed', error: expect.stringMatching(/^pull: .*; push: /) });
    expect(withDead?.pulled).toBeUndefined();

    const expected = { 'alpha/a1': 'http://10.0.1.1:8080', 'beta/b1': 'http://10.0.2.1:8080' };
    expect(services(await a.call<Listing>('GET', '/registry'))).toEqual(expected);
    expect(services(await b.call<Listing>('GET', '/registry'))).toEqual(expected);
    // Copies keep the registration's own times and fields; B never called A back while storing them.
    expect(await instanceOf(b.call, 'alpha')).toEqual(await instanceOf(a.call, 'alpha'));
    expect(proxy.requests).toEqual([]);
  });

  it('changes nothing when syncing again: every copy is stale on both sides', async () => {
    const before = await b.call<Listing>('GET', '/registry');
    const again = await a.call<Sync>('POST', '/registry/sync-peers');
    expect(again.body.data.peers[0]).toEqual({ url: bUrl, status: 'synced', pulled: { applied: 0, stale: 2, rejected: 0 }, pushed: { applied: 0, stale: 2, rejected: 0 } });
    expect((await b.call<Listing>('GET', '/registry')).body.data).toEqual(before.body.data);
    // And from the other side, through the proxy: A's copies are no newer than B's.
    const fromB = await b.call<Sync>('POST', '/registry/sync-peers');
    expect(fromB.body.data.peers).toEqual([{ url: proxy.url, status: 'synced', pulled: { applied: 0, stale: 2, rejected: 0 }, pushed: { applied: 0, stale: 2, rejected: 0 } }]);
    expect(proxy.requests).toEqual(['GET /registry', 'POST /registry/replicate']);
  });

  it('keeps the newer registration of an instance on both sides, whichever side syncs', async () => {
    await a.call('POST', '/registry/register', { body: { name: 'shared', instance_id: 'i-1', url: 'http://10.0.3.1' } });
    await pause();
    await b.call('POST', '/registry/register', { body: { name: 'shared', instance_id: 'i-1', url: 'http://10.0.3.2', version: '2' } });
    await a.call('POST', '/registry/sync-peers');
    const newest = await instanceOf(b.call, 'shared');
    expect(newest).toMatchObject({ url: 'http://10.0.3.2', version: '2' });
    expect(await instanceOf(a.call, 'shared')).toMatchObject({ url: 'http://10.0.3.2', version: '2', updated_at: newest.updated_at, registered_at: newest.registered_at });

    await pause();
    await a.call('POST', '/registry/register', { body: { name: 'shared', instance_id: 'i-1', url: 'http://10.0.3.3' } });
    const fromB = await b.call<Sync>('POST', '/registry/sync-peers');
    expect(fromB.body.data.peers[0]?.pulled).toMatchObject({ applied: 1 });
    for (const side of [a, b]) expect((await instanceOf(side.call, 'shared')).url).toBe('http://10.0.3.3');
    expect((await instanceOf(b.call, 'shared')).version).toBeUndefined();
  });

  it("never replicates health or circuit: each side keeps its own observations of an instance", async () => {
    const observed = { status: 'healthy' as const, checked_at: new Date().toISOString(), latency_ms: 3, history: [], consecutive_failures: 0 };
    await b.runtime.services.registry.recordHealth('alpha', 'a1', observed);
    await pause();
    await a.call('POST', '/registry/register', { body: { name: 'alpha', instance_id: 'a1', url: 'http://10.0.1.9:8080' } });
    await a.call('POST', '/registry/sync-peers');
    const onB = await instanceOf(b.call, 'alpha');
    expect(onB.url).toBe('http://10.0.1.9:8080');
    expect(onB.health.status).toBe('healthy');
    expect((await instanceOf(a.call, 'alpha')).health.status).toBe('unknown');
  });
});

describe('POST /registry/replicate', () => {
  let api: { runtime: LocalRuntime; call: Call };
  const copy = (overrides: Record<string, unknown> = {}) => ({
    name: 'copied',
    instance_id: 'c1',
    url: 'http://10.0.9.1:9000',
    health_path: '/health',
    tags: [],
    metadata: {},
    registered_at: '2026-11-01T00:00:00.000Z',
    updated_at: '2026-11-02T00:00:00.000Z',
    ...overrides,
  });

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.runtime.close());

  it('stores a new copy as it is, keeps it against an older or equal one, and replaces it with a newer one', async () => {
    expect((await api.call<Received>('POST', '/registry/replicate', { body: { instances: [copy()] } })).body.data).toEqual({ applied: 1, stale: 0, rejected: 0 });
    const stored = await instanceOf(api.call, 'copied');
    expect(stored).toMatchObject({ registered_at: '2026-11-01T00:00:00.000Z', updated_at: '2026-11-02T00:00:00.000Z', health: { status: 'unknown' }, circuit: { state: 'closed' } });

    const older = copy({ url: 'http://10.0.9.2:9000', updated_at: '2026-11-01T12:00:00.000Z' });
    const equal = copy({ url: 'http://10.0.9.3:9000' });
    expect((await api.call<Received>('POST', '/registry/replicate', { body: { instances: [older, equal] } })).body.data).toEqual({ applied: 0, stale: 2, rejected: 0 });
    expect((await instanceOf(api.call, 'copied')).url).toBe('http://10.0.9.1:9000');

    const newer = copy({ url: 'http://10.0.9.4:9000', updated_at: '2026-11-03T00:00:00.000Z', health: { status: 'unhealthy' } });
    expect((await api.call<Received>('POST', '/registry/replicate', { body: { instances: [newer] } })).body.data).toEqual({ applied: 1, stale: 0, rejected: 0 });
    expect(await instanceOf(api.call, 'copied')).toMatchObject({ url: 'http://10.0.9.4:9000', health: { status: 'unknown' } });
  });

  it('counts a copy that has already expired as stale, and keeps the expiry of one that has not', async () => {
    const expired = copy({ name: 'short_lived', ttl_seconds: 30, expires_at: '2026-01-01T00:00:30.000Z' });
    expect((await api.call<Received>('POST', '/registry/replicate', { body: { instances: [expired] } })).body.data).toEqual({ applied: 0, stale: 1, rejected: 0 });
    const later = new Date(Date.now() + 60_000).toISOString();
    const live = copy({ name: 'short_lived', ttl_seconds: 60, expires_at: later, updated_at: new Date().toISOString() });
    expect((await api.call<Received>('POST', '/registry/replicate', { body: { instances: [live] } })).body.data).toEqual({ applied: 1, stale: 0, rejected: 0 });
    expect((await instanceOf(api.call, 'short_lived')).expires_at).toBe(later);
  });

  it('rejects a copy whose updated_at is in the future, with the reason, and does not store it', async () => {
    // The attack: a version from the year 9999 would win every merge, and the entry could never be replaced.
    const forged = copy({ name: 'pinned', url: 'http://10.0.9.66:9000', updated_at: '9999-01-01T00:00:00.000Z' });
    const honest = copy({ name: 'pinned_neighbour' });
    const reply = await api.call<Received>('POST', '/registry/replicate', { body: { instances: [forged, honest] } });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.data).toEqual({ applied: 1, stale: 0, rejected: 1, problems: [expect.stringMatching(/^instance 0: pinned\/c1: updated_at: 9999-01-01T00:00:00.000Z is more than 5 minutes ahead/)] });
    expect(reply.body.message).toBe('1 applied, 0 stale, 1 rejected');
    expect((await api.call('GET', '/registry/pinned')).status).toBe(404);
    expect((await api.call('GET', '/registry/pinned_neighbour')).status).toBe(200);
    // Without milliseconds it is not even a version a peer writes: the whole batch is refused.
    const unspelled = await api.call('POST', '/registry/replicate', { body: { instances: [copy({ name: 'pinned', updated_at: '9999-01-01T00:00:00Z' })] } });
    expect(unspelled.status).toBe(400);
    expect(unspelled.body.details?.map((detail) => detail.field)).toEqual(['instances[0].updated_at']);
    expect((await api.call('GET', '/registry/pinned')).status).toBe(404);
  });

  it('refuses copies whose other times would pin them: registered after updated, or expiring beyond the TTL', async () => {
    const reply = await api.call('POST', '/registry/replicate', {
      body: {
        instances: [
          copy({ name: 'pinned_by_time', registered_at: '9999-01-01T00:00:00.000Z' }),
          copy({ name: 'pinned_by_time', ttl_seconds: 60, expires_at: '9999-01-01T00:00:00.000Z', updated_at: new Date().toISOString() }),
        ],
      },
    });
    expect(reply.status).toBe(400);
    expect(reply.body.details).toEqual([
      { field: 'instances[0].updated_at', message: 'updated_at must not be before registered_at' },
      { field: 'instances[1].expires_at', message: 'expires_at must not be later than updated_at plus ttl_seconds' },
    ]);
    expect((await api.call('GET', '/registry/pinned_by_time')).status).toBe(404);
  });

  it('refuses a malformed batch with 400, naming each field, and stores none of it', async () => {
    const reply = await api.call('POST', '/registry/replicate', {
      body: { instances: [copy({ name: 'refused', url: 'http://169.254.169.254/' }), copy({ name: 'refused', instance_id: undefined, updated_at: '2026-11-02T00:00:00Z' })] },
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(400);
    expect(reply.body.error_code).toBe('VALIDATION_ERROR');
    expect(reply.body.details?.map((detail) => detail.field)).toEqual(expect.arrayContaining(['instances[0].url', 'instances[1].instance_id', 'instances[1].updated_at']));
    expect(JSON.stringify(reply.body.details)).toMatch(/metadata address/);
    expect((await api.call('GET', '/registry/refused')).status).toBe(404);
    expect((await api.call('POST', '/registry/replicate', { body: { instances: 'all of them' } })).status).toBe(400);
    expect((await api.call('POST', '/registry/replicate', { body: {} })).body.details?.map((detail) => detail.field)).toEqual(['instances']);
  });

  it('answers sync-peers and GET /peers with empty lists when no peers are configured', async () => {
    const peers = await api.call<PeerList>('GET', '/peers');
    expect(peers.body.data).toEqual({ peers: [], total: 0, reachable: 0 });
    expect(peers.body.message).toMatch(/no peers configured/);
    expect((await api.call<Sync>('POST', '/registry/sync-peers')).body.data).toEqual({ peers: [], synced: 0, failed: 0 });
  });
});
