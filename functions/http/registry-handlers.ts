import type { RegistryService } from '../../core/registry/service.ts';
import { createHttpHandler, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';

/** What the registry context's handlers need; its Lambdas get the registry table and nothing else. */
export interface RegistryHttpServices {
  readonly registryService: RegistryService;
}

/** The service registry context's handlers, keyed by route name. No side effects until called. */
export function createRegistryHandlers({ registryService }: RegistryHttpServices) {
  return {
    registerService: createHttpHandler(routes.registerService, async ({ body }) => {
      const { service, created } = await registryService.register(body);
      return {
        message: created ? `service '${service.name}' registered` : `service '${service.name}' re-registered; the previous registration was replaced`,
        data: service,
        status: created ? 201 : 200,
      };
    }),

    listServices: createHttpHandler(routes.listServices, async () => {
      const services = await registryService.list();
      return {
        message: `${services.length} registered service${services.length === 1 ? '' : 's'}`,
        data: { services, total: services.length },
      };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}
