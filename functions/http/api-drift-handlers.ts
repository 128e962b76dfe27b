import type { ApiDriftService } from '../../core/registry/openapi-poll.ts';
import { createHttpHandler, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';

/** What the OpenAPI polling route needs. */
export interface ApiDriftHttpServices {
  readonly apiDrift: ApiDriftService;
}

/** OpenAPI polling and drift, on demand (the schedule runs the same use case: functions/workers/openapi-poll.ts). */
export function createApiDriftHandlers({ apiDrift }: ApiDriftHttpServices) {
  return {
    pollOpenApi: createHttpHandler(routes.pollOpenApi, async ({ query }) => {
      const report = await apiDrift.poll(query.name);
      const { counts } = report;
      return {
        message: `${report.services.length} polled: ${counts.drift} drifted, ${counts.first_snapshot} first snapshots, ${counts.unchanged} unchanged, ${counts.skipped} skipped, ${counts.error} errors`,
        data: report,
      };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}
