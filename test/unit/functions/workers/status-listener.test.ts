import { describe, expect, it, vi } from 'vitest';
import { canMove, type ActionProgress, type Execution, type ExecutionStatus } from '../../../../core/execution/model.ts';
import type { AttemptOutcome, ExecutionListQuery, ExecutionStore } from '../../../../core/ports.ts';
import { createStatusListener, MAX_STORED_OUTPUT_BYTES, type StatusChangeEvent } from '../../../../functions/workers/status-listener.ts';
import { InProcessDependencyGates } from '../../../../adapters/local/in-process-gates.ts';
import { configureSharedLog } from '../../../../functions/observability/logger.ts';

/**
 * An in-memory ExecutionStore that keeps the port's contract (a transition happens only from one of the given
 * statuses, atomically) and, stricter than the port, refuses a transition the execution model does not allow:
 * a listener asking for one would be a bug.
 */
class InMemoryExecutionStore implements ExecutionStore {
  readonly items = new Map<string, Execution>();
  readonly transitions: Array<{ id: string; from: readonly ExecutionStatus[]; to: ExecutionStatus; applied: boolean }> = [];

  async create(execution: Execution) {
    const existing = this.items.get(execution.execution_id);
    if (existing) return { execution: existing, created: false };
    this.items.set(execution.execution_id, execution);
    return { execution, created: true };
  }

  async get(executionId: string) {
    return this.items.get(executionId);
  }

  async updateAction(executionId: string, progress: ActionProgress) {
    const execution = this.items.get(executionId);
    if (!execution) throw new Error(`no execution ${executionId}`);
    this.items.set(executionId, { ...execution, actions: execution.actions.map((action) => (action.action_id === progress.action_id ? progress : action)) });
  }

  async startAttempt(executionId: string, actionId: string, at: string) {
    this.updateUnfinishedAction(executionId, actionId, (action) => ({ ...action, status: 'running', attempts: action.attempts + 1, started_at: action.started_at ?? at, error: undefined }));
  }

  async finishAttempt(executionId: string, actionId: string, outcome: AttemptOutcome) {
    this.updateUnfinishedAction(executionId, actionId, (action) => ({ ...action, ...outcome, ...('output' in outcome ? { error: undefined } : { output: undefined }) }));
  }

  private updateUnfinishedAction(executionId: string, actionId: string, change: (action: ActionProgress) => ActionProgress) {
    const execution = this.items.get(executionId);
    if (!execution || (execution.status !== 'pending' && execution.status !== 'running')) return;
    this.items.set(executionId, { ...execution, actions: execution.actions.map((action) => (action.action_id === actionId ? change(action) : action)) });
  }

  async transition(executionId: string, from: readonly ExecutionStatus[], status: ExecutionStatus, fields: Partial<Pick<Execution, 'started_at' | 'ended_at' | 'output' | 'error'>> = {}) {
    for (const source of from) if (!canMove(source, status)) throw new Error(`illegal transition requested: ${source} -> ${status}`);
    const execution = this.items.get(executionId);
    const applied = execution !== undefined && from.includes(execution.status);
    this.transitions.push({ id: executionId, from, to: status, applied });
    if (applied) this.items.set(executionId, { ...execution, ...fields, status });
    return applied;
  }

  async list(_query: ExecutionListQuery) {
    return { items: [...this.items.values()] };
  }

  async reopen(): Promise<boolean> {
    throw new Error('the status listener never reopens a run');
  }

  async saveCheckpoint(): Promise<void> {
    throw new Error('the status listener keeps no checkpoints');
  }

  async checkpoints(): Promise<Map<string, unknown>> {
    throw new Error('the status listener keeps no checkpoints');
  }

  async *unfinished() {
    for (const execution of this.items.values()) if (execution.status === 'pending' || execution.status === 'running') yield execution;
  }
}

const clock = { now: () => '2026-11-25T12:00:00.000Z' };
const START = Date.parse('2026-11-25T10:00:00.000Z');
const STOP = Date.parse('2026-11-25T10:05:00.000Z');

function pending(id = 'exec-1'): Execution {
  return {
    execution_id: id,
    workflow_id: 'orders',
    workflow_version: 1,
    status: 'pending',
    parameters: { amount: 42 },
    trace_id: '0'.repeat(32),
    started_by: 'alice',
    tenant: 'default', created_at: '2026-11-25T09:59:59.000Z',
    actions: [{ action_id: 'charge', action_type: 'service_call', status: 'pending', attempts: 0 }],
  };
}

function event(status: string, detail: Partial<StatusChangeEvent['detail']> = {}): StatusChangeEvent {
  return {
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    time: '2026-11-25T10:05:01Z',
    detail: {
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Orch-orders:exec-1',
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Orch-orders',
      name: 'exec-1',
      status,
      startDate: START,
      stopDate: status === 'RUNNING' ? null : STOP,
      output: null,
      error: null,
      cause: null,
      ...detail,
    },
  };
}

async function setup(initial: Execution | null = pending()) {
  const store = new InMemoryExecutionStore();
  if (initial) await store.create(initial);
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  return { store, listen: createStatusListener({ executions: store, clock }) };
}

describe('status listener', () => {
  it('moves a pending execution to running on RUNNING, with the start time Step Functions reports', async () => {
    const { store, listen } = await setup();
    await expect(listen(event('RUNNING'))).resolves.toEqual([{ execution_id: 'exec-1', reported: 'RUNNING', moved_to: 'running' }]);
    expect(store.items.get('exec-1')).toMatchObject({ status: 'running', started_at: '2026-11-25T10:00:00.000Z' });
  });

  it('completes a running execution on SUCCEEDED, storing the parsed output and the stop time', async () => {
    const { store, listen } = await setup();
    await listen(event('RUNNING'));
    const output = { params: { amount: 42 }, results: { charge: { outcome: 'completed', status_code: 200, response: { id: 7 } } }, failures: {} };
    await listen(event('SUCCEEDED', { output: JSON.stringify(output) }));
    expect(store.items.get('exec-1')).toMatchObject({ status: 'completed', ended_at: '2026-11-25T10:05:00.000Z', output });
    expect(store.items.get('exec-1')?.error).toBeUndefined();
  });

  it('fails a running execution on FAILED, naming the action from the ActionFailed cause', async () => {
    const { store, listen } = await setup();
    await listen(event('RUNNING'));
    const cause = 'action charge failed: ServiceUnavailableError: {"message":"payments answered 503"}';
    await listen(event('FAILED', { error: 'ActionFailed', cause }));
    expect(store.items.get('exec-1')).toMatchObject({ status: 'failed', ended_at: '2026-11-25T10:05:00.000Z', error: { action_id: 'charge', error: 'ActionFailed', cause } });
  });

  it("reads the ActionFailed cause out of the Lambda error the failure gate ends the run with", async () => {
    const { store, listen } = await setup();
    await listen(event('RUNNING'));
    const cause = 'action charge failed: ServiceUnavailableError: {"message":"payments answered 503"}';
    await listen(event('FAILED', { error: 'ActionFailed', cause: JSON.stringify({ errorType: 'ActionFailed', errorMessage: cause, trace: ['ActionFailedError: at gate'] }) }));
    expect(store.items.get('exec-1')).toMatchObject({ status: 'failed', error: { action_id: 'charge', error: 'ActionFailed', cause } });
  });

  it('fails without an action when the failure is not an action (a compensated saga, a runtime error)', async () => {
    const { store, listen } = await setup();
    await listen(event('RUNNING'));
    await listen(event('FAILED', { error: 'WorkflowCompensated', cause: 'an action with on_failure compensate failed' }));
    expect(store.items.get('exec-1')?.error).toEqual({ error: 'WorkflowCompensated', cause: 'an action with on_failure compensate failed' });
  });

  it('marks a running execution timed_out on TIMED_OUT', async () => {
    const { store, listen } = await setup();
    await listen(event('RUNNING'));
    await listen(event('TIMED_OUT'));
    expect(store.items.get('exec-1')).toMatchObject({ status: 'timed_out', error: { error: 'States.Timeout', cause: 'the execution timed out' } });
  });

  it('cancels a running execution on ABORTED, keeping the reason the engine stopped it with', async () => {
    const { store, listen } = await setup();
    await listen(event('RUNNING'));
    await listen(event('ABORTED', { error: 'Cancelled', cause: 'cancelled by alice' }));
    expect(store.items.get('exec-1')).toMatchObject({ status: 'cancelled', error: { error: 'Cancelled', cause: 'cancelled by alice' } });
  });

  it('leaves an execution the cancel route already cancelled as it is when ABORTED arrives', async () => {
    const { store, listen } = await setup();
    await listen(event('RUNNING'));
    await store.transition('exec-1', ['running'], 'cancelled', { ended_at: '2026-11-25T10:04:00.000Z', error: { error: 'Cancelled', cause: 'cancelled by bob' } });
    await expect(listen(event('ABORTED', { error: 'Cancelled', cause: 'cancelled by bob' }))).resolves.toEqual([{ execution_id: 'exec-1', reported: 'ABORTED' }]);
    expect(store.items.get('exec-1')).toMatchObject({ status: 'cancelled', ended_at: '2026-11-25T10:04:00.000Z' });
  });

  it('does not move a completed execution back when a late RUNNING event arrives after SUCCEEDED', async () => {
    const { store, listen } = await setup();
    await listen(event('RUNNING'));
    await listen(event('SUCCEEDED', { output: '{"done":true}' }));
    await expect(listen(event('RUNNING'))).resolves.toEqual([{ execution_id: 'exec-1', reported: 'RUNNING' }]);
    expect(store.items.get('exec-1')).toMatchObject({ status: 'completed', output: { done: true } });
  });

  it('completes an execution whose SUCCEEDED event arrives before its RUNNING event, through running (legal moves only)', async () => {
    const { store, listen } = await setup();
    await expect(listen(event('SUCCEEDED', { output: '{"done":true}' }))).resolves.toMatchObject([{ moved_to: 'completed' }]);
    expect(store.items.get('exec-1')).toMatchObject({ status: 'completed', started_at: '2026-11-25T10:00:00.000Z', ended_at: '2026-11-25T10:05:00.000Z' });
    await listen(event('RUNNING'));
    expect(store.items.get('exec-1')?.status).toBe('completed');
  });

  it('applies a duplicate delivery once', async () => {
    const { store, listen } = await setup();
    await listen(event('RUNNING'));
    await listen(event('FAILED', { error: 'ActionFailed', cause: 'action charge failed: x: y' }));
    await expect(listen(event('FAILED', { error: 'ActionFailed', cause: 'action charge failed: x: y' }))).resolves.toEqual([{ execution_id: 'exec-1', reported: 'FAILED' }]);
    expect(store.transitions.filter((transition) => transition.applied).map((transition) => transition.to)).toEqual(['running', 'failed']);
  });

  it('ignores executions the store does not hold (a sub-workflow run Step Functions named itself)', async () => {
    const { store, listen } = await setup(null);
    await expect(listen(event('SUCCEEDED', { name: 'f3c1-child-run', output: '{}' }))).resolves.toEqual([{ execution_id: 'f3c1-child-run', reported: 'SUCCEEDED' }]);
    expect(store.items.size).toBe(0);
  });

  it('ignores statuses without an execution status (PENDING_REDRIVE)', async () => {
    const { store, listen } = await setup();
    await expect(listen(event('PENDING_REDRIVE'))).resolves.toEqual([{ execution_id: 'exec-1', reported: 'PENDING_REDRIVE' }]);
    expect(store.transitions).toEqual([]);
  });

  it('stores no output when Step Functions left it out of the event (too large), and a preview of one over the store limit', async () => {
    const { store, listen } = await setup();
    await listen(event('SUCCEEDED', { output: null, outputDetails: { included: false } }));
    expect(store.items.get('exec-1')?.output).toBeUndefined();

    await store.create(pending('exec-2'));
    const big = JSON.stringify({ blob: 'x'.repeat(MAX_STORED_OUTPUT_BYTES) });
    await listen(event('SUCCEEDED', { name: 'exec-2', output: big }));
    expect(store.items.get('exec-2')?.output).toMatchObject({ truncated: true, size_bytes: big.length });
  });

  it('uses the clock when the event carries no times', async () => {
    const { store, listen } = await setup();
    const bare = event('RUNNING', { startDate: null });
    delete bare.time;
    await listen(bare);
    expect(store.items.get('exec-1')?.started_at).toBe('2026-11-25T12:00:00.000Z');
  });

  it('refuses an event that is not a Step Functions status change (a misrouted rule), so it reaches the dead-letter queue', async () => {
    const { listen } = await setup();
    const wrong = { ...event('RUNNING'), 'detail-type': 'Something Else' } as unknown as StatusChangeEvent;
    await expect(listen(wrong)).rejects.toThrow(/not a Step Functions execution status change/);
  });

  describe('dependency gates of an ended run', () => {
    async function gated() {
      const store = new InMemoryExecutionStore();
      await store.create(pending());
      vi.spyOn(console, 'info').mockImplementation(() => undefined);
      const gates = new InProcessDependencyGates(clock);
      // deploy's gate: build arrived; a wait with a new token would be released at once while the gate is kept.
      await gates.arrive('exec-1', 'deploy', ['build'], 'build', 1);
      const kept = async () => (await gates.wait('exec-1', 'deploy', ['build'], `probe-${Math.random()}`)) !== undefined;
      return { store, gates, kept, listen: createStatusListener({ executions: store, clock, gates }) };
    }

    it('removes them when the run completed', async () => {
      const { listen, kept } = await gated();
      await listen(event('RUNNING'));
      await listen(event('SUCCEEDED', { output: '{}' }));
      expect(await kept()).toBe(false);
    });

    it.each(['FAILED', 'TIMED_OUT', 'ABORTED'])('keeps them when the run ended %s, which a retry (redrive) goes on from', async (status) => {
      const { listen, kept } = await gated();
      await listen(event('RUNNING'));
      await listen(event(status));
      expect(await kept()).toBe(true);
    });

    it('records the end even when they cannot be removed', async () => {
      const { store, gates, listen } = await gated();
      vi.spyOn(gates, 'forget').mockRejectedValue(new Error('DynamoDB is unavailable'));
      const lines: string[] = [];
      configureSharedLog({ destination: (line) => void lines.push(line) });
      try {
        await listen(event('RUNNING'));
        await expect(listen(event('SUCCEEDED', { output: '{}' }))).resolves.toEqual([{ execution_id: 'exec-1', reported: 'SUCCEEDED', moved_to: 'completed' }]);
      } finally {
        configureSharedLog({});
      }
      expect(store.items.get('exec-1')?.status).toBe('completed');
      expect(lines.join('\n')).toContain('dependency gates of the ended run not removed');
    });
  });

  it('throws when the store cannot be written, so Lambda retries the event', async () => {
    const { store, listen } = await setup();
    vi.spyOn(store, 'transition').mockRejectedValue(new Error('DynamoDB is unavailable'));
    await expect(listen(event('RUNNING'))).rejects.toThrow(/unavailable/);
  });
});
