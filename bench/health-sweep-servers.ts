import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * The health sweep benchmark's instances (bench/health-sweep.ts), on a worker thread of their own so that
 * serving the probes does not compete for the sweep's thread: `count` loopback servers answering their health
 * path with `{"status":"ok"}` after `delayMs`. Posts `{ ports }` once listening, and closes them all on 'close'.
 */
export interface ServersData {
  readonly count: number;
  readonly delayMs: number;
}

const { count, delayMs } = workerData as ServersData;
const servers: Server[] = await Promise.all(
  Array.from({ length: count }, async () => {
    const server = createServer((_request, response) => {
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'), delayMs);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }),
);
parentPort?.postMessage({ ports: servers.map((server) => (server.address() as AddressInfo).port) });
parentPort?.on('message', (message: unknown) => {
  if (message !== 'close') return;
  for (const server of servers) server.closeAllConnections();
  void Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))).then(() => parentPort?.close());
});
