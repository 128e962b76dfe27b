import * as z from 'zod';
import { DEAD_LETTER_KINDS, DEAD_LETTER_QUEUES } from '../../core/dead-letters/model.ts';
import { RETRY_OUTCOMES } from '../../core/dead-letters/retry.ts';
import { idSchema, positiveInt, typeError } from './workflow-schemas.ts';

/** Request and response shapes of the dead-letter API (`/infrastructure/dlq/*`). */

const QUEUE_OPTIONS = DEAD_LETTER_QUEUES.join(', ');

/** A queue's name; which of them a runtime has is the use case's to say (a 400 naming those it has). */
const QueueName = z
  .enum(DEAD_LETTER_QUEUES, { error: (issue) => (issue.input === undefined ? 'queue is required' : `queue must be one of ${QUEUE_OPTIONS}`) })
  .describe('actions: failed service calls; deployments: workflow versions not deployed (AWS); deliveries: failed webhook deliveries');

/** The most messages one request reads (10 receives of 10). */
const MAX_MESSAGES = 100;

export const DeadLetterMessagesQuery = z.object({
  queue: QueueName,
  limit: positiveInt('limit').max(MAX_MESSAGES, `limit must be at most ${MAX_MESSAGES}`).default(10),
});

const MESSAGE_ID_RULE = 'message_ids must hold SQS message ids (1 to 128 characters each)';

export const RetryDeadLettersBody = z
  .strictObject({
    queue: QueueName,
    message_ids: z
      .array(z.string({ error: MESSAGE_ID_RULE }).min(1, MESSAGE_ID_RULE).max(128, `${MESSAGE_ID_RULE}; at most 128`), { error: typeError('message_ids', 'an array of strings') })
      .min(1, 'message_ids must hold at least one id')
      .max(MAX_MESSAGES, `message_ids must hold at most ${MAX_MESSAGES} ids`)
      .optional()
      .describe('Retry these messages'),
    execution_id: idSchema('execution_id').optional().describe("Retry every message of this run (its failed actions' retry is one)"),
    all: z.literal(true, { error: 'all must be true: retry the first max messages of the queue' }).optional(),
    max: z
      .number({ error: typeError('max', 'a number') })
      .int('max must be a whole number')
      .min(1, 'max must be at least 1')
      .max(MAX_MESSAGES, `max must be at most ${MAX_MESSAGES}`)
      .optional()
      .describe('With all: how many messages are read and retried (default 10)'),
  })
  .superRefine((body, context) => {
    const given = (['message_ids', 'execution_id', 'all'] as const).filter((field) => body[field] !== undefined);
    if (given.length !== 1) {
      context.addIssue({ code: 'custom', path: given.length === 0 ? [] : [given[1]!], message: `give exactly one of message_ids, execution_id or all${given.length > 1 ? ` (got ${given.join(', ')})` : ''}` });
    }
    if (body.max !== undefined && body.all === undefined) context.addIssue({ code: 'custom', path: ['max'], message: 'max goes with all: true' });
  });

export const QueueStatsSchema = z.object({
  queue: z.enum(DEAD_LETTER_QUEUES),
  visible: z.number().int().describe('Messages waiting (ApproximateNumberOfMessages)'),
  in_flight: z.number().int().describe('Messages received and not yet deleted or visible again (ApproximateNumberOfMessagesNotVisible)'),
  sampled: z.number().int().describe('Messages the breakdown counts (at most 100, read and made visible again at once)'),
  breakdown_complete: z.boolean().describe('Whether every visible message is in the breakdown'),
  oldest_message_age_seconds: z.number().int().nullable().describe('Age of the oldest message read; null when none was read'),
  by_kind: z.array(z.object({ kind: z.enum(DEAD_LETTER_KINDS), count: z.number().int() })),
  by_workflow: z.array(z.object({ workflow_id: z.string(), count: z.number().int() })),
  by_action: z.array(z.object({ workflow_id: z.string(), action_id: z.string(), count: z.number().int() })),
  by_error_type: z.array(z.object({ error_type: z.string(), count: z.number().int() })),
});

export const DeadLetterStatsResponse = z.object({
  queues: z.array(QueueStatsSchema).describe('Every dead-letter queue this runtime has'),
});

export const DeadLetterView = z.object({
  queue: z.enum(DEAD_LETTER_QUEUES),
  message_id: z.string(),
  kind: z.enum(DEAD_LETTER_KINDS).describe('unknown: a body this API does not understand (shown, never retried)'),
  sent_at: z.string().optional(),
  age_seconds: z.number().int().nullable(),
  receive_count: z.number().int().optional().describe('Raised by every read, this one included'),
  workflow_id: z.string().optional(),
  workflow_version: z.number().int().optional(),
  action_id: z.string().optional(),
  execution_id: z.string().optional(),
  subscription_id: z.string().optional(),
  rule_arn: z.string().optional(),
  tenant: z.string().optional(),
  error_type: z.string(),
  error_message: z.string().optional(),
  problem: z.string().optional().describe('Why a message is of kind unknown'),
  body: z.unknown().optional().describe('The body: parsed JSON, or text; absent when longer than 16 KiB'),
  body_preview: z.string().optional().describe('The start of a body longer than 16 KiB'),
  body_length: z.number().int(),
});

export const DeadLetterMessagesResponse = z.object({
  queue: z.enum(DEAD_LETTER_QUEUES),
  visible: z.number().int(),
  in_flight: z.number().int(),
  messages: z.array(DeadLetterView),
  count: z.number().int(),
});

export const RetryResultSchema = z.object({
  message_id: z.string(),
  outcome: z.enum(RETRY_OUTCOMES).describe('retried: accepted and deleted; already_retried; in_progress (another retry); not_found; not_retryable; refused (the run, workflow or subscription said no); failed (try again later)'),
  kind: z.enum(DEAD_LETTER_KINDS).optional(),
  reason: z.string().optional(),
  execution_id: z.string().optional(),
  workflow_id: z.string().optional(),
  action_id: z.string().optional(),
  subscription_id: z.string().optional(),
  event_id: z.string().optional(),
  execution_status: z.string().optional().describe("The run's status once its retry was accepted"),
});

export const RetryDeadLettersResponse = z.object({
  queue: z.enum(DEAD_LETTER_QUEUES),
  results: z.array(RetryResultSchema),
  counts: z.object(Object.fromEntries(RETRY_OUTCOMES.map((outcome) => [outcome, z.number().int()])) as Record<(typeof RETRY_OUTCOMES)[number], z.ZodNumber>).describe('How many results had each outcome'),
});
