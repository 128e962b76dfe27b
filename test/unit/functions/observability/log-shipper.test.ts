import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../../../core/ports.ts';
import { withLogContext } from '../../../../functions/observability/log-context.ts';
import { createLogShipper, type LogShipper, type LogShipperOptions, type ShippedLog } from '../../../../functions/observability/log-shipper.ts';
import { createLogger } from '../../../../functions/observability/logger.ts';
import { testHttp } from '../../../support/outbound.ts';
import { until } from '../../../support/poll.ts';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly contentType: string | undefined;
  readonly body: { items: ShippedLog[] };
}

/** A log collector on loopback: records each request; `answer` decides the reply (or never replies). */
async function collector(answer: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => response.writeHead(202).end()) {
  const received: Received[] = [];
  let connections = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method ?? '', url: request.url ?? '', contentType: request.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { items: ShippedLog[] } });
      answer(request, response);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stop = () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  cleanups.push(stop);
  return { url, received, connections: () => connections, stop, items: () => received.flatMap((request) => request.body.items) };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function shipper(options: Partial<LogShipperOptions> & Pick<LogShipperOptions, 'url'>): { shipper: LogShipper; reports: LogEntry[]; dropped: () => number } {
  const reports: LogEntry[] = [];
  let dropped = 0;
  const created = createLogShipper({ http: testHttp(), flushIntervalMs: 60_000, report: (entry) => reports.push(entry), onDrop: (count) => (dropped += count), ...options });
  cleanups.push(() => created.close());
  return { shipper: created, reports, dropped: () => dropped };
}

const item = (n: number): ShippedLog => ({ service: 'orchestrator', level: 'INFO', message: `line ${n}`, timestamp: '2026-01-01T00:00:00.000Z', context: { n } });

/** A port nothing listens on. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('the log shipper', () => {
  it('posts batches of at most batchSize items to <url>/logs/batch as {"items": [...]}, in order', async () => {
    const server = await collector();
    const { shipper: ship } = shipper({ url: `${server.url}/`, batchSize: 10 });
    for (let n = 0; n < 25; n++) ship.enqueue(item(n));
    await ship.flush();
    expect(server.received.map((request) => [request.method, request.url, request.contentType, request.body.items.length])).toEqual([
      ['POST', '/logs/batch', 'application/json', 10],
      ['POST', '/logs/batch', 'application/json', 10],
      ['POST', '/logs/batch', 'application/json', 5],
    ]);
    expect(server.items().map((shipped) => shipped.context.n)).toEqual(Array.from({ length: 25 }, (_, n) => n));
    expect(server.items()[0]).toEqual(item(0));
    expect(ship.stats()).toEqual({ shipped: 25, dropped: 0, failed_batches: 0 });
  });

  it('keeps a base URL\'s path, and sends a full batch, then the rest on its timer, without being flushed', async () => {
    const server = await collector();
    const { shipper: full } = shipper({ url: `${server.url}/collector/v1`, batchSize: 5 });
    for (let n = 0; n < 12; n++) full.enqueue(item(n));
    await until(() => server.received.length === 2, 'two full batches');
    expect(server.received.map((request) => [request.url, request.body.items.length])).toEqual([['/collector/v1/logs/batch', 5], ['/collector/v1/logs/batch', 5]]);

    const { shipper: timed } = shipper({ url: server.url, batchSize: 100, flushIntervalMs: 50 });
    timed.enqueue(item(100));
    await until(() => server.items().some((shipped) => shipped.context.n === 100), 'the timer\'s batch');
  });

  it('never makes a request wait for the collector: 1,000 lines through the logger return at once while it hangs', async () => {
    const server = await collector(() => undefined /* never answers */);
    const { shipper: ship } = shipper({ url: server.url, batchSize: 100, timeoutMs: 5000 });
    const lines: string[] = [];
    const log = createLogger({ collector: ship, destination: (line) => lines.push(line) });
    const started = performance.now();
    for (let n = 0; n < 1000; n++) expect(log({ message: `line ${n}` })).toBeUndefined();
    const elapsed = performance.now() - started;
    // Nothing was sent during the loop: the first request leaves after it, in the background.
    expect(server.received).toHaveLength(0);
    expect(lines).toHaveLength(1000);
    // Far below one collector timeout (5 s): logging never awaited the collector.
    expect(elapsed).toBeLessThan(2500);
    await until(() => server.received.length === 1, 'the first batch');
    expect(server.received[0]!.body.items).toHaveLength(100);
    // Still hanging: the first batch is in flight; the rest wait in the buffer, not in the callers.
    expect(ship.stats()).toEqual({ shipped: 0, dropped: 0, failed_batches: 0 });
    // The collector goes away: the batch in flight fails at once (not after its timeout), and so does its retry.
    await server.stop();
    await ship.close();
    expect(ship.stats()).toMatchObject({ shipped: 0, failed_batches: 1, dropped: 1000 });
  });

  it('counts a batch as failed and its lines as dropped when the collector is down (after one retry), and reports it locally', async () => {
    const { shipper: ship, reports, dropped } = shipper({ url: await closedPort(), batchSize: 10 });
    for (let n = 0; n < 25; n++) ship.enqueue(item(n));
    await ship.flush();
    // The first batch failed twice and was dropped; the rest waits for the next round rather than failing too.
    expect(ship.stats()).toEqual({ shipped: 0, dropped: 10, failed_batches: 1 });
    await ship.close();
    expect(ship.stats()).toEqual({ shipped: 0, dropped: 25, failed_batches: 2 });
    expect(dropped()).toBe(25);
    expect(reports.map((entry) => entry.message)).toEqual(['log collector unavailable: 10 log lines dropped', 'log collector unavailable: 10 log lines dropped', '5 log lines not shipped before stopping']);
    expect(String(reports[0]!.error)).toContain('connection');
  });

  it('retries a batch the collector refused once, and ships the next ones when it recovers', async () => {
    let answers = 0;
    const server = await collector((_request, response) => response.writeHead(++answers <= 2 ? 503 : 200).end());
    const { shipper: ship } = shipper({ url: server.url, batchSize: 3 });
    for (let n = 0; n < 6; n++) ship.enqueue(item(n));
    await ship.flush();
    await ship.flush();
    expect(server.received.map((request) => request.body.items.map((shipped) => shipped.context.n))).toEqual([[0, 1, 2], [0, 1, 2], [3, 4, 5]]);
    expect(ship.stats()).toEqual({ shipped: 3, dropped: 3, failed_batches: 1 });
  });

  it('never ships its own failure reports through a logger (no loop)', async () => {
    const server = await collector((_request, response) => response.writeHead(500).end());
    const ship = createLogShipper({ url: server.url, http: testHttp(), flushIntervalMs: 60_000 });
    cleanups.push(() => ship.close());
    const lines: string[] = [];
    const log = createLogger({ collector: ship, destination: (line) => lines.push(line) });
    log({ level: 'error', message: 'the one line' });
    await log.flush();
    await log.flush();
    expect(server.received.map((request) => request.body.items.map((shipped) => shipped.message))).toEqual([['the one line'], ['the one line']]);
    expect(lines.map((line) => (JSON.parse(line) as { message: string }).message)).toEqual(['the one line', 'log collector unavailable: 1 log lines dropped']);
  });

  it('holds at most maxBuffered lines, dropping the oldest and counting them', async () => {
    const server = await collector();
    const { shipper: ship, dropped, reports } = shipper({ url: server.url, batchSize: 1000, maxBuffered: 50 });
    for (let n = 0; n < 1000; n++) ship.enqueue(item(n));
    expect(ship.stats()).toEqual({ shipped: 0, dropped: 950, failed_batches: 0 });
    expect(dropped()).toBe(950);
    await ship.flush();
    expect(server.items().map((shipped) => shipped.context.n)).toEqual(Array.from({ length: 50 }, (_, i) => 950 + i));
    expect(ship.stats()).toEqual({ shipped: 50, dropped: 950, failed_batches: 0 });
    expect(reports).toEqual([expect.objectContaining({ message: 'log collector behind: 950 log lines dropped from a full buffer' })]);
  });

  it('sends what is left when closed', async () => {
    const server = await collector();
    const { shipper: ship } = shipper({ url: server.url, batchSize: 100 });
    for (let n = 0; n < 7; n++) ship.enqueue(item(n));
    expect(server.received).toHaveLength(0);
    await ship.close();
    expect(server.items()).toHaveLength(7);
    expect(ship.stats()).toEqual({ shipped: 7, dropped: 0, failed_batches: 0 });
  });

  it('never contacts an address the outbound policy refuses: cloud metadata, or a collector outside the allow list', async () => {
    const metadata = shipper({ url: 'http://169.254.169.254/latest', batchSize: 10 });
    metadata.shipper.enqueue(item(1));
    await metadata.shipper.flush();
    expect(metadata.shipper.stats()).toEqual({ shipped: 0, dropped: 1, failed_batches: 1 });
    expect(String(metadata.reports[0]!.error)).toContain('(refused)');

    const server = await collector();
    const notAllowed = shipper({ url: server.url, http: testHttp({ allow: ['10.0.0.0/8'] }), batchSize: 10 });
    notAllowed.shipper.enqueue(item(2));
    await notAllowed.shipper.flush();
    expect(notAllowed.shipper.stats()).toEqual({ shipped: 0, dropped: 1, failed_batches: 1 });
    expect(String(notAllowed.reports[0]!.error)).toContain('(refused)');
    expect(server.connections()).toBe(0);
  });

  it('ships the logger\'s lines redacted, with the request\'s context', async () => {
    const server = await collector();
    const { shipper: ship } = shipper({ url: server.url });
    const log = createLogger({ collector: ship, destination: () => undefined, secrets: ['known-Secret-Value-1'] });
    withLogContext({ request_id: 'req-7', trace_id: 'trace-7', tenant: 'acme' }, () =>
      log({ level: 'warn', message: 'refused with Bearer tok-Ab12Cd34', headers: { authorization: 'Basic dXNlcjpwYXNz' }, note: 'key known-Secret-Value-1 rejected' }),
    );
    await log.flush();
    const body = JSON.stringify(server.received.map((request) => request.body));
    for (const secret of ['tok-Ab12Cd34', 'dXNlcjpwYXNz', 'known-Secret-Value-1']) expect(body).not.toContain(secret);
    expect(server.items()).toEqual([
      { service: 'orchestrator', level: 'WARN', message: 'refused with Bearer ***', timestamp: expect.any(String), context: { request_id: 'req-7', trace_id: 'trace-7', tenant: 'acme', headers: { authorization: '***' }, note: 'key *** rejected' } },
    ]);
  });

  it('refuses a collector URL that is not http or https', () => {
    expect(() => createLogShipper({ url: 'file:///tmp/logs', http: testHttp() })).toThrow(/http or https/);
  });
});
