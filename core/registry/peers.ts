import * as z from 'zod';
import { ValidationError } from '../errors.ts';
import type { Clock, PeerClient, PeerHealth, ServiceRegistry } from '../ports.ts';
import { zodIssues } from '../workflow/validate.ts';
import { CLOSED_CIRCUIT, INITIAL_HEALTH, isExpired, type ServiceInstance } from './model.ts';
import { ServiceRegistrationInputSchema } from './registration.ts';
import { mapConcurrently } from './concurrency.ts';

/**
 * Peer orchestrators (ORCHESTRATOR_PEERS) share their registries, last writer wins:
 *
 * - an instance is identified by service name and instance id, and versioned by its `updated_at`, set by the
 *   orchestrator where it was registered and carried unchanged by every copy. A copy replaces the stored
 *   instance only when its `updated_at` is strictly later, so once two registries hold the same version,
 *   syncing again changes nothing, whichever way it goes;
 * - `POST /registry/sync-peers` pulls every peer's instances, then pushes the union to every peer
 *   (`POST /registry/replicate`). Replicating stores and never syncs onward: a sync is one round, never a loop;
 * - health and circuit state are each orchestrator's own observations of the instance: they are not
 *   replicated (a new copy starts unchecked and closed, an existing one keeps its own);
 * - deletions do not propagate: a deregistered instance that a peer still has comes back at the next sync.
 *   Deregister it on every orchestrator (or register it with a TTL: the expiry replicates with it).
 *
 * Timestamps are compared as text, which orders ISO-8601 instants only when they are written alike: copies
 * must carry `Date.toISOString()`'s form (milliseconds, `Z`), which every orchestrator writes.
 *
 * Because the latest `updated_at` wins, a copy must not be able to claim a version from the future: one stamped
 * `9999-...` would win every merge forever, and its registration could never be replaced or renewed. A copy
 * whose `updated_at` is later than the receiver's clock plus MAX_REPLICATION_CLOCK_SKEW_MS is rejected (counted
 * as `rejected`, with the reason), whether it is pulled or pushed. With `registered_at <= updated_at` and
 * `expires_at <= updated_at + ttl_seconds` (the schema's rules), neither of the other times can pin an entry
 * either: a forged copy wins for at most the skew, and expires at most MAX_TTL_SECONDS after that.
 */

/**
 * How far a copy's `updated_at` may be ahead of the receiving orchestrator's clock: 5 minutes. Clocks of hosts
 * synchronised by NTP differ by far less; a copy further ahead is refused, so a forged or badly clocked
 * version wins merges for at most this long after it was written.
 */
export const MAX_REPLICATION_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** `2026-11-25T10:00:00.000Z`: the one spelling of an instant that compares correctly as text. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const instant = (field: string) =>
  z
    .string({ error: `${field} must be a string` })
    .regex(INSTANT, `${field} must be an ISO-8601 UTC instant with milliseconds, like 2026-11-25T10:00:00.000Z`)
    .refine((value) => !Number.isNaN(Date.parse(value)), `${field} is not a valid date`);

const registration = ServiceRegistrationInputSchema.shape;

/**
 * One instance as peers exchange it: the registration, its id and its times. Health and circuit are accepted
 * and ignored (a listing carries them); other unknown fields are dropped, so peers of different versions
 * still understand each other. URLs follow the registration rules (no credentials, no forbidden addresses).
 */
export const ReplicatedInstanceSchema = z
  .object({
    name: registration.name,
    instance_id: registration.instance_id.unwrap().describe('Required: copies are matched by name and instance id'),
    url: registration.url,
    health_path: registration.health_path,
    openapi_path: registration.openapi_path,
    version: registration.version,
    tags: registration.tags,
    metadata: registration.metadata,
    ttl_seconds: registration.ttl_seconds,
    registered_at: instant('registered_at'),
    updated_at: instant('updated_at').describe('The version of the registration: the latest wins'),
    expires_at: instant('expires_at').optional(),
    health: z.unknown().optional().describe('Ignored: each orchestrator checks health itself'),
    circuit: z.unknown().optional().describe('Ignored: each orchestrator keeps its own circuits'),
  })
  .superRefine((instance, context) => {
    if (instance.updated_at < instance.registered_at) context.addIssue({ code: 'custom', path: ['updated_at'], message: 'updated_at must not be before registered_at' });
    if ((instance.ttl_seconds === undefined) !== (instance.expires_at === undefined)) {
      context.addIssue({ code: 'custom', path: ['expires_at'], message: 'ttl_seconds and expires_at go together' });
    } else if (instance.ttl_seconds !== undefined && instance.expires_at !== undefined && Date.parse(instance.expires_at) > Date.parse(instance.updated_at) + instance.ttl_seconds * 1000) {
      // Registration writes expires_at = updated_at + ttl_seconds: a later expiry would outlive the TTL policy.
      context.addIssue({ code: 'custom', path: ['expires_at'], message: 'expires_at must not be later than updated_at plus ttl_seconds' });
    }
  });
export type ReplicatedInstance = z.output<typeof ReplicatedInstanceSchema>;

/**
 * Why a copy that is well formed cannot be stored now: its `updated_at` is later than `now` plus
 * MAX_REPLICATION_CLOCK_SKEW_MS (see the rules above). Undefined when it may be stored.
 */
export function futureVersionProblem(copy: Pick<ReplicatedInstance, 'updated_at'>, now: string): string | undefined {
  if (Date.parse(copy.updated_at) <= Date.parse(now) + MAX_REPLICATION_CLOCK_SKEW_MS) return undefined;
  return `updated_at: ${copy.updated_at} is more than ${MAX_REPLICATION_CLOCK_SKEW_MS / 60_000} minutes ahead of this orchestrator's clock (${now}); a copy from the future would win every merge`;
}

/** The largest batch one replicate request carries; a sync splits larger registries. */
export const MAX_REPLICATED_INSTANCES = 200;
/** The most JSON one replicate request carries, well under the API's 1 MiB request limit. */
export const MAX_REPLICATE_BATCH_BYTES = 512 * 1024;

/** `POST /registry/replicate`: copies from a peer, at most MAX_REPLICATED_INSTANCES at a time. */
export const ReplicateRequestSchema = z.strictObject({
  instances: z
    .array(ReplicatedInstanceSchema, { error: 'instances must be an array of instances' })
    .max(MAX_REPLICATED_INSTANCES, `at most ${MAX_REPLICATED_INSTANCES} instances per request`),
});

/** The instance a copy becomes: its registration and times as received, this orchestrator's health and circuit to be kept by the store. */
export function toReplica(copy: ReplicatedInstance): ServiceInstance {
  // The URL's one spelling, as registration writes it, so that both sides store the same text.
  const url = new URL(copy.url).href.replace(/\/+$/, '');
  return {
    name: copy.name,
    instance_id: copy.instance_id,
    url,
    health_path: copy.health_path,
    ...(copy.openapi_path === undefined ? {} : { openapi_path: copy.openapi_path }),
    ...(copy.version === undefined ? {} : { version: copy.version }),
    tags: copy.tags,
    metadata: copy.metadata,
    registered_at: copy.registered_at,
    updated_at: copy.updated_at,
    ...(copy.ttl_seconds === undefined || copy.expires_at === undefined ? {} : { ttl_seconds: copy.ttl_seconds, expires_at: copy.expires_at }),
    health: INITIAL_HEALTH,
    circuit: CLOSED_CIRCUIT,
  };
}

/**
 * What peers send each other of an instance: everything but this orchestrator's health and circuit, and its
 * `auth` (a secret reference means something only where it was registered; a peer's copy never carries one, so
 * a copy that replaces a registration also drops its credential).
 */
export function toCopy(instance: ServiceInstance): Omit<ServiceInstance, 'health' | 'circuit' | 'auth'> {
  const { health: _health, circuit: _circuit, auth: _auth, ...copy } = instance;
  return copy;
}

/**
 * The merge rule: a copy wins over the stored instance when its `updated_at` is strictly later (last writer
 * wins; on a tie what is stored stays, so two equal versions never replace each other). The store applies the
 * same rule atomically (ServiceRegistry.replicate); this is its statement for everything else.
 */
export function copyWins(stored: Pick<ServiceInstance, 'updated_at'> | undefined, copy: Pick<ServiceInstance, 'updated_at'>): boolean {
  return stored === undefined || stored.updated_at < copy.updated_at;
}

export interface ReplicationCounts {
  /** Copies that replaced what was stored, or were new. */
  readonly applied: number;
  /** Copies no newer than what was stored (or already expired). */
  readonly stale: number;
}

/** What an orchestrator did with copies it received, pulled from a peer or pushed to it by one. */
export interface ReceivedCounts extends ReplicationCounts {
  /**
   * Copies not stored: entries of a peer's listing that are not valid instances, and copies whose `updated_at`
   * is too far in the future (MAX_REPLICATION_CLOCK_SKEW_MS). The first problems are in `problems`.
   */
  readonly rejected: number;
  readonly problems?: readonly string[];
}

/** What came from a peer's listing. */
export type PullCounts = ReceivedCounts;

/** At most this many problems are reported per pull or replicate request (the counts are exact). */
const MAX_REPORTED_PROBLEMS = 10;

export interface PeerStatus {
  readonly url: string;
  readonly reachable: boolean;
  /** Time to the answer (or to the failure). */
  readonly latency_ms: number;
  readonly status_code?: number;
  /** What the peer's /health says: its status and version. */
  readonly status?: string;
  readonly version?: string;
  readonly error?: string;
}

export interface PeerSyncResult {
  readonly url: string;
  /** `synced`: both directions worked; `failed`: at least one did not (see `error`). */
  readonly status: 'synced' | 'failed';
  /** What came from the peer (absent when its listing could not be read). */
  readonly pulled?: PullCounts;
  /** What the peer did with ours (absent when it could not be sent): `rejected` copies it refused to store. */
  readonly pushed?: ReplicationCounts & { readonly rejected: number };
  readonly error?: string;
}

export interface PeerService {
  /** The configured peers and whether each answers its /health. */
  peers(): Promise<PeerStatus[]>;
  /** Pulls every peer's instances, then pushes the union to each; a peer that fails is reported, not fatal. */
  sync(): Promise<PeerSyncResult[]>;
  /**
   * Stores copies a peer sent (`{ instances: [...] }`), last writer wins, without syncing onward. A malformed
   * request is a ValidationError listing every problem; well-formed copies from the future are counted as
   * `rejected` and not stored, the others are stored.
   */
  replicate(request: unknown): Promise<ReceivedCounts>;
}

export interface PeerServiceDeps {
  readonly registry: Pick<ServiceRegistry, 'list' | 'replicate'>;
  readonly client: PeerClient;
  /** Base URLs, already validated (parsePeerUrls). */
  readonly peerUrls: readonly string[];
  readonly clock: Clock;
}

/** Writes to the store at once per batch: enough to be quick, few enough not to throttle a table. */
const WRITE_CONCURRENCY = 8;

export function createPeerService({ registry, client, peerUrls, clock }: PeerServiceDeps): PeerService {
  /**
   * Stores copies (each with its position in what was received, for problems); copies from the future are
   * rejected, expired ones are stale whatever their version (they would vanish at once). `problems` are those
   * found before (invalid entries), reported with these in the order received.
   */
  const store = async (copies: readonly (readonly [number, ReplicatedInstance])[], problems: (readonly [number, string])[] = []): Promise<ReceivedCounts> => {
    const now = clock.now();
    const admitted: ReplicatedInstance[] = [];
    for (const [index, copy] of copies) {
      const problem = futureVersionProblem(copy, now);
      if (problem === undefined) admitted.push(copy);
      else problems.push([index, `${copy.name}/${copy.instance_id}: ${problem}`]);
    }
    const outcomes = await mapConcurrently(admitted, WRITE_CONCURRENCY, async (copy) => (isExpired(copy, now) ? 'stale' : registry.replicate(toReplica(copy))));
    const reported = problems
      .sort(([a], [b]) => a - b)
      .slice(0, MAX_REPORTED_PROBLEMS)
      .map(([index, problem]) => `instance ${index}: ${problem}`);
    return {
      applied: outcomes.filter((outcome) => outcome === 'applied').length,
      stale: outcomes.filter((outcome) => outcome === 'stale').length,
      rejected: problems.length,
      ...(reported.length === 0 ? {} : { problems: reported }),
    };
  };

  const pull = async (url: string): Promise<PullCounts> => {
    const listed = await client.instances(url);
    const copies: (readonly [number, ReplicatedInstance])[] = [];
    const problems: (readonly [number, string])[] = [];
    listed.forEach((entry, index) => {
      const parsed = ReplicatedInstanceSchema.safeParse(entry);
      if (parsed.success) copies.push([index, parsed.data]);
      else problems.push([index, zodIssues(parsed.error).map((issue) => `${issue.field}: ${issue.message}`).join('; ')]);
    });
    return store(copies, problems);
  };

  const push = async (url: string, copies: readonly unknown[]): Promise<ReplicationCounts & { rejected: number }> => {
    let applied = 0;
    let stale = 0;
    let rejected = 0;
    for (const batch of batches(copies)) {
      const counts = await client.replicate(url, batch);
      applied += counts.applied;
      stale += counts.stale;
      rejected += counts.rejected;
    }
    return { applied, stale, rejected };
  };

  return {
    async peers() {
      return Promise.all(
        peerUrls.map(async (url): Promise<PeerStatus> => {
          const started = Date.parse(clock.now());
          try {
            const health: PeerHealth = await client.health(url);
            const reachable = health.status_code >= 200 && health.status_code < 300;
            return {
              url,
              reachable,
              latency_ms: health.latency_ms,
              status_code: health.status_code,
              ...(health.status === undefined ? {} : { status: health.status }),
              ...(health.version === undefined ? {} : { version: health.version }),
              ...(reachable ? {} : { error: `GET /health answered ${health.status_code}` }),
            };
          } catch (error) {
            return { url, reachable: false, latency_ms: Math.max(0, Date.parse(clock.now()) - started), error: messageOf(error) };
          }
        }),
      );
    },

    async sync() {
      // Pull from everyone first, so that what is pushed next is the union: one sync from one orchestrator
      // brings every peer up to date with every other.
      const pulls = await Promise.allSettled(peerUrls.map((url) => pull(url)));
      const live = (await registry.list()).filter((instance) => !isExpired(instance, clock.now()));
      const copies = live.map(toCopy);
      const pushes = await Promise.allSettled(peerUrls.map((url) => push(url, copies)));
      return peerUrls.map((url, index): PeerSyncResult => {
        const pulled = pulls[index]!;
        const pushed = pushes[index]!;
        const errors = [
          ...(pulled.status === 'rejected' ? [`pull: ${messageOf(pulled.reason)}`] : []),
          ...(pushed.status === 'rejected' ? [`push: ${messageOf(pushed.reason)}`] : []),
        ];
        return {
          url,
          status: errors.length === 0 ? 'synced' : 'failed',
          ...(pulled.status === 'fulfilled' ? { pulled: pulled.value } : {}),
          ...(pushed.status === 'fulfilled' ? { pushed: pushed.value } : {}),
          ...(errors.length === 0 ? {} : { error: errors.join('; ') }),
        };
      });
    },

    async replicate(request) {
      // The HTTP edge parses with the same schema; parsing again keeps the rules for every other caller.
      const parsed = ReplicateRequestSchema.safeParse(request);
      if (!parsed.success) throw new ValidationError(zodIssues(parsed.error));
      return store(parsed.data.instances.map((copy, index) => [index, copy] as const));
    },
  };
}

/**
 * ORCHESTRATOR_PEERS: comma-separated base URLs of the other orchestrators, http(s), no credentials, query or
 * fragment; written in one spelling without a trailing slash, duplicates dropped. Peers are configured by
 * operators, so private addresses are allowed.
 */
export function parsePeerUrls(text: string | undefined): { urls: string[]; problems: string[] } {
  const urls: string[] = [];
  const problems: string[] = [];
  for (const entry of (text ?? '').split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    let parsed: URL;
    try {
      parsed = new URL(entry);
    } catch {
      problems.push(`${JSON.stringify(entry)} is not an absolute URL`);
      continue;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') problems.push(`${entry} must use http or https`);
    else if (parsed.username !== '' || parsed.password !== '') problems.push(`${entry} must not contain credentials`);
    else if (parsed.search !== '' || parsed.hash !== '') problems.push(`${entry} must not have a query string or fragment`);
    else {
      const url = parsed.href.replace(/\/+$/, '');
      if (!urls.includes(url)) urls.push(url);
    }
  }
  return { urls, problems };
}

/**
 * Copies in batches a replicate request accepts: at most MAX_REPLICATED_INSTANCES each, and at most
 * MAX_REPLICATE_BATCH_BYTES of JSON (request bodies are capped at 1 MiB; metadata may take 16 KiB a copy).
 */
function batches(copies: readonly unknown[]): unknown[][] {
  const result: unknown[][] = [];
  let current: unknown[] = [];
  let bytes = 0;
  for (const copy of copies) {
    const size = new TextEncoder().encode(JSON.stringify(copy)).length + 1;
    if (current.length > 0 && (current.length >= MAX_REPLICATED_INSTANCES || bytes + size > MAX_REPLICATE_BATCH_BYTES)) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(copy);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** ORCHESTRATOR_PEERS in a configuration schema: the validated URLs (none when unset), each bad entry named. */
export const PeerUrlsSetting = z
  .string()
  .optional()
  .transform((text, context) => {
    const { urls, problems } = parsePeerUrls(text);
    for (const problem of problems) context.addIssue({ code: 'custom', message: problem });
    return urls;
  });
