import type { ApiDocumentSource } from '../../core/ports.ts';
import { describeFetchError, readTextWithin } from './bounded-fetch.ts';
import { checkDestination, parseAllowedAddresses, systemLookup, type LookupAll, type OutboundPolicy } from './outbound-policy.ts';

/** Per document; the poll route answers within the API's 10 s function timeout. */
export const DEFAULT_DOCUMENT_TIMEOUT_MS = 5000;
/** Large public APIs' documents are a few MiB; more is not an API description worth summarizing. */
export const DEFAULT_DOCUMENT_MAX_BYTES = 5 * 1024 * 1024;
const MAX_REDIRECTS = 3;

export interface HttpApiDocumentSourceOptions {
  /** Loopback and private ranges: false in AWS (as for the action runner), true on one machine. */
  readonly allowPrivateNetworks: boolean;
  /** Addresses or CIDR networks allowed whatever their class. */
  readonly allowedAddresses?: readonly string[];
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  readonly lookup?: LookupAll;
  readonly fetch?: typeof globalThis.fetch;
}

/**
 * Reads services' API documents over HTTP with the action runner's outbound policy (every address a host
 * resolves to is checked, again at each redirect), a deadline for the whole read and a size limit. The
 * document must be JSON (YAML documents are refused with that reason).
 */
export function createHttpApiDocumentSource(options: HttpApiDocumentSourceOptions): ApiDocumentSource {
  const policy: OutboundPolicy = { allowPrivateNetworks: options.allowPrivateNetworks, allowedAddresses: parseAllowedAddresses(options.allowedAddresses ?? []) };
  const timeoutMs = options.timeoutMs ?? DEFAULT_DOCUMENT_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_DOCUMENT_MAX_BYTES;
  const lookup = options.lookup ?? systemLookup;
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  return {
    async fetchDocument(address) {
      const signal = AbortSignal.timeout(timeoutMs);
      let url = new URL(address);
      let text: string;
      try {
        for (let redirects = 0; ; redirects++) {
          const verdict = await checkDestination(url, policy, lookup, signal);
          if (!verdict.allowed) throw new RefusedError(`refused to call ${url.host}: ${verdict.reason}`);
          const response = await fetchImpl(url, { redirect: 'manual', signal, headers: { accept: 'application/json, application/vnd.oai.openapi+json;q=0.9, */*;q=0.1' } });
          const location = response.headers.get('location');
          if (response.status >= 300 && response.status < 400 && location !== null) {
            await response.body?.cancel().catch(() => undefined);
            if (redirects >= MAX_REDIRECTS) throw new RefusedError(`more than ${MAX_REDIRECTS} redirects`);
            url = new URL(location, url);
            if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RefusedError(`redirected to a ${url.protocol} URL`);
            continue;
          }
          if (response.status < 200 || response.status >= 300) {
            await response.body?.cancel().catch(() => undefined);
            throw new RefusedError(`GET ${url.href} answered ${response.status}`);
          }
          text = await readTextWithin(response, maxBytes);
          break;
        }
      } catch (error) {
        if (error instanceof RefusedError) throw error;
        throw new Error(`GET ${url.href}: ${describeFetchError(error, signal, timeoutMs)}`, { cause: error });
      }
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new Error(`the document at ${url.href} is not JSON (YAML documents are not read)`);
      }
    },
  };
}

/** A failure with its final wording (no prefix added). */
class RefusedError extends Error {
  override readonly name = 'RefusedError';
}
