import * as z from 'zod';
import type { ApiSnapshot } from '../../../core/registry/drift.ts';
import { SERVICE_AUTH_TYPES } from '../../../core/registry/registration.ts';
import { CLOSED_CIRCUIT, INITIAL_HEALTH, type CircuitState, type InstanceHealth, type ServiceAuth, type ServiceInstance } from '../../../core/registry/model.ts';
import { jsonText } from './items.ts';

/**
 * The registry table's items (registry-table.ts) as zod schemas: what DynamoServiceRegistry reads through
 * parseItem. The shape, not the registration rules: those applied when the instance was registered.
 */

const HEALTH_STATUSES = ['healthy', 'degraded', 'unhealthy', 'unknown'] as const;

const HealthCheckItem = z.object({
  checked_at: z.string(),
  status: z.enum(['healthy', 'degraded', 'unhealthy']),
  latency_ms: z.number().nullable(),
  status_code: z.number().int().nullable().optional(),
  detail: z.string().optional(),
});

const HealthItem = z.object({
  status: z.enum(HEALTH_STATUSES),
  checked_at: z.string().optional(),
  latency_ms: z.number().nullable().optional(),
  detail: z.string().optional(),
  history: z.array(HealthCheckItem),
  consecutive_failures: z.number().int().min(0),
}) satisfies z.ZodType<InstanceHealth>;

const CircuitItem = z.object({
  state: z.enum(['closed', 'open', 'half_open']),
  failures: z.array(z.string()),
  opened_at: z.string().optional(),
  trial_started_at: z.string().optional(),
  revision: z.number().int(),
}) satisfies z.ZodType<CircuitState>;

const AuthItem = z.object({
  type: z.enum(SERVICE_AUTH_TYPES),
  secret_ref: z.string(),
  header: z.string().optional(),
}) satisfies z.ZodType<ServiceAuth>;

/**
 * One instance (pk `SVC#<name>`, sk `INST#<instance_id>`), also as the listing index projects it. An instance
 * not checked or called yet may have no health or circuit (the initial ones); tags and metadata default to
 * none, as before items were parsed.
 */
const MetadataItem = z.record(z.string(), z.unknown());

export const InstanceItemSchema = z.object({
  name: z.string(),
  instance_id: z.string(),
  url: z.string(),
  health_path: z.string(),
  openapi_path: z.string().optional(),
  version: z.string().optional(),
  tags: z.array(z.string()).default([]),
  // JSON text since DynamoDB's number limits (38 digits, 1e-130..1e126) and 32 levels of nesting refused valid
  // JSON metadata; items written before hold a map.
  metadata: z.union([jsonText(MetadataItem), MetadataItem]).default({}),
  auth: AuthItem.optional(),
  registered_at: z.string(),
  updated_at: z.string(),
  ttl_seconds: z.number().optional(),
  expires_at: z.string().optional(),
  health: HealthItem.default(() => ({ ...INITIAL_HEALTH, history: [...INITIAL_HEALTH.history] })),
  circuit: CircuitItem.default(() => ({ ...CLOSED_CIRCUIT, failures: [...CLOSED_CIRCUIT.failures] })),
}) satisfies z.ZodType<ServiceInstance>;

const ApiOperationItem = z.object({
  method: z.string(),
  path: z.string(),
  operation_id: z.string().optional(),
  summary: z.string().optional(),
  digest: z.string(),
});

/** A service's last OpenAPI summary (pk `SVC#<name>`, sk `OPENAPI`), in its `snapshot` attribute. */
export const ApiSnapshotItemSchema = z
  .object({
    snapshot: z.object({
      name: z.string(),
      instance_id: z.string(),
      source_url: z.string(),
      captured_at: z.string(),
      format: z.enum(['openapi', 'swagger']),
      spec_version: z.string(),
      title: z.string().optional(),
      api_version: z.string().optional(),
      digest: z.string(),
      operations: z.array(ApiOperationItem),
    }),
  })
  .transform(({ snapshot }): ApiSnapshot => snapshot);
