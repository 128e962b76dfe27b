import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

const require = createRequire(import.meta.url);

export interface RunningDynalite {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * Starts the dynalite DynamoDB emulator on a loopback port: in memory, or on disk under `path` so data
 * survives restarts. Table operations complete instantly, as the local runtime never waits for ACTIVE.
 */
export async function startDynalite(options: { path?: string; port?: number }): Promise<RunningDynalite> {
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The SDK keeps sockets alive; without this, close waits for them to time out.
        server.closeAllConnections();
      }),
  };
}
