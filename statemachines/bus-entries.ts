import type { Action } from '../core/workflow/definition.ts';
import { WORKFLOW_EVENTS } from '../core/workflow/service.ts';
import { Placeholder, type JsonObject } from './asl.ts';
import { payloadTemplate, type PathScope } from './paths.ts';

/** What compiled state machines announce on the workflow event bus: notifications (native PutEvents) and dead letters. */

/** The role of the state that announces a dead letter on the bus (`<id>: dead letter event`). */
export const DEAD_LETTER_NOTICE = 'dead letter event';

/** A notification action's event (the status listener reads it back to show the action as sent). */
export function notificationEntry(config: Extract<Action, { action_type: 'notification' }>['config'], base: JsonObject, scope: PathScope): JsonObject {
  return {
    EventBusName: Placeholder.eventBus,
    Source: WORKFLOW_EVENTS.source,
    DetailType: WORKFLOW_EVENTS.notification,
    Detail: {
      ...base,
      ...payloadTemplate({ message: config.message, title: config.title, severity: config.severity, channels: config.channels, recipients: config.recipients ?? [] }, scope),
    },
  };
}

/**
 * The `<id>: dead letter event` task's parameters: the action runner announces the dead letter as
 * `orchestrator.dlq.added` (core/events/dead-letter-notice.ts), with the workflow's tenant and the run's trace.
 */
export function deadLetterNotice(run: { readonly workflowId: string; readonly version: number; readonly tenant: string; readonly executionIdPath: string }, id: string, failureAt: string, traceIdPath: string): JsonObject {
  return {
    FunctionName: Placeholder.actionRunner,
    Payload: {
      dead_letter_added: {
        queue: 'actions',
        kind: 'action_failed',
        action_id: id,
        'execution_id.$': run.executionIdPath,
        workflow_id: run.workflowId,
        workflow_version: run.version,
        tenant: run.tenant,
        'trace_id.$': traceIdPath,
        'error.$': `${failureAt}.Error`,
      },
    },
  };
}
