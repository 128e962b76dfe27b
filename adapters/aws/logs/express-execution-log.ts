import { gunzipSync } from 'node:zlib';
import { FilterLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DependencyUnavailableError } from '../../../core/errors.ts';
import type { ExecutionHistory, ExecutionHistoryEvent } from '../../../core/ports.ts';
import { historyEvent } from '../stepfunctions/execution-history.ts';

/**
 * Express workflows keep no execution history in Step Functions: their CloudWatch log (level ALL, with
 * execution data) is the record. Each log line is one history event as JSON:
 * `{ id, type, details, previous_event_id, event_timestamp, execution_arn }`.
 */
export interface ExpressLogLine {
  readonly id: string | number;
  readonly type: string;
  readonly details?: Record<string, unknown>;
  readonly previous_event_id?: string | number;
  readonly event_timestamp?: string | number;
  readonly execution_arn: string;
}

/** Reads one express execution's events back from the state machines' log group. */
export class ExpressExecutionLog implements ExecutionHistory {
  private readonly client: CloudWatchLogsClient;
  private readonly logGroupName: string;

  constructor(client: CloudWatchLogsClient, logGroupName: string) {
    this.client = client;
    this.logGroupName = logGroupName;
  }

  async events(executionArn: string): Promise<ExecutionHistoryEvent[]> {
    const events: ExecutionHistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      try {
        const page = await this.client.send(
          new FilterLogEventsCommand({ logGroupName: this.logGroupName, filterPattern: `{ $.execution_arn = "${executionArn}" }`, nextToken }),
        );
        for (const line of page.events ?? []) {
          const event = historyEventFromLog(line.message);
          if (event) events.push(event.event);
        }
        nextToken = page.nextToken;
      } catch (error) {
        throw new DependencyUnavailableError(`the log of ${executionArn} could not be read: ${error instanceof Error ? error.message : String(error)}`);
      }
    } while (nextToken);
    return events.sort((a, b) => a.id - b.id);
  }
}

/** One log line as a history event and the execution it belongs to; undefined for a line that is not one. */
export function historyEventFromLog(message: string | undefined): { executionArn: string; event: ExecutionHistoryEvent } | undefined {
  if (!message) return undefined;
  let line: ExpressLogLine;
  try {
    line = JSON.parse(message) as ExpressLogLine;
  } catch {
    return undefined;
  }
  const id = Number(line.id);
  if (!Number.isInteger(id) || typeof line.type !== 'string' || typeof line.execution_arn !== 'string') return undefined;
  const previous = Number(line.previous_event_id);
  const at = Number(line.event_timestamp);
  return {
    executionArn: line.execution_arn,
    event: historyEvent({
      id,
      ...(Number.isInteger(previous) ? { previousEventId: previous } : {}),
      type: line.type,
      timestamp: new Date(Number.isFinite(at) ? at : 0).toISOString(),
      ...(line.details ? { details: line.details } : {}),
    }),
  };
}

/** A CloudWatch Logs subscription delivery: `{ awslogs: { data } }`, base64 of gzipped JSON. */
export interface LogSubscriptionDelivery {
  readonly awslogs: { readonly data: string };
}

export function isLogSubscriptionDelivery(value: unknown): value is LogSubscriptionDelivery {
  return typeof (value as { awslogs?: { data?: unknown } } | null)?.awslogs?.data === 'string';
}

/** The history events in a subscription delivery (control messages and foreign lines are dropped). */
export function eventsOfDelivery(delivery: LogSubscriptionDelivery): { executionArn: string; event: ExecutionHistoryEvent }[] {
  const payload = JSON.parse(gunzipSync(Buffer.from(delivery.awslogs.data, 'base64')).toString('utf8')) as {
    messageType?: string;
    logEvents?: { message?: string }[];
  };
  if (payload.messageType !== 'DATA_MESSAGE') return [];
  return (payload.logEvents ?? []).flatMap((line) => historyEventFromLog(line.message) ?? []);
}
