import * as z from 'zod';
import { MAX_DESCRIPTION_LENGTH, MAX_SECRET_LENGTH, MAX_URL_LENGTH, MIN_SECRET_LENGTH } from '../../core/events/subscriptions.ts';
import { TenantFilter } from './workflow-schemas.ts';

/**
 * Request and response shapes of webhook subscriptions (`/infrastructure/events/subscriptions`). The URL and
 * the pattern are checked in depth by the use case (core/events/subscriptions.ts), which names every problem
 * by its field; these schemas say their types and limits, for the OpenAPI document and the first refusal.
 */

const EventPatternSchema = z
  .record(z.string(), z.unknown(), { error: 'pattern must be a JSON object (an EventBridge event pattern)' })
  .describe(
    'An EventBridge event pattern over the event envelope (event_id, type, source, time, subject, trace_id, correlation_id, data...): e.g. {"type":[{"prefix":"orchestrator.run."}]}. Leave tenant out: it is added',
  );

export const CreateSubscriptionBody = z.strictObject({
  url: z
    .string({ error: 'url must be a string' })
    .min(1, 'url must not be empty')
    .max(MAX_URL_LENGTH, `url must be at most ${MAX_URL_LENGTH} characters`)
    .describe('Where matching events are POSTed as signed CloudEvents: http or https, without credentials; held to the outbound address rules'),
  pattern: EventPatternSchema,
  description: z.string().max(MAX_DESCRIPTION_LENGTH, `description must be at most ${MAX_DESCRIPTION_LENGTH} characters`).optional(),
  secret: z
    .string({ error: 'secret must be a string' })
    .min(MIN_SECRET_LENGTH, `secret must be at least ${MIN_SECRET_LENGTH} characters`)
    .max(MAX_SECRET_LENGTH, `secret must be at most ${MAX_SECRET_LENGTH} characters`)
    .optional()
    .describe('Signs each delivery (X-Orchestrator-Signature: sha256=HMAC of "<timestamp>.<body>"); generated and shown once when left out'),
});

const SubscriptionResponse = z.object({
  subscription_id: z.string(),
  url: z.string(),
  pattern: z.record(z.string(), z.unknown()).describe("The caller's pattern"),
  effective_pattern: z.record(z.string(), z.unknown()).describe('The pattern events are matched with: the caller\'s, limited to the subscription\'s tenant'),
  description: z.string().optional(),
  tenant: z.string(),
  created_by: z.string(),
  created_at: z.string(),
});

export const CreatedSubscriptionResponse = SubscriptionResponse.extend({
  secret: z.string().optional().describe('The generated secret, in this response only (absent when the request gave one): store it to verify deliveries'),
});

export const SubscriptionListQuery = z.object({ tenant: TenantFilter });

export const SubscriptionListResponse = z.object({ subscriptions: z.array(SubscriptionResponse), count: z.number().int() });

export const SubscriptionIdParams = z.object({
  subscription_id: z
    .string()
    .min(1, 'subscription_id must not be empty')
    .max(128, 'subscription_id must be at most 128 characters')
    .regex(/^[A-Za-z0-9._-]+$/, 'subscription_id contains characters an id never has (letters, digits, ., - and _ only)'),
});

export const DeleteSubscriptionResponse = z.object({ subscription_id: z.string(), deleted: z.literal(true) });
