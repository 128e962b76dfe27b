import { describe, expect, it } from 'vitest';
import { progressFromHistory } from '../../../statemachines/progress.ts';
import { allStates, compileChecked } from './support/harness.ts';
import { History } from './support/history.ts';
import { compensationCall, notification, serviceCall, transform, wait, workflow } from './support/workflows.ts';

const documentFlow = workflow([
  serviceCall('fetch_doc', { url: 'https://example.com/doc' }),
  transform('summary', { text: '{{fetch_doc.response.content}}' }, ['fetch_doc']),
  wait('pause', { seconds: 1 }, ['fetch_doc']),
  notification('notify', 'Analysed {{fetch_doc.response.content}}', ['summary', 'pause']),
  serviceCall('archive', {}, ['notify'], { condition: { ref: '{{keep_copy}}', equals: true }, on_failure: 'continue' }),
]);

function compiled(input = documentFlow) {
  const machine = compileChecked({ ...input, parameters: [{ name: 'keep_copy', type: 'boolean', required: false, default: false }] });
  return { actions: input.actions.map(({ action_id, action_type }) => ({ action_id, action_type })), names: allStates(machine.definition).keys() };
}

describe('progressFromHistory', () => {
  it('settles a run: a retried service call, parallel transform and wait, a notification with its rendered message, a skipped action', () => {
    const { actions, names } = compiled();
    const history = new History(names);
    const fetch = history.entered('Task', 'fetch_doc');
    const failed = history.attempt(fetch, { FunctionName: 'runner', Payload: { action_id: 'fetch_doc' } }, { error: 'ServiceUnavailable', cause: '{"message":"503"}' });
    const succeeded = history.attempt(failed, { FunctionName: 'runner', Payload: { action_id: 'fetch_doc' } }, { output: { Payload: { status_code: 200, response: { content: 'hello' } }, StatusCode: 200 } });
    history.exited('Task', 'fetch_doc', { results: { fetch_doc: { outcome: 'completed', status_code: 200, response: { content: 'hello' } } } }, succeeded);
    // A fork: the transform and the wait run in two branches whose events interleave.
    const fork = [...names].find((name) => name.startsWith('fork '))!;
    const parallel = history.entered('Parallel', fork);
    const summary = history.entered('Pass', 'summary', parallel);
    const pause = history.entered('Wait', 'pause', parallel);
    history.exited('Pass', 'summary', { results: { summary: { outcome: 'completed', status_code: null, response: { text: 'hello' } } } }, summary);
    history.exited('Wait', 'pause', undefined, pause);
    const joined = history.exited('Parallel', fork);
    const notify = history.entered('Task', 'notify', joined);
    const detail = { action_id: 'notify', message: 'Analysed hello', severity: 'info', channels: ['default'], recipients: [] };
    const sent = history.attempt(notify, { Entries: [{ EventBusName: 'bus', DetailType: 'Workflow Notification', Detail: detail }] }, { output: { Entries: [{ EventId: 'evt-42' }], FailedEntryCount: 0 } });
    const leftNotify = history.exited('Task', 'notify', undefined, sent);
    const guard = history.entered('Choice', 'archive: run?', leftNotify);
    const skipped = history.entered('Pass', 'archive: skipped', history.exited('Choice', 'archive: run?', undefined, guard));
    history.exited('Pass', 'archive: skipped', undefined, skipped);
    history.add('ExecutionSucceeded', undefined, {});

    const progress = Object.fromEntries(progressFromHistory(actions, history.events).map((action) => [action.action_id, action]));

    expect(progress['fetch_doc']).toMatchObject({ status: 'completed', attempts: 2, output: { status_code: 200, response: { content: 'hello' } } });
    expect(progress['fetch_doc']!.error).toBeUndefined();
    expect(progress['fetch_doc']!.started_at! < progress['fetch_doc']!.ended_at!).toBe(true);
    expect(progress['summary']).toMatchObject({ status: 'completed', attempts: 1, output: { status_code: null, response: { text: 'hello' } } });
    expect(progress['pause']).toMatchObject({ status: 'completed', attempts: 1 });
    expect(progress['pause']!.ended_at! > progress['summary']!.ended_at!).toBe(true);
    expect(progress['notify']).toMatchObject({ status: 'completed', attempts: 1, output: { status_code: 200, response: { event_id: 'evt-42', message: 'Analysed hello', severity: 'info' } } });
    expect(progress['archive']).toMatchObject({ status: 'skipped', attempts: 0 });
  });

  it('fails an action whose attempts ran out and whose failure went to the dead-letter queue, with its last error', () => {
    const { actions, names } = compiled(workflow([serviceCall('fetch_doc'), serviceCall('analyze', {}, ['fetch_doc'])]));
    const history = new History(names);
    const fetch = history.entered('Task', 'fetch_doc');
    let last = fetch;
    for (let attempt = 0; attempt < 3; attempt++) last = history.attempt(last, {}, { error: 'ServiceUnavailable', cause: `attempt ${attempt + 1}: 503` });
    const dead = history.entered('Task', 'fetch_doc: dead letter', last);
    history.exited('Task', 'fetch_doc: dead letter', undefined, history.attempt(dead, { QueueUrl: 'q' }, { output: { MessageId: 'm' } }));
    history.entered('Pass', 'fetch_doc: describe failure');
    history.exited('Pass', 'fetch_doc: describe failure');
    history.entered('Fail', 'fetch_doc: failed');
    history.add('ExecutionFailed', undefined, { error: 'ActionFailed', cause: 'action fetch_doc failed: ServiceUnavailable: attempt 3: 503' });

    const [fetchDoc, analyze] = progressFromHistory(actions, history.events, true);
    expect(fetchDoc).toMatchObject({ status: 'failed', attempts: 3, error: { error: 'ServiceUnavailable', cause: 'attempt 3: 503' } });
    expect(fetchDoc!.output).toBeUndefined();
    expect(analyze).toEqual({ action_id: 'analyze', action_type: 'service_call', status: 'pending', attempts: 0 });
  });

  it("starts a gated call when the runner made it, not when its state began to wait at its gate", () => {
    // The N: c depends on a and b, d on b; c waits for the producer the structure does not run before it, in its own call.
    const n = workflow([serviceCall('a'), serviceCall('b'), serviceCall('c', {}, ['a', 'b']), serviceCall('d', {}, ['b'])]);
    const { actions, names: compiledNames } = compiled(n);
    const names = [...compiledNames];
    const history = new History(names);
    const entered = history.entered('Task', 'c');
    const enteredAt = history.events.at(-1)!.timestamp;
    const gated = { FunctionName: 'runner', Payload: { action_id: 'c', gate_wait: { producers: ['a'], task_token: 't' } } };
    const answered = history.attempt(entered, gated, { output: { Payload: { status_code: 200, response: { ok: true } }, StatusCode: 200 } });
    history.exited('Task', 'c', { results: { c: { outcome: 'completed', status_code: 200, response: { ok: true } } } }, answered);
    history.add('ExecutionSucceeded', undefined, {});
    const madeAt = new Date(Date.parse(enteredAt) + 1500).toISOString();

    const live = actions.map((action) => (action.action_id === 'c' ? { ...action, started_at: madeAt } : action));
    const c = progressFromHistory(live, history.events).find((action) => action.action_id === 'c')!;
    expect(c).toMatchObject({ status: 'completed', attempts: 1, started_at: madeAt, output: { status_code: 200, response: { ok: true } } });
    // Without the runner's record, the history's own start stands; and a call that is not gated keeps its state's start.
    expect(progressFromHistory(actions, history.events).find((action) => action.action_id === 'c')!.started_at).toBe(enteredAt);
    const plain = new History(names);
    const enteredPlain = plain.entered('Task', 'c');
    plain.exited('Task', 'c', undefined, plain.attempt(enteredPlain, { FunctionName: 'runner', Payload: { action_id: 'c' } }, { output: { Payload: { status_code: 200, response: null }, StatusCode: 200 } }));
    expect(progressFromHistory(live, plain.events).find((action) => action.action_id === 'c')!.started_at).toBe(plain.events[1]!.timestamp);
  });

  it('does not count a call refused because the run was paused: parked, then made once when resumed', () => {
    const { actions, names } = compiled(workflow([serviceCall('fetch_doc')]));
    const history = new History(names);
    const entered = history.entered('Task', 'fetch_doc');
    const refused = history.attempt(entered, {}, { error: 'RunPaused', cause: '{"errorMessage":"execution exec-1 is paused"}' });
    const parked = history.entered('Task', 'fetch_doc: held', history.exited('Task', 'fetch_doc', undefined, refused));
    const resumed = history.exited('Task', 'fetch_doc: held', undefined, history.attempt(parked, {}, { output: {} }));
    const again = history.entered('Task', 'fetch_doc', resumed);
    const succeeded = history.attempt(again, {}, { output: { Payload: { status_code: 200, response: { ok: true } }, StatusCode: 200 } });
    history.exited('Task', 'fetch_doc', { results: { fetch_doc: { outcome: 'completed', status_code: 200, response: { ok: true } } } }, succeeded);
    history.add('ExecutionSucceeded', undefined, {});

    const [fetchDoc] = progressFromHistory(actions, history.events);
    expect(fetchDoc).toMatchObject({ status: 'completed', attempts: 1, output: { status_code: 200, response: { ok: true } } });
    expect(fetchDoc!.error).toBeUndefined();

    // Still parked when the history was read: pending work, not a completed or failed action.
    const [whileParked] = progressFromHistory(actions, history.events.slice(0, history.events.findIndex((event) => event.id === parked)));
    expect(whileParked).toMatchObject({ attempts: 0 });
    expect(whileParked!.status).not.toBe('completed');
    expect(whileParked!.error).toBeUndefined();
  });

  it('completes the actions a rerun reused, with the output its record already has, and runs the rest', () => {
    const machine = compileChecked(workflow([serviceCall('fetch_doc'), serviceCall('analyze', {}, ['fetch_doc'])]), { reuse: true });
    const history = new History(allStates(machine.definition).keys());
    const check = history.entered('Choice', 'fetch_doc: reuse?');
    const reused = history.entered('Pass', 'fetch_doc: reused', history.exited('Choice', 'fetch_doc: reuse?', undefined, check));
    const left = history.exited('Pass', 'fetch_doc: reused', { results: {} }, reused);
    const analyze = history.entered('Task', 'analyze', history.exited('Choice', 'analyze: reuse?', undefined, history.entered('Choice', 'analyze: reuse?', left)));
    history.exited('Task', 'analyze', undefined, history.attempt(analyze, {}, { output: { Payload: { status_code: 200, response: { score: 9 } }, StatusCode: 200 } }));
    history.add('ExecutionSucceeded', undefined, {});
    const before = { action_id: 'fetch_doc', action_type: 'service_call', status: 'completed', output: { status_code: 200, response: { content: 'from the first run' } } } as const;
    const [fetchDoc, analyzed] = progressFromHistory([before, { action_id: 'analyze', action_type: 'service_call' }], history.events);
    expect(fetchDoc).toMatchObject({ status: 'completed', attempts: 0, output: { status_code: 200, response: { content: 'from the first run' } } });
    expect(analyzed).toMatchObject({ status: 'completed', attempts: 1, output: { status_code: 200, response: { score: 9 } } });
  });

  it('fails an action the end of the run cut off (a timeout or a stop), and leaves it running while the run goes on', () => {
    const { actions, names } = compiled(workflow([serviceCall('slow')]));
    const history = new History(names);
    const slow = history.entered('Task', 'slow');
    history.add('TaskStarted', history.add('TaskScheduled', slow, { parameters: '{}' }), {});

    expect(progressFromHistory(actions, history.events)[0]).toMatchObject({ status: 'running', attempts: 1 });
    history.add('ExecutionTimedOut', undefined, {});
    expect(progressFromHistory(actions, history.events, true)[0]).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it("records each compensation of a saga: its attempts, and its success or its last failure (then dead-lettered)", () => {
    const saga = workflow([
      serviceCall('reserve', {}, [], { compensation: compensationCall() }),
      serviceCall('charge', {}, ['reserve'], { compensation: compensationCall() }),
      serviceCall('ship', {}, ['charge'], { on_failure: 'compensate' }),
    ]);
    const { names } = compiled(saga);
    const actions = saga.actions.map(({ action_id, action_type }) => ({ action_id, action_type, ...(action_id === 'ship' ? {} : { compensation: { status: 'planned' as const, attempts: 0 } }) }));
    const history = new History(names);
    let last = history.exited('Task', 'reserve', undefined, history.attempt(history.entered('Task', 'reserve'), {}, { output: { Payload: { status_code: 200, response: 'r' } } }));
    last = history.exited('Task', 'charge', undefined, history.attempt(history.entered('Task', 'charge', last), {}, { output: { Payload: { status_code: 200, response: 'c' } } }));
    last = history.attempt(history.entered('Task', 'ship', last), {}, { error: 'ServiceUnavailable', cause: '503' });
    last = history.entered('Task', 'charge: compensate', last);
    for (let attempt = 0; attempt < 3; attempt++) last = history.attempt(last, {}, { error: 'ServiceUnavailable', cause: `refund ${attempt + 1}` });
    last = history.exited('Task', 'charge: compensation dead letter', undefined, history.attempt(history.entered('Task', 'charge: compensation dead letter', last), {}, { output: { MessageId: 'm' } }));
    history.exited('Task', 'reserve: compensate', undefined, history.attempt(history.entered('Task', 'reserve: compensate', last), {}, { output: { Payload: { status_code: 200 } } }));
    history.add('ExecutionFailed', undefined, { error: 'WorkflowCompensated', cause: '' });

    const progress = Object.fromEntries(progressFromHistory(actions, history.events, true).map((action) => [action.action_id, action]));
    expect(progress['charge']?.compensation).toMatchObject({ status: 'failed', attempts: 3, error: { error: 'ServiceUnavailable', cause: 'refund 3' } });
    expect(progress['reserve']?.compensation).toMatchObject({ status: 'completed', attempts: 1 });
    expect(progress['reserve']!.compensation!.started_at! > progress['charge']!.compensation!.started_at!).toBe(true);
    expect(progress['ship']?.compensation).toBeUndefined();
  });

  it('reads events in any order, and ignores states that belong to no action', () => {
    const { actions, names } = compiled(workflow([serviceCall('only')]));
    const history = new History(names);
    const entered = history.entered('Task', 'only');
    history.exited('Task', 'only', undefined, history.attempt(entered, {}, { output: { Payload: { status_code: 201, response: 'made' } } }));
    const shuffled = [...history.events].reverse();
    expect(progressFromHistory(actions, shuffled)[0]).toMatchObject({ status: 'completed', attempts: 1, output: { status_code: 201, response: 'made' } });
    expect(progressFromHistory([], shuffled)).toEqual([]);
  });
});
