import type { ServiceRegistry } from '../../core/ports.ts';
import { CLOSED_CIRCUIT, INITIAL_HEALTH, type ServiceInstance } from '../../core/registry/model.ts';
import type { ResolverRegistry } from '../../functions/workers/service-resolver.ts';

/** One instance of `name` at `url`, never health-checked and with a closed circuit unless told otherwise. */
export function instanceAt(name: string, url: string, overrides: Partial<ServiceInstance> = {}): ServiceInstance {
  return {
    name,
    instance_id: 'only',
    url,
    health_path: '/health',
    tags: [],
    metadata: {},
    registered_at: '2026-11-01T00:00:00.000Z',
    updated_at: '2026-11-01T00:00:00.000Z',
    health: INITIAL_HEALTH,
    circuit: CLOSED_CIRCUIT,
    ...overrides,
  };
}

/**
 * The registry as the action runner sees it, for runner tests that are not about the registry: one instance of
 * each named service at its URL, kept in memory. Circuits move by the port's rule (a write wins only from the
 * revision it read), so the runner behaves as it does against DynamoDB.
 */
export function fixedRegistry(services: Readonly<Record<string, string>> = {}): ResolverRegistry {
  const instances = new Map(Object.entries(services).map(([name, url]) => [name, instanceAt(name, url)]));
  const updateCircuit: ServiceRegistry['updateCircuit'] = async (name, instanceId, next, expectedRevision) => {
    const stored = instances.get(name);
    if (stored === undefined || stored.instance_id !== instanceId || stored.circuit.revision !== expectedRevision) return false;
    instances.set(name, { ...stored, circuit: next });
    return true;
  };
  return {
    instancesOf: async (name) => {
      const stored = instances.get(name);
      return stored === undefined ? [] : [stored];
    },
    updateCircuit,
  };
}
