import type { HealthProbe, OutboundCredential, OutboundHttp, SecretResolver } from '../../core/ports.ts';
import type { ProbeResult } from '../../core/registry/health.ts';
import { isOutboundHttpError } from './outbound-http.ts';
import { bodyValue, isTruncated } from './response-body.ts';
import { serviceCredential } from './service-credentials.ts';

/** A health body is a status, not a document: more than this is not read (the check still counts). */
export const DEFAULT_HEALTH_BODY_BYTES = 4 * 1024;

export interface HttpHealthProbeOptions {
  /** The outbound adapter (the action runner's policy: what the runner may call is what the sweep may probe). */
  readonly http: OutboundHttp;
  /** Reads the credentials of instances registered with `auth`; without it, such an instance's probe fails. */
  readonly secrets?: SecretResolver;
  /** Default DEFAULT_HEALTH_BODY_BYTES. */
  readonly maxBodyBytes?: number;
}

const PROBE_HEADERS = { accept: 'application/health+json, application/json;q=0.9, */*;q=0.5', 'user-agent': 'serverless-orchestrator-health-check' };

/**
 * Probes health URLs with a GET through the outbound adapter (docs/adr/0004): the address is checked when the
 * connection is made, and a refused one is reported as an unanswered probe. An instance registered with `auth`
 * gets its credential (scoped to its base URL). Redirects are not followed: a health path that redirects (to a
 * login page, say) answers 3xx, which is not healthy. The timeout covers resolution, connection, headers and
 * body; at most `maxBodyBytes` of the body are read, for its `status`.
 */
export function createHttpHealthProbe(options: HttpHealthProbeOptions): HealthProbe {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_HEALTH_BODY_BYTES;

  return {
    async probe(url, timeoutMs, instance): Promise<ProbeResult> {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return { error: `not a URL: ${url.slice(0, 256)}` };
      }
      const signal = AbortSignal.timeout(timeoutMs);
      const started = performance.now();
      let credential: OutboundCredential | undefined;
      if (instance?.auth) {
        if (!options.secrets) return { error: 'the instance has a credential, and this probe reads no secrets' };
        try {
          credential = (await serviceCredential(instance.auth, instance.url, options.secrets)).credential;
        } catch (error) {
          return { error: error instanceof Error ? error.message : String(error) };
        }
      }
      try {
        const response = await options.http.send({ method: 'GET', url: target.href, headers: PROBE_HEADERS, signal, maxBodyBytes, ...(credential ? { credential } : {}) });
        const latency = performance.now() - started;
        if (response.status >= 300 && response.status < 400) return { status_code: response.status, latency_ms: latency };
        const value = bodyValue(response, { maxBytes: maxBodyBytes, previewBytes: 0 });
        return { status_code: response.status, latency_ms: latency, ...(value === null || isTruncated(value) ? {} : { body: value }) };
      } catch (error) {
        if (signal.aborted) return { error: `no answer within ${timeoutMs} ms`, timed_out: true };
        if (isOutboundHttpError(error)) return { error: error.kind === 'timeout' ? `no answer within ${timeoutMs} ms` : error.message, ...(error.kind === 'timeout' ? { timed_out: true } : {}) };
        return { error: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}
