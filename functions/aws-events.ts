import { DynamoEventHistory } from '../adapters/aws/dynamo/dynamo-event-history.ts';
import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { lazyEventBridgePublisher } from '../adapters/aws/eventbridge/event-bridge-publisher.ts';
import { createEventEmitter, type EmitEvent } from '../core/events/emitter.ts';
import { randomIds, systemClock } from '../core/system.ts';
import type { EventPublisher } from '../core/ports.ts';
import { cursorCodecOf, readLambdaConfig, required, type LambdaConfig } from './config.ts';
import { sharedLog } from './observability/logger.ts';

/**
 * Events in AWS (ADR 0013): use cases emit on the workflow event bus (EventBridge) when the function has it
 * (WORKFLOW_EVENT_BUS_NAME, from `bus: 'publish'` or the runtime stack), else nothing; a publish that fails is
 * logged and never fails the change it reports. `publisher`: the function's own, when it has one already.
 */
export function awsEventEmitter(config: LambdaConfig = readLambdaConfig(), publisher?: EventPublisher): EmitEvent {
  const bus = publisher ?? (config.WORKFLOW_EVENT_BUS_NAME === undefined ? undefined : lazyEventBridgePublisher(config.WORKFLOW_EVENT_BUS_NAME));
  return createEventEmitter({
    ...(bus === undefined ? {} : { publisher: bus }),
    clock: systemClock,
    ids: randomIds,
    onFailure: (event, error) => sharedLog({ level: 'error', message: 'event not published', event_type: event.type, event_id: event.event_id, subject: event.subject, error: String(error) }),
  });
}

/** The event history on its table (EVENTS_TABLE_NAME); `cursors` for the readers only (the recorder writes). */
export function awsEventHistory(config: LambdaConfig = readLambdaConfig(), withCursors = true): DynamoEventHistory {
  return new DynamoEventHistory(sharedDocumentClient(), required(config.EVENTS_TABLE_NAME, 'EVENTS_TABLE_NAME'), {
    retentionDays: config.ORCHESTRATOR_EVENT_RETENTION_DAYS,
    ...(withCursors ? { cursors: cursorCodecOf(config) } : {}),
  });
}
