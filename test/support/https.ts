import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface TlsClientOptions {
  /** CAs the client trusts (the server's), and the client's own certificate and key (mutual TLS). */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

export interface PlainReply {
  readonly status: number;
  readonly body: string;
  /** The TLS version negotiated (undefined over plain HTTP). */
  readonly protocol?: string;
}

/**
 * One GET with node:https (or node:http for an http: URL), on a fresh connection each time (no agent), so each
 * call makes its own TLS handshake with the options given. Rejects when no HTTP answer comes.
 */
export function get(url: string, options: TlsClientOptions = {}): Promise<PlainReply> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const outgoing = send(url, { method: 'GET', agent: false, timeout: 5000, ...options }, (response) => {
      const protocol = 'getProtocol' in response.socket ? ((response.socket as { getProtocol(): string | null }).getProtocol() ?? undefined) : undefined;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), protocol }));
      response.on('error', reject);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`GET ${url} timed out`)));
    outgoing.on('error', reject);
    outgoing.end();
  });
}
