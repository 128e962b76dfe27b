import { NotFoundError, ValidationError } from '../errors.ts';
import type { Clock, ServiceRegistry } from '../ports.ts';
import { zodIssues } from '../workflow/validate.ts';
import { CLOSED_CIRCUIT, groupServices, INITIAL_HEALTH, instanceIdFromUrl, isExpired, type HealthStatus, type ServiceInstance, type ServiceView } from './model.ts';
import { ServiceRegistrationInputSchema } from './registration.ts';

export interface RegistryServiceDeps {
  readonly registry: ServiceRegistry;
  readonly clock: Clock;
}

export interface RegistrationOutcome {
  readonly instance: ServiceInstance;
  /** False when an existing registration of the same instance was replaced (or renewed). */
  readonly created: boolean;
}

export interface ServiceFilter {
  /** Exact service name. */
  readonly name?: string;
  /** Instances whose health has this status (services keep only those instances). */
  readonly status?: HealthStatus;
  /** Instances carrying this tag. */
  readonly tag?: string;
}

/** Service registry use cases. */
export interface RegistryService {
  /**
   * Registers an instance of a service, or replaces (renews) the registration of the same instance: its id,
   * or its URL when no id is given. Health and circuit state survive a renewal. ValidationError lists every
   * problem.
   */
  register(input: unknown): Promise<RegistrationOutcome>;
  /** Services with their live (unexpired) instances, by name; filters keep matching instances. */
  list(filter?: ServiceFilter): Promise<ServiceView[]>;
  /** One service; NotFoundError when it has no live instance. */
  get(name: string): Promise<ServiceView>;
  /** Removes a service (every instance) or one instance; NotFoundError when nothing matched. */
  deregister(name: string, instanceId?: string): Promise<{ removed: number }>;
}

export function createRegistryService({ registry, clock }: RegistryServiceDeps): RegistryService {
  const live = (instances: readonly ServiceInstance[]) => {
    const now = clock.now();
    return instances.filter((instance) => !isExpired(instance, now));
  };

  return {
    async register(input) {
      // The HTTP edge parses with the same schema; parsing again keeps the rules for every other caller.
      const parsed = ServiceRegistrationInputSchema.safeParse(input);
      if (!parsed.success) throw new ValidationError(zodIssues(parsed.error));
      const now = clock.now();
      const { name, url, instance_id, health_path, openapi_path, version, metadata, tags, ttl_seconds, auth } = parsed.data;
      // One spelling of each base URL (the URL parser's), without a trailing slash: endpoints are appended to it.
      const normalizedUrl = new URL(url).href.replace(/\/+$/, '');
      const instance: ServiceInstance = {
        name,
        instance_id: instance_id ?? instanceIdFromUrl(normalizedUrl),
        url: normalizedUrl,
        health_path,
        ...(openapi_path === undefined ? {} : { openapi_path }),
        ...(version === undefined ? {} : { version }),
        tags,
        metadata,
        // The secret's reference only: its value is read by the caller of the instance, never stored.
        ...(auth === undefined ? {} : { auth }),
        registered_at: now,
        updated_at: now,
        ...(ttl_seconds === undefined ? {} : { ttl_seconds, expires_at: new Date(Date.parse(now) + ttl_seconds * 1000).toISOString() }),
        health: INITIAL_HEALTH,
        circuit: CLOSED_CIRCUIT,
      };
      return registry.register(instance);
    },

    async list(filter = {}) {
      const instances = live(filter.name === undefined ? await registry.list() : await registry.instancesOf(filter.name));
      const services = groupServices(instances);
      if (filter.status === undefined && filter.tag === undefined) return services;
      return services
        .map((service) => ({
          ...service,
          instances: service.instances.filter((instance) => (filter.status === undefined || instance.health.status === filter.status) && (filter.tag === undefined || instance.tags.includes(filter.tag))),
        }))
        .filter((service) => service.instances.length > 0);
    },

    async get(name) {
      const [service] = groupServices(live(await registry.instancesOf(name)));
      if (!service) throw new NotFoundError(`service '${name}' is not registered`);
      return service;
    },

    async deregister(name, instanceId) {
      const removed = await registry.remove(name, instanceId);
      if (removed === 0) throw new NotFoundError(instanceId === undefined ? `service '${name}' is not registered` : `service '${name}' has no instance '${instanceId}'`);
      return { removed };
    },
  };
}
