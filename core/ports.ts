import type { EventEnvelope } from './events/envelope.ts';
import type { Span } from './observability/spans.ts';
import type { FieldIssue } from './errors.ts';
import type { ApiKeyRecord } from './auth/api-keys.ts';
import type { AuthMethod } from './auth/model.ts';
import type { ActionProgress, Execution, ExecutionStatus, Redrive } from './execution/model.ts';
import type { CircuitState, InstanceHealth, ServiceInstance } from './registry/model.ts';
import type { ApiSnapshot } from './registry/drift.ts';
import type { ProbeResult } from './registry/health.ts';
import type { WorkflowStatus } from './workflow/definition.ts';
import type { ScheduleFiring, WorkflowSchedule } from './schedules/model.ts';
import type { GateRelease } from './execution/dependency-gates.ts';
import type { Workflow, WorkflowSummary, WorkflowVersion } from './workflow/model.ts';

/** The interfaces the domain needs from the world. Adapters implement them; tests run every adapter. */

export interface Clock {
  /** ISO-8601 UTC timestamp. */
  now(): string;
}

export interface IdGenerator {
  next(): string;
}

export interface WorkflowListQuery {
  /** Only this tenant's workflows; undefined: every tenant's (admins). */
  readonly tenant?: string;
  readonly status?: WorkflowStatus;
  readonly createdBy?: string;
  /** Workflows per page; absent, the page size of the cursor's listing, or DEFAULT_PAGE_SIZE. */
  readonly limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  readonly cursor?: string;
  /** Items to skip before the page starts, for page-number paging (cursor paging is cheaper). */
  readonly offset?: number;
}

export interface WorkflowPage {
  readonly items: readonly WorkflowSummary[];
  /** Every workflow matching the filter, across all pages: from maintained counts, never by reading them all. */
  readonly total: number;
  /** Workflows listed before this page (the cursor's position, or the offset asked for). */
  readonly offset: number;
  /** The page size the listing used. */
  readonly limit: number;
  readonly nextCursor?: string;
}

/**
 * Counts a store maintains as workflows are created, changed and deleted, so statistics and listing totals
 * cost a few reads whatever the number of workflows.
 */
export interface WorkflowCounts {
  readonly workflows: number;
  readonly actions: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly byCreator: Readonly<Record<string, number>>;
  readonly byActionType: Readonly<Record<string, { readonly actions: number; readonly workflows: number }>>;
}

/**
 * Stores workflows (current state) and their immutable versions. Every write is conditional: a stale
 * `expectedRevision` fails with ConflictError rather than overwriting a concurrent change.
 */
export interface WorkflowStore {
  /** Stores a new workflow and its first version. ConflictError if the id exists. */
  create(workflow: Workflow): Promise<void>;
  get(workflowId: string): Promise<Workflow | undefined>;
  /**
   * Replaces `previous` (as the caller read it) with `next` if nobody changed it since: ConflictError when
   * the stored revision is no longer `previous.revision`. When `next.version` is greater, `previous` stays
   * readable as an immutable version.
   */
  update(next: Workflow, previous: Workflow): Promise<void>;
  /** Deletes the workflow and its versions. Returns false when there was nothing to delete. */
  delete(workflowId: string, expectedRevision?: number): Promise<boolean>;
  /** A superseded version; the current one is the workflow itself. */
  getVersion(workflowId: string, version: number): Promise<WorkflowVersion | undefined>;
  /** Oldest first; undefined when the workflow does not exist. */
  listVersions(workflowId: string): Promise<WorkflowVersion[] | undefined>;
  /** Newest first (by creation time). */
  list(query: WorkflowListQuery): Promise<WorkflowPage>;
  /**
   * The workflows (of one tenant, or of every tenant) having an indexed word (core/workflow/search.ts) that
   * starts with `word`, each once: what search reads instead of every workflow.
   */
  searchCandidates(word: string, tenant?: string): AsyncIterable<WorkflowSummary>;
  /** The maintained counts of one tenant's workflows, or of every tenant's. */
  counts(tenant?: string): Promise<WorkflowCounts>;
  /** Cheap reachability probe for health checks; throws when the store cannot be reached. */
  ping(): Promise<void>;
}

/**
 * Checks that a workflow can become a state machine within the platform's limits (definition size, express
 * duration...). The compiler implements it; the domain only needs the verdict.
 */
export interface WorkflowCompilerCheck {
  check(workflow: Workflow): { errors: readonly FieldIssue[]; warnings: readonly string[] };
}

/**
 * Where services are found: instances by service name, each with its health and circuit state. One item
 * collection per service, so everything the runner needs about a service is one read.
 */
export interface ServiceRegistry {
  /**
   * Stores `instance` (keyed by name and instance id), replacing a registration of the same instance in one
   * atomic write. A replacement keeps the first `registered_at`, the health and the circuit state. Returns
   * what is stored and whether the instance was new.
   */
  register(instance: ServiceInstance): Promise<{ instance: ServiceInstance; created: boolean }>;
  /** Every stored instance of `name` (expired ones included: callers compare with their clock). Consistent read. */
  instancesOf(name: string): Promise<ServiceInstance[]>;
  /** Every stored instance of every service, by name then instance id. */
  list(): Promise<ServiceInstance[]>;
  /** Removes one instance, or every instance of the service; returns how many were removed. */
  remove(name: string, instanceId?: string): Promise<number>;
  /** Records the result of health checks; false (nothing written) when the instance is gone. */
  recordHealth(name: string, instanceId: string, health: InstanceHealth): Promise<boolean>;
  /**
   * Moves an instance's circuit to `next` if its stored revision is still `expectedRevision` (next.revision
   * must be expectedRevision + 1); false when another caller moved it first or the instance is gone.
   */
  updateCircuit(name: string, instanceId: string, next: CircuitState, expectedRevision: number): Promise<boolean>;
  /**
   * Stores an instance received from a peer orchestrator, last writer wins: applied only when no stored
   * instance has an `updated_at` as recent (one conditional write). The incoming `registered_at`, `updated_at`
   * and expiry are kept as they are, so a value synced back never looks newer than itself; the stored health
   * and circuit (this orchestrator's own observations) are kept too, or start unchecked and closed.
   */
  replicate(instance: ServiceInstance): Promise<'applied' | 'stale'>;
  /** The last OpenAPI snapshot of a service; it is not an instance (listings and instancesOf never show it). */
  getApiSnapshot(name: string): Promise<ApiSnapshot | undefined>;
  /**
   * Stores `snapshot` if the stored one is still `expected` (same capture time and digest; none when
   * undefined): false when a concurrent poll stored another first.
   */
  saveApiSnapshot(snapshot: ApiSnapshot, expected: ApiSnapshot | undefined): Promise<boolean>;
}

/**
 * Publishes domain events (core/events/envelope.ts) on the workflow event bus: EventBridge in AWS (the
 * envelope is the `detail`, its type the detail type), the in-process bus locally.
 */
export interface EventPublisher {
  /** Resolves once the bus has accepted the event; rejects when it did not. */
  publish(event: EventEnvelope): Promise<void>;
}

/** Reads a service's API document. */
export interface ApiDocumentSource {
  /** The parsed JSON at `url`; rejects with a message saying why not (refused address, timeout, status, size, not JSON). */
  fetchDocument(url: string): Promise<unknown>;
}

/** What a peer orchestrator reports about itself. */
export interface PeerHealth {
  readonly status_code: number;
  readonly latency_ms: number;
  readonly status?: string;
  readonly version?: string;
}

/** Talks to other orchestrators (ORCHESTRATOR_PEERS) over their HTTP API. Every call has a timeout. */
export interface PeerClient {
  /** GET <peer>/health; rejects when there is no answer. */
  health(peerUrl: string): Promise<PeerHealth>;
  /** GET <peer>/registry: every instance it lists, as received (the caller validates them). */
  instances(peerUrl: string): Promise<unknown[]>;
  /** POST <peer>/registry/replicate: what the peer applied and found stale. */
  /** POST <peer>/registry/replicate: what the peer applied, found stale, and rejected (copies dated too far ahead of its clock). */
  replicate(peerUrl: string, instances: readonly unknown[]): Promise<{ applied: number; stale: number; rejected: number }>;
}

/** How an attempt at an action ended. A failed attempt may be retried: its status stays `running` until the run settles it. */
export type AttemptOutcome =
  | { readonly status: 'completed'; readonly ended_at: string; readonly output: NonNullable<ActionProgress['output']> }
  | { readonly status: 'running' | 'failed'; readonly ended_at: string; readonly error: NonNullable<ActionProgress['error']> };

export interface ExecutionListQuery {
  readonly workflowId?: string;
  /** Only this tenant's runs (ignored with workflowId: a workflow has one tenant); undefined: every tenant's. */
  readonly tenant?: string;
  readonly status?: ExecutionStatus;
  /** ISO timestamp: only executions created at or after it. */
  readonly since?: string;
  readonly limit: number;
  readonly cursor?: string;
}

/**
 * Stores executions. Progress updates are per action and atomic on the stored item (concurrent actions of
 * one run update it at the same time); status changes are conditional on the statuses they may come from.
 */
export interface ExecutionStore {
  /** Stores a new execution; returns the existing one instead when `execution_id` is taken (idempotency). */
  create(execution: Execution): Promise<{ execution: Execution; created: boolean }>;
  get(executionId: string): Promise<Execution | undefined>;
  /** Records one action's progress (replaces that action's entry). */
  updateAction(executionId: string, progress: ActionProgress): Promise<void>;
  /**
   * One attempt at an action begins (the action runner reports it in AWS): status `running`, `attempts` + 1,
   * `started_at` kept from the first attempt, an earlier attempt's error cleared. One atomic update of that
   * action alone, so concurrent attempts of other actions never clobber it. Changes nothing once the
   * execution is finished: a late report must not reopen an action the final reconciliation settled.
   */
  startAttempt(executionId: string, actionId: string, at: string): Promise<void>;
  /**
   * An attempt ended: sets that action's `status`, `ended_at` and output or error, keeping `attempts` and
   * `started_at`. Same atomicity and finished-execution rule as startAttempt.
   */
  finishAttempt(executionId: string, actionId: string, outcome: AttemptOutcome): Promise<void>;
  /**
   * Moves the execution to `status` with the given fields if its current status is one of `from`;
   * returns false (and changes nothing) otherwise.
   */
  transition(executionId: string, from: readonly ExecutionStatus[], status: ExecutionStatus, fields?: Partial<Pick<Execution, 'started_at' | 'ended_at' | 'output' | 'error'>>): Promise<boolean>;
  /** Newest first. */
  list(query: ExecutionListQuery): Promise<{ items: Execution[]; nextCursor?: string }>;
  /** Executions in `running` or `pending`, for recovery after a restart. */
  unfinished(): AsyncIterable<Execution>;
  /**
   * Reopens a finished run for a retry, if it is still in the status `execution` shows: status `running`,
   * `redrive_count` + 1 and `redrive` appended, `actions` as given, its end (ended_at, error, output) cleared,
   * listed as unfinished again. Returns false, changing nothing, when its status moved meanwhile.
   */
  reopen(execution: Execution, redrive: Redrive, actions: readonly ActionProgress[]): Promise<boolean>;
  /**
   * The local runtime's replay log: what one task of a run returned (key: its state name, plus `#<index>`
   * inside a foreach), kept so that a resumed, retried or rerun run reuses it instead of calling again.
   */
  saveCheckpoint(executionId: string, key: string, result: unknown): Promise<void>;
  /** Every checkpoint of a run, by key. */
  checkpoints(executionId: string): Promise<Map<string, unknown>>;
}

/** One history event, normalised from the API's or the log's shape. JSON texts stay text until read. */
export interface ExecutionHistoryEvent {
  readonly id: number;
  readonly previousEventId?: number;
  /** Step Functions' event type: `TaskStateEntered`, `TaskScheduled`, `TaskSucceeded`, `WaitStateExited`... */
  readonly type: string;
  /** ISO-8601. */
  readonly timestamp: string;
  /** The state's name, on `...StateEntered` and `...StateExited` events. */
  readonly name?: string;
  /** JSON text: a task's parameters (`TaskScheduled`). */
  readonly parameters?: string;
  /** JSON text: a task's result (`TaskSucceeded`) or a state's output (`...StateExited`), when the history includes data. */
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

/**
 * The event history of a run: Step Functions' GetExecutionHistory for a standard workflow, the state
 * machine's CloudWatch log for an express one (which keeps no history). Oldest first.
 */
export interface ExecutionHistory {
  events(executionArn: string): Promise<ExecutionHistoryEvent[]>;
}

/** Runs compiled workflows: Step Functions in AWS, the ASL interpreter locally. */
export interface WorkflowEngine {
  /** Starts the run of `execution` (already stored as pending) on `workflow`'s version. Repeated starts of one id are harmless. */
  start(execution: Execution, workflow: Workflow): Promise<void>;
  /** Stops a run; harmless when it already ended. */
  stop(executionId: string, reason: string): Promise<void>;
  /**
   * Runs `execution` again, reusing what completed: a retry (`reuse.from` is the run itself, reopened by the
   * store) resumes it where it stopped; a rerun (a new run, `reuse.from` the original) reuses the original's
   * results for `reuse.actions` and runs everything else. Throws ConflictError when the runtime cannot (a
   * Step Functions execution past its redrive window, for example), naming why.
   */
  resume(execution: Execution, workflow: Workflow, reuse: ReuseRequest): Promise<void>;
  /** Throws ConflictError, naming the limit, when a retry of this finished run cannot run here; checked before the run is reopened. */
  assertRetryable(execution: Execution): Promise<void>;
  /** Pausing: actions in flight finish, no new one starts until release. Both idempotent. */
  hold(execution: Execution): Promise<void>;
  release(execution: Execution): Promise<void>;
}

/** What a retried or rerun run reuses (WorkflowEngine.resume). */
export interface ReuseRequest {
  /** The run whose recorded results are reused: the run itself for a retry, the original for a rerun. */
  readonly from: string;
  /** Actions whose results are reused (completed there, and not downstream of a rerun's from_action). */
  readonly actions: ReadonlySet<string>;
  /** Reuse the completed items of a foreach that did not complete (a retry), as Step Functions' redrive does. */
  readonly partialForeach: boolean;
}

/** Calls an instance's health URL (an HTTP GET within the outbound policy); never throws: no answer is a result. */
export interface HealthProbe {
  /**
   * `instance`: whose health URL it is; with `auth`, the probe sends the instance's credential (to its own
   * origin and base path only).
   */
  probe(url: string, timeoutMs: number, instance?: Pick<ServiceInstance, 'url' | 'auth'>): Promise<ProbeResult>;
}

/**
 * Reads secrets by reference (core/registry/secret-ref.ts): `env:` and `file:` locally, `secretsmanager:` and
 * `ssm:` in AWS. Rejects with SecretUnavailableError (its `retryable` says whether trying again may help) when
 * the secret cannot be read or its form is not served here. Neither the value nor any part of it ever appears
 * in an error.
 */
export interface SecretResolver {
  resolve(ref: string): Promise<string>;
}

/** A credential the outbound adapter attaches to the requests within its scope, and to no other. */
export interface OutboundCredential {
  /** `authorization`, `x-api-key`... */
  readonly header: string;
  readonly value: string;
  /**
   * The service instance's base URL: the credential goes to URLs of its origin whose path is its path or
   * under it, never on a redirect elsewhere (another origin, or the same origin outside the base path).
   */
  readonly scope: string;
}

export type OutboundMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface OutboundRequest {
  readonly method: OutboundMethod;
  /** http or https. */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** The caller's deadline or cancellation; it covers resolution, connection, redirects and the body. */
  readonly signal?: AbortSignal;
  /** Redirects followed (each hop checked like the first URL). Default 0: a 3xx is the response. */
  readonly maxRedirects?: number;
  /** Request headers (lower case) kept when a redirect leaves the origin; the others were meant for it only. Default none. */
  readonly crossOriginHeaders?: readonly string[];
  readonly credential?: OutboundCredential;
  /** The body is read up to this many bytes; a larger one is reported as `too_large`, with a preview. */
  readonly maxBodyBytes: number;
  /** How much of a body over the limit the preview keeps. Default 0. */
  readonly previewBytes?: number;
}

/** A response body read within its limit. */
export type OutboundBody =
  | { readonly kind: 'complete'; readonly text: string }
  | {
      readonly kind: 'too_large';
      /** Declared, or counted (a lower bound when `size_is_lower_bound`: counting stopped). */
      readonly size_bytes: number;
      readonly size_is_lower_bound: boolean;
      /** The first `previewBytes` bytes as text (a character split at the end is dropped). */
      readonly preview: string;
    };

export interface OutboundResponse {
  readonly status: number;
  readonly statusText: string;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The URL that answered (after redirects), and the method it was asked with (a 303 turns a POST into a GET). */
  readonly url: string;
  readonly method: OutboundMethod;
  readonly body: OutboundBody;
}

/**
 * Why an outbound request failed: `refused` by the outbound policy (a forbidden address at connection time, a
 * scheme, a port); `redirect` (too many, or an unusable Location); `dns`; `connection` (refused, reset...);
 * `timeout` (the client's own header or body timeouts); `aborted` (the caller's signal).
 */
export type OutboundFailureKind = 'refused' | 'redirect' | 'dns' | 'connection' | 'timeout' | 'aborted';

/**
 * Outbound HTTP (adapters/http): every connection is to an address checked against the outbound policy when
 * the socket connects (the orchestrator's own listeners and cloud metadata never), redirects are followed
 * by hand and each hop is checked, bodies are read within a limit. Rejects with an error named
 * `OutboundHttpError` carrying `kind: OutboundFailureKind`, the URL of the hop that failed and, for redirects,
 * the status.
 */
export interface OutboundHttp {
  send(request: OutboundRequest): Promise<OutboundResponse>;
}

/** What probing one of the orchestrator's own dependencies gave. */
export interface DependencyCheck {
  readonly reachable: boolean;
  readonly latency_ms: number;
  readonly error?: string;
}

/**
 * One of the orchestrator's own dependencies (a table, the dead-letter queue, the event bus), probed with
 * one cheap call. `check` never throws: an unreachable dependency is a result.
 */
export interface DependencyProbe {
  /** `workflows_table`, `dead_letter_queue`, `event_bus`... */
  readonly name: string;
  readonly kind: 'table' | 'queue' | 'event_bus' | 'engine';
  check(timeoutMs: number): Promise<DependencyCheck>;
}

/** One audited request: who, how authenticated, what route and ids, and how it ended. Never a credential. */
export interface AuditRecord {
  readonly audit_id: string;
  /** ISO-8601, when the request arrived. */
  readonly time: string;
  readonly actor: string;
  readonly method: AuthMethod;
  readonly roles: readonly string[];
  readonly tenant: string;
  /** The route's name (`createWorkflow`), or `authenticate` / `rateLimit` for refusals before routing. */
  readonly action: string;
  /** `POST /workflows/{workflow_id}/execute`. */
  readonly route: string;
  /** Ids the request named or created: workflow, execution, service, key. */
  readonly targets: readonly string[];
  /** The response status; null until a state-changing request has finished. */
  readonly outcome: number | null;
  readonly request_id: string;
  readonly source_ip: string;
  readonly user_agent?: string;
  /** Why the request was refused (401, 403, 429). */
  readonly reason?: string;
}

export interface AuditQuery {
  readonly actor?: string;
  readonly action?: string;
  readonly target?: string;
  readonly tenant?: string;
  /** ISO-8601 bounds, inclusive. */
  readonly since?: string;
  readonly until?: string;
  readonly limit: number;
  readonly cursor?: string;
}

/**
 * The append-only audit trail. A record is written once and may only be given its outcome afterwards: there
 * is no delete and no other update (retention is the store's TTL).
 */
export interface AuditTrail {
  /** Stores a new record; rejects (DependencyUnavailableError) when it could not be stored. */
  append(record: AuditRecord): Promise<void>;
  /** Sets the outcome of a record still without one, adding `targets` (ids the request created). */
  settle(auditId: string, outcome: number, targets?: readonly string[]): Promise<void>;
  /** Newest first, by the most selective filter given; the others filter the page. */
  list(query: AuditQuery): Promise<{ items: AuditRecord[]; nextCursor?: string }>;
}

/** Managed API keys, by id. Only hashes of secrets are stored. */
export interface ApiKeyStore {
  /** ConflictError when the id is taken. */
  create(record: ApiKeyRecord): Promise<void>;
  get(keyId: string): Promise<ApiKeyRecord | undefined>;
  /** Every key, newest first. */
  list(): Promise<ApiKeyRecord[]>;
  /** False when there was no such key. */
  remove(keyId: string): Promise<boolean>;
  /** Records a use (best effort; callers throttle it). */
  touch(keyId: string, at: string): Promise<void>;
}

/** Which spans a span store query reads: one tenant's (its members) or every tenant's (admins, undefined). */
export interface SpanScope {
  readonly tenant?: string;
}

export interface SpanPage {
  /** Newest first. */
  readonly items: readonly Span[];
  readonly nextCursor?: string;
}

/** What a window of spans read for statistics holds, and whether the store stopped before its start. */
export interface SpanWindow {
  readonly spans: readonly Span[];
  /** True when more spans than `limit` fell in the window: the statistics cover the newest `limit` of them. */
  readonly truncated: boolean;
}

/**
 * Where spans are kept (DynamoDB with a TTL, in AWS and locally) for `/infrastructure/tracing/*`. Writes are
 * batched by the recorder; reads never Scan: a trace is one item collection, a service's calls and the
 * statistics window are read from indexes by time.
 */
export interface SpanStore {
  /** Stores spans (any number; the adapter splits them into batches). A span stored twice is kept once. */
  record(spans: readonly Span[]): Promise<void>;
  /** Every span of a trace, oldest first (at most `limit`, default 1,000). */
  trace(traceId: string, scope: SpanScope, limit?: number): Promise<Span[]>;
  /** Calls to one service (category `service_call` and `proxy`), newest first, from `since`. */
  serviceCalls(service: string, query: SpanScope & { readonly since?: string; readonly limit: number; readonly cursor?: string }): Promise<SpanPage>;
  /** Service calls and runs that ended at or after `since`, newest first, at most `limit`. */
  window(query: SpanScope & { readonly since: string; readonly limit: number }): Promise<SpanWindow>;
}

/** How severe a log entry is; the logger drops entries below its level (`LOG_LEVEL`). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * One structured log entry: a message and any fields (ids, counts, an error's name). Without `level` it is
 * `info`. Some entries name what happened with `kind` instead of a message; `kind` stays a field. The logger
 * adds the time, the service and the current request, execution, action and trace ids, and redacts secrets.
 */
export interface LogEntry {
  readonly level?: LogLevel;
  readonly message?: string;
  readonly [field: string]: unknown;
}

/**
 * Writes one structured log entry (functions/observability/logger.ts in every composition root). Never throws
 * and never waits: shipping logs elsewhere happens in the background.
 */
export type Log = (entry: LogEntry) => void;

/**
 * Stores workflow schedules (core/schedules). One item per schedule in its workflow's collection; every change
 * of a definition is conditional on the revision the caller read, firings are recorded apart (they never
 * conflict with an edit).
 */
export interface ScheduleStore {
  /** Stores a new schedule. ConflictError when the id is taken. */
  create(schedule: WorkflowSchedule): Promise<void>;
  get(workflowId: string, scheduleId: string): Promise<WorkflowSchedule | undefined>;
  /** A workflow's schedules, oldest first (at most MAX_SCHEDULES_PER_WORKFLOW exist). */
  listByWorkflow(workflowId: string): Promise<WorkflowSchedule[]>;
  /** Every schedule of every workflow, for the local scheduler's start (and a reconciler): paged by the adapter. */
  all(): AsyncIterable<WorkflowSchedule>;
  /** Replaces the schedule if its stored revision is still `expectedRevision`; ConflictError otherwise, NotFoundError when gone. */
  replace(next: WorkflowSchedule, expectedRevision: number): Promise<void>;
  /** Records a firing (only the `last_firing` field); false when the schedule no longer exists. */
  recordFiring(workflowId: string, scheduleId: string, firing: ScheduleFiring): Promise<boolean>;
  /** Deletes it; false when there was nothing to delete. */
  delete(workflowId: string, scheduleId: string): Promise<boolean>;
}

/**
 * What makes a schedule fire at its times: an EventBridge Scheduler schedule in AWS (whose target calls the
 * scheduled-run worker), timers in the local scheduler. Called after the store changed; `put` is idempotent
 * (create or update), `remove` of an unknown schedule is not an error.
 */
export interface ScheduleTimer {
  put(schedule: WorkflowSchedule): Promise<void>;
  remove(schedule: Pick<WorkflowSchedule, 'workflow_id' | 'schedule_id'>): Promise<void>;
}

/**
 * Dependency gates of runs (core/execution/dependency-gates.ts, ADR 0010): one per waiting action of a run.
 * Both calls are idempotent (a redelivered report changes nothing) and whatever their order and concurrency,
 * exactly one call returns the release; its caller answers the waiter's token with it. `expected` is the
 * gate's producers, the same list in every call (the compiler writes it into each state of the gate); a
 * different list, or a producer not in it, is refused with an Error naming both.
 */
export interface DependencyGates {
  /** Producer `producer` of the gate of `waiter` finished with `output`. */
  arrive(executionId: string, waiter: string, expected: readonly string[], producer: string, output: unknown): Promise<GateRelease | undefined>;
  /**
   * The waiter waits with `token`. A gated call (the waiter is a service call that waits in its own state)
   * gives the `call` to make once released, which comes back with the release.
   */
  wait(executionId: string, waiter: string, expected: readonly string[], token: string, call?: unknown): Promise<GateRelease | undefined>;
  /**
   * Removes every gate of a run (at its end: gates must not outlive their run). Idempotent; a later report
   * to a forgotten gate starts a new one.
   */
  forget(executionId: string): Promise<void>;
  /**
   * A release that could not be sent (its token was claimed, then SendTaskSuccess failed): the gate may be
   * released to `token` again, so the report's redelivery sends it. Nothing happens unless the gate was
   * released to that token.
   */
  reopen(executionId: string, waiter: string, token: string): Promise<void>;
}

/**
 * Answers a released gate's waiter: its task token goes back with the producers' outputs as the waiting
 * state's result (Step Functions' SendTaskSuccess in AWS, the waiting promise locally). A token whose run is
 * over (stopped, timed out, already answered) is not an error: a release may be delivered twice.
 */
export interface GateReleases {
  release(release: GateRelease): Promise<void>;
}

/**
 * Answers a gated call's task token with the call's outcome (ADR 0016): its result as the state's output, or
 * its error's name and cause for the state's Retry and Catch (SendTaskSuccess and SendTaskFailure in AWS). A
 * token whose run is over is not an error.
 */
export interface TaskAnswers {
  succeed(token: string, output: unknown): Promise<void>;
  fail(token: string, error: string, cause: string): Promise<void>;
}

/**
 * Has a released gated call made apart from whoever released it (an asynchronous invocation of the action
 * runner in AWS), so that a producer's report does not wait for its waiter's call. Resolves once the call is
 * handed over, not made.
 */
export interface GatedCallDispatch {
  /** `call` is the gated call's payload as its state sent it; `outputs` what its deferred values are rendered from. */
  dispatch(token: string, call: unknown, outputs: Readonly<Record<string, unknown>>): Promise<void>;
}
