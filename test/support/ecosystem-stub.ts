import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request an ecosystem stub received. */
export interface StubRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
  /** When it arrived and when the stub answered (ms since the epoch). */
  readonly startedAt: number;
  endedAt?: number;
}

export type StubAnswer = { status?: number; body?: unknown; delayMs?: number; headers?: Record<string, string> };
export type StubRoute = (request: StubRequest) => StubAnswer | Promise<StubAnswer>;

/**
 * An ecosystem service on loopback: answers by `METHOD /path` (the query ignored), records every request with
 * its timing. Unknown routes answer 404 with a JSON message, as a real service would.
 */
export async function startEcosystemStub(routes: Record<string, StubRoute>): Promise<{ url: string; requests: StubRequest[]; close: () => Promise<void>; server: Server }> {
  const requests: StubRequest[] = [];
  const server = createServer((incoming: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      void (async () => {
        const url = new URL(incoming.url ?? '/', 'http://stub');
        const text = Buffer.concat(chunks).toString('utf8');
        const request: StubRequest = { method: incoming.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: incoming.headers, body: text ? (JSON.parse(text) as unknown) : undefined, startedAt: Date.now() };
        requests.push(request);
        const route = routes[`${request.method} ${request.path}`];
        const answer: StubAnswer = route ? await route(request) : { status: 404, body: { message: `no route ${request.method} ${request.path}` } };
        if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
        request.endedAt = Date.now();
        if (response.destroyed) return;
        response.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
        response.end(JSON.stringify(answer.body ?? {}));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
