import type { Secured } from './services.ts';
import { handlerFactory, type ApiHandler, type ResponseData } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import { buildOpenApiDocument } from './openapi.ts';

/** Platform routes: liveness and the API description. They touch no table. */
export function createPlatformHandlers({ serviceVersion, security }: { serviceVersion: string } & Secured) {
  const handle = handlerFactory(security);
  let document: ResponseData<typeof routes.openApi> | undefined;
  return {
    health: handle(routes.health, async () => ({
      message: 'orchestrator is running',
      data: { status: 'healthy' as const, service: 'orchestrator', version: serviceVersion },
    })),
    openApi: handle(routes.openApi, async () => {
      // Built on first use, not at import: it walks every schema, and cold starts of other routes need not pay.
      // A copy as a plain object: the response schema is an open object (any further top-level key).
      document ??= { ...buildOpenApiDocument(serviceVersion) };
      return { message: 'OpenAPI 3.1 document', data: document, raw: true };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}
