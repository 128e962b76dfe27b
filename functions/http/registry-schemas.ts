import * as z from 'zod';
import { JsonValue } from '../../core/workflow/definition.ts';
import { InstanceIdSchema, SERVICE_AUTH_TYPES, ServiceNameSchema, ServiceRegistrationInputSchema } from '../../core/registry/registration.ts';

/** Request and response shapes of the registry API. The route table, the handlers and OpenAPI read these. */

const HEALTH_STATUSES = ['healthy', 'degraded', 'unhealthy', 'unknown'] as const;

/**
 * `POST /registry/register`: the name, the base URL, an instance id, paths, version, tags, metadata, TTL, and
 * `auth` (a secret reference: `auth.secret_ref` outside the orchestrator's prefix is refused with a 400).
 */
export const RegisterServiceBody = ServiceRegistrationInputSchema;

export const ServiceNameParams = z.object({ name: ServiceNameSchema });

export const ListServicesQuery = z.object({
  name: ServiceNameSchema.optional(),
  status: z.enum(HEALTH_STATUSES, { error: `status must be one of ${HEALTH_STATUSES.join(', ')}` }).optional(),
  tag: z.string().min(1, 'tag must not be empty').max(64, 'tag must be at most 64 characters').optional(),
});

export const DeregisterQuery = z.object({
  instance_id: InstanceIdSchema.optional().describe('Remove this instance only; without it, every instance of the service'),
});

const HealthCheckResponse = z.object({
  checked_at: z.string(),
  status: z.enum(['healthy', 'degraded', 'unhealthy']),
  latency_ms: z.number().nullable(),
  status_code: z.number().int().nullable().optional(),
  detail: z.string().optional(),
});

export const InstanceResponse = z.object({
  name: z.string(),
  instance_id: z.string(),
  url: z.string().describe('Base URL; endpoints of service_call actions are appended to it'),
  health_path: z.string(),
  openapi_path: z.string().optional(),
  version: z.string().optional(),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), JsonValue),
  auth: z
    .object({
      type: z.enum(SERVICE_AUTH_TYPES),
      secret_ref: z.string().describe('Where the secret is read from when a call is made; the secret itself is never stored or shown'),
      header: z.string().optional().describe('api_key only: the header the secret goes in'),
    })
    .optional()
    .describe('How the orchestrator authenticates to the instance (its own origin and base path only)'),
  registered_at: z.string().describe('When the instance was first registered'),
  updated_at: z.string().describe('When the registration was last replaced or renewed'),
  ttl_seconds: z.number().int().optional(),
  expires_at: z.string().optional().describe('The instance disappears then unless registered again'),
  health: z.object({
    status: z.enum(HEALTH_STATUSES),
    checked_at: z.string().optional(),
    latency_ms: z.number().nullable().optional(),
    detail: z.string().optional(),
    history: z.array(HealthCheckResponse).describe('The last checks, newest first'),
    consecutive_failures: z.number().int(),
  }),
  circuit: z.object({
    state: z.enum(['closed', 'open', 'half_open']),
    failures: z.array(z.string()).describe('Failed calls within the window'),
    opened_at: z.string().optional(),
    trial_started_at: z.string().optional(),
    revision: z.number().int(),
  }),
});

export const ServiceResponse = z.object({
  name: z.string(),
  status: z.enum(HEALTH_STATUSES).describe('healthy: every instance is; unhealthy: none can take a call; unknown: none checked yet'),
  instances: z.array(InstanceResponse),
});

export const ServiceListResponse = z.object({
  services: z.array(ServiceResponse),
  total: z.number().int().describe('Services listed'),
  instances: z.number().int().describe('Instances listed'),
});

export const DeregisterResponse = z.object({ name: z.string(), instance_id: z.string().optional(), removed: z.number().int() });
