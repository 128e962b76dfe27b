import type { Secured } from './services.ts';
import type { RegistryService } from '../../core/registry/service.ts';
import { handlerFactory, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';

/** What the registry context's handlers need; its Lambdas get the registry table and nothing else. */
export interface RegistryHttpServices {
  readonly registryService: RegistryService;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** The service registry context's handlers, keyed by route name. No side effects until called. */
export function createRegistryHandlers({ registryService, security }: RegistryHttpServices & Secured) {
  const handle = handlerFactory(security);
  return {
    registerService: handle(routes.registerService, async ({ body }) => {
      const { instance, created } = await registryService.register(body);
      const what = `instance '${instance.instance_id}' of service '${instance.name}'`;
      return {
        message: created ? `${what} registered` : `${what} re-registered; its registration was replaced${instance.expires_at ? ' and renewed' : ''}`,
        data: instance,
        status: created ? 201 : 200,
      };
    }),

    listServices: handle(routes.listServices, async ({ query }) => {
      const services = await registryService.list(query);
      const instances = services.reduce((sum, service) => sum + service.instances.length, 0);
      return {
        message: `${plural(services.length, 'service')}, ${plural(instances, 'instance')}`,
        data: { services, total: services.length, instances },
      };
    }),

    getService: handle(routes.getService, async ({ params }) => {
      const service = await registryService.get(params.name);
      return { message: `service '${service.name}': ${service.status}, ${plural(service.instances.length, 'instance')}`, data: service };
    }),

    deregisterService: handle(routes.deregisterService, async ({ params, query }) => {
      const { removed } = await registryService.deregister(params.name, query.instance_id);
      return {
        message: query.instance_id === undefined ? `service '${params.name}' deregistered (${plural(removed, 'instance')})` : `instance '${query.instance_id}' of service '${params.name}' deregistered`,
        data: { name: params.name, ...(query.instance_id === undefined ? {} : { instance_id: query.instance_id }), removed },
      };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}
