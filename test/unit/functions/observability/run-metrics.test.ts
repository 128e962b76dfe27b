import { describe, expect, it } from 'vitest';
import type { EmitEvent } from '../../../../core/events/emitter.ts';
import { newEvent, type EventEnvelope, type NewEvent } from '../../../../core/events/envelope.ts';
import { withRunEvents } from '../../../../core/events/run-events.ts';
import { ActionErrorName } from '../../../../core/errors.ts';
import type { ActionProgress, Execution, ExecutionStatus } from '../../../../core/execution/model.ts';
import type { AttemptOutcome, Clock, ExecutionStore } from '../../../../core/ports.ts';
import { noopMetrics, type MetricsRecorder } from '../../../../functions/observability/metric-recorder.ts';
import { createPrometheusMetrics } from '../../../../functions/observability/metrics.ts';
import { MAX_TRACKED_RUNS, meteredEmit, meteredRunner } from '../../../../functions/observability/run-metrics.ts';
import type { ActionRunner } from '../../../../functions/workers/action-runner.ts';
import { ServiceCallError } from '../../../../functions/workers/service-call-errors.ts';
import { readScrape } from './metrics-text.ts';

/**
 * Runs and actions measured from the events core/events/run-events.ts really emits: a store of runs decorated
 * by withRunEvents, whose emitter is metered, and whose events are stamped as envelopes by newEvent.
 */

/** Just enough of the port for the changes run-events.ts turns into events. */
class MemoryExecutionStore implements ExecutionStore {
  readonly items = new Map<string, Execution>();
  async create(execution: Execution) {
    this.items.set(execution.execution_id, execution);
    return { execution, created: true };
  }
  async get(executionId: string) {
    return this.items.get(executionId);
  }
  async updateAction(executionId: string, progress: ActionProgress) {
    this.change(executionId, (action) => (action.action_id === progress.action_id ? progress : action));
  }
  async startAttempt(executionId: string, actionId: string, at: string) {
    this.change(executionId, (action) => (action.action_id === actionId ? { ...action, status: 'running', attempts: action.attempts + 1, started_at: action.started_at ?? at } : action));
  }
  async finishAttempt(executionId: string, actionId: string, outcome: AttemptOutcome) {
    this.change(executionId, (action) => (action.action_id === actionId ? { ...action, ...outcome } : action));
  }
  async transition(executionId: string, from: readonly ExecutionStatus[], status: ExecutionStatus, fields: Partial<Execution> = {}) {
    const execution = this.items.get(executionId);
    if (!execution || !from.includes(execution.status)) return false;
    this.items.set(executionId, { ...execution, ...fields, status });
    return true;
  }
  async reopen(execution: Execution, _redrive: unknown, actions: readonly ActionProgress[]) {
    this.items.set(execution.execution_id, { ...execution, status: 'running', actions });
    return true;
  }
  list(): never {
    throw new Error('not used');
  }
  unfinished(): never {
    throw new Error('not used');
  }
  saveCheckpoint(): never {
    throw new Error('not used');
  }
  checkpoints(): never {
    throw new Error('not used');
  }
  private change(executionId: string, update: (action: ActionProgress) => ActionProgress) {
    const execution = this.items.get(executionId)!;
    this.items.set(executionId, { ...execution, actions: execution.actions.map(update) });
  }
}

function pending(executionId: string, actions: Array<Pick<ActionProgress, 'action_id' | 'action_type'>>): Execution {
  return {
    execution_id: executionId,
    workflow_id: 'wf-1',
    workflow_version: 1,
    status: 'pending',
    parameters: {},
    trace_id: 'a'.repeat(32),
    started_by: 'alice',
    tenant: 'default',
    created_at: '2026-11-01T10:00:00.000Z',
    actions: actions.map((action) => ({ ...action, status: 'pending', attempts: 0 })),
  };
}

/** A clock for the envelopes' stamps, and a monotonic clock the test moves. */
const clock: Clock = { now: () => '2026-11-01T10:00:00.000Z' };
let monotonic = 0;
let ids = 0;

/** The bus side: every event stamped into its envelope, as createEventEmitter does, and kept. */
function recordingEmitter(): { emit: EmitEvent; received: NewEvent[]; envelopes: EventEnvelope[] } {
  const received: NewEvent[] = [];
  const envelopes: EventEnvelope[] = [];
  const emit: EmitEvent = async (event) => {
    received.push(event);
    envelopes.push(newEvent(event, clock, { next: () => `id-${++ids}` }));
  };
  return { emit, received, envelopes };
}

function setup(recorder?: MetricsRecorder, options: Parameters<typeof meteredEmit>[2] = {}) {
  const metrics = createPrometheusMetrics();
  const bus = recordingEmitter();
  const store = new MemoryExecutionStore();
  const runs = withRunEvents(store, meteredEmit(bus.emit, recorder ?? metrics, { monotonicNow: () => monotonic, ...options }));
  return { metrics, bus, store, runs };
}

describe("an action's events", () => {
  it('are sent even when the run is read between the write and the event (a read refreshes what the wrapper knows)', async () => {
    const { bus, store, runs } = setup();
    await runs.create(pending('exec-read', [{ action_id: 'shape', action_type: 'transform' }]));
    await runs.transition('exec-read', ['pending'], 'running', { started_at: '2026-11-01T10:00:00.000Z' });
    // A poll of the run lands right after each write, before the wrapper compares what changed.
    const write = store.updateAction.bind(store);
    store.updateAction = async (executionId, progress) => {
      await write(executionId, progress);
      await runs.get(executionId);
    };
    await runs.updateAction('exec-read', { action_id: 'shape', action_type: 'transform', status: 'running', attempts: 1 });
    await runs.updateAction('exec-read', { action_id: 'shape', action_type: 'transform', status: 'completed', attempts: 1, ended_at: '2026-11-01T10:00:01.000Z' });
    expect(bus.envelopes.map((event) => event.type)).toEqual(['orchestrator.run.requested', 'orchestrator.run.started', 'orchestrator.action.started', 'orchestrator.action.completed']);
  });
});

describe('runs and actions measured from their events', () => {
  it('count a run started and completed, with its duration from the events\' own times, and its actions by type', async () => {
    const { metrics, bus, runs } = setup();
    await runs.create(pending('exec-1', [{ action_id: 'fetch', action_type: 'service_call' }, { action_id: 'pause', action_type: 'wait' }]));
    await runs.transition('exec-1', ['pending'], 'running', { started_at: '2026-11-01T10:00:00.000Z' });
    monotonic = 1000;
    await runs.updateAction('exec-1', { action_id: 'fetch', action_type: 'service_call', status: 'running', attempts: 1 });
    monotonic = 3500;
    await runs.updateAction('exec-1', { action_id: 'fetch', action_type: 'service_call', status: 'completed', attempts: 1, ended_at: '2026-11-01T10:00:04.000Z', output: { status_code: 200, response: {} } });
    await runs.updateAction('exec-1', { action_id: 'pause', action_type: 'wait', status: 'not_run', attempts: 0, reason: 'the run ended first' });
    await runs.transition('exec-1', ['running'], 'completed', { ended_at: '2026-11-01T10:00:05.000Z' });

    expect(bus.envelopes.map((event) => event.type)).toEqual([
      'orchestrator.run.requested',
      'orchestrator.run.started',
      'orchestrator.action.started',
      'orchestrator.action.completed',
      'orchestrator.action.skipped',
      'orchestrator.run.completed',
    ]);
    const scrape = readScrape(await metrics.render());
    expect(scrape.value('orchestrator_runs_started_total')).toBe(1);
    expect(scrape.value('orchestrator_runs_ended_total', { status: 'completed' })).toBe(1);
    // 10:00:00 to 10:00:05 on the events' clock.
    expect(scrape.histogram('orchestrator_run_duration_seconds', { status: 'completed' })).toMatchObject({ count: 1, sum: 5 });
    expect(scrape.value('orchestrator_actions_ended_total', { type: 'service_call', status: 'completed' })).toBe(1);
    // The action's start carried no time: both ends on the monotonic clock (1000 ms to 3500 ms), never mixed.
    expect(scrape.histogram('orchestrator_action_duration_seconds', { type: 'service_call', status: 'completed' })).toMatchObject({ count: 1, sum: 2.5 });
    // Skipped without having started: counted, no duration.
    expect(scrape.value('orchestrator_actions_ended_total', { type: 'wait', status: 'skipped' })).toBe(1);
    expect(scrape.histogram('orchestrator_action_duration_seconds', { type: 'wait', status: 'skipped' })).toBeUndefined();
  });

  it('time attempts from their recorded start and end, typing them as told when the events do not say', async () => {
    const { metrics, runs } = setup(undefined, { defaultActionType: 'service_call' });
    await runs.create(pending('exec-2', [{ action_id: 'charge', action_type: 'service_call' }]));
    await runs.transition('exec-2', ['pending'], 'running', { started_at: '2026-11-01T10:00:00.000Z' });
    await runs.startAttempt('exec-2', 'charge', '2026-11-01T10:00:01.000Z');
    // A retryable failure: the action goes on running; the next attempt's start does not restart its clock.
    await runs.finishAttempt('exec-2', 'charge', { status: 'running', ended_at: '2026-11-01T10:00:02.000Z', error: { error: ActionErrorName.ServiceUnavailable, cause: '503' } });
    await runs.startAttempt('exec-2', 'charge', '2026-11-01T10:00:03.000Z');
    await runs.finishAttempt('exec-2', 'charge', { status: 'failed', ended_at: '2026-11-01T10:00:04.500Z', error: { error: ActionErrorName.ServiceRejected, cause: '400' } });
    await runs.transition('exec-2', ['running'], 'failed', { ended_at: '2026-11-01T10:00:05.000Z', error: { error: 'ActionFailed', cause: 'action charge failed' } });
    const scrape = readScrape(await metrics.render());
    expect(scrape.value('orchestrator_actions_ended_total', { type: 'service_call', status: 'failed' })).toBe(1);
    expect(scrape.histogram('orchestrator_action_duration_seconds', { type: 'service_call', status: 'failed' })).toMatchObject({ count: 1, sum: 3.5 });
    expect(scrape.value('orchestrator_runs_ended_total', { status: 'failed' })).toBe(1);
    expect(scrape.histogram('orchestrator_run_duration_seconds', { status: 'failed' })).toMatchObject({ count: 1, sum: 5 });
  });

  it('count a cancelled run and a run whose start this process never saw, without a duration for the latter', async () => {
    const { metrics, runs, store } = setup();
    await runs.create(pending('exec-3', []));
    await runs.transition('exec-3', ['pending'], 'cancelled', { ended_at: '2026-11-01T10:00:01.000Z', error: { error: 'Cancelled', cause: 'cancelled by alice' } });
    // Started by another process (another Lambda container): only its end is seen here.
    await store.create({ ...pending('exec-4', []), status: 'running', started_at: '2026-11-01T09:00:00.000Z' });
    await runs.transition('exec-4', ['running'], 'timed_out', { ended_at: '2026-11-01T10:00:00.000Z' });
    const scrape = readScrape(await metrics.render());
    expect(scrape.value('orchestrator_runs_started_total')).toBe(0);
    expect(scrape.value('orchestrator_runs_ended_total', { status: 'cancelled' })).toBe(1);
    expect(scrape.value('orchestrator_runs_ended_total', { status: 'timed_out' })).toBe(1);
    expect(scrape.histogram('orchestrator_run_duration_seconds', { status: 'timed_out' })).toBeUndefined();
  });

  it('time a retried run from its retry, not from its first start', async () => {
    const { metrics, runs, store } = setup();
    await runs.create(pending('exec-5', [{ action_id: 'a', action_type: 'service_call' }]));
    await runs.transition('exec-5', ['pending'], 'running', { started_at: '2026-11-01T08:00:00.000Z' });
    await runs.transition('exec-5', ['running'], 'failed', { ended_at: '2026-11-01T09:00:00.000Z' });
    monotonic = 10_000;
    const failed = store.items.get('exec-5')!;
    await runs.reopen(failed, { at: '2026-11-01T10:00:00.000Z', by: 'alice', from_status: 'failed' }, failed.actions);
    monotonic = 14_000;
    await runs.transition('exec-5', ['running'], 'completed', {});
    const scrape = readScrape(await metrics.render());
    expect(scrape.histogram('orchestrator_run_duration_seconds', { status: 'failed' })).toMatchObject({ count: 1, sum: 3600 });
    expect(scrape.histogram('orchestrator_run_duration_seconds', { status: 'completed' })).toMatchObject({ count: 1, sum: 4 });
  });

  it('pass every event on unchanged, the same object, even when the recorder throws', async () => {
    const throwing: MetricsRecorder = {
      ...noopMetrics,
      runStarted: () => {
        throw new Error('recorder down');
      },
      runEnded: () => {
        throw new Error('recorder down');
      },
    };
    const forwarded: NewEvent[] = [];
    const emit = meteredEmit(async (event) => {
      forwarded.push(event);
    }, throwing);
    const events: NewEvent[] = [
      { type: 'orchestrator.run.started', tenant: 'default', subject: 'executions/x', data: { execution_id: 'x', workflow_id: 'wf', started_at: 'not a time' } },
      { type: 'orchestrator.run.completed', tenant: 'default', data: { execution_id: 'x' } },
      { type: 'orchestrator.action.completed', tenant: 'default', data: { execution_id: 42, action_id: null } },
      { type: 'orchestrator.workflow.created', tenant: 'default', data: {} },
    ];
    for (const event of events) await expect(emit(event)).resolves.toBeUndefined();
    expect(forwarded).toHaveLength(events.length);
    forwarded.forEach((event, index) => expect(event).toBe(events[index]));
  });

  it('propagate what the emitter does, and forget the oldest runs past its bound', async () => {
    const rejecting = meteredEmit(() => Promise.reject(new Error('bus down')), noopMetrics);
    await expect(rejecting({ type: 'orchestrator.run.started', tenant: 'default', data: {} })).rejects.toThrow('bus down');

    const metrics = createPrometheusMetrics();
    const emit = meteredEmit(async () => undefined, metrics, { monotonicNow: () => 0 });
    for (let index = 0; index <= MAX_TRACKED_RUNS; index++) await emit({ type: 'orchestrator.run.started', tenant: 'default', data: { execution_id: `run-${index}`, started_at: '2026-11-01T10:00:00.000Z' } });
    await emit({ type: 'orchestrator.run.completed', tenant: 'default', data: { execution_id: 'run-0', ended_at: '2026-11-01T10:00:01.000Z' } });
    await emit({ type: 'orchestrator.run.completed', tenant: 'default', data: { execution_id: `run-${MAX_TRACKED_RUNS}`, ended_at: '2026-11-01T10:00:01.000Z' } });
    const scrape = readScrape(await metrics.render());
    expect(scrape.value('orchestrator_runs_started_total')).toBe(MAX_TRACKED_RUNS + 1);
    expect(scrape.value('orchestrator_runs_ended_total', { status: 'completed' })).toBe(2);
    // The first run was forgotten: only the newest one has a duration.
    expect(scrape.histogram('orchestrator_run_duration_seconds', { status: 'completed' })).toMatchObject({ count: 1, sum: 1 });
  });
});

describe('service calls measured around the action runner', () => {
  const payload = { service: 'payments', action_id: 'charge', execution_id: 'exec-1' };

  it('count a call that answered, by service, with its duration', async () => {
    const metrics = createPrometheusMetrics();
    let now = 0;
    const runner: ActionRunner = async () => {
      now += 250;
      return { status_code: 201, headers: {}, response: { ok: true } };
    };
    await expect(meteredRunner(runner, metrics, () => now)(payload)).resolves.toEqual({ status_code: 201, headers: {}, response: { ok: true } });
    const scrape = readScrape(await metrics.render());
    expect(scrape.value('orchestrator_service_calls_total', { service: 'payments', outcome: 'ok', error: 'none' })).toBe(1);
    expect(scrape.histogram('orchestrator_service_call_duration_seconds', { service: 'payments' })).toMatchObject({ count: 1, sum: 0.25 });
  });

  it('count a failed call by its error name and rethrow the same error', async () => {
    const metrics = createPrometheusMetrics();
    const failure = new ServiceCallError(ActionErrorName.ServiceThrottled, { message: 'payments answered 429', status_code: 429, request: { service: 'payments', method: 'POST', url: null, headers: {} } });
    const seen: Array<[string, string, string | undefined, number | undefined]> = [];
    const spy: MetricsRecorder = { ...noopMetrics, serviceCall: (service, outcome, error, status) => seen.push([service, outcome, error, status]) };
    const metered = meteredRunner(async () => Promise.reject(failure), { ...metrics, serviceCall: (...args) => (spy.serviceCall(...args), metrics.serviceCall(...args)) });
    await expect(metered(payload)).rejects.toBe(failure);
    // A payload that is not one (no service): still counted, as `unknown`.
    await expect(meteredRunner(async () => Promise.reject(new TypeError('bad payload')), metrics)(null)).rejects.toThrow('bad payload');
    expect(seen).toEqual([['payments', 'error', 'ServiceThrottledError', 429]]);
    const scrape = readScrape(await metrics.render());
    expect(scrape.value('orchestrator_service_calls_total', { service: 'payments', outcome: 'error', error: 'ServiceThrottledError' })).toBe(1);
    expect(scrape.value('orchestrator_service_calls_total', { service: 'unknown', outcome: 'error', error: 'other' })).toBe(1);
  });

  it('never turns a recorder failure into a failed call', async () => {
    const broken: MetricsRecorder = {
      ...noopMetrics,
      serviceCall: () => {
        throw new Error('recorder down');
      },
    };
    await expect(meteredRunner(async () => ({ status_code: 200, headers: {}, response: null }), broken)(payload)).resolves.toMatchObject({ status_code: 200 });
  });
});
