import type { HandlerSecurity } from '../middleware/security.ts';
import type { ExecutionService } from '../../core/execution/service.ts';
import type { Readiness, SystemHealth } from '../../core/platform/system-health.ts';
import type { AuditTrail, ServiceRegistry, WorkflowStore } from '../../core/ports.ts';
import type { ApiKeyService } from '../../core/auth/api-key-service.ts';
import type { HealthSweep } from '../../core/registry/health-sweep.ts';
import type { ApiDriftService } from '../../core/registry/openapi-poll.ts';
import type { PeerService } from '../../core/registry/peers.ts';
import type { RegistryService } from '../../core/registry/service.ts';
import type { WorkflowService } from '../../core/workflow/service.ts';
import type { EventService } from '../../core/events/service.ts';
import type { SubscriptionService } from '../../core/events/subscriptions.ts';
import type { DeadLetterService } from '../../core/dead-letters/service.ts';
import type { TracingService } from '../../core/observability/tracing-service.ts';
import type { ConfigurationReport, MetricsExposition, PlatformInfo } from './observability-services.ts';
import type { EcosystemService } from '../../core/ecosystem/service.ts';
import type { ScheduleService } from '../../core/schedules/service.ts';
import type { ServiceProxy } from '../ecosystem/service-proxy.ts';
import type { ToolCatalog } from '../../core/ai/tool-catalog.ts';
import type { PlanService } from '../ai/plan-service.ts';
import type { McpHttpServices } from './mcp-handlers.ts';

/** What every handler factory needs: access control and the audit trail (functions/middleware/security.ts). */
export interface Secured {
  readonly security: HandlerSecurity;
}

/** What HTTP handlers need; each composition root (AWS Lambda, local server, tests) builds one. */
export interface HttpServices extends Secured {
  /** Managed API keys (`/auth/api-keys`). */
  readonly apiKeys: ApiKeyService;
  /** The audit trail (`GET /audit`); `security.audit` appends to the same one. */
  readonly auditTrail: AuditTrail;
  readonly workflows: WorkflowService;
  readonly workflowStore: WorkflowStore;
  readonly executions: ExecutionService;
  /** The service registry port: the action runner resolves service names through it. */
  readonly registry: ServiceRegistry;
  readonly registryService: RegistryService;
  /** Probes registered instances and records their health (`POST /registry/health-check`, the schedule). */
  readonly healthSweep: HealthSweep;
  /** The orchestrator's own dependencies and the services' recorded health (`GET /health/system`). */
  readonly systemHealth: SystemHealth;
  /** Whether every dependency answers now (`GET /ready`). */
  readonly readiness: Readiness;
  /** Peer orchestrators: reachability, registry sync and replication (`/peers`, `/registry/sync-peers`, `/registry/replicate`). */
  readonly peers: PeerService;
  /** OpenAPI polling and drift (`POST /registry/poll-openapi`, the schedule). */
  readonly apiDrift: ApiDriftService;
  /** The event history: read, replay, clear (`/infrastructure/events/*`). */
  readonly events: EventService;
  /** Webhook subscriptions (`/infrastructure/events/subscriptions`). */
  readonly subscriptions: SubscriptionService;
  /** The dead-letter queues (`/infrastructure/dlq/*`). */
  readonly deadLetters: DeadLetterService;
  /** Spans recorded of requests, runs and service calls (`/infrastructure/tracing/*`). */
  readonly tracing: TracingService;
  /** `GET /metrics`. */
  readonly metrics: MetricsExposition;
  /** `GET /info`. */
  readonly platformInfo: PlatformInfo;
  /** `GET /config/effective`. */
  readonly configuration: ConfigurationReport;
  /** Ingestion and jobs, as runs of system workflows (`/ingest`, `/workflows/run`, `/jobs/*`). */
  readonly ecosystem: EcosystemService;
  /** Forwards requests to ecosystem services (`/report/request`, `/summarization/suggest`, `/docstore/save`, `/demo/e2e`). */
  readonly serviceProxy: ServiceProxy;
  /** Where `/demo/e2e` reads the log analysis: `log_collector` when LOG_COLLECTOR_URL is set, else `reporting`. */
  readonly logAnalysisService: string;
  /** Workflow schedules (`/workflows/{id}/schedules`), and removing them with their workflow. */
  readonly schedules: ScheduleService;
  /** Workflows and services' operations as tools (`GET /tools`). */
  readonly tools: ToolCatalog;
  /** Draft workflows for a goal, written by a language model and checked by the orchestrator (`POST /ai/plan`). */
  readonly planner: PlanService;
  /** Reported by health endpoints. */
  readonly serviceVersion: string;
  /** `POST /mcp`: the MCP server over the API's own handlers. */
  readonly mcp: McpHttpServices['mcp'];
}
