import type { z } from 'zod';
import * as api from './http/workflow-schemas.ts';
import * as runs from './http/execution-schemas.ts';
import * as sagas from './http/saga-schemas.ts';
import * as registry from './http/registry-schemas.ts';
import * as peers from './http/peer-schemas.ts';
import * as drift from './http/api-drift-schemas.ts';
import * as health from './http/health-schemas.ts';
import * as security from './http/auth-schemas.ts';
import type { RouteAccess } from '../core/auth/model.ts';
import { eventRoutes } from './routes-events.ts';
import { subscriptionRoutes } from './routes-subscriptions.ts';
import { deadLetterRoutes } from './routes-dead-letters.ts';
import { observabilityRoutes } from './routes-observability.ts';
import { ecosystemRoutes } from './routes-ecosystem.ts';
import { aiRoutes } from './routes-ai.ts';

/**
 * THE route table. API Gateway (infra/), the local server (local/) and the OpenAPI document all read it.
 * It is plain data: it imports schemas only, never handler code, so infra can read it without bundling
 * the Lambdas. Each key is the Lambda's entry name: `functions/entries/<kebab-case key>.ts`.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Bounded contexts. Each one becomes its own nested stack in the API, so adding executions, registry and
 * infrastructure routes (43 endpoints in the reference) never pushes one stack past 500 resources.
 */
export type BoundedContext = 'platform' | 'workflows' | 'executions' | 'registry' | 'security' | 'events' | 'observability' | 'ecosystem' | 'schedules';

/** Least privilege: what a route's Lambda may do to each table. */
export type TableAccess = 'read' | 'write';

export interface RouteSpec {
  readonly method: HttpMethod;
  /** API Gateway syntax: `/workflows/{workflow_id}`. */
  readonly path: string;
  /**
   * Who may call the route: `public` (no credential even when one is required), `authenticated` (any caller
   * the auth mode lets in), the least role (`viewer` < `operator` < `admin`), or `peer` (another
   * orchestrator, or an admin). API Gateway's authorizer, the local server, the OpenAPI document's
   * `security` and the role-matrix test all read it.
   */
  readonly auth: RouteAccess;
  /** The success body is `response` itself, not wrapped in the envelope (documents tools read as they are). */
  readonly rawResponse?: true;
  /** The raw success body's media type, when it is not JSON (`text/event-stream`: `response` is its text). */
  readonly mediaType?: 'text/event-stream' | 'text/plain; version=0.0.4; charset=utf-8';
  /** Peer orchestrators (the `peer` grant) may call it too, whatever `auth` says: what a registry sync reads. */
  readonly peerAccess?: true;
  readonly context: BoundedContext;
  readonly summary: string;
  readonly tag: string;
  readonly successStatus: number;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** The `data` of a successful envelope. */
  readonly response: z.ZodType;
  /**
   * Besides these, every route may append to the audit trail (its refusals, and for state-changing methods
   * the request itself): infra grants that to all of them, so it is not declared per route.
   */
  readonly tables: {
    readonly workflows?: TableAccess;
    readonly executions?: TableAccess;
    readonly registry?: TableAccess;
    readonly apiKeys?: TableAccess;
    readonly audit?: TableAccess;
    /** The event history (recorded domain events) and replays' records. */
    readonly events?: TableAccess;
    /** Webhook subscriptions to the event bus. */
    readonly subscriptions?: TableAccess;
    /** Recorded spans (`/infrastructure/tracing/*`). */
    readonly spans?: TableAccess;
  };
  /**
   * The route starts or stops workflow runs (Step Functions rights in AWS); `releases parked calls` also lets
   * go the calls parked while a run was paused (SendTaskSuccess, the resume route only).
   */
  readonly engine?: boolean | 'releases parked calls';
  /**
   * The route probes the orchestrator's own dependencies besides its tables: it gets the dead-letter queue's
   * URL and the event bus's name, and may call sqs:GetQueueAttributes and events:DescribeEventBus on them.
   */
  readonly probes?: boolean;
  /** `publish`: the route publishes events on the workflow event bus (its name, and events:PutEvents on it only). */
  readonly bus?: 'publish';
  /** The route calls the peer orchestrators (it gets ORCHESTRATOR_PEERS, and ORCHESTRATOR_OUTBOUND_ALLOW when set). */
  readonly peers?: boolean;
  /**
   * The route calls registered services over HTTP (health probes, OpenAPI documents): it gets
   * ORCHESTRATOR_OUTBOUND_ALLOW when set; `credentials` also lets it read services' credentials (secrets and
   * SSM parameters under orchestrator/), which it sends to their own instances only.
   */
  readonly outbound?: 'calls' | 'credentials';
  /**
   * The route reads the dead-letter queues (`inspect`: attributes, and messages received and made visible
   * again at once) or also takes messages out of them to retry them (`redrive`: deletes and re-sends).
   */
  readonly deadLetters?: 'inspect' | 'redrive';
  /**
   * Webhook deliveries: `rules` makes and removes the subscriptions' EventBridge rules (their bus, target queue
   * and name prefix); `enqueue` puts deliveries on the delivery queue (a replay).
   */
  readonly deliveries?: 'rules' | 'enqueue';
  /**
   * The route forwards requests to ecosystem services through the action runner's rules (the proxies): it gets
   * the services' `<NAME>_URL` variables, ORCHESTRATOR_PROXY_TIMEOUT_SECONDS and ORCHESTRATOR_OUTBOUND_ALLOW,
   * reads the registry and moves circuits (UpdateItem), and reads the services' credentials.
   */
  readonly ecosystem?: true;
  /**
   * `manage`: the route creates, changes or deletes workflow schedules' timers (EventBridge Scheduler schedules
   * in the schedule group, and passing the scheduler's role to them).
   */
  readonly schedules?: 'manage';
  /** The route reports the jobs' schedules: it gets their ORCHESTRATOR_JOB_*_SCHEDULE values. */
  readonly jobs?: true;
  /**
   * `invoke`: the route asks a language model. In AWS it may call bedrock:InvokeModel on the model the
   * deployment names (`-c plannerModel`, as ORCHESTRATOR_PLANNER_MODEL, with ORCHESTRATOR_PLANNER_MAX_ROUNDS),
   * and its function waits longer for the answers; locally the model is LLM_GATEWAY_URL's. Both are optional:
   * without a model the route answers 503 naming the variable to set.
   */
  readonly model?: 'invoke';
}

export const routes = {
  health: {
    method: 'GET',
    path: '/health',
    auth: 'public',
    context: 'platform',
    summary: 'Liveness: the API answers',
    tag: 'platform',
    successStatus: 200,
    response: api.HealthResponse,
    tables: {},
  },
  systemHealth: {
    method: 'GET',
    path: '/health/system',
    auth: 'viewer',
    context: 'platform',
    summary: "The orchestrator's own dependencies (tables, dead-letter queue, event bus: 503 when one is down) and every registered service's last recorded health, with an overall status",
    tag: 'platform',
    successStatus: 200,
    response: health.SystemHealthResponse,
    tables: { workflows: 'read', executions: 'read', registry: 'read', events: 'read', subscriptions: 'read' },
    probes: true,
  },
  ready: {
    method: 'GET',
    path: '/ready',
    auth: 'public',
    context: 'platform',
    summary: "Readiness: every table, the dead-letter queue, the event bus and (locally) the engine answer now (503 naming what is not ready; the reasons are in GET /health/system)",
    tag: 'platform',
    successStatus: 200,
    response: health.ReadinessResponse,
    tables: { workflows: 'read', executions: 'read', registry: 'read', events: 'read', subscriptions: 'read' },
    probes: true,
  },
  openApi: {
    method: 'GET',
    path: '/openapi.json',
    auth: 'public',
    context: 'platform',
    summary: 'This API as an OpenAPI 3.1 document, generated from the route table',
    tag: 'platform',
    successStatus: 200,
    rawResponse: true,
    response: api.OpenApiDocumentSchema,
    tables: {},
  },
  workflowsHealth: {
    method: 'GET',
    path: '/workflows/health',
    auth: 'viewer',
    context: 'workflows',
    summary: 'Workflow management health: the workflow table answers',
    tag: 'workflows',
    successStatus: 200,
    response: api.HealthResponse,
    tables: { workflows: 'read' },
  },
  createWorkflow: {
    method: 'POST',
    path: '/workflows',
    auth: 'operator',
    context: 'workflows',
    summary: 'Create a workflow (version 1)',
    tag: 'workflows',
    successStatus: 201,
    body: api.CreateWorkflowBody,
    response: api.WorkflowResponse,
    tables: { workflows: 'write' },
    // Lifecycle events: in AWS a new version is deployed as a state machine version when it is published.
    bus: 'publish',
  },
  listWorkflows: {
    method: 'GET',
    path: '/workflows',
    auth: 'viewer',
    context: 'workflows',
    summary: 'List workflows, newest first, by page number or next_token',
    tag: 'workflows',
    successStatus: 200,
    query: api.ListWorkflowsQuery,
    response: api.WorkflowListResponse,
    tables: { workflows: 'read' },
  },
  searchWorkflows: {
    method: 'GET',
    path: '/workflows/search',
    auth: 'viewer',
    context: 'workflows',
    summary: 'Case-insensitive search over name, description and tags',
    tag: 'workflows',
    successStatus: 200,
    query: api.SearchWorkflowsQuery,
    response: api.SearchResponse,
    tables: { workflows: 'read' },
  },
  workflowStatistics: {
    method: 'GET',
    path: '/workflows/statistics',
    auth: 'viewer',
    context: 'workflows',
    summary: 'Counts by status, by action type and by creator',
    tag: 'workflows',
    successStatus: 200,
    query: api.StatisticsQuery,
    response: api.StatisticsResponse,
    tables: { workflows: 'read' },
  },
  listTemplates: {
    method: 'GET',
    path: '/workflows/templates',
    auth: 'viewer',
    context: 'workflows',
    summary: 'The built-in workflow templates',
    tag: 'templates',
    successStatus: 200,
    response: api.TemplateListResponse,
    tables: {},
  },
  createFromTemplate: {
    method: 'POST',
    path: '/workflows/from-template',
    auth: 'operator',
    context: 'workflows',
    summary: 'Create a workflow from a template with customizations',
    tag: 'templates',
    successStatus: 201,
    body: api.FromTemplateBody,
    response: api.WorkflowResponse,
    tables: { workflows: 'write' },
    // Lifecycle events: in AWS a new version is deployed as a state machine version when it is published.
    bus: 'publish',
  },
  getWorkflow: {
    method: 'GET',
    path: '/workflows/{workflow_id}',
    auth: 'viewer',
    context: 'workflows',
    summary: 'A workflow (its latest version, or ?version=N)',
    tag: 'workflows',
    successStatus: 200,
    params: api.WorkflowIdParams,
    query: api.GetWorkflowQuery,
    response: api.WorkflowResponse,
    tables: { workflows: 'read' },
  },
  updateWorkflow: {
    method: 'PUT',
    path: '/workflows/{workflow_id}',
    auth: 'operator',
    context: 'workflows',
    summary: 'Partial update; changing parameters or actions creates a new version. If-Match for optimistic concurrency',
    tag: 'workflows',
    successStatus: 200,
    params: api.WorkflowIdParams,
    body: api.UpdateWorkflowBody,
    response: api.WorkflowResponse,
    tables: { workflows: 'write' },
    // Lifecycle events: in AWS a new version is deployed as a state machine version when it is published.
    bus: 'publish',
  },
  deleteWorkflow: {
    method: 'DELETE',
    path: '/workflows/{workflow_id}',
    auth: 'operator',
    context: 'workflows',
    summary: 'Delete a workflow and its versions',
    tag: 'workflows',
    successStatus: 200,
    params: api.WorkflowIdParams,
    response: api.DeleteResponse,
    tables: { workflows: 'write' },
    // Lifecycle events: in AWS a new version is deployed as a state machine version when it is published.
    bus: 'publish',
    // The workflow's schedules go with it.
    schedules: 'manage',
  },
  listWorkflowVersions: {
    method: 'GET',
    path: '/workflows/{workflow_id}/versions',
    auth: 'viewer',
    context: 'workflows',
    summary: 'Every immutable version of a workflow, oldest first',
    tag: 'workflows',
    successStatus: 200,
    params: api.WorkflowIdParams,
    response: api.WorkflowVersionsResponse,
    tables: { workflows: 'read' },
  },
  getStateMachine: {
    method: 'GET',
    path: '/workflows/{workflow_id}/state-machine',
    auth: 'viewer',
    context: 'workflows',
    summary: 'The compiled Step Functions definition (ASL) of a version, with a graph a UI can draw',
    tag: 'workflows',
    successStatus: 200,
    params: api.WorkflowIdParams,
    query: api.GetWorkflowQuery,
    response: api.StateMachineResponse,
    tables: { workflows: 'read' },
  },
  executeWorkflow: {
    method: 'POST',
    path: '/workflows/{workflow_id}/execute',
    auth: 'operator',
    context: 'executions',
    summary: 'Start a run with typed parameters (Idempotency-Key: the same key never starts a second run)',
    tag: 'executions',
    successStatus: 202,
    params: api.WorkflowIdParams,
    body: runs.ExecuteBody,
    response: runs.ExecutionResponse,
    tables: { workflows: 'read', executions: 'write' },
    engine: true,
    bus: 'publish',
  },
  getExecution: {
    method: 'GET',
    path: '/workflows/executions/{execution_id}',
    auth: 'viewer',
    context: 'executions',
    summary: 'A run: status, progress, each action (status, attempts, times, output or error), output and error',
    tag: 'executions',
    successStatus: 200,
    params: runs.ExecutionIdParams,
    response: runs.ExecutionResponse,
    tables: { executions: 'read' },
  },
  listWorkflowExecutions: {
    method: 'GET',
    path: '/workflows/{workflow_id}/executions',
    auth: 'viewer',
    context: 'executions',
    summary: "A workflow's runs, newest first",
    tag: 'executions',
    successStatus: 200,
    params: api.WorkflowIdParams,
    query: runs.ListExecutionsQuery,
    response: runs.ExecutionListResponse,
    tables: { workflows: 'read', executions: 'read' },
  },
  executionHistory: {
    method: 'GET',
    path: '/workflows/history',
    auth: 'viewer',
    context: 'executions',
    summary: 'Recent runs across workflows, newest first',
    tag: 'executions',
    successStatus: 200,
    query: runs.HistoryQuery,
    response: runs.ExecutionListResponse,
    tables: { executions: 'read' },
  },
  cancelExecution: {
    method: 'POST',
    path: '/workflows/executions/{execution_id}/cancel',
    auth: 'operator',
    context: 'executions',
    summary: 'Stop a run; cancelling twice is harmless, cancelling a finished run is a 409',
    tag: 'executions',
    successStatus: 200,
    params: runs.ExecutionIdParams,
    response: runs.ExecutionResponse,
    tables: { executions: 'write' },
    engine: true,
    bus: 'publish',
  },
  retryExecution: {
    method: 'POST',
    path: '/workflows/executions/{execution_id}/retry',
    auth: 'operator',
    context: 'executions',
    summary:
      'Retry a failed, timed-out or cancelled run where it stopped (same id; completed actions are reused, not called again), or with from_action rerun it as a new run that reuses the outputs of every action not downstream of from_action',
    tag: 'executions',
    successStatus: 202,
    params: runs.ExecutionIdParams,
    body: runs.RetryBody,
    response: runs.ExecutionResponse,
    tables: { workflows: 'read', executions: 'write' },
    engine: true,
    bus: 'publish',
  },
  pauseExecution: {
    method: 'POST',
    path: '/workflows/executions/{execution_id}/pause',
    auth: 'operator',
    context: 'executions',
    summary: 'Pause a run: actions in flight finish, no new one starts (status paused); pausing twice is harmless, a finished run is a 409',
    tag: 'executions',
    successStatus: 200,
    params: runs.ExecutionIdParams,
    response: runs.ExecutionResponse,
    tables: { executions: 'write' },
    engine: true,
    bus: 'publish',
  },
  resumeExecution: {
    method: 'POST',
    path: '/workflows/executions/{execution_id}/resume',
    auth: 'operator',
    context: 'executions',
    summary: 'Resume a paused run; resuming a running one is harmless, a finished run is a 409',
    tag: 'executions',
    successStatus: 200,
    params: runs.ExecutionIdParams,
    response: runs.ExecutionResponse,
    tables: { executions: 'write' },
    engine: 'releases parked calls',
    bus: 'publish',
  },
  sagaStatistics: {
    method: 'GET',
    path: '/infrastructure/saga/stats',
    auth: 'viewer',
    context: 'executions',
    summary: 'Sagas among the runs started since `since` (default 7 days; at most 1,000 runs read): by state and workflow, compensation success rate, mean time to compensate',
    tag: 'executions',
    successStatus: 200,
    query: sagas.SagaStatsQuery,
    response: sagas.SagaStatsResponse,
    tables: { workflows: 'read', executions: 'read' },
  },
  getSaga: {
    method: 'GET',
    path: '/infrastructure/saga/{saga_id}',
    auth: 'viewer',
    context: 'executions',
    summary: "A saga (a run whose workflow declares compensations; saga_id = its execution id): completed steps, the failed step, each compensation planned, run, skipped or failed, and the saga's state",
    tag: 'executions',
    successStatus: 200,
    params: sagas.SagaIdParams,
    response: sagas.SagaResponse,
    tables: { executions: 'read' },
  },
  registerService: {
    method: 'POST',
    path: '/registry/register',
    auth: 'admin',
    context: 'registry',
    summary: 'Register an instance of a service, or replace (renew) its registration (201 when new, 200 when replaced)',
    tag: 'registry',
    successStatus: 201,
    body: registry.RegisterServiceBody,
    response: registry.InstanceResponse,
    tables: { registry: 'write' },
    bus: 'publish',
  },
  listServices: {
    method: 'GET',
    path: '/registry',
    auth: 'viewer',
    context: 'registry',
    summary: 'Registered services with their instances, health and circuit state, by name (filters: name, status, tag)',
    tag: 'registry',
    successStatus: 200,
    query: registry.ListServicesQuery,
    response: registry.ServiceListResponse,
    tables: { registry: 'read' },
    // A peer's sync pulls this listing (POST /registry/sync-peers), presenting the peer token.
    peerAccess: true,
  },
  getService: {
    method: 'GET',
    path: '/registry/{name}',
    auth: 'viewer',
    context: 'registry',
    summary: 'One service: its instances, their health (with recent checks) and circuit state',
    tag: 'registry',
    successStatus: 200,
    params: registry.ServiceNameParams,
    response: registry.ServiceResponse,
    tables: { registry: 'read' },
  },
  deregisterService: {
    method: 'DELETE',
    path: '/registry/{name}',
    auth: 'admin',
    context: 'registry',
    summary: 'Remove a service (every instance), or one instance with ?instance_id=',
    tag: 'registry',
    successStatus: 200,
    params: registry.ServiceNameParams,
    query: registry.DeregisterQuery,
    response: registry.DeregisterResponse,
    tables: { registry: 'write' },
  },
  listPeers: {
    method: 'GET',
    path: '/peers',
    auth: 'admin',
    context: 'registry',
    summary: 'The peer orchestrators (ORCHESTRATOR_PEERS) and whether each answers its /health: latency, status, version, error',
    tag: 'peers',
    successStatus: 200,
    response: peers.PeerListResponse,
    tables: {},
    peers: true,
  },
  syncPeers: {
    method: 'POST',
    path: '/registry/sync-peers',
    auth: 'admin',
    context: 'registry',
    summary: "Pull every peer's registry, then push the union to each (last writer wins on updated_at; peers never sync onward); the result per peer",
    tag: 'peers',
    successStatus: 200,
    response: peers.PeerSyncResponse,
    tables: { registry: 'write' },
    peers: true,
  },
  replicateInstances: {
    method: 'POST',
    path: '/registry/replicate',
    auth: 'peer',
    context: 'registry',
    summary: 'Store instances a peer sends, each only if newer (updated_at) than the stored one; never syncs onward. Health and circuit stay local',
    tag: 'peers',
    successStatus: 200,
    body: peers.ReplicateBody,
    response: peers.ReplicateResponse,
    tables: { registry: 'write' },
  },
  pollOpenApi: {
    method: 'POST',
    path: '/registry/poll-openapi',
    auth: 'admin',
    context: 'registry',
    summary: "Fetch each service's OpenAPI document (or one service's with ?name=), store its digest and operations, report drift (operations added, removed, changed) and publish it as an event",
    tag: 'registry',
    successStatus: 200,
    query: drift.PollOpenApiQuery,
    response: drift.PollOpenApiResponse,
    tables: { registry: 'write' },
    bus: 'publish',
    outbound: 'calls',
  },
  runHealthCheck: {
    method: 'POST',
    path: '/registry/health-check',
    auth: 'admin',
    context: 'registry',
    summary: "Check every registered instance's health now (or one service's with ?name=) and record it; answers what each check found",
    tag: 'registry',
    successStatus: 200,
    query: health.HealthCheckQuery,
    response: health.HealthSweepResponse,
    tables: { registry: 'write' },
    outbound: 'credentials',
    bus: 'publish',
  },
  whoAmI: {
    method: 'GET',
    path: '/auth/whoami',
    auth: 'authenticated',
    context: 'security',
    summary: 'Who the caller is: subject, roles, tenant and how they authenticated',
    tag: 'security',
    successStatus: 200,
    response: security.WhoAmIResponse,
    tables: {},
  },
  createApiKey: {
    method: 'POST',
    path: '/auth/api-keys',
    auth: 'admin',
    context: 'security',
    summary: 'Create a managed API key (name, role, tenant, expiry); the key is in this response only, its hash is stored',
    tag: 'security',
    successStatus: 201,
    body: security.CreateApiKeyBody,
    response: security.CreatedApiKeyResponse,
    tables: { apiKeys: 'write' },
  },
  listApiKeys: {
    method: 'GET',
    path: '/auth/api-keys',
    auth: 'admin',
    context: 'security',
    summary: 'The managed API keys, without secrets: role, tenant, expiry, last use',
    tag: 'security',
    successStatus: 200,
    query: security.ApiKeyListQuery,
    response: security.ApiKeyListResponse,
    tables: { apiKeys: 'read' },
  },
  revokeApiKey: {
    method: 'DELETE',
    path: '/auth/api-keys/{key_id}',
    auth: 'admin',
    context: 'security',
    summary: 'Revoke a managed API key',
    tag: 'security',
    successStatus: 200,
    params: security.ApiKeyIdParams,
    response: security.RevokeApiKeyResponse,
    tables: { apiKeys: 'write' },
  },
  listAuditRecords: {
    method: 'GET',
    path: '/audit',
    auth: 'admin',
    context: 'security',
    summary: 'The audit trail, newest first: every state-changing request and every refused one (filters: actor, action, target, tenant, since, until)',
    tag: 'security',
    successStatus: 200,
    query: security.AuditQuery,
    response: security.AuditListResponse,
    tables: { audit: 'read' },
  },
  ...eventRoutes,
  ...subscriptionRoutes,
  ...deadLetterRoutes,
  ...observabilityRoutes,
  ...ecosystemRoutes,
  ...aiRoutes,
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof routes;

/** `createWorkflow` -> `create-workflow`: the entry file of a route's Lambda. */
export function entryFileName(name: RouteName): string {
  return `${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}.ts`;
}
