import type { ApiHandler } from '../middleware/http-handler.ts';
import type { RouteName } from '../routes.ts';
import { createApiDriftHandlers } from './api-drift-handlers.ts';
import { createExecutionHandlers } from './execution-handlers.ts';
import { createHealthHandlers } from './health-handlers.ts';
import { createPeerHandlers } from './peer-handlers.ts';
import { createPlatformHandlers } from './platform-handlers.ts';
import { createRegistryHandlers } from './registry-handlers.ts';
import type { HttpServices } from './services.ts';
import { createWorkflowHandlers } from './workflow-handlers.ts';
import { createSecurityHandlers } from './security-handlers.ts';
import { createEventHandlers } from './event-handlers.ts';
import { createSubscriptionHandlers } from './subscription-handlers.ts';
import { createDeadLetterHandlers } from './dlq-handlers.ts';
import { createTracingHandlers } from './tracing-handlers.ts';
import { createMetricsHandlers } from './metrics-handlers.ts';
import { createPlatformInfoHandlers } from './platform-info-handlers.ts';
import { createEcosystemHandlers } from './ecosystem-handlers.ts';
import { createScheduleHandlers } from './schedule-handlers.ts';
import { createToolHandlers } from './tool-handlers.ts';
import { createPlanHandlers } from './plan-handlers.ts';
import { createMcpHandlers } from './mcp-handlers.ts';

/**
 * Every route's handler, for runtimes that serve the whole API from one process (the local server, tests).
 * Lambda entries import their own context's factory instead, to keep each bundle small.
 */
export function createAllHandlers(services: HttpServices): Record<RouteName, ApiHandler> {
  return {
    ...createPlatformHandlers(services),
    ...createWorkflowHandlers(services),
    ...createExecutionHandlers(services),
    ...createRegistryHandlers(services),
    ...createHealthHandlers(services),
    ...createPeerHandlers(services),
    ...createApiDriftHandlers(services),
    ...createSecurityHandlers(services),
    ...createEventHandlers(services),
    ...createSubscriptionHandlers(services),
    ...createDeadLetterHandlers(services),
    ...createTracingHandlers(services),
    ...createMetricsHandlers(services),
    ...createPlatformInfoHandlers(services),
    ...createEcosystemHandlers(services),
    ...createScheduleHandlers(services),
    ...createToolHandlers(services),
    ...createPlanHandlers(services),
    ...createMcpHandlers(services),
  };
}
