import type { z } from 'zod';
import * as api from './http/workflow-schemas.ts';
import * as runs from './http/execution-schemas.ts';
import * as registry from './http/registry-schemas.ts';
import * as peers from './http/peer-schemas.ts';
import * as drift from './http/api-drift-schemas.ts';
import * as health from './http/health-schemas.ts';

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
export type BoundedContext = 'platform' | 'workflows' | 'executions' | 'registry';

/** Least privilege: what a route's Lambda may do to each table. */
export type TableAccess = 'read' | 'write';

export interface RouteSpec {
  readonly method: HttpMethod;
  /** API Gateway syntax: `/workflows/{workflow_id}`. */
  readonly path: string;
  readonly context: BoundedContext;
  readonly summary: string;
  readonly tag: string;
  readonly successStatus: number;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** The `data` of a successful envelope. */
  readonly response: z.ZodType;
  readonly tables: { readonly workflows?: TableAccess; readonly executions?: TableAccess; readonly registry?: TableAccess };
  /** The route starts or stops workflow runs (Step Functions rights in AWS). */
  readonly engine?: boolean;
  /**
   * The route probes the orchestrator's own dependencies besides its tables: it gets the dead-letter queue's
   * URL and the event bus's name, and may call sqs:GetQueueAttributes and events:DescribeEventBus on them.
   */
  readonly probes?: boolean;
  /** `publish`: the route publishes events on the workflow event bus (its name, and events:PutEvents on it only). */
  readonly bus?: 'publish';
  /** The route calls the peer orchestrators (it gets ORCHESTRATOR_PEERS). */
  readonly peers?: boolean;
}

export const routes = {
  health: {
    method: 'GET',
    path: '/health',
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
    context: 'platform',
    summary: "The orchestrator's own dependencies (tables, dead-letter queue, event bus: 503 when one is down) and every registered service's last recorded health, with an overall status",
    tag: 'platform',
    successStatus: 200,
    response: health.SystemHealthResponse,
    tables: { workflows: 'read', executions: 'read', registry: 'read' },
    probes: true,
  },
  openApi: {
    method: 'GET',
    path: '/openapi.json',
    context: 'platform',
    summary: 'This API as an OpenAPI 3.1 document, generated from the route table',
    tag: 'platform',
    successStatus: 200,
    response: api.OpenApiDocumentSchema,
    tables: {},
  },
  workflowsHealth: {
    method: 'GET',
    path: '/workflows/health',
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
    context: 'workflows',
    summary: 'Counts by status, by action type and by creator',
    tag: 'workflows',
    successStatus: 200,
    response: api.StatisticsResponse,
    tables: { workflows: 'read' },
  },
  listTemplates: {
    method: 'GET',
    path: '/workflows/templates',
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
    context: 'workflows',
    summary: 'Delete a workflow and its versions',
    tag: 'workflows',
    successStatus: 200,
    params: api.WorkflowIdParams,
    response: api.DeleteResponse,
    tables: { workflows: 'write' },
    // Lifecycle events: in AWS a new version is deployed as a state machine version when it is published.
    bus: 'publish',
  },
  listWorkflowVersions: {
    method: 'GET',
    path: '/workflows/{workflow_id}/versions',
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
    context: 'executions',
    summary: 'Start a run with typed parameters (Idempotency-Key: the same key never starts a second run)',
    tag: 'executions',
    successStatus: 202,
    params: api.WorkflowIdParams,
    body: runs.ExecuteBody,
    response: runs.ExecutionResponse,
    tables: { workflows: 'read', executions: 'write' },
    engine: true,
  },
  getExecution: {
    method: 'GET',
    path: '/workflows/executions/{execution_id}',
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
    context: 'executions',
    summary: 'Stop a run; cancelling twice is harmless, cancelling a finished run is a 409',
    tag: 'executions',
    successStatus: 200,
    params: runs.ExecutionIdParams,
    response: runs.ExecutionResponse,
    tables: { executions: 'write' },
    engine: true,
  },
  registerService: {
    method: 'POST',
    path: '/registry/register',
    context: 'registry',
    summary: 'Register an instance of a service, or replace (renew) its registration (201 when new, 200 when replaced)',
    tag: 'registry',
    successStatus: 201,
    body: registry.RegisterServiceBody,
    response: registry.InstanceResponse,
    tables: { registry: 'write' },
  },
  listServices: {
    method: 'GET',
    path: '/registry',
    context: 'registry',
    summary: 'Registered services with their instances, health and circuit state, by name (filters: name, status, tag)',
    tag: 'registry',
    successStatus: 200,
    query: registry.ListServicesQuery,
    response: registry.ServiceListResponse,
    tables: { registry: 'read' },
  },
  getService: {
    method: 'GET',
    path: '/registry/{name}',
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
    context: 'registry',
    summary: "Fetch each service's OpenAPI document (or one service's with ?name=), store its digest and operations, report drift (operations added, removed, changed) and publish it as an event",
    tag: 'registry',
    successStatus: 200,
    query: drift.PollOpenApiQuery,
    response: drift.PollOpenApiResponse,
    tables: { registry: 'write' },
    bus: 'publish',
  },
  runHealthCheck: {
    method: 'POST',
    path: '/registry/health-check',
    context: 'registry',
    summary: "Check every registered instance's health now (or one service's with ?name=) and record it; answers what each check found",
    tag: 'registry',
    successStatus: 200,
    query: health.HealthCheckQuery,
    response: health.HealthSweepResponse,
    tables: { registry: 'write' },
  },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof routes;

/** `createWorkflow` -> `create-workflow`: the entry file of a route's Lambda. */
export function entryFileName(name: RouteName): string {
  return `${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}.ts`;
}
