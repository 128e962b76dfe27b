import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { createDocumentClient } from '../../../../adapters/aws/dynamo/client.ts';
import { DynamoExecutionStore } from '../../../../adapters/aws/dynamo/dynamo-execution-store.ts';
import { EXECUTION_TABLE } from '../../../../adapters/aws/dynamo/execution-table.ts';
import { ExpressExecutionLog } from '../../../../adapters/aws/logs/express-execution-log.ts';
import { StepFunctionsExecutionHistory } from '../../../../adapters/aws/stepfunctions/execution-history.ts';
import type { Execution } from '../../../../core/execution/model.ts';
import { createStatusListener, NOTIFICATION_SENT, type NotificationSentEvent, type StatusChangeEvent } from '../../../../functions/workers/status-listener.ts';
import { ensureTable } from '../../../../local/tables.ts';

/**
 * The listener settling a finished run's actions from its history: the executions table is the real adapter
 * on the emulator; Step Functions' GetExecutionHistory and CloudWatch Logs' FilterLogEvents answer through
 * aws-sdk-client-mock with events in the services' own shapes.
 */

const ACCOUNT = '123456789012';
const STANDARD_ARN = (name: string) => `arn:aws:states:us-east-1:${ACCOUNT}:execution:Orch-docs:${name}`;
const EXPRESS_ARN = (name: string) => `arn:aws:states:us-east-1:${ACCOUNT}:express:Orch-docs:${name}:6f1c2a0e-1b7d-4c55-9a53-0d6f7a9f1e11`;
const clock = { now: () => '2026-11-25T12:00:00.000Z' };
const at = (second: number) => new Date(Date.UTC(2026, 10, 25, 10, 0, second));

function pendingExecution(id: string): Execution {
  return {
    execution_id: id,
    workflow_id: 'docs',
    workflow_version: 1,
    status: 'running',
    parameters: {},
    trace_id: 'a'.repeat(32),
    started_by: 'alice',
    tenant: 'default', created_at: '2026-11-25T09:59:59.000Z',
    started_at: '2026-11-25T10:00:00.000Z',
    actions: [
      { action_id: 'fetch_doc', action_type: 'service_call', status: 'running', attempts: 1, started_at: '2026-11-25T10:00:01.000Z' },
      { action_id: 'notify', action_type: 'notification', status: 'pending', attempts: 0 },
    ],
  };
}

/** The run's history as GetExecutionHistory returns it (one `<kind>EventDetails` per event). */
function apiHistory(): HistoryEvent[] {
  return [
    { id: 1, timestamp: at(0), type: 'ExecutionStarted', executionStartedEventDetails: { input: '{}' } },
    { id: 2, previousEventId: 1, timestamp: at(1), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'fetch_doc', input: '{}' } },
    { id: 3, previousEventId: 2, timestamp: at(1), type: 'TaskScheduled', taskScheduledEventDetails: { resourceType: 'lambda', resource: 'invoke', region: 'us-east-1', parameters: '{}' } },
    { id: 4, previousEventId: 3, timestamp: at(2), type: 'TaskSucceeded', taskSucceededEventDetails: { resourceType: 'lambda', resource: 'invoke', output: '{"Payload":{"status_code":200,"response":{"content":"hello"}}}' } },
    { id: 5, previousEventId: 4, timestamp: at(2), type: 'TaskStateExited', stateExitedEventDetails: { name: 'fetch_doc', output: '{"results":{"fetch_doc":{"outcome":"completed","status_code":200,"response":{"content":"hello"}}}}' } },
    { id: 6, previousEventId: 5, timestamp: at(3), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'notify', input: '{}' } },
    {
      id: 7,
      previousEventId: 6,
      timestamp: at(3),
      type: 'TaskScheduled',
      taskScheduledEventDetails: { resourceType: 'events', resource: 'putEvents', region: 'us-east-1', parameters: JSON.stringify({ Entries: [{ Detail: { message: 'Document hello analysed', severity: 'info' } }] }) },
    },
    { id: 8, previousEventId: 7, timestamp: at(4), type: 'TaskSucceeded', taskSucceededEventDetails: { resourceType: 'events', resource: 'putEvents', output: '{"Entries":[{"EventId":"evt-1"}],"FailedEntryCount":0}' } },
    { id: 9, previousEventId: 8, timestamp: at(4), type: 'TaskStateExited', stateExitedEventDetails: { name: 'notify', output: '{}' } },
    { id: 10, previousEventId: 9, timestamp: at(5), type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: '{}' } },
  ];
}

/** The same events as an express workflow's log lines (`details`, snake_case ids, epoch milliseconds). */
function logLines(executionArn: string): string[] {
  return apiHistory().map((event) => {
    const detailKey = Object.keys(event).find((key) => key.endsWith('EventDetails'))!;
    return JSON.stringify({
      id: String(event.id),
      type: event.type,
      details: event[detailKey as keyof HistoryEvent],
      previous_event_id: String(event.previousEventId ?? 0),
      event_timestamp: String(event.timestamp!.getTime()),
      execution_arn: executionArn,
    });
  });
}

function subscriptionDelivery(lines: string[]): { awslogs: { data: string } } {
  const payload = { messageType: 'DATA_MESSAGE', owner: ACCOUNT, logGroup: '/aws/vendedlogs/states/Orch-workflows', logStream: 'states/Orch-docs/2026-11-25', subscriptionFilters: ['x'], logEvents: lines.map((message, index) => ({ id: String(index), timestamp: 0, message })) };
  return { awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } };
}

function statusEvent(name: string, status: string): StatusChangeEvent {
  return {
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    time: '2026-11-25T10:00:06Z',
    detail: { executionArn: STANDARD_ARN(name), name, status, startDate: at(0).getTime(), stopDate: at(5).getTime(), output: '{"done":true}', error: null, cause: null },
  };
}

describe('status listener: settling actions from the history', () => {
  let store: DynamoExecutionStore;
  const sfn = mockClient(SFNClient);
  const logs = mockClient(CloudWatchLogsClient);

  beforeEach(async () => {
    sfn.reset();
    logs.reset();
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const client = createDocumentClient({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const tableName = `listener-${randomUUID()}`;
    await ensureTable(client, EXECUTION_TABLE, tableName);
    store = new DynamoExecutionStore(client, tableName);
  });

  const listener = () =>
    createStatusListener({
      executions: store,
      clock,
      history: { standard: new StepFunctionsExecutionHistory(new SFNClient({})), express: new ExpressExecutionLog(new CloudWatchLogsClient({}), '/aws/vendedlogs/states/Orch-workflows') },
    });

  it('records every action of a finished standard run from GetExecutionHistory (all pages), then its status', async () => {
    await store.create(pendingExecution('exec-std'));
    const events = apiHistory();
    sfn.on(GetExecutionHistoryCommand).callsFake((input: { nextToken?: string }) => (input.nextToken === 'page-2' ? { events: events.slice(5) } : { events: events.slice(0, 5), nextToken: 'page-2' }));

    const outcomes = await listener()(statusEvent('exec-std', 'SUCCEEDED'));

    expect(outcomes).toEqual([{ execution_id: 'exec-std', reported: 'SUCCEEDED', moved_to: 'completed', actions_settled: 2 }]);
    const requests = sfn.commandCalls(GetExecutionHistoryCommand).map((call) => call.args[0].input);
    expect(requests).toEqual([
      { executionArn: STANDARD_ARN('exec-std'), maxResults: 1000, nextToken: undefined, includeExecutionData: true },
      { executionArn: STANDARD_ARN('exec-std'), maxResults: 1000, nextToken: 'page-2', includeExecutionData: true },
    ]);
    const stored = await store.get('exec-std');
    expect(stored?.status).toBe('completed');
    expect(stored?.output).toEqual({ done: true });
    expect(stored?.actions).toEqual([
      { action_id: 'fetch_doc', action_type: 'service_call', status: 'completed', attempts: 1, started_at: at(1).toISOString(), ended_at: at(2).toISOString(), output: { status_code: 200, response: { content: 'hello' } } },
      {
        action_id: 'notify',
        action_type: 'notification',
        status: 'completed',
        attempts: 1,
        started_at: at(3).toISOString(),
        ended_at: at(4).toISOString(),
        output: { status_code: 200, response: { event_id: 'evt-1', message: 'Document hello analysed', severity: 'info' } },
      },
    ]);
  });

  it('reads the history once: a duplicate delivery of the end changes nothing', async () => {
    await store.create(pendingExecution('exec-dup'));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: apiHistory() });
    await listener()(statusEvent('exec-dup', 'SUCCEEDED'));
    expect(await listener()(statusEvent('exec-dup', 'SUCCEEDED'))).toEqual([{ execution_id: 'exec-dup', reported: 'SUCCEEDED' }]);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(1);
  });

  it('still records the status when the history cannot be read, settling the live progress so nothing is left running or pending', async () => {
    await store.create(pendingExecution('exec-nohistory'));
    sfn.on(GetExecutionHistoryCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const [outcome] = await listener()(statusEvent('exec-nohistory', 'FAILED'));
    expect(outcome).toMatchObject({ execution_id: 'exec-nohistory', reported: 'FAILED', moved_to: 'failed' });
    const stored = await store.get('exec-nohistory');
    expect(stored?.status).toBe('failed');
    expect(stored?.actions[0]).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(stored?.actions[0]?.reason).toContain('the run failed');
    expect(stored?.actions.filter((action) => action.status === 'pending' || action.status === 'running')).toEqual([]);
  });

  it("moves an express run along from its log subscription, and settles its actions from the log group", async () => {
    await store.create({ ...pendingExecution('exec-x'), status: 'pending', started_at: undefined } as Execution);
    const arn = EXPRESS_ARN('exec-x');
    const lines = logLines(arn);
    logs.on(FilterLogEventsCommand).resolves({ events: lines.map((message) => ({ message })) });
    const listen = listener();

    // The subscription sends only the start and end lines; other lines (and other executions) are ignored.
    expect(await listen(subscriptionDelivery([lines[0]!, lines[1]!]))).toEqual([{ execution_id: 'exec-x', reported: 'RUNNING', moved_to: 'running' }]);
    expect((await store.get('exec-x'))?.status).toBe('running');
    const outcomes = await listen(subscriptionDelivery([lines[9]!]));

    expect(outcomes).toEqual([{ execution_id: 'exec-x', reported: 'SUCCEEDED', moved_to: 'completed', actions_settled: 2 }]);
    expect(logs.commandCalls(FilterLogEventsCommand)[0]!.args[0].input).toMatchObject({ logGroupName: '/aws/vendedlogs/states/Orch-workflows', filterPattern: `{ $.execution_arn = "${arn}" }` });
    const stored = await store.get('exec-x');
    expect(stored).toMatchObject({ status: 'completed', ended_at: at(5).toISOString(), output: {} });
    expect(stored?.actions.map((action) => [action.action_id, action.status, action.attempts])).toEqual([
      ['fetch_doc', 'completed', 1],
      ['notify', 'completed', 1],
    ]);
    expect(stored?.actions[1]?.output).toEqual({ status_code: 200, response: { event_id: 'evt-1', message: 'Document hello analysed', severity: 'info' } });
  });

  it('ignores standard executions in the log (their status comes from EventBridge) and lines that are not history events', async () => {
    await store.create(pendingExecution('exec-std-log'));
    const lines = logLines(STANDARD_ARN('exec-std-log'));
    expect(await listener()(subscriptionDelivery([lines[9]!, 'not json', '{"type":"ExecutionFailed"}']))).toEqual([]);
    expect((await store.get('exec-std-log'))?.status).toBe('running');
  });
});

describe('status listener: notifications recorded as they are sent', () => {
  let store: DynamoExecutionStore;

  beforeEach(async () => {
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    const client = createDocumentClient({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const tableName = `notifications-${randomUUID()}`;
    await ensureTable(client, EXECUTION_TABLE, tableName);
    store = new DynamoExecutionStore(client, tableName);
  });

  const sent = (detail: Record<string, unknown>): NotificationSentEvent => ({
    id: 'evt-7f3a',
    source: 'orchestrator.workflows',
    'detail-type': 'Workflow Notification',
    time: '2026-11-25T10:00:03Z',
    detail: { execution_id: 'exec-n', action_id: 'notify', workflow_id: 'docs', workflow_version: 1, message: 'Document hello analysed', severity: 'info', channels: ['default'], recipients: [], ...detail } as NotificationSentEvent['detail'],
  });

  it("completes the notification action with its message and the bus's event id while the run goes on", async () => {
    await store.create(pendingExecution('exec-n'));
    const listen = createStatusListener({ executions: store, clock });
    expect(await listen(sent({}))).toEqual([{ execution_id: 'exec-n', reported: NOTIFICATION_SENT, action_id: 'notify' }]);
    const stored = await store.get('exec-n');
    expect(stored?.status).toBe('running');
    expect(stored?.actions[1]).toEqual({
      action_id: 'notify',
      action_type: 'notification',
      status: 'completed',
      attempts: 1,
      started_at: '2026-11-25T10:00:03Z',
      ended_at: '2026-11-25T10:00:03Z',
      output: { status_code: 200, response: { event_id: 'evt-7f3a', message: 'Document hello analysed', severity: 'info', channels: ['default'], recipients: [] } },
    });
    expect(stored?.actions[0]).toMatchObject({ action_id: 'fetch_doc', status: 'running' });
  });

  it('leaves a foreach item and a finished run alone', async () => {
    await store.create(pendingExecution('exec-n'));
    const listen = createStatusListener({ executions: store, clock });
    await listen(sent({ item_index: 2 }));
    expect((await store.get('exec-n'))?.actions[1]).toMatchObject({ status: 'pending', attempts: 0 });
    await store.transition('exec-n', ['running'], 'completed', { ended_at: '2026-11-25T10:00:05Z' });
    await listen(sent({}));
    expect((await store.get('exec-n'))?.actions[1]).toMatchObject({ status: 'pending', attempts: 0 });
  });
});
