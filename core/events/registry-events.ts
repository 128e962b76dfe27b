import type { ServiceRegistry } from '../ports.ts';
import type { ServiceInstance } from '../registry/model.ts';
import type { EmitEvent } from './emitter.ts';
import { PLATFORM_EVENT_TENANT } from './envelope.ts';

/**
 * Service events (`orchestrator.service.registered`, `health_changed`, `circuit_opened`, `circuit_closed`)
 * come from the registry's store, as run events come from the runs' (run-events.ts): whoever registers,
 * sweeps or breaks a circuit (the API, the health sweep, the action runner), the change emits once, after it
 * is stored and only when it changed something. Services are shared by every tenant: their events belong to
 * the platform (admins read them).
 *
 * A health change needs the status before: the decorator remembers each instance's status from what it read
 * (the sweep lists the instances it probes) or recorded; an instance it never saw is reported on its first
 * recording only when that recording is not `unknown`.
 */
const REMEMBERED_INSTANCES = 2000;

export function withRegistryEvents(registry: ServiceRegistry, emit: EmitEvent): ServiceRegistry {
  const statuses = new Map<string, string>();
  const circuits = new Map<string, string>();
  const key = (name: string, instanceId: string) => `${name}\u0000${instanceId}`;
  const remember = (instances: ServiceInstance[]): ServiceInstance[] => {
    for (const instance of instances) {
      const id = key(instance.name, instance.instance_id);
      statuses.delete(id);
      statuses.set(id, instance.health.status);
      circuits.delete(id);
      circuits.set(id, instance.circuit.state);
    }
    while (statuses.size > REMEMBERED_INSTANCES) statuses.delete(statuses.keys().next().value as string);
    while (circuits.size > REMEMBERED_INSTANCES) circuits.delete(circuits.keys().next().value as string);
    return instances;
  };
  const serviceEvent = (type: Parameters<EmitEvent>[0]['type'], name: string, instanceId: string, data: Record<string, unknown>) =>
    emit({ type, tenant: PLATFORM_EVENT_TENANT, subject: `services/${name}/instances/${instanceId}`, data: { service: name, instance_id: instanceId, ...data } });

  return {
    async register(instance) {
      const result = await registry.register(instance);
      remember([result.instance]);
      if (result.created) {
        await serviceEvent('orchestrator.service.registered', instance.name, result.instance.instance_id, {
          ...(instance.version === undefined ? {} : { version: instance.version }),
          tags: [...(instance.tags ?? [])],
          registered_at: result.instance.registered_at,
        });
      }
      return result;
    },
    instancesOf: async (name) => remember(await registry.instancesOf(name)),
    list: async () => remember(await registry.list()),
    remove: (name, instanceId) => registry.remove(name, instanceId),
    async recordHealth(name, instanceId, health) {
      const recorded = await registry.recordHealth(name, instanceId, health);
      if (!recorded) return false;
      const id = key(name, instanceId);
      const before = statuses.get(id);
      statuses.set(id, health.status);
      if (before !== health.status && !(before === undefined && health.status === 'unknown')) {
        await serviceEvent('orchestrator.service.health_changed', name, instanceId, {
          ...(before === undefined ? {} : { previous_status: before }),
          status: health.status,
          ...(health.checked_at === undefined ? {} : { checked_at: health.checked_at }),
          ...(health.detail === undefined ? {} : { detail: health.detail }),
          consecutive_failures: health.consecutive_failures,
        });
      }
      return true;
    },
    async updateCircuit(name, instanceId, next, expectedRevision) {
      const moved = await registry.updateCircuit(name, instanceId, next, expectedRevision);
      if (!moved) return false;
      const id = key(name, instanceId);
      const before = circuits.get(id);
      circuits.set(id, next.state);
      // A failure counted in a closed circuit, or a half-open trial let through, is not a change worth an event.
      if (next.state === 'open' && before !== 'open') {
        await serviceEvent('orchestrator.service.circuit_opened', name, instanceId, { failures: next.failures.length, ...(next.opened_at === undefined ? {} : { opened_at: next.opened_at }) });
      }
      if (next.state === 'closed' && (before === 'open' || before === 'half_open')) await serviceEvent('orchestrator.service.circuit_closed', name, instanceId, {});
      return true;
    },
    replicate: (instance) => registry.replicate(instance),
    getApiSnapshot: (name) => registry.getApiSnapshot(name),
    saveApiSnapshot: (snapshot, expected) => registry.saveApiSnapshot(snapshot, expected),
  };
}
