import { describe, expect, it } from 'vitest';
import type { OrchestratorClient, StreamEvent } from '../../client/index.ts';
import { watchExecution } from '../../cli/watch.ts';
import { createLiveView, createPlainView, failureOf, type Execution, type WatchView } from '../../cli/watch-view.ts';

/**
 * How `run --watch` follows a run, with a client whose answers the test scripts: the event stream says when
 * to read the run again, and polling takes over when there is no stream (or it ends, as in AWS).
 */

function execution(status: Execution['status'], actions: [string, Execution['actions'][number]['status']][]): Execution {
  const completed = actions.filter(([, state]) => state === 'completed').length;
  return {
    execution_id: 'run-1',
    workflow_id: 'wf-1',
    workflow_version: 1,
    status,
    progress: { completed, total: actions.length, percent: (completed / actions.length) * 100 },
    parameters: {},
    trace_id: '0'.repeat(32),
    started_by: 'test',
    tenant: 'default',
    created_at: '2026-12-01T00:00:00.000Z',
    actions: actions.map(([action_id, state]) => ({ action_id, action_type: 'transform', status: state, attempts: state === 'pending' ? 0 : 1 })),
  };
}

const RUNNING = execution('running', [['a', 'running'], ['b', 'pending']]);
const HALFWAY = execution('running', [['a', 'completed'], ['b', 'running']]);
const DONE = execution('completed', [['a', 'completed'], ['b', 'completed']]);

/** A client whose reads give `states` in turn (the last one from then on) and whose stream is `stream`. */
function fakeClient(states: readonly Execution[], stream: (signal: AbortSignal) => AsyncGenerator<StreamEvent>) {
  let reads = 0;
  const streamSignals: AbortSignal[] = [];
  const client = {
    call: async (route: string) => {
      expect(route).toBe('getExecution');
      return states[Math.min(reads++, states.length - 1)];
    },
    url: () => '',
    stream: (route: string, request: { signal: AbortSignal }) => {
      expect(route).toBe('streamEvents');
      streamSignals.push(request.signal);
      return stream(request.signal);
    },
  } as unknown as OrchestratorClient;
  return { client, reads: () => reads, streamSignals };
}

function recordingView(): WatchView & { seen: string[] } {
  const seen: string[] = [];
  return { seen, update: (run) => void seen.push(`${run.status}:${run.actions.map((action) => action.status).join(',')}`), tick: () => undefined, close: () => undefined };
}

const event = (id: string): StreamEvent => ({ id, event: 'orchestrator.action.completed', data: '{}' });
const untilAborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));

describe('watchExecution', () => {
  it('reads the run again at each event and stops, closing the stream, when it ends', async () => {
    const { client, reads, streamSignals } = fakeClient([RUNNING, HALFWAY, DONE], async function* (signal) {
      yield event('1');
      yield event('2');
      await untilAborted(signal);
    });
    const view = recordingView();
    const final = await watchExecution(client, 'run-1', view, { signal: new AbortController().signal, pollMs: 60_000, safetyPollMs: 60_000 });
    expect(final.status).toBe('completed');
    expect(view.seen).toEqual(['running:running,pending', 'running:completed,running', 'completed:completed,completed']);
    expect(reads()).toBe(3);
    expect(streamSignals[0]?.aborted).toBe(true);
  });

  it('polls the run when the stream cannot be opened', async () => {
    const { client, reads } = fakeClient([RUNNING, RUNNING, HALFWAY, DONE], async function* () {
      yield* [];
      throw new TypeError('fetch failed');
    });
    const view = recordingView();
    const final = await watchExecution(client, 'run-1', view, { signal: new AbortController().signal, pollMs: 5, safetyPollMs: 60_000 });
    expect(final.status).toBe('completed');
    expect(reads()).toBe(4);
    expect(view.seen.at(-1)).toBe('completed:completed,completed');
  });

  it('polls the run when the stream ends before the run does (a stream that answers and closes, as in AWS)', async () => {
    const { client } = fakeClient([RUNNING, HALFWAY, HALFWAY, DONE], async function* () {
      yield event('1');
    });
    const final = await watchExecution(client, 'run-1', recordingView(), { signal: new AbortController().signal, pollMs: 5, safetyPollMs: 60_000 });
    expect(final.status).toBe('completed');
  });

  it('returns the last state seen when watching is interrupted, leaving the run alone', async () => {
    const interrupt = new AbortController();
    const { client, streamSignals } = fakeClient([RUNNING], async function* (signal) {
      interrupt.abort();
      await untilAborted(signal);
      // What the client's stream does once its signal aborts: it ends, having yielded nothing.
      yield* [];
    });
    const final = await watchExecution(client, 'run-1', recordingView(), { signal: interrupt.signal, pollMs: 5, safetyPollMs: 60_000 });
    expect(final.status).toBe('running');
    expect(streamSignals[0]?.aborted).toBe(true);
  });
});

describe('the plain view (stdout is not a terminal)', () => {
  it('prints a line per change of an action or the run, with no ANSI codes', () => {
    const lines: string[] = [];
    const view = createPlainView((text) => void lines.push(text));
    for (const state of [RUNNING, RUNNING, HALFWAY, DONE]) view.update(state);
    const text = lines.join('');
    expect(text).not.toContain('\x1b');
    expect(text.match(/^a: running/gm)).toHaveLength(1);
    expect(text).toMatch(/^a: completed.*\[1\/2 50%\]$/m);
    expect(text).toMatch(/^b: completed.*\[2\/2 100%\]$/m);
    expect(text).toMatch(/^run completed +\[█{24}\] 2\/2 100%/m);
  });

  it('names the failing action and what its service said', () => {
    const failed: Execution = {
      ...execution('failed', [['charge', 'failed']]),
      error: { action_id: 'charge', error: 'ActionFailed', cause: 'action charge failed: ...' },
    };
    failed.actions[0]!.error = { error: 'ServiceCallError', cause: JSON.stringify({ message: 'payments answered 500 Internal Server Error to POST /fail', status_code: 500 }) };
    expect(failureOf(failed)).toBe("run run-1 failed at action 'charge': ServiceCallError: payments answered 500 Internal Server Error to POST /fail");
  });
});

describe('the live view (stdout is a terminal)', () => {
  it('redraws in place: back up over what it drew, clear, draw the new state', () => {
    const writes: string[] = [];
    const view = createLiveView((text) => void writes.push(text), () => ({ columns: 100, rows: 40 }));
    view.update(RUNNING);
    view.update(DONE);
    expect(writes[0]).not.toContain('\x1b[4F');
    expect(writes[0]).toMatch(/▶ a +running/);
    // Four lines drawn (header, progress, two actions): up four, clear to the end, draw again.
    expect(writes[1]!.startsWith('\x1b[4F\x1b[J')).toBe(true);
    expect(writes[1]).toMatch(/✔ b +completed/);
  });

  it('keeps to the screen: running and failed actions first, the rest counted', () => {
    const many = execution('running', Array.from({ length: 30 }, (_, index): [string, 'pending' | 'running'] => [`step_${index}`, index === 25 ? 'running' : 'pending']));
    const writes: string[] = [];
    createLiveView((text) => void writes.push(text), () => ({ columns: 100, rows: 10 })).update(many);
    const lines = writes[0]!.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(10);
    expect(writes[0]).toContain('step_25');
    expect(lines.at(-1)).toContain('24 more actions');
  });
});
