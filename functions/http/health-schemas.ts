import * as z from 'zod';
import { ServiceNameSchema } from '../../core/registry/registration.ts';

/** Request and response shapes of health checking: `POST /registry/health-check` and `GET /health/system`. */

const CHECKED_STATUSES = ['healthy', 'degraded', 'unhealthy'] as const;
const HEALTH_STATUSES = [...CHECKED_STATUSES, 'unknown'] as const;

export const HealthCheckQuery = z.object({
  name: ServiceNameSchema.optional().describe("Check this service's instances only (404 when it has none); default: every registered instance"),
});

const Check = z.object({
  checked_at: z.string(),
  status: z.enum(CHECKED_STATUSES),
  latency_ms: z.number().nullable().describe('Null when no answer came'),
  status_code: z.number().int().nullable().optional(),
  detail: z.string().optional(),
});

export const HealthSweepResponse = z.object({
  started_at: z.string(),
  finished_at: z.string(),
  duration_ms: z.number(),
  checked: z.number().int().describe('Instances probed'),
  by_status: z.object({ healthy: z.number().int(), degraded: z.number().int(), unhealthy: z.number().int() }).describe('Their statuses after this check'),
  changed: z.number().int().describe('Instances whose status changed'),
  skipped_expired: z.number().int().describe('Registrations past their TTL: not probed'),
  not_checked: z.number().int().describe('Instances the time budget left for the next sweep'),
  gone: z.number().int().describe('Instances deregistered while probed: nothing recorded'),
  write_failures: z.number().int(),
  instances: z.array(
    z.object({
      name: z.string(),
      instance_id: z.string(),
      health_url: z.string(),
      previous_status: z.enum(HEALTH_STATUSES),
      status: z.enum(CHECKED_STATUSES).describe("The instance's status after this check: one failed check of an answering instance makes it degraded, two unhealthy"),
      check: Check.describe('What this probe found'),
      recorded: z.boolean(),
      error: z.string().optional(),
    }),
  ),
});

/** What the orchestrator depends on: its tables, the dead-letter queue, the event bus, and (locally) the engine. */
const DEPENDENCY_KINDS = ['table', 'queue', 'event_bus', 'engine'] as const;

export const ReadinessResponse = z.object({
  status: z.enum(['ready', 'not_ready']).describe('not_ready (503): a dependency does not answer'),
  checked_at: z.string(),
  dependencies: z
    .array(z.object({ name: z.string(), kind: z.enum(DEPENDENCY_KINDS), ready: z.boolean(), latency_ms: z.number() }))
    .describe("Each dependency's readiness, probed now; why one is not ready is in GET /health/system (a route for callers with a role)"),
});

export const SystemHealthResponse = z.object({
  status: z.enum(['healthy', 'degraded', 'unhealthy']).describe("unhealthy (503): one of the orchestrator's own dependencies is unreachable; degraded: a registered service is degraded or unhealthy"),
  service: z.string(),
  version: z.string(),
  checked_at: z.string(),
  dependencies: z
    .array(
      z.object({
        name: z.string(),
        kind: z.enum(DEPENDENCY_KINDS),
        status: z.enum(['healthy', 'unhealthy']),
        latency_ms: z.number(),
        error: z.string().optional(),
      }),
    )
    .describe("The orchestrator's tables, dead-letter queue and event bus, probed now"),
  services: z
    .object({
      total: z.number().int(),
      by_status: z.object({ healthy: z.number().int(), degraded: z.number().int(), unhealthy: z.number().int(), unknown: z.number().int() }),
      items: z.array(
        z.object({
          name: z.string(),
          status: z.enum(HEALTH_STATUSES),
          instances: z.array(
            z.object({
              instance_id: z.string(),
              url: z.string(),
              status: z.enum(HEALTH_STATUSES),
              checked_at: z.string().optional(),
              latency_ms: z.number().nullable().optional(),
              detail: z.string().optional(),
              consecutive_failures: z.number().int(),
              circuit: z.enum(['closed', 'open', 'half_open']),
            }),
          ),
        }),
      ),
      error: z.string().optional().describe('Why services could not be listed'),
    })
    .describe("Every registered service's health as the last sweep recorded it (not probed now)"),
});
