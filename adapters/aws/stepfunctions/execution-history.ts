import { GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionHistory, ExecutionHistoryEvent } from '../../../core/ports.ts';
import { translateStepFunctionsError } from './errors.ts';

/** Step Functions keeps at most 25,000 events per execution; a page holds up to 1,000. */
const PAGE_SIZE = 1000;

/** A standard execution's history from GetExecutionHistory, with its data (inputs, outputs, parameters). */
export class StepFunctionsExecutionHistory implements ExecutionHistory {
  private readonly client: SFNClient;

  constructor(client: SFNClient) {
    this.client = client;
  }

  async events(executionArn: string): Promise<ExecutionHistoryEvent[]> {
    const events: ExecutionHistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      try {
        const page = await this.client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: PAGE_SIZE, nextToken, includeExecutionData: true }));
        for (const event of page.events ?? []) {
          const normalised = historyEventFromApi(event);
          if (normalised) events.push(normalised);
        }
        nextToken = page.nextToken;
      } catch (error) {
        throw translateStepFunctionsError(error, `reading the history of ${executionArn}`);
      }
    } while (nextToken);
    return events;
  }
}

/** The API spreads details over one `<kind>EventDetails` field per event type; whichever is present is read. */
export function historyEventFromApi(event: HistoryEvent): ExecutionHistoryEvent | undefined {
  if (event.id === undefined || event.type === undefined) return undefined;
  const detailKey = Object.keys(event).find((key) => key.endsWith('EventDetails') && event[key as keyof HistoryEvent] !== undefined);
  const details = (detailKey ? event[detailKey as keyof HistoryEvent] : undefined) as Record<string, unknown> | undefined;
  return historyEvent({
    id: event.id,
    previousEventId: event.previousEventId,
    type: event.type,
    timestamp: (event.timestamp ?? new Date(0)).toISOString(),
    details,
  });
}

/** Shared with the express log reader: both carry the same detail fields. */
export function historyEvent(raw: { id: number; previousEventId?: number; type: string; timestamp: string; details?: Record<string, unknown> }): ExecutionHistoryEvent {
  const text = (key: string) => (typeof raw.details?.[key] === 'string' ? (raw.details[key] as string) : undefined);
  const fields = { name: text('name'), parameters: text('parameters'), output: text('output'), error: text('error'), cause: text('cause') };
  return {
    id: raw.id,
    ...(raw.previousEventId !== undefined && raw.previousEventId !== 0 ? { previousEventId: raw.previousEventId } : {}),
    type: raw.type,
    timestamp: raw.timestamp,
    ...Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)),
  };
}
