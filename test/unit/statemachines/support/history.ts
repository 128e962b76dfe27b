import type { ExecutionHistoryEvent } from '../../../../core/ports.ts';

/**
 * Histories as Step Functions writes them (GetExecutionHistory, or an express workflow's log): ids in order,
 * each event chained to the one before it in its branch by `previousEventId`, task events between the task
 * state's entered and exited events, a retry scheduled after the failed attempt. State names come from a real
 * compiled definition, so a change to the compiler's naming breaks these tests rather than the AWS listener.
 */
export class History {
  readonly events: ExecutionHistoryEvent[] = [];
  private second = 0;
  private readonly stateNames: ReadonlySet<string>;

  constructor(stateNames: Iterable<string>) {
    this.stateNames = new Set(stateNames);
    this.add('ExecutionStarted', undefined, {});
  }

  /** Appends an event after `after` (default: the last one) and returns its id. */
  add(type: string, after: number | undefined, fields: Partial<ExecutionHistoryEvent>): number {
    if (fields.name !== undefined && !this.stateNames.has(fields.name)) throw new Error(`the compiled machine has no state ${JSON.stringify(fields.name)}`);
    const id = this.events.length + 1;
    const previous = after ?? (id > 1 ? id - 1 : undefined);
    this.second += 1;
    this.events.push({ id, ...(previous ? { previousEventId: previous } : {}), type, timestamp: new Date(Date.UTC(2026, 10, 25, 10, 0, this.second)).toISOString(), ...fields });
    return id;
  }

  entered(kind: string, name: string, after?: number): number {
    return this.add(`${kind}StateEntered`, after, { name });
  }

  exited(kind: string, name: string, output?: unknown, after?: number): number {
    return this.add(`${kind}StateExited`, after, { name, ...(output === undefined ? {} : { output: JSON.stringify(output) }) });
  }

  /** One attempt of a task; returns the id of its last event. */
  attempt(after: number, parameters: unknown, result: { output: unknown } | { error: string; cause: string }): number {
    const scheduled = this.add('TaskScheduled', after, { parameters: JSON.stringify(parameters) });
    const started = this.add('TaskStarted', scheduled, {});
    return 'output' in result
      ? this.add('TaskSucceeded', started, { output: JSON.stringify(result.output) })
      : this.add('TaskFailed', started, { error: result.error, cause: result.cause });
  }
}
