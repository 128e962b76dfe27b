import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { StepFunctionsExecutionHistory } from '../../../../adapters/aws/stepfunctions/execution-history.ts';
import type { ExecutionHistoryEvent } from '../../../../core/ports.ts';
import { progressFromHistory } from '../../../../statemachines/progress.ts';

/**
 * A split workflow's run (ADR 0016) on Step Functions: its actions run in the root execution and in child
 * executions of its parts, so the history the status listener settles with follows the parts' starts and
 * reads theirs too. Events are in GetExecutionHistory's own shapes.
 */

const STATES = 'arn:aws:states:us-east-1:123456789012';
const ROOT = `${STATES}:execution:Orch-big:exec-1`;
const PART_1 = `${STATES}:execution:Orch_big_1:9d2c4e1a-0000-4000-8000-000000000001`;
const PART_2 = `${STATES}:execution:Orch_big_2:9d2c4e1a-0000-4000-8000-000000000002`;
const OTHER_WORKFLOW = `${STATES}:execution:Orch-other:5b1e2f3a-0000-4000-8000-000000000003`;
const at = (second: number) => new Date(Date.UTC(2026, 10, 25, 10, 0, second));
const sync = { resourceType: 'states', resource: 'startExecution.sync:2' };
const invoke = { resourceType: 'lambda', resource: 'invoke' };

/** Events numbered from 1, each after the one before it (as one branch's events are). */
function numbered(events: readonly ({ readonly type: string } & Record<string, unknown>)[]): HistoryEvent[] {
  return events.map((event, index) => ({ ...event, id: index + 1, previousEventId: index, timestamp: at(index) }) as HistoryEvent);
}

/** A service call's states: entered, each attempt scheduled (and failed but the last), succeeded, exited with its result. */
function serviceCall(name: string, failedAttempts = 0) {
  const attempts = Array.from({ length: failedAttempts }, () => [
    { type: 'TaskScheduled', taskScheduledEventDetails: { ...invoke, region: 'us-east-1', parameters: '{}' } },
    { type: 'TaskFailed', taskFailedEventDetails: { ...invoke, error: 'ServiceUnavailableError', cause: 'busy' } },
  ]).flat();
  return [
    { type: 'TaskStateEntered', stateEnteredEventDetails: { name, input: '{}' } },
    ...attempts,
    { type: 'TaskScheduled', taskScheduledEventDetails: { ...invoke, region: 'us-east-1', parameters: '{}' } },
    { type: 'TaskSucceeded', taskSucceededEventDetails: { ...invoke, output: JSON.stringify({ Payload: { status_code: 200, response: { from: name } } }) } },
    { type: 'TaskStateExited', stateExitedEventDetails: { name, output: JSON.stringify({ results: { [name]: { outcome: 'completed', status_code: 200, response: { from: name } } } }) } },
  ];
}

/** A `startExecution.sync:2` task (a part's start, or a sub_workflow action) that started `child`. */
function startsExecution(name: string, machine: string, child: string, outcome: 'succeeded' | 'failed' = 'succeeded', submitted = true) {
  const description = { ExecutionArn: child, StateMachineArn: `${STATES}:stateMachine:${machine}`, Status: outcome === 'succeeded' ? 'SUCCEEDED' : 'FAILED' };
  return [
    { type: 'TaskStateEntered', stateEnteredEventDetails: { name, input: '{}' } },
    { type: 'TaskScheduled', taskScheduledEventDetails: { ...sync, region: 'us-east-1', parameters: JSON.stringify({ StateMachineArn: `${STATES}:stateMachine:${machine}`, Input: {} }) } },
    { type: 'TaskStarted', taskStartedEventDetails: sync },
    ...(submitted ? [{ type: 'TaskSubmitted', taskSubmittedEventDetails: { ...sync, output: JSON.stringify({ ExecutionArn: child, StartDate: 1_795_600_000_000 }) } }] : []),
    outcome === 'succeeded'
      ? { type: 'TaskSucceeded', taskSucceededEventDetails: { ...sync, output: JSON.stringify({ ...description, Output: { results: {} } }) } }
      : { type: 'TaskFailed', taskFailedEventDetails: { ...sync, error: 'States.TaskFailed', cause: JSON.stringify({ ...description, Error: 'ActionFailed', Cause: 'action deep failed: ServiceRejectedError: no' }) } },
    ...(outcome === 'succeeded' ? [{ type: 'TaskStateExited', stateExitedEventDetails: { name, output: JSON.stringify({ results: {} }) } }] : []),
  ];
}

const started = { type: 'ExecutionStarted', executionStartedEventDetails: { input: '{}' } };
const succeeded = { type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: '{}' } };

const ACTIONS = [
  { action_id: 'head', action_type: 'service_call' },
  { action_id: 'deep', action_type: 'service_call' },
  { action_id: 'deeper', action_type: 'service_call' },
  { action_id: 'sub', action_type: 'sub_workflow' },
];

describe('StepFunctionsExecutionHistory: a split run', () => {
  const sfn = mockClient(SFNClient);
  const history = new StepFunctionsExecutionHistory(new SFNClient({ region: 'us-east-1' }));
  beforeEach(() => sfn.reset());

  /** The run: `head`, then part 1 (`deep`, then part 2 with `deeper`), then `sub`, a sub_workflow of another workflow. */
  function succeededRun() {
    sfn.on(GetExecutionHistoryCommand, { executionArn: ROOT }).resolves({ events: numbered([started, ...serviceCall('head'), ...startsExecution('part 1', 'Orch_big_1:1', PART_1), ...startsExecution('sub', 'Orch-other:live', OTHER_WORKFLOW), succeeded]) });
    // Part 1's history comes in two pages.
    const part1 = numbered([started, ...serviceCall('deep', 1), ...startsExecution('part 2', 'Orch_big_2:1', PART_2), succeeded]);
    sfn.on(GetExecutionHistoryCommand, { executionArn: PART_1, nextToken: undefined }).resolves({ events: part1.slice(0, 4), nextToken: 'page-2' });
    sfn.on(GetExecutionHistoryCommand, { executionArn: PART_1, nextToken: 'page-2' }).resolves({ events: part1.slice(4) });
    sfn.on(GetExecutionHistoryCommand, { executionArn: PART_2 }).resolves({ events: numbered([started, ...serviceCall('deeper'), succeeded]) });
    sfn.on(GetExecutionHistoryCommand, { executionArn: OTHER_WORKFLOW }).rejects(new Error('a sub-workflow run is not followed'));
  }

  it("reads the parts' histories (recursively, every page), not a sub_workflow's run", async () => {
    succeededRun();
    await history.events(ROOT);
    const read = sfn.commandCalls(GetExecutionHistoryCommand).map((call) => [call.args[0].input.executionArn, call.args[0].input.nextToken ?? null]);
    expect(read).toEqual([[ROOT, null], [PART_1, null], [PART_1, 'page-2'], [PART_2, null]]);
    expect(sfn.commandCalls(GetExecutionHistoryCommand).every((call) => call.args[0].input.includeExecutionData === true)).toBe(true);
  });

  it("merges each part's events right after its start, numbered on, each execution's links kept within it", async () => {
    succeededRun();
    const events = await history.events(ROOT);
    expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
    const byId = new Map(events.map((event) => [event.id, event]));
    for (const event of events) if (event.previousEventId !== undefined) expect(event.previousEventId).toBeLessThan(event.id);
    // Each execution starts once, with no predecessor; the parts' starts come right after the events that started them.
    const starts = events.filter((event) => event.type === 'ExecutionStarted');
    expect(starts).toHaveLength(3);
    expect(starts.every((event) => event.previousEventId === undefined)).toBe(true);
    const submitted = events.filter((event) => event.type === 'TaskSubmitted');
    expect(submitted.map((event) => byId.get(event.id + 1)?.type)).toEqual(['ExecutionStarted', 'ExecutionStarted', 'TaskSucceeded']);
    // `deep`'s retry chains through its failed attempt, within part 1.
    const deepEntered = events.find((event) => event.name === 'deep' && event.type === 'TaskStateEntered')!;
    const chain = (event: ExecutionHistoryEvent): number[] => (event.previousEventId === undefined ? [event.id] : [event.id, ...chain(byId.get(event.previousEventId)!)]);
    const deepExited = events.find((event) => event.name === 'deep' && event.type === 'TaskStateExited')!;
    expect(chain(deepExited)).toContain(deepEntered.id);
  });

  it('settles every action as if the run were one machine: those in parts and nested parts too', async () => {
    succeededRun();
    const progress = progressFromHistory(ACTIONS, await history.events(ROOT));
    expect(progress.map((action) => [action.action_id, action.status, action.attempts])).toEqual([
      ['head', 'completed', 1],
      ['deep', 'completed', 2],
      ['deeper', 'completed', 1],
      ['sub', 'completed', 1],
    ]);
    expect(progress.find((action) => action.action_id === 'deeper')?.output).toEqual({ status_code: 200, response: { from: 'deeper' } });
  });

  it("settles an action that failed inside a part as failed with its error, and follows a part named only by the failure's cause", async () => {
    sfn.on(GetExecutionHistoryCommand, { executionArn: ROOT }).resolves({
      events: numbered([
        started,
        ...serviceCall('head'),
        ...startsExecution('part 1', 'Orch_big_1:1', PART_1, 'failed', false),
        { type: 'PassStateEntered', stateEnteredEventDetails: { name: 'part 1: failed', input: '{}' } },
        { type: 'PassStateExited', stateExitedEventDetails: { name: 'part 1: failed', output: '{}' } },
        { type: 'FailStateEntered', stateEnteredEventDetails: { name: 'part 1: fail', input: '{}' } },
        { type: 'ExecutionFailed', executionFailedEventDetails: { error: 'ActionFailed', cause: 'action deep failed: ServiceRejectedError: no' } },
      ]),
    });
    sfn.on(GetExecutionHistoryCommand, { executionArn: PART_1 }).resolves({
      events: numbered([
        started,
        { type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'deep', input: '{}' } },
        { type: 'TaskScheduled', taskScheduledEventDetails: { ...invoke, region: 'us-east-1', parameters: '{}' } },
        { type: 'TaskFailed', taskFailedEventDetails: { ...invoke, error: 'ServiceRejectedError', cause: 'no' } },
        { type: 'TaskStateExited', stateExitedEventDetails: { name: 'deep', output: '{}' } },
        { type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'deep: failed', input: '{}' } },
        { type: 'ExecutionFailed', executionFailedEventDetails: { error: 'ActionFailed', cause: 'action deep failed: ServiceRejectedError: no' } },
      ]),
    });
    const progress = progressFromHistory(ACTIONS, await history.events(ROOT), true);
    expect(progress.find((action) => action.action_id === 'head')?.status).toBe('completed');
    expect(progress.find((action) => action.action_id === 'deep')).toMatchObject({ status: 'failed', attempts: 1, error: { error: 'ServiceRejectedError', cause: 'no' } });
    expect(progress.find((action) => action.action_id === 'deeper')?.status).toBe('pending');
  });

  it('reads a run of a workflow in one machine as before: its own history only', async () => {
    sfn.on(GetExecutionHistoryCommand).resolves({ events: numbered([started, ...serviceCall('head'), succeeded]) });
    const events = await history.events(ROOT);
    expect(events.map((event) => [event.id, event.previousEventId ?? null, event.type])).toEqual([
      [1, null, 'ExecutionStarted'],
      [2, 1, 'TaskStateEntered'],
      [3, 2, 'TaskScheduled'],
      [4, 3, 'TaskSucceeded'],
      [5, 4, 'TaskStateExited'],
      [6, 5, 'ExecutionSucceeded'],
    ]);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(1);
  });
});
