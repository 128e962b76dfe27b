import { GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionHistory, ExecutionHistoryEvent } from '../../../core/ports.ts';
import { translateStepFunctionsError } from './errors.ts';
import { PART_STATE } from './names.ts';

/** Step Functions keeps at most 25,000 events per execution; a page holds up to 1,000. */
const PAGE_SIZE = 1000;

/**
 * A standard execution's history from GetExecutionHistory, with its data (inputs, outputs, parameters). A run
 * of a split workflow (ADR 0016) runs some of its actions in child executions, one per part, which its
 * machines start with `startExecution.sync` from states named `part <n>`: their histories are read too
 * (recursively) and merged into the run's, each right after the event that started it, as if the run were one
 * machine. Merged events are numbered again in that order, one execution's `previousEventId` links kept
 * within it, so events stay unique and each state's events chain as they did. A `sub_workflow` action's child
 * run is another workflow's and is not followed (its states are not this run's actions).
 */
export class StepFunctionsExecutionHistory implements ExecutionHistory {
  private readonly client: SFNClient;

  constructor(client: SFNClient) {
    this.client = client;
  }

  async events(executionArn: string): Promise<ExecutionHistoryEvent[]> {
    const merged: ExecutionHistoryEvent[] = [];
    await this.append(executionArn, merged, new Set([executionArn]));
    return merged;
  }

  /** Appends the execution's events (and its parts', after the event that reveals each) to `merged`, numbered on. */
  private async append(executionArn: string, merged: ExecutionHistoryEvent[], seen: Set<string>): Promise<void> {
    const own = await this.ownEvents(executionArn);
    const ids = new Map<number, number>();
    const parts = partExecutions(own);
    for (const event of own) {
      const id = merged.length + 1;
      ids.set(event.id, id);
      const previous = event.previousEventId === undefined ? undefined : ids.get(event.previousEventId);
      merged.push(renumbered(event, id, previous));
      const child = parts.get(event.id);
      if (child !== undefined && !seen.has(child)) {
        seen.add(child);
        await this.append(child, merged, seen);
      }
    }
  }

  /** One execution's events, oldest first. */
  private async ownEvents(executionArn: string): Promise<ExecutionHistoryEvent[]> {
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
    return events.sort((a, b) => a.id - b.id);
  }
}

/** The event under its merged id, linked to its predecessor's merged id (none for an execution's first event). */
function renumbered(event: ExecutionHistoryEvent, id: number, previousEventId: number | undefined): ExecutionHistoryEvent {
  const copy: { -readonly [K in keyof ExecutionHistoryEvent]: ExecutionHistoryEvent[K] } = { ...event, id };
  if (previousEventId === undefined) delete copy.previousEventId;
  else copy.previousEventId = previousEventId;
  return copy;
}

/** Task events that name the execution a `startExecution.sync` task started: its ARN is in their output (or cause, on failure). */
const STARTED_EXECUTION_EVENTS = new Set(['TaskSubmitted', 'TaskSucceeded', 'TaskFailed', 'TaskTimedOut', 'TaskAborted']);

/**
 * The child executions a history's `part <n>` states started, by the id of the first event that names each:
 * the task's TaskSubmitted (the child started), or its end when the submission is missing.
 */
export function partExecutions(events: readonly ExecutionHistoryEvent[]): Map<number, string> {
  const byId = new Map(events.map((event) => [event.id, event]));
  const stateOf = (event: ExecutionHistoryEvent): string | undefined => {
    let current: ExecutionHistoryEvent | undefined = event;
    for (let steps = 0; current && steps < 10_000; steps++) {
      if (current.type.endsWith('StateEntered')) return current.name;
      if (current.type.endsWith('StateExited')) return undefined;
      current = current.previousEventId === undefined ? undefined : byId.get(current.previousEventId);
    }
    return undefined;
  };
  const found = new Map<number, string>();
  const named = new Set<string>();
  for (const event of events) {
    if (!STARTED_EXECUTION_EVENTS.has(event.type)) continue;
    const child = startedExecutionArn(event.output) ?? startedExecutionArn(event.cause);
    if (child === undefined || named.has(child)) continue;
    const state = stateOf(event);
    if (state === undefined || !PART_STATE.test(state)) continue;
    named.add(child);
    found.set(event.id, child);
  }
  return found;
}

/** `ExecutionArn` of startExecution's response (TaskSubmitted) or of the DescribeExecution result (.sync:2's end). */
function startedExecutionArn(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as { ExecutionArn?: unknown } | null;
    const arn = parsed?.ExecutionArn;
    return typeof arn === 'string' && /^arn:[^:]+:states:[^:]*:[0-9]*:execution:/.test(arn) ? arn : undefined;
  } catch {
    return undefined;
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
