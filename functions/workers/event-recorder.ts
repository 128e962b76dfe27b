import * as z from 'zod';
import { EventEnvelopeSchema } from '../../core/events/envelope.ts';
import type { EventHistory } from '../../core/events/history.ts';
import { sharedLog } from '../observability/logger.ts';

/**
 * The event recorder (ADR 0013): one EventBridge rule sends it every orchestrator event (source prefix
 * `/orchestrator`); it stores the envelope (the event's detail) in the history. Recording is idempotent by
 * event id (EventBridge delivers at least once). A detail that is not an envelope is logged and dropped:
 * retrying would not change it. A store failure throws, so EventBridge retries, then dead-letters.
 */
const BusEvent = z.object({ id: z.string().optional(), 'detail-type': z.string(), source: z.string(), detail: z.unknown() });

export interface EventRecorderDeps {
  readonly history: Pick<EventHistory, 'record'>;
  readonly log?: (line: Record<string, unknown>) => void;
}

export function createEventRecorder({ history, log = (line) => sharedLog({ level: 'warn', ...line }) }: EventRecorderDeps): (event: unknown) => Promise<{ recorded: boolean; event_id?: string }> {
  return async (raw) => {
    const bus = BusEvent.safeParse(raw);
    const envelope = bus.success ? EventEnvelopeSchema.safeParse(bus.data.detail) : undefined;
    if (!bus.success || !envelope?.success) {
      const issues = (bus.success ? envelope!.error! : bus.error).issues.map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`);
      log({ level: 'warn', message: 'not an event envelope; not recorded', bus_event_id: bus.success ? bus.data.id : undefined, issues });
      return { recorded: false };
    }
    await history.record(envelope.data);
    return { recorded: true, event_id: envelope.data.event_id };
  };
}
