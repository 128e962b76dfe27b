import { ValidationError } from '../errors.ts';
import type { Clock, ServiceRegistry } from '../ports.ts';
import { zodIssues } from '../workflow/validate.ts';
import type { ServiceRegistration } from './model.ts';
import { ServiceRegistrationInputSchema } from './registration.ts';

export interface RegistryServiceDeps {
  readonly registry: ServiceRegistry;
  readonly clock: Clock;
}

export interface RegistrationOutcome {
  readonly service: ServiceRegistration;
  /** False when an existing registration of the name was replaced. */
  readonly created: boolean;
}

/** Service registry use cases. */
export interface RegistryService {
  /** Registers a service, or replaces the registration of its name (upsert). ValidationError lists every problem. */
  register(input: unknown): Promise<RegistrationOutcome>;
  /** Every registered service, by name. */
  list(): Promise<ServiceRegistration[]>;
}

export function createRegistryService({ registry, clock }: RegistryServiceDeps): RegistryService {
  return {
    async register(input) {
      // The HTTP edge parses with the same schema; parsing again keeps the rules for every other caller.
      const parsed = ServiceRegistrationInputSchema.safeParse(input);
      if (!parsed.success) throw new ValidationError(zodIssues(parsed.error));
      const now = clock.now();
      const { name, url, health_path, openapi_path, version, metadata } = parsed.data;
      const registration: ServiceRegistration = {
        name,
        // One spelling of each base URL (the URL parser's), without a trailing slash: endpoints are appended to it.
        url: new URL(url).href.replace(/\/+$/, ''),
        health_path,
        ...(openapi_path === undefined ? {} : { openapi_path }),
        ...(version === undefined ? {} : { version }),
        metadata,
        registered_at: now,
        updated_at: now,
      };
      return registry.register(registration);
    },

    async list() {
      const services = await registry.list();
      return [...services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
  };
}
