import type { PeerClient, PeerHealth } from '../../core/ports.ts';
import { describeFetchError, readTextWithin } from './bounded-fetch.ts';

/** Within the API's 10 s function timeout: a sync pulls, then pushes, each call bounded by this. */
export const DEFAULT_PEER_TIMEOUT_MS = 3000;
/** A peer's whole registry listing (hundreds of instances with metadata) fits well within this. */
export const DEFAULT_PEER_MAX_BYTES = 16 * 1024 * 1024;

export interface HttpPeerClientOptions {
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  /** Default: the global fetch. */
  readonly fetch?: typeof globalThis.fetch;
}

type Envelope = { success?: unknown; message?: unknown; data?: unknown };

/**
 * PeerClient over HTTP: other orchestrators' public API (GET /health, GET /registry, POST /registry/replicate).
 * Peers are configured by operators (ORCHESTRATOR_PEERS), so any address they name may be called; redirects
 * are not followed (a peer's base URL is exact).
 */
export function createHttpPeerClient(options: HttpPeerClientOptions = {}): PeerClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_PEER_MAX_BYTES;
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  /** One call: the status and the parsed envelope (undefined when the body is not JSON). */
  const call = async (method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; envelope: Envelope | undefined; latencyMs: number }> => {
    const signal = AbortSignal.timeout(timeoutMs);
    const started = performance.now();
    try {
      const response = await fetchImpl(url, {
        method,
        redirect: 'manual',
        signal,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await readTextWithin(response, maxBytes);
      let envelope: Envelope | undefined;
      try {
        const parsed: unknown = JSON.parse(text);
        envelope = typeof parsed === 'object' && parsed !== null ? (parsed as Envelope) : undefined;
      } catch {
        envelope = undefined;
      }
      return { status: response.status, envelope, latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      throw new Error(`${method} ${url}: ${describeFetchError(error, signal, timeoutMs)}`, { cause: error });
    }
  };

  const expectSuccess = (method: string, url: string, reply: { status: number; envelope: Envelope | undefined }): Record<string, unknown> => {
    const { status, envelope } = reply;
    if (status < 200 || status >= 300) {
      const message = typeof envelope?.message === 'string' ? `: ${envelope.message}` : '';
      // A 404 here usually means a peer of an older version, without the peer routes.
      throw new Error(`${method} ${url} answered ${status}${message}`);
    }
    if (typeof envelope?.data !== 'object' || envelope.data === null) throw new Error(`${method} ${url} did not answer with an orchestrator's JSON envelope`);
    return envelope.data as Record<string, unknown>;
  };

  return {
    async health(peerUrl): Promise<PeerHealth> {
      const { status, envelope, latencyMs } = await call('GET', `${peerUrl}/health`);
      const data = (typeof envelope?.data === 'object' && envelope.data !== null ? envelope.data : {}) as Record<string, unknown>;
      return {
        status_code: status,
        latency_ms: latencyMs,
        ...(typeof data['status'] === 'string' ? { status: data['status'] } : {}),
        ...(typeof data['version'] === 'string' ? { version: data['version'] } : {}),
      };
    },

    async instances(peerUrl) {
      const url = `${peerUrl}/registry`;
      const data = expectSuccess('GET', url, await call('GET', url));
      const services = data['services'];
      if (!Array.isArray(services)) throw new Error(`GET ${url}: the answer has no services list`);
      return services.flatMap((service: unknown) => {
        const instances = typeof service === 'object' && service !== null ? (service as { instances?: unknown }).instances : undefined;
        return Array.isArray(instances) ? (instances as unknown[]) : [];
      });
    },

    async replicate(peerUrl, instances) {
      const url = `${peerUrl}/registry/replicate`;
      const data = expectSuccess('POST', url, await call('POST', url, { instances }));
      const { applied, stale } = data;
      if (typeof applied !== 'number' || typeof stale !== 'number') throw new Error(`POST ${url}: the answer does not say what was applied`);
      return { applied, stale };
    },
  };
}
