import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback service for the fuzz suite: what registered services, health probes, OpenAPI polls, peer
 * syncs and workflow runs call, so that none of them waits on the network. It answers at once: `/health`
 * healthy, `/openapi.json` a small document, a peer's `/registry` and `/registry/replicate` as an
 * orchestrator would, reporting's summary and log analysis in their contract's shape, an OpenAI-compatible
 * `/v1/chat/completions` (the model of POST /ai/plan) a valid plan, anything else `{ ok: true }`.
 */
export interface FuzzStub {
  readonly url: string;
  readonly requests: () => number;
  close(): Promise<void>;
}

/** What the stub's model answers every chat: a plan the orchestrator accepts at once (a notification). */
const PLAN_COMPLETION = {
  id: 'chatcmpl-stub',
  model: 'stub',
  choices: [{ index: 0, message: { role: 'assistant', content: JSON.stringify({ workflow: { name: 'fuzz plan', actions: [{ action_id: 'note', action_type: 'notification', config: { message: 'fuzz' } }] }, explanation: 'one notification' }) }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 100, completion_tokens: 20 },
};

const OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'stub', version: '1.0.0' },
  paths: { '/things': { get: { operationId: 'listThings', responses: { '200': { description: 'things' } } } } },
};

export async function startFuzzStub(): Promise<FuzzStub> {
  let count = 0;
  const server: Server = createServer((request, response) => {
    count += 1;
    request.resume();
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://stub').pathname;
      const envelope = (data: unknown) => ({ success: true, message: 'stub', data, request_id: 'stub', timestamp: new Date().toISOString() });
      const body =
        path.endsWith('/health')
          ? { status: 'healthy', service: 'stub', version: '1.0.0' }
          : path.endsWith('/openapi.json')
            ? OPENAPI
            : path === '/registry' && request.method === 'GET'
              ? envelope({ services: [], total: 0, instances: 0 })
              : path === '/registry/replicate'
                ? envelope({ applied: 0, stale: 0, rejected: 0 })
                : path === '/reports/summary'
                  ? { total: 3, by_severity: { low: 2, med: 1 } }
                  : path === '/logs/analysis'
                    ? { overview: { count: 1, by_level: { info: 1 } }, sample: [{ service: 'stub', level: 'info', message: 'fuzz' }] }
                    : path === '/v1/chat/completions' && request.method === 'POST'
                      ? PLAN_COMPLETION
                      : { ok: true, path };
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
