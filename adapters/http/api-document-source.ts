import type { ApiDocumentSource, OutboundHttp } from '../../core/ports.ts';
import { isOutboundHttpError } from './outbound-http.ts';

/** Per document; the poll route answers within the API's 10 s function timeout. */
export const DEFAULT_DOCUMENT_TIMEOUT_MS = 5000;
/** Large public APIs' documents are a few MiB; more is not an API description worth summarizing. */
export const DEFAULT_DOCUMENT_MAX_BYTES = 5 * 1024 * 1024;
const MAX_REDIRECTS = 3;

export interface HttpApiDocumentSourceOptions {
  /** The outbound adapter, under the action runner's policy. */
  readonly http: OutboundHttp;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

/**
 * Reads services' API documents through the outbound adapter (every connection's address checked, at each
 * redirect too), with a deadline for the whole read and a size limit. The document must be JSON (YAML
 * documents are refused with that reason). No credential is sent: documents are expected to be readable.
 */
export function createHttpApiDocumentSource(options: HttpApiDocumentSourceOptions): ApiDocumentSource {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DOCUMENT_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_DOCUMENT_MAX_BYTES;

  return {
    async fetchDocument(address) {
      const signal = AbortSignal.timeout(timeoutMs);
      let response;
      try {
        response = await options.http.send({
          method: 'GET',
          url: address,
          headers: { accept: 'application/json, application/vnd.oai.openapi+json;q=0.9, */*;q=0.1' },
          signal,
          maxRedirects: MAX_REDIRECTS,
          crossOriginHeaders: ['accept'],
          maxBodyBytes: maxBytes,
        });
      } catch (error) {
        if (signal.aborted) throw new Error(`GET ${address}: no answer within ${timeoutMs} ms`, { cause: error });
        // Refusals and redirect problems have their final wording; network failures say which URL.
        if (isOutboundHttpError(error) && (error.kind === 'refused' || error.kind === 'redirect')) throw new Error(error.message, { cause: error });
        const url = isOutboundHttpError(error) ? error.url : address;
        throw new Error(`GET ${url}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      if (response.status < 200 || response.status >= 300) throw new Error(`GET ${response.url} answered ${response.status}`);
      if (response.body.kind === 'too_large') throw new Error(`GET ${response.url}: the document is ${response.body.size_is_lower_bound ? 'more than ' : ''}${response.body.size_bytes} bytes; the limit is ${maxBytes}`);
      try {
        return JSON.parse(response.body.text) as unknown;
      } catch {
        throw new Error(`the document at ${response.url} is not JSON (YAML documents are not read)`);
      }
    },
  };
}
