import * as z from 'zod';
import { EVENT_TYPES, EventEnvelopeSchema } from '../../core/events/envelope.ts';
import { NextTokenSchema, TenantFilter } from './workflow-schemas.ts';

/** Request and response schemas of `/infrastructure/events/*` (history, replay, clear). */

const isoTime = (field: string) => z.iso.datetime({ offset: true, error: `${field} must be an ISO-8601 date-time with a time zone (2026-12-06T10:00:00Z)` });

/** An exact event type, or a family ending with `*` (`orchestrator.run.*`); messages name `field`. */
export const eventTypeFilter = (field: string) =>
  z
    .string({ error: `${field} must be a string` })
    .min(1, `${field} must not be empty`)
    .max(128, `${field} must be at most 128 characters`)
    .refine((value) => (value.endsWith('*') ? EVENT_TYPES.some((type) => type.startsWith(value.slice(0, -1))) : (EVENT_TYPES as readonly string[]).includes(value)), {
      message: `${field} must be an event type (${EVENT_TYPES[0]}, ...) or a prefix of one ending with * (orchestrator.run.*)`,
    });

const idFilter = (field: string) => z.string().min(1, `${field} must not be empty`).max(256, `${field} must be at most 256 characters`);

const untilNotBeforeSince = <T extends { since?: string | undefined; until?: string | undefined }>(query: T) =>
  query.since === undefined || query.until === undefined || Date.parse(query.since) <= Date.parse(query.until);

export const EventHistoryQuery = z
  .object({
    type: eventTypeFilter('type').optional(),
    source: z.string().min(1, 'source must not be empty').max(256, 'source must be at most 256 characters').optional().describe('The emitting component, exactly: /orchestrator/runs, /orchestrator/workflows, /orchestrator/registry, /orchestrator/dead-letters'),
    execution_id: idFilter('execution_id').optional(),
    workflow_id: idFilter('workflow_id').optional(),
    correlation_id: idFilter('correlation_id').optional(),
    since: isoTime('since').optional(),
    until: isoTime('until').optional(),
    tenant: TenantFilter,
    limit: z.coerce.number({ error: (issue) => (issue.code === 'invalid_type' ? 'limit must be a number' : undefined) }).int('limit must be an integer').min(1, 'limit must be at least 1').max(200, 'limit must be at most 200').default(50),
    next_token: NextTokenSchema.optional(),
  })
  .refine(untilNotBeforeSince, { path: ['until'], message: 'until must not be before since' });

export const EventHistoryResponse = z.object({
  events: z.array(EventEnvelopeSchema).describe('Newest first'),
  count: z.number().int(),
  next_token: z.string().nullable(),
});

export const ReplayEventsBody = z
  .object({
    since: isoTime('since'),
    until: isoTime('until').optional(),
    types: z.array(eventTypeFilter('types')).min(1, 'types must name at least one type').max(20, 'types must have at most 20 entries').optional(),
    execution_id: idFilter('execution_id').optional(),
    subscription_id: idFilter('subscription_id').optional().describe('Replay to this subscription only; omitted: to every subscription each event matches'),
  })
  .strict()
  .refine(untilNotBeforeSince, { path: ['until'], message: 'until must not be before since' });

export const ReplayEventsResponse = z.object({
  replay_id: z.string(),
  status: z.literal('completed').describe('Replays up to 10,000 events are delivered (queued) before the answer'),
  replayed: z.number().int().describe('Events queued for delivery again, each marked replayed: true with its original event_id'),
  first_event_time: z.string().optional(),
  last_event_time: z.string().optional(),
  subscription_id: z.string().optional(),
});

export const ClearEventsBody = z
  .object({
    before: isoTime('before').describe('Events recorded before this instant are deleted'),
    types: z.array(eventTypeFilter('types')).min(1, 'types must name at least one type').max(20, 'types must have at most 20 entries').optional(),
    tenant: TenantFilter,
  })
  .strict();

export const ClearEventsResponse = z.object({ deleted: z.number().int(), before: z.string(), cleared_at: z.string(), tenant: z.string().optional() });
