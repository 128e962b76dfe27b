import { describe, expect, it } from 'vitest';
import type { Execution } from '../../../../core/execution/model.ts';
import type { ExecutionStore } from '../../../../core/ports.ts';
import { runSpans, withRunSpans } from '../../../../core/observability/run-spans.ts';
import { actionSpanId, runSpanId, type Span } from '../../../../core/observability/spans.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function run(overrides: Partial<Execution> = {}): Execution {
  return {
    execution_id: 'ex-1',
    workflow_id: 'wf',
    workflow_version: 3,
    status: 'failed',
    parameters: {},
    trace_id: TRACE,
    parent_span_id: '00f067aa0ba902b7',
    started_by: 'alice',
    tenant: 'team-a',
    created_at: '2026-12-06T10:00:00.000Z',
    started_at: '2026-12-06T10:00:00.100Z',
    ended_at: '2026-12-06T10:00:02.100Z',
    error: { action_id: 'charge', error: 'ServiceUnavailableError', cause: 'down' },
    actions: [
      { action_id: 'fetch', action_type: 'service_call', status: 'completed', attempts: 1, started_at: '2026-12-06T10:00:00.200Z', ended_at: '2026-12-06T10:00:00.700Z', output: { status_code: 200, response: {} } },
      { action_id: 'tell', action_type: 'notification', status: 'completed', attempts: 1, started_at: '2026-12-06T10:00:00.800Z', ended_at: '2026-12-06T10:00:00.900Z' },
      {
        action_id: 'charge',
        action_type: 'service_call',
        status: 'failed',
        attempts: 3,
        started_at: '2026-12-06T10:00:01.000Z',
        ended_at: '2026-12-06T10:00:02.000Z',
        error: { error: 'ServiceUnavailableError', cause: 'down' },
        compensation: { status: 'completed', attempts: 1, started_at: '2026-12-06T10:00:02.010Z', ended_at: '2026-12-06T10:00:02.050Z' },
      },
      { action_id: 'never', action_type: 'service_call', status: 'not_run', attempts: 0 },
    ],
    ...overrides,
  };
}

describe('runSpans', () => {
  it("makes the run a child of the request that started it, each started action a child of the run, and a compensation a child of its action", () => {
    const spans = runSpans(run());
    const byName = new Map(spans.map((span) => [span.name, span]));
    const root = byName.get('run wf')!;
    expect(root).toMatchObject({ span_id: runSpanId('ex-1'), parent_span_id: '00f067aa0ba902b7', category: 'run', status: 'error', duration_ms: 2000, tenant: 'team-a', workflow_id: 'wf', execution_id: 'ex-1' });
    expect(root.attributes).toMatchObject({ status: 'failed', workflow_version: 3, 'error.name': 'ServiceUnavailableError', failed_action: 'charge' });
    expect(byName.get('service_call fetch')).toMatchObject({ span_id: actionSpanId('ex-1', 'fetch'), parent_span_id: root.span_id, status: 'ok', duration_ms: 500, category: 'action' });
    expect(byName.get('service_call fetch')!.attributes['http.status_code']).toBe(200);
    expect(byName.get('notification tell')).toMatchObject({ category: 'notification', kind: 'producer', parent_span_id: root.span_id });
    expect(byName.get('service_call charge')).toMatchObject({ status: 'error', parent_span_id: root.span_id });
    expect(byName.get('service_call charge')!.attributes).toMatchObject({ attempts: 3, 'error.name': 'ServiceUnavailableError' });
    expect(byName.get('compensate charge')).toMatchObject({ span_id: actionSpanId('ex-1', 'charge.compensation'), parent_span_id: actionSpanId('ex-1', 'charge'), status: 'ok', duration_ms: 40 });
    // An action that never started has no span.
    expect(spans).toHaveLength(5);
    expect(spans.every((span) => span.trace_id === TRACE)).toBe(true);
  });

  it('records nothing for a run still going, or one whose trace id is not a W3C trace id', () => {
    expect(runSpans(run({ status: 'running' }))).toEqual([]);
    expect(runSpans(run({ trace_id: 'not-a-trace' }))).toEqual([]);
  });

  it('makes the run a root when no request span is known, and ok when it completed', () => {
    const { parent_span_id: _, ...withoutParent } = run({ status: 'completed', error: undefined });
    const [root] = runSpans(withoutParent as Execution);
    expect(root!.parent_span_id).toBeUndefined();
    expect(root!.status).toBe('ok');
  });
});

describe('withRunSpans', () => {
  function storeWith(execution: Execution, moves: boolean): ExecutionStore {
    const unused = () => Promise.reject(new Error('not used'));
    return {
      create: unused,
      get: async () => execution,
      updateAction: unused,
      startAttempt: unused,
      finishAttempt: unused,
      transition: async () => moves,
      list: unused,
      unfinished: () => ({ [Symbol.asyncIterator]: () => ({ next: unused }) }),
      reopen: unused,
      saveCheckpoint: unused,
      checkpoints: unused,
    } as ExecutionStore;
  }

  it('records the spans when a transition ends the run, and only then', async () => {
    const recorded: Span[][] = [];
    const store = withRunSpans(storeWith(run(), true), (spans) => recorded.push([...spans]));
    expect(await store.transition('ex-1', ['running'], 'paused')).toBe(true);
    expect(recorded).toHaveLength(0);
    expect(await store.transition('ex-1', ['running'], 'failed')).toBe(true);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.map((span) => span.name)).toContain('run wf');
  });

  it('records nothing when the transition lost its condition, and never fails a transition it could not read back', async () => {
    const recorded: Span[][] = [];
    expect(await withRunSpans(storeWith(run(), false), (spans) => recorded.push([...spans])).transition('ex-1', ['running'], 'failed')).toBe(false);
    expect(recorded).toHaveLength(0);
    const failing = { ...storeWith(run(), true), get: () => Promise.reject(new Error('throttled')) } as ExecutionStore;
    const errors: unknown[] = [];
    expect(await withRunSpans(failing, () => undefined, (error) => errors.push(error)).transition('ex-1', ['running'], 'completed')).toBe(true);
    expect(errors).toHaveLength(1);
  });
});
