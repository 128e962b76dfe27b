import type { ApiDriftService, PollReport } from '../../core/registry/openapi-poll.ts';
import { sharedLog } from '../observability/logger.ts';

export interface OpenApiPollWorkerDeps {
  readonly apiDrift: ApiDriftService;
  readonly log?: (entry: Record<string, unknown>) => void;
}

/** What one scheduled poll reports: the counts, and each service that drifted or failed. */
export interface OpenApiPollSummary {
  readonly polled_at: string;
  readonly counts: PollReport['counts'];
  readonly drift: readonly { name: string; added: number; removed: number; changed: number; event_id?: string }[];
  readonly errors: readonly { name: string; reason: string }[];
}

/**
 * The scheduled OpenAPI poll (an EventBridge rule invokes it every interval; the event carries nothing it
 * needs). It polls every service, logs one JSON line with the counts, the drift and the errors, and returns
 * the same. A service that cannot be read is reported, not fatal: the invocation fails only when the
 * registry itself cannot be read, so the function's error metric means the poller is broken, not a service.
 */
export function createOpenApiPollWorker({ apiDrift, log = sharedLog }: OpenApiPollWorkerDeps) {
  return async (_event?: unknown): Promise<OpenApiPollSummary> => {
    const report = await apiDrift.poll();
    const summary: OpenApiPollSummary = {
      polled_at: report.polled_at,
      counts: report.counts,
      drift: report.services
        .filter((service) => service.status === 'drift')
        .map((service) => ({ name: service.name, added: service.counts?.added ?? 0, removed: service.counts?.removed ?? 0, changed: service.counts?.changed ?? 0, ...(service.event_id === undefined ? {} : { event_id: service.event_id }) })),
      errors: report.services.filter((service) => service.status === 'error').map((service) => ({ name: service.name, reason: service.reason ?? 'unknown' })),
    };
    log({ kind: 'openapi_poll', ...summary });
    return summary;
  };
}
