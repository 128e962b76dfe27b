import * as z from 'zod';
import { zodIssues } from '../workflow/validate.ts';
import type { EmitEvent } from './emitter.ts';
import type { EventEnvelope } from './envelope.ts';

/**
 * The contract of the compiled `<id>: dead letter event` task (statemachines/bus-entries.ts): once a failed
 * action's dead letter is in the queue, the state machine hands `{ dead_letter_added: {...} }` to the action
 * runner (the local engine does the same), which announces it as `orchestrator.dlq.added` on the bus. A
 * Lambda rather than a native PutEvents: the envelope needs an id that sorts and the time now, which a state
 * machine cannot give portably (the local interpreter has no `$$.State.EnteredTime`).
 */
const DeadLetterNoticeSchema = z.object({
  dead_letter_added: z.object({
    queue: z.literal('actions'),
    kind: z.literal('action_failed'),
    action_id: z.string().min(1),
    execution_id: z.string().min(1),
    workflow_id: z.string().min(1),
    workflow_version: z.number().int().positive(),
    tenant: z.string().min(1),
    trace_id: z.string().optional(),
    error: z.string().optional(),
  }),
});

export function isDeadLetterNoticePayload(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && 'dead_letter_added' in payload;
}

/** Emits `orchestrator.dlq.added` for the notice; a payload that is not one throws, naming what is wrong. */
export async function announceDeadLetter(payload: unknown, emit: EmitEvent): Promise<{ announced: true }> {
  const parsed = DeadLetterNoticeSchema.safeParse(payload);
  if (!parsed.success) throw new Error(`not a dead-letter notice: ${zodIssues(parsed.error).map((issue) => `${issue.field}: ${issue.message}`).join('; ')}`);
  const { tenant, trace_id: traceId, ...data } = parsed.data.dead_letter_added;
  await emit({
    type: 'orchestrator.dlq.added',
    tenant,
    subject: `executions/${data.execution_id}/actions/${data.action_id}`,
    correlation_id: data.execution_id,
    ...(traceId && /^[0-9a-f]{32}$/.test(traceId) ? { trace_id: traceId } : {}),
    data,
  });
  return { announced: true };
}

/** A webhook delivery that failed for good, as its dead letter holds it. */
export interface FailedDelivery {
  readonly subscription_id: string;
  readonly event: EventEnvelope;
  readonly error: string;
  readonly attempts: number;
}

/**
 * Announces a failed delivery's dead letter as `orchestrator.dlq.added` (in the event's tenant). Not for a
 * dead-letter event itself: a subscription to dead letters whose webhook fails would otherwise feed itself
 * one announcement per failure, forever.
 */
export async function announceFailedDelivery(emit: EmitEvent, failed: FailedDelivery): Promise<void> {
  if (failed.event.type.startsWith('orchestrator.dlq.')) return;
  await emit({
    type: 'orchestrator.dlq.added',
    tenant: failed.event.tenant,
    subject: `subscriptions/${failed.subscription_id}`,
    ...(failed.event.correlation_id === undefined ? {} : { correlation_id: failed.event.correlation_id }),
    ...(failed.event.trace_id === undefined ? {} : { trace_id: failed.event.trace_id }),
    data: { queue: 'deliveries', kind: 'delivery_failed', subscription_id: failed.subscription_id, event_id: failed.event.event_id, event_type: failed.event.type, error: failed.error, attempts: failed.attempts },
  });
}
