/**
 * The service registry's model. A service (the `service` of a service_call) is a name with one or more
 * instances; each instance has its own URL, health and circuit. The runner picks among a service's
 * instances; the health sweep and the circuit breaker keep what it picks from.
 */

/** `unknown` until the first health check. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy' | 'unknown';
export type CheckedStatus = Exclude<HealthStatus, 'unknown'>;

/** One health check of one instance. */
export interface HealthCheck {
  readonly checked_at: string;
  readonly status: CheckedStatus;
  /** Null when no answer came (timeout, connection refused). */
  readonly latency_ms: number | null;
  readonly status_code?: number | null;
  /** Why it is not healthy: the status code, the timeout, the body's own status... */
  readonly detail?: string;
}

export interface InstanceHealth {
  readonly status: HealthStatus;
  readonly checked_at?: string;
  readonly latency_ms?: number | null;
  readonly detail?: string;
  /** The last checks, newest first (at most HEALTH_HISTORY_LENGTH). */
  readonly history: readonly HealthCheck[];
  /** Checks in a row that were not healthy. */
  readonly consecutive_failures: number;
}

export const HEALTH_HISTORY_LENGTH = 10;

export type CircuitStateName = 'closed' | 'open' | 'half_open';

/**
 * An instance's circuit breaker, shared by every Lambda through the registry table: every change is a write
 * conditional on `revision`, so two callers never both move it.
 */
export interface CircuitState {
  readonly state: CircuitStateName;
  /** Failures within the policy's window (ISO timestamps, oldest first). */
  readonly failures: readonly string[];
  readonly opened_at?: string;
  /** When the one trial call of a half-open circuit was let through. */
  readonly trial_started_at?: string;
  readonly revision: number;
}

export type ServiceAuthType = 'bearer' | 'api_key' | 'basic';

/**
 * How the orchestrator authenticates to an instance: a reference to a secret, never the secret itself
 * (`env:NAME`, `file:/path` locally; `secretsmanager:orchestrator/...`, `ssm:/orchestrator/...` in AWS; see
 * secret-ref.ts). The value is read when a call is made and sent only to the instance's own origin and base
 * path. Each orchestrator's own: not replicated to peers.
 */
export interface ServiceAuth {
  readonly type: ServiceAuthType;
  readonly secret_ref: string;
  /** The header an `api_key` goes in (default X-API-Key); bearer and basic use Authorization. */
  readonly header?: string;
}

/** One instance of a service, as stored. */
export interface ServiceInstance {
  readonly name: string;
  /** Given at registration, or derived from the URL, so that registering the same URL again replaces it. */
  readonly instance_id: string;
  /** Base URL, http(s); endpoints are appended to it. */
  readonly url: string;
  readonly health_path: string;
  readonly openapi_path?: string;
  readonly version?: string;
  readonly tags: readonly string[];
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Outbound credentials for calls to this instance (action runner, health probe). */
  readonly auth?: ServiceAuth;
  readonly registered_at: string;
  readonly updated_at: string;
  /** Registrations with a TTL disappear at this time unless renewed (registered again). */
  readonly ttl_seconds?: number;
  readonly expires_at?: string;
  readonly health: InstanceHealth;
  readonly circuit: CircuitState;
}

/** A service: its name, the instances still registered, and the status that sums them up. */
export interface ServiceView {
  readonly name: string;
  readonly status: HealthStatus;
  readonly instances: readonly ServiceInstance[];
}

export const INITIAL_HEALTH: InstanceHealth = { status: 'unknown', history: [], consecutive_failures: 0 };
export const CLOSED_CIRCUIT: CircuitState = { state: 'closed', failures: [], revision: 0 };

export function isExpired(instance: Pick<ServiceInstance, 'expires_at'>, now: string): boolean {
  return instance.expires_at !== undefined && instance.expires_at <= now;
}

/**
 * A service's status from its instances': healthy when every instance is, unhealthy when none can take a call
 * (every one unhealthy or its circuit open), unknown when none was checked yet, degraded otherwise.
 */
export function serviceStatus(instances: readonly ServiceInstance[]): HealthStatus {
  if (instances.length === 0) return 'unknown';
  const usable = instances.filter((instance) => instance.health.status !== 'unhealthy' && instance.circuit.state !== 'open');
  if (usable.length === 0) return 'unhealthy';
  if (instances.every((instance) => instance.health.status === 'unknown')) return 'unknown';
  if (usable.length === instances.length && instances.every((instance) => instance.health.status === 'healthy')) return 'healthy';
  return 'degraded';
}

/** Instances grouped into services, by name; instances by id. */
export function groupServices(instances: readonly ServiceInstance[]): ServiceView[] {
  const byName = new Map<string, ServiceInstance[]>();
  for (const instance of instances) {
    const group = byName.get(instance.name) ?? [];
    group.push(instance);
    byName.set(instance.name, group);
  }
  return [...byName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, group]) => {
      const sorted = group.sort((a, b) => (a.instance_id < b.instance_id ? -1 : a.instance_id > b.instance_id ? 1 : 0));
      return { name, status: serviceStatus(sorted), instances: sorted };
    });
}

/**
 * The id an instance gets when the registration names none: its URL's host and port (and a digest of its path
 * when it has one), so that registering the same URL again replaces the instance and another URL adds one.
 */
export function instanceIdFromUrl(url: string): string {
  const parsed = new URL(url);
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  const host = parsed.hostname.replace(/^\[|\]$/g, '').replace(/[^A-Za-z0-9.-]/g, '-');
  const path = parsed.pathname.replace(/\/+$/, '');
  return path === '' ? `${host}-${port}` : `${host}-${port}-${shortDigest(path)}`;
}

/** FNV-1a, 32 bits, hex: a stable short digest with no dependency (core imports no node modules). */
function shortDigest(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
