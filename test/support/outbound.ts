import type { ServiceCallPayload } from '../../functions/workers/service-call.ts';
import type { LookupAll } from '../../adapters/http/guarded-agent.ts';
import { createOutboundHttp, type ClosableOutboundHttp } from '../../adapters/http/outbound-http.ts';
import { createOutboundPolicy } from '../../adapters/http/outbound-policy.ts';

export interface TestOutboundOptions {
  /** ORCHESTRATOR_OUTBOUND_ALLOW entries. Default 127.0.0.1/8, as the local runtime's. */
  readonly allow?: readonly string[];
  readonly ownPorts?: ReadonlySet<number>;
  readonly lookup?: LookupAll;
  /** Trusted CAs for https (PEM). */
  readonly ca?: string;
}

let shared: ClosableOutboundHttp | undefined;

/**
 * The real outbound adapter (undici, the guarded agent) under the given policy. Without options: one shared
 * instance allowing loopback, as the local runtime does, for tests whose services listen on 127.0.0.1.
 */
export function testHttp(options?: TestOutboundOptions): ClosableOutboundHttp {
  if (options === undefined) return (shared ??= createOutboundHttp({ policy: createOutboundPolicy({ allow: ['127.0.0.1/8'] }) }));
  return createOutboundHttp({
    policy: createOutboundPolicy({ allow: options.allow ?? ['127.0.0.1/8'], ...(options.ownPorts ? { ownPorts: options.ownPorts } : {}) }),
    ...(options.lookup ? { lookup: options.lookup } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
  });
}

/** A service call to `endpoint` of service `svc`, as a compiled state machine would hand it to the runner. */
export function serviceCallPayload(endpoint: string, ids: { action_id: string; workflow_id: string }, extra: Partial<ServiceCallPayload> = {}): ServiceCallPayload {
  return { ...ids, execution_id: 'exec-1', workflow_version: 1, service: 'svc', endpoint, method: 'GET', timeout_seconds: 5, ...extra };
}
