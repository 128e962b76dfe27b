import { NotFoundError } from '../errors.ts';
import type { ApiDocumentSource, Clock, EventPublisher, IdGenerator, ServiceRegistry } from '../ports.ts';
import { newEvent, PLATFORM_EVENT_TENANT } from '../events/envelope.ts';
import { diffApiSummaries, isEmptyDiff, summarizeApiDocument, type ApiDiff, type ApiSnapshot } from './drift.ts';
import { groupServices, isExpired, type ServiceInstance } from './model.ts';
import { mapConcurrently } from './concurrency.ts';

/**
 * OpenAPI polling: for each service whose instances publish an API document (`openapi_path`), read it from
 * one instance, summarize it (drift.ts), compare it with the last snapshot, store the new one, and publish
 * `orchestrator.service.api_drift` when operations were added, removed or changed.
 *
 * Each change is published once: the new snapshot is stored first, on the condition that the stored one is
 * still the one compared with (so of two concurrent polls one records the change), then the event is
 * published; when publishing fails the previous snapshot is put back, so the next poll finds the drift again.
 */

/** Operations listed per kind in an event (EventBridge entries are at most 256 KB); the counts are complete. */
export const MAX_EVENT_OPERATIONS = 100;
/** Services polled at once. */
const POLL_CONCURRENCY = 8;

export type PollStatus = 'first_snapshot' | 'unchanged' | 'drift' | 'skipped' | 'error';

export interface ServicePollResult {
  readonly name: string;
  readonly status: PollStatus;
  /** The instance whose document was read. */
  readonly instance_id?: string;
  readonly source_url?: string;
  readonly digest?: string;
  /** The stored snapshot's digest, when there was one. */
  readonly previous_digest?: string;
  readonly operations?: number;
  readonly counts?: { readonly added: number; readonly removed: number; readonly changed: number };
  readonly diff?: ApiDiff;
  /** `unchanged` with a new digest: the document changed outside its operations (info, servers, tags...). */
  readonly document_changed?: boolean;
  /** The drift event's id. */
  readonly event_id?: string;
  /** Why the service was skipped or failed. */
  readonly reason?: string;
}

export interface PollReport {
  readonly polled_at: string;
  readonly services: readonly ServicePollResult[];
  readonly counts: Readonly<Record<PollStatus, number>>;
}

export interface ApiDriftService {
  /** Polls one service (NotFoundError when it has no live instance) or every service. */
  poll(name?: string): Promise<PollReport>;
}

export interface ApiDriftDeps {
  readonly registry: Pick<ServiceRegistry, 'list' | 'instancesOf' | 'getApiSnapshot' | 'saveApiSnapshot'>;
  readonly documents: ApiDocumentSource;
  readonly events: EventPublisher;
  readonly clock: Clock;
  /** Event ids. */
  readonly ids: IdGenerator;
}

/** Instances worth asking first: healthy, then degraded, unchecked, unhealthy; an open circuit last. */
const HEALTH_PREFERENCE = { healthy: 0, degraded: 1, unknown: 2, unhealthy: 3 } as const;

export function createApiDriftService({ registry, documents, events, clock, ids }: ApiDriftDeps): ApiDriftService {
  const pollService = async (name: string, instances: readonly ServiceInstance[]): Promise<ServicePollResult> => {
    const candidates = instances
      .filter((instance) => instance.openapi_path !== undefined)
      .sort((a, b) => preference(a) - preference(b) || (a.instance_id < b.instance_id ? -1 : 1));
    const instance = candidates[0];
    if (instance === undefined) return { name, status: 'skipped', reason: 'no instance registers an openapi_path' };
    const sourceUrl = `${instance.url}${instance.openapi_path}`;
    const where = { instance_id: instance.instance_id, source_url: sourceUrl };
    try {
      let document: unknown;
      try {
        document = await documents.fetchDocument(sourceUrl);
      } catch (error) {
        return { name, status: 'error', ...where, reason: messageOf(error) };
      }
      const outcome = summarizeApiDocument(document);
      if (!outcome.ok) return { name, status: 'error', ...where, reason: outcome.reason };
      const summary = outcome.summary;
      const previous = await registry.getApiSnapshot(name);
      const snapshot: ApiSnapshot = { ...summary, name, ...where, captured_at: clock.now() };
      const found = { ...where, digest: summary.digest, operations: summary.operations.length };

      if (previous === undefined) {
        if (!(await registry.saveApiSnapshot(snapshot, undefined))) return { name, status: 'unchanged', ...found, reason: 'a concurrent poll stored the first snapshot' };
        return { name, status: 'first_snapshot', ...found };
      }
      if (previous.digest === summary.digest) return { name, status: 'unchanged', ...found, previous_digest: previous.digest };

      const diff = diffApiSummaries(previous, summary);
      const compared = { ...found, previous_digest: previous.digest };
      // The document changed: keep it (with its first-seen time) whether or not its operations did.
      if (!(await registry.saveApiSnapshot(snapshot, previous))) {
        return { name, status: 'unchanged', ...compared, reason: 'a concurrent poll recorded this document first' };
      }
      if (isEmptyDiff(diff)) return { name, status: 'unchanged', ...compared, document_changed: true };

      const counts = { added: diff.added.length, removed: diff.removed.length, changed: diff.changed.length };
      // Services are shared by every tenant: their events belong to the platform (admins read them).
      const event = newEvent({ type: 'orchestrator.service.api_drift', tenant: PLATFORM_EVENT_TENANT, subject: `services/${name}`, data: driftDetail(snapshot, previous, diff, counts) }, clock, ids);
      try {
        await events.publish(event);
      } catch (error) {
        // Put the previous snapshot back so that the next poll detects (and publishes) this drift again.
        await registry.saveApiSnapshot(previous, snapshot).catch(() => false);
        return { name, status: 'error', ...compared, counts, diff, reason: `drift detected but its event was not published: ${messageOf(error)}` };
      }
      return { name, status: 'drift', ...compared, counts, diff, event_id: event.event_id };
    } catch (error) {
      return { name, status: 'error', ...where, reason: messageOf(error) };
    }
  };

  return {
    async poll(name) {
      const now = clock.now();
      const live = (name === undefined ? await registry.list() : await registry.instancesOf(name)).filter((instance) => !isExpired(instance, now));
      if (name !== undefined && live.length === 0) throw new NotFoundError(`service '${name}' is not registered`);
      const services = groupServices(live);
      const results = await mapConcurrently(services, POLL_CONCURRENCY, (service) => pollService(service.name, service.instances));
      const counts: Record<PollStatus, number> = { first_snapshot: 0, unchanged: 0, drift: 0, skipped: 0, error: 0 };
      for (const result of results) counts[result.status]++;
      return { polled_at: now, services: results, counts };
    },
  };
}

function preference(instance: ServiceInstance): number {
  return HEALTH_PREFERENCE[instance.health.status] + (instance.circuit.state === 'open' ? 10 : 0);
}

/** The event's detail: which service, from which digest to which, and what changed (lists capped, counts whole). */
function driftDetail(snapshot: ApiSnapshot, previous: ApiSnapshot, diff: ApiDiff, counts: Record<'added' | 'removed' | 'changed', number>): Record<string, unknown> {
  const cap = <T>(items: readonly T[]) => items.slice(0, MAX_EVENT_OPERATIONS);
  const operation = (item: { method: string; path: string; operation_id?: string }) => ({ method: item.method, path: item.path, ...(item.operation_id === undefined ? {} : { operation_id: item.operation_id }) });
  return {
    service: snapshot.name,
    instance_id: snapshot.instance_id,
    source_url: snapshot.source_url,
    previous_digest: previous.digest,
    digest: snapshot.digest,
    previous_captured_at: previous.captured_at,
    detected_at: snapshot.captured_at,
    ...(snapshot.api_version === undefined ? {} : { api_version: snapshot.api_version }),
    ...(previous.api_version === undefined ? {} : { previous_api_version: previous.api_version }),
    counts,
    added: cap(diff.added).map(operation),
    removed: cap(diff.removed).map(operation),
    changed: cap(diff.changed).map(operation),
    truncated: counts.added > MAX_EVENT_OPERATIONS || counts.removed > MAX_EVENT_OPERATIONS || counts.changed > MAX_EVENT_OPERATIONS,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
