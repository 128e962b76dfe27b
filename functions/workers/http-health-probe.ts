import type { HealthProbe } from '../../core/ports.ts';
import type { ProbeResult } from '../../core/registry/health.ts';
import { checkDestination, parseAllowedAddresses, systemLookup, type LookupAll, type OutboundPolicy } from './outbound-policy.ts';
import { readBody, type TruncatedBody } from './response-body.ts';

/** A health body is a status, not a document: more than this is not read (the check still counts). */
export const DEFAULT_HEALTH_BODY_BYTES = 4 * 1024;

/**
 * The variable the action runner's Lambda reads its extra allowed addresses from; the health sweep reads the
 * same one, so that what the runner may call is what the sweep may probe.
 */
export interface HttpHealthProbeOptions {
  /** As the action runner's: false in AWS, true locally (services on localhost). */
  readonly allowPrivateNetworks?: boolean;
  readonly allowedAddresses?: readonly string[];
  /** Default DEFAULT_HEALTH_BODY_BYTES. */
  readonly maxBodyBytes?: number;
  readonly lookup?: LookupAll;
  readonly fetch?: typeof globalThis.fetch;
}

const PROBE_HEADERS = { accept: 'application/health+json, application/json;q=0.9, */*;q=0.5', 'user-agent': 'serverless-orchestrator-health-check' };

/**
 * Probes health URLs with a GET under the action runner's outbound policy (docs/adr/0004): the destination
 * is checked (every address a name resolves to) before connecting, and a refused one is reported as an
 * unanswered probe. Redirects are not followed: a health path that redirects (to a login page, say) answers
 * 3xx, which is not healthy. The timeout covers resolution, connection, headers and body; at most
 * `maxBodyBytes` of the body are read, for its `status`.
 */
export function createHttpHealthProbe(options: HttpHealthProbeOptions = {}): HealthProbe {
  const policy: OutboundPolicy = {
    allowPrivateNetworks: options.allowPrivateNetworks ?? false,
    allowedAddresses: parseAllowedAddresses(options.allowedAddresses ?? []),
  };
  const lookup = options.lookup ?? systemLookup;
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_HEALTH_BODY_BYTES;

  return {
    async probe(url, timeoutMs): Promise<ProbeResult> {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return { error: `not a URL: ${url.slice(0, 256)}` };
      }
      const signal = AbortSignal.timeout(timeoutMs);
      const started = performance.now();
      try {
        const verdict = await checkDestination(target, policy, lookup, signal);
        if (!verdict.allowed) return { error: `refused to call ${target.host}: ${verdict.reason}` };
        const response = await fetchImpl(target, { method: 'GET', headers: PROBE_HEADERS, redirect: 'manual', signal });
        if (response.status >= 300 && response.status < 400) {
          await response.body?.cancel().catch(() => undefined);
          return { status_code: response.status, latency_ms: performance.now() - started };
        }
        const { value } = await readBody(response, { maxBytes: maxBodyBytes, previewBytes: 0 });
        const latency = performance.now() - started;
        return { status_code: response.status, latency_ms: latency, ...(value === null || isTruncated(value) ? {} : { body: value }) };
      } catch (error) {
        if (signal.aborted) return { error: `no answer within ${timeoutMs} ms`, timed_out: true };
        return { error: connectionFailure(error, target) };
      }
    },
  };
}

function connectionFailure(error: unknown, target: URL): string {
  const code = errorCode(error);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `could not resolve ${target.hostname}: ${code}`;
  // fetch refuses some ports outright (the Fetch standard's "bad ports": 6000, 6667, 10080...).
  if (error instanceof Error && error.cause instanceof Error && error.cause.message === 'bad port') return `fetch never connects to port ${target.port}`;
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `could not connect to ${target.host}: ${code ?? (error instanceof Error ? `${error.message}${cause}` : String(error))}`;
}

/** The first `code` along an error's causes (undici wraps the socket's error; happy eyeballs aggregates). */
function errorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current !== null && typeof current === 'object' && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (current as { errors?: unknown }).errors;
    current = Array.isArray(errors) && errors.length > 0 ? errors[0] : (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function isTruncated(value: unknown): value is TruncatedBody {
  return typeof value === 'object' && value !== null && (value as { truncated?: unknown }).truncated === true;
}

