import type { Secured } from './services.ts';
import type { ApiDriftService } from '../../core/registry/openapi-poll.ts';
import { handlerFactory, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';

/** What the OpenAPI polling route needs. */
export interface ApiDriftHttpServices {
  readonly apiDrift: ApiDriftService;
}

/** OpenAPI polling and drift, on demand (the schedule runs the same use case: functions/workers/openapi-poll.ts). */
export function createApiDriftHandlers({ apiDrift, security }: ApiDriftHttpServices & Secured) {
  const handle = handlerFactory(security);
  return {
    pollOpenApi: handle(routes.pollOpenApi, async ({ query }) => {
      const report = await apiDrift.poll(query.name);
      const { counts } = report;
      return {
        message: `${report.services.length} polled: ${counts.drift} drifted, ${counts.first_snapshot} first snapshots, ${counts.unchanged} unchanged, ${counts.skipped} skipped, ${counts.error} errors`,
        data: report,
      };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}
