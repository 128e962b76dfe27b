import type { OutboundHttp, PeerClient, PeerHealth } from '../../core/ports.ts';
import { isOutboundHttpError } from './outbound-http.ts';

/** Within the API's 10 s function timeout: a sync pulls, then pushes, each call bounded by this. */
export const DEFAULT_PEER_TIMEOUT_MS = 3000;
/** A peer's whole registry listing (hundreds of instances with metadata) fits well within this. */
export const DEFAULT_PEER_MAX_BYTES = 16 * 1024 * 1024;

export interface HttpPeerClientOptions {
  /**
   * The outbound adapter. Peers are configured by operators (ORCHESTRATOR_PEERS): the composition root adds
   * their host names to the allow list (peersAllow), so a peer on a private network needs no other entry;
   * metadata addresses and this orchestrator's own listeners stay refused.
   */
  readonly http: OutboundHttp;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  /**
   * ORCHESTRATOR_PEER_TOKEN: sent as `Authorization: Bearer <token>` to every peer (which checks it on
   * POST /registry/replicate). A function is called for each request (a token read from a secret store).
   */
  readonly token?: string | (() => Promise<string | undefined>);
}

type Envelope = { success?: unknown; message?: unknown; data?: unknown };

/**
 * PeerClient over HTTP: other orchestrators' public API (GET /health, GET /registry, POST /registry/replicate).
 * Redirects are not followed (a peer's base URL is exact), and the token is scoped to the peer's base URL.
 */
export function createHttpPeerClient(options: HttpPeerClientOptions): PeerClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_PEER_MAX_BYTES;
  const token = async (): Promise<string | undefined> => (typeof options.token === 'function' ? options.token() : options.token);

  /** One call: the status and the parsed envelope (undefined when the body is not JSON). */
  const call = async (method: 'GET' | 'POST', peerUrl: string, path: string, body?: unknown): Promise<{ status: number; envelope: Envelope | undefined; latencyMs: number }> => {
    const url = `${peerUrl}${path}`;
    const signal = AbortSignal.timeout(timeoutMs);
    const started = performance.now();
    try {
      const bearer = await token();
      const response = await options.http.send({
        method,
        url,
        signal,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(bearer ? { credential: { header: 'authorization', value: `Bearer ${bearer}`, scope: peerUrl } } : {}),
        maxBodyBytes: maxBytes,
      });
      if (response.body.kind === 'too_large') {
        throw new Error(response.body.size_is_lower_bound ? `the response is larger than ${maxBytes} bytes` : `the response is ${response.body.size_bytes} bytes; the limit is ${maxBytes}`);
      }
      let envelope: Envelope | undefined;
      try {
        const parsed: unknown = JSON.parse(response.body.text);
        envelope = typeof parsed === 'object' && parsed !== null ? (parsed as Envelope) : undefined;
      } catch {
        envelope = undefined;
      }
      return { status: response.status, envelope, latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      const reason = signal.aborted ? `no answer within ${timeoutMs} ms` : isOutboundHttpError(error) && error.kind === 'timeout' ? `no answer within ${timeoutMs} ms` : error instanceof Error ? error.message : String(error);
      throw new Error(`${method} ${url}: ${reason}`, { cause: error });
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
      const { status, envelope, latencyMs } = await call('GET', peerUrl, '/health');
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
      const data = expectSuccess('GET', url, await call('GET', peerUrl, '/registry'));
      const services = data['services'];
      if (!Array.isArray(services)) throw new Error(`GET ${url}: the answer has no services list`);
      return services.flatMap((service: unknown) => {
        const instances = typeof service === 'object' && service !== null ? (service as { instances?: unknown }).instances : undefined;
        return Array.isArray(instances) ? (instances as unknown[]) : [];
      });
    },

    async replicate(peerUrl, instances) {
      const url = `${peerUrl}/registry/replicate`;
      const data = expectSuccess('POST', url, await call('POST', peerUrl, '/registry/replicate', { instances }));
      const { applied, stale, rejected } = data;
      if (typeof applied !== 'number' || typeof stale !== 'number') throw new Error(`POST ${url}: the answer does not say what was applied`);
      // A peer of an older version answers without `rejected`: it rejected nothing it would tell of.
      return { applied, stale, rejected: typeof rejected === 'number' ? rejected : 0 };
    },
  };
}

/** The host names of the peers' URLs: allow-list entries, so configured peers may be called wherever they are. */
export function peersAllow(peerUrls: readonly string[]): string[] {
  return [...new Set(peerUrls.map((url) => new URL(url).hostname.replace(/^\[|\]$/g, '')))];
}
