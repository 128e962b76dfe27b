import * as z from 'zod';
import { ACTION_STATUSES, COMPENSATION_STATUSES, EXECUTION_STATUSES } from '../../core/execution/model.ts';
import { SAGA_STATES } from '../../core/execution/saga.ts';
import { idSchema, TenantFilter, WorkflowIdParams } from './workflow-schemas.ts';

export const SagaIdParams = z.object({ saga_id: idSchema('saga_id') });

const Failure = z.object({ error: z.string(), cause: z.string() });

const SagaStepResponse = z.object({
  action_id: z.string(),
  status: z.enum(ACTION_STATUSES),
  started_at: z.string().optional(),
  ended_at: z.string().optional(),
  error: Failure.optional(),
});

export const SagaResponse = z.object({
  saga_id: z.string().describe('the execution id of the run'),
  workflow_id: z.string(),
  workflow_version: z.number().int(),
  tenant: z.string(),
  state: z.enum(SAGA_STATES),
  execution_status: z.enum(EXECUTION_STATUSES),
  started_at: z.string().optional(),
  ended_at: z.string().optional(),
  completed_steps: z.array(SagaStepResponse).describe('actions that completed, in the order they completed'),
  failed_step: SagaStepResponse.nullable().describe('the action whose failure ended the forward flow'),
  compensations: z
    .array(
      z.object({
        action_id: z.string(),
        status: z.enum(COMPENSATION_STATUSES),
        attempts: z.number().int(),
        started_at: z.string().optional(),
        ended_at: z.string().optional(),
        error: Failure.optional(),
      }),
    )
    .describe('in the order they ran, then those planned or skipped'),
  compensation_ms: z.number().int().nullable().describe('first compensation start to last compensation end, once all ended'),
});

export const SagaStatsQuery = z.object({
  since: z.iso.datetime({ offset: true, error: 'since must be an ISO 8601 timestamp, e.g. 2026-11-24T00:00:00Z' }).optional().describe('default: 7 days ago'),
  workflow_id: WorkflowIdParams.shape.workflow_id.optional(),
  tenant: TenantFilter,
});

const StateCounts = z.object(Object.fromEntries(SAGA_STATES.map((state) => [state, z.number().int()])) as Record<(typeof SAGA_STATES)[number], z.ZodNumber>);

export const SagaStatsResponse = z.object({
  since: z.string(),
  runs_examined: z.number().int(),
  truncated: z.boolean().describe('more runs started since `since` than one request reads (the newest are counted)'),
  sagas: z.number().int(),
  by_state: StateCounts,
  by_workflow: z.record(z.string(), StateCounts.partial().extend({ total: z.number().int() })),
  compensation_success_rate: z.number().nullable(),
  compensations_run: z.number().int(),
  mean_time_to_compensate_ms: z.number().int().nullable(),
});
