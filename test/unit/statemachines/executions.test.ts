import { describe, expect, it, vi } from 'vitest';
import { RETRYABLE_ACTION_ERRORS } from '../../../core/errors.ts';
import type { TaskState } from '../../../statemachines/asl.ts';
import {
  actionError,
  allStates,
  compileChecked,
  detailOf,
  EXECUTION_ARN,
  EXECUTION_NAME,
  execute,
  lambdaResult,
  payloadOf,
  service,
  sleep,
  WORKFLOW_ID,
  WORKFLOW_VERSION,
  type Handler,
  type Json,
  type JsonObject,
  type RunResult,
} from './support/harness.ts';
import {
  compensationCall,
  FEATURE_WORKFLOWS,
  foreach,
  notification,
  param,
  serviceCall,
  subWorkflow,
  transform,
  wait,
  workflow,
} from './support/workflows.ts';

/** Executions of compiled workflows on aws-local-stepfunctions: retries, catches, timeouts, conditions, loops, sagas. */

const rejected = (message = 'HTTP 404: no such document'): Handler => () => {
  throw actionError('ServiceRejectedError', message);
};

/** Fails with `name` the first `failures` times, then answers `response`. */
function flaky(name: string, failures: number, response: Json = { ok: true }): Handler {
  let calls = 0;
  return () => {
    calls++;
    if (calls <= failures) throw actionError(name, `attempt ${calls} failed`);
    return lambdaResult(response);
  };
}

const resultsOf = (run: RunResult): JsonObject => run.output!.results as JsonObject;

/** Runs `body` with fake timers, advancing them until it settles (task timeouts are whole seconds). */
async function withFakeTimers<T>(body: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  try {
    const promise = body();
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let i = 0; i < 10_000 && !settled; i++) await vi.advanceTimersByTimeAsync(500);
    return await promise;
  } finally {
    vi.useRealTimers();
  }
}

describe('retries', () => {
  const single = workflow([serviceCall('call', { q: '{{q}}' })], [param('q', 'string')]);

  it('retries a ServiceUnavailableError twice and completes on the third attempt', async () => {
    const run = await execute(compileChecked(single).definition, { q: 'x' }, { handlers: { call: flaky('ServiceUnavailableError', 2, { answer: 42 }) } });
    expect(run.status).toBe('succeeded');
    const calls = run.recorder.to('call');
    expect(calls.map((call) => call.error ?? 'ok')).toEqual(['ServiceUnavailableError', 'ServiceUnavailableError', 'ok']);
    // Each attempt sends the same request.
    for (const call of calls) expect(payloadOf(call).parameters).toEqual({ q: 'x' });
    expect(resultsOf(run).call).toEqual({ outcome: 'completed', status_code: 200, response: { answer: 42 } });
    expect(run.recorder.to('call: dead letter')).toHaveLength(0);
  });

  it.each(RETRYABLE_ACTION_ERRORS.filter((name) => name !== 'States.Timeout'))('retries %s', async (name) => {
    const run = await execute(compileChecked(single).definition, { q: 'x' }, { handlers: { call: flaky(name, 1) } });
    expect(run.status).toBe('succeeded');
    expect(run.recorder.to('call')).toHaveLength(2);
  });

  it.each(['ServiceRejectedError', 'ServiceNotFoundError', 'ForbiddenAddressError', 'Error'])('does not retry %s (not transient)', async (name) => {
    const run = await execute(compileChecked(single).definition, { q: 'x' }, { handlers: { call: flaky(name, 1) } });
    expect(run.recorder.to('call')).toHaveLength(1);
    expect(run.status).toBe('failed');
    expect(run.error).toBe('ActionFailed');
    expect(run.cause).toBe(`action call failed: ${name}: attempt 1 failed`);
  });

  it('gives up after max_attempts (3 by default, the first try included)', async () => {
    const run = await execute(compileChecked(single).definition, { q: 'x' }, { handlers: { call: flaky('ServiceUnavailableError', 99) } });
    expect(run.recorder.to('call')).toHaveLength(3);
    expect(run.status).toBe('failed');
    expect(run.error).toBe('ActionFailed');
    expect(run.cause).toBe('action call failed: ServiceUnavailableError: attempt 3 failed');
  });

  it('follows the action retry policy: max_attempts 5 allows four retries, max_attempts 1 none', async () => {
    const five = workflow([serviceCall('call', {}, [], { retry: { max_attempts: 5, interval_seconds: 3, backoff_rate: 1.5, max_delay_seconds: 20, jitter: 'none' } })]);
    const compiled = compileChecked(five);
    expect((allStates(compiled.definition).get('call') as TaskState).Retry).toEqual([
      { ErrorEquals: [...RETRYABLE_ACTION_ERRORS], IntervalSeconds: 3, MaxAttempts: 4, BackoffRate: 1.5, MaxDelaySeconds: 20, JitterStrategy: 'NONE' },
    ]);
    const succeeded = await execute(compiled.definition, {}, { handlers: { call: flaky('ServiceThrottledError', 4) } });
    expect(succeeded.status).toBe('succeeded');
    expect(succeeded.recorder.to('call')).toHaveLength(5);
    const exhausted = await execute(compiled.definition, {}, { handlers: { call: flaky('ServiceThrottledError', 5) } });
    expect(exhausted.status).toBe('failed');
    expect(exhausted.recorder.to('call')).toHaveLength(5);

    const once = compileChecked(workflow([serviceCall('call', {}, [], { retry: { max_attempts: 1 } })]));
    const run = await execute(once.definition, {}, { handlers: { call: flaky('ServiceUnavailableError', 1) } });
    expect(run.recorder.to('call')).toHaveLength(1);
    expect(run.status).toBe('failed');
  });

  it('retries a notification on EventBridge throttling', async () => {
    const compiled = compileChecked(workflow([notification('tell', 'hello {{who}}')], [param('who', 'string')]));
    let calls = 0;
    const run = await execute(compiled.definition, { who: 'ana' }, {
      handlers: {
        tell: () => {
          if (++calls === 1) throw actionError('EventBridge.ThrottlingException', 'slow down');
          return { Entries: [{ EventId: 'ev-1' }] };
        },
      },
    });
    expect(run.status).toBe('succeeded');
    expect(run.recorder.to('tell')).toHaveLength(2);
    expect(detailOf(run.recorder.to('tell')[1]!).message).toBe('hello ana');
    expect(resultsOf(run).tell).toEqual({ outcome: 'completed', status_code: 200, response: { event_id: 'ev-1' } });
  });
});

describe('catches (on_failure fail, the default)', () => {
  const chain = workflow(
    [serviceCall('fetch', { url: '{{url}}', depth: '{{depth}}', note: 'fetching {{url}}' }, [], { timeout_seconds: 12 }), serviceCall('analyze', { body: '{{fetch.response}}' }, ['fetch'])],
    [param('url', 'string'), param('depth', 'integer')],
  );

  it('fails the execution with ActionFailed and a cause naming the action; nothing after it runs', async () => {
    const run = await execute(compileChecked(chain).definition, { url: 'https://example.com/a', depth: 2 }, { handlers: { fetch: rejected() } });
    expect(run.status).toBe('failed');
    expect(run.error).toBe('ActionFailed');
    expect(run.cause).toBe('action fetch failed: ServiceRejectedError: HTTP 404: no such document');
    expect(run.recorder.to('analyze')).toHaveLength(0);
  });

  it('sends the request and the error to the dead-letter queue first', async () => {
    // Like the action runner, the handler reports the rendered request it could not complete in the error's cause.
    const runnerRejects: Handler = (input) => {
      const { parameters } = (input as { Payload: JsonObject }).Payload;
      throw actionError('ServiceRejectedError', JSON.stringify({ message: 'HTTP 404: no such document', request: { service: 'svc', endpoint: '/fetch', method: 'POST', parameters } }));
    };
    const run = await execute(compileChecked(chain).definition, { url: 'https://example.com/a', depth: 2 }, { handlers: { fetch: runnerRejects } });
    expect(run.error).toBe('ActionFailed');
    const letter = run.recorder.only('fetch: dead letter');
    expect(letter.startSeq).toBeGreaterThan(run.recorder.only('fetch').endSeq);
    const { QueueUrl, MessageBody } = letter.input as { QueueUrl: string; MessageBody: JsonObject };
    expect(QueueUrl).toBe('${DeadLetterQueueUrl}');
    expect(MessageBody).toMatchObject({
      kind: 'action_failed',
      action_id: 'fetch',
      execution_id: EXECUTION_NAME,
      workflow_id: WORKFLOW_ID,
      workflow_version: WORKFLOW_VERSION,
      error: 'ServiceRejectedError',
    });
    // The request, rendered, is in the message: in its own field, or in the runner's cause.
    const rendered = { url: 'https://example.com/a', depth: 2, note: 'fetching https://example.com/a' };
    const request = (MessageBody.request ?? (JSON.parse(String(MessageBody.cause)) as JsonObject).request) as JsonObject;
    expect(request).toMatchObject({ service: 'svc', endpoint: '/fetch', method: 'POST', parameters: rendered });
    // Whatever the runner says, the message names the service call that failed.
    expect(MessageBody.request ?? MessageBody).toMatchObject({ service: 'svc', endpoint: '/fetch', method: 'POST' });
    expect(JSON.parse(String(MessageBody.cause))).toMatchObject({ message: 'HTTP 404: no such document' });
  });

  it('still fails with ActionFailed, naming the action, when the dead-letter queue cannot be reached', async () => {
    const run = await execute(compileChecked(chain).definition, { url: 'u', depth: 1 }, {
      handlers: {
        fetch: rejected(),
        'fetch: dead letter': () => {
          throw actionError('SQS.SdkClientException', 'queue unreachable');
        },
      },
    });
    expect(run.recorder.to('fetch: dead letter')).toHaveLength(3);
    expect(run.status).toBe('failed');
    expect(run.error).toBe('ActionFailed');
    expect(run.cause).toBe('action fetch failed: ServiceRejectedError: HTTP 404: no such document');
  });

  it('fails the whole execution when an action in one parallel branch fails', async () => {
    const compiled = compileChecked(workflow([serviceCall('left'), serviceCall('right'), serviceCall('join', {}, ['left', 'right'])]));
    const run = await execute(compiled.definition, {}, { handlers: { left: rejected('bad input'), right: service(() => ({ ok: true }), 20) } });
    expect(run.status).toBe('failed');
    expect(run.error).toBe('ActionFailed');
    expect(run.cause).toBe('action left failed: ServiceRejectedError: bad input');
    expect(run.recorder.to('join')).toHaveLength(0);
  });

  it('fails a notification without a dead letter (there is no request to replay)', async () => {
    const compiled = compileChecked(workflow([notification('tell', 'hi')]));
    const run = await execute(compiled.definition, {}, { handlers: { tell: () => Promise.reject(actionError('EventBridge.AccessDeniedException', 'denied')) } });
    expect(run.status).toBe('failed');
    expect(run.error).toBe('ActionFailed');
    expect(run.cause).toBe('action tell failed: EventBridge.AccessDeniedException: denied');
    expect(run.recorder.to('tell')).toHaveLength(1);
  });
});

describe('timeouts', () => {
  const slow = workflow([serviceCall('slow', { id: '{{id}}' }, [], { timeout_seconds: 1 })], [param('id', 'string')]);

  it('gives the state the runner timeout plus 5 s, and passes the timeout to the runner', () => {
    const task = allStates(compileChecked(slow).definition).get('slow') as TaskState;
    expect(task.TimeoutSeconds).toBe(6);
    expect((task.Parameters!.Payload as JsonObject).timeout_seconds).toBe(1);
    const byDefault = allStates(compileChecked(workflow([serviceCall('call')])).definition).get('call') as TaskState;
    expect(byDefault.TimeoutSeconds).toBe(35);
  });

  it('turns a slow handler into States.Timeout, retries it as transient, then fails naming the action', async () => {
    const compiled = compileChecked(slow);
    const run = await withFakeTimers(() =>
      execute(compiled.definition, { id: 'x' }, {
        handlers: {
          slow: async () => {
            await sleep(60_000);
            return lambdaResult('too late');
          },
        },
      }),
    );
    expect(run.recorder.to('slow')).toHaveLength(3);
    expect(run.status).toBe('failed');
    expect(run.error).toBe('ActionFailed');
    expect(run.cause).toMatch(/^action slow failed: States\.Timeout: /);
    expect((run.recorder.only('slow: dead letter').input as { MessageBody: JsonObject }).MessageBody.error).toBe('States.Timeout');
  });

  it('completes when a retry answers in time', async () => {
    const compiled = compileChecked(slow);
    let calls = 0;
    const run = await withFakeTimers(() =>
      execute(compiled.definition, { id: 'x' }, {
        handlers: {
          slow: async () => {
            await sleep(++calls === 1 ? 60_000 : 100);
            return lambdaResult({ attempt: calls });
          },
        },
      }),
    );
    expect(run.status).toBe('succeeded');
    expect(resultsOf(run).slow).toEqual({ outcome: 'completed', status_code: 200, response: { attempt: 2 } });
  });
});

describe('conditions', () => {
  const conditions = compileChecked(FEATURE_WORKFLOWS.conditions!);
  const handlers = (score: number, status = 200): Record<string, Handler> => ({
    check: () => lambdaResult({ id: 'c-1', score }, status),
    deep_scan: service(() => ({ verdict: 'clean' })),
  });

  it('runs an action whose nested all/not condition holds, and everything after it', async () => {
    const run = await execute(conditions.definition, { document_id: 'doc-1', mode: 'full', force: false }, { handlers: handlers(9) });
    expect(run.status).toBe('succeeded');
    expect(payloadOf(run.recorder.only('deep_scan')).parameters).toEqual({ id: 'c-1' });
    expect(detailOf(run.recorder.only('report')).message).toBe('scan clean for doc-1');
    expect(run.recorder.to('archive')).toHaveLength(1);
    expect(resultsOf(run).summary).toEqual({ outcome: 'completed', status_code: null, response: { verdict: { verdict: 'clean' }, archived: 200 } });
  });

  it.each([
    ['the score is too low (all: first rule false)', 3, 'full'],
    ['the mode is fast (not: equals holds)', 9, 'fast'],
  ])('skips the action when %s, and skips the actions that read its output', async (_why, score, mode) => {
    const run = await execute(conditions.definition, { document_id: 'doc-1', mode, force: false }, { handlers: handlers(score) });
    expect(run.status).toBe('succeeded');
    expect(run.recorder.to('deep_scan')).toHaveLength(0);
    // report reads deep_scan's output: skipped too.
    expect(run.recorder.to('report')).toHaveLength(0);
    // archive only depends on deep_scan: it runs.
    expect(run.recorder.to('archive')).toHaveLength(1);
    // summary reads deep_scan but says on_skipped_input: run, so it runs with a null response.
    expect(resultsOf(run).summary).toEqual({ outcome: 'completed', status_code: null, response: { verdict: null, archived: 200 } });
  });

  it('evaluates any: skips archive when neither the status is 200 nor force is set, runs it when force is set', async () => {
    const skipped = await execute(conditions.definition, { document_id: 'd', mode: 'full', force: false }, { handlers: handlers(9, 201) });
    expect(skipped.recorder.to('archive')).toHaveLength(0);
    expect(resultsOf(skipped).summary).toEqual({ outcome: 'completed', status_code: null, response: { verdict: { verdict: 'clean' }, archived: null } });
    const forced = await execute(conditions.definition, { document_id: 'd', mode: 'full', force: true }, { handlers: handlers(9, 201) });
    expect(forced.recorder.to('archive')).toHaveLength(1);
  });

  it('propagates a skip through every action that reads a skipped output, directly or not, and only those', async () => {
    const compiled = compileChecked(
      workflow(
        [
          serviceCall('a', {}, [], { condition: { ref: '{{enabled}}', equals: true } }),
          serviceCall('reads_a', { x: '{{a.response.x}}' }, ['a']),
          transform('reads_reads_a', { y: '{{reads_a.status_code}}' }, ['reads_a']),
          notification('text_of_a', 'a said {{a.response.x}}', ['a']),
          serviceCall('after_a', { n: '{{n}}' }, ['a']),
          serviceCall('condition_on_a', {}, ['a'], { condition: { ref: '{{a.status_code}}', equals: 200 } }),
          serviceCall('runs_anyway', { whole: '{{a.response}}', code: '{{a.status_code}}' }, ['a'], { on_skipped_input: 'run' }),
          serviceCall('sink', { y: '{{reads_reads_a.response}}' }, ['reads_reads_a', 'after_a', 'text_of_a', 'condition_on_a', 'runs_anyway']),
        ],
        [param('enabled', 'boolean'), param('n', 'integer')],
      ),
    );
    const off = await execute(compiled.definition, { enabled: false, n: 4 }, { handlers: { a: service(() => ({ x: 1 })) } });
    expect(off.status).toBe('succeeded');
    const ran = (run: RunResult) => new Set(run.recorder.calls.map((call) => call.state));
    expect(ran(off)).toEqual(new Set(['after_a', 'runs_anyway']));
    expect(payloadOf(off.recorder.only('after_a')).parameters).toEqual({ n: 4 });
    expect(payloadOf(off.recorder.only('runs_anyway')).parameters).toEqual({ whole: null, code: null });
    expect(resultsOf(off).sink).toEqual({ outcome: 'skipped', status_code: null, response: null });

    const on = await execute(compiled.definition, { enabled: true, n: 4 }, { handlers: { a: service(() => ({ x: 1 })) } });
    expect(ran(on)).toEqual(new Set(['a', 'reads_a', 'text_of_a', 'after_a', 'condition_on_a', 'runs_anyway', 'sink']));
    expect(payloadOf(on.recorder.only('sink')).parameters).toEqual({ y: { y: 200 } });
    expect(detailOf(on.recorder.only('text_of_a')).message).toBe('a said 1');
  });

  it('evaluates every comparison operator on strings, numbers and booleans', async () => {
    type Case = readonly [condition: JsonObject, expected: boolean];
    const cases: readonly Case[] = [
      [{ ref: '{{s}}', equals: 'beta' }, true],
      [{ ref: '{{s}}', equals: 'Beta' }, false],
      [{ ref: '{{s}}', not_equals: 'alpha' }, true],
      [{ ref: '{{s}}', greater_than: 'alpha' }, true],
      [{ ref: '{{s}}', less_than: 'alpha' }, false],
      [{ ref: '{{s}}', greater_than_or_equal: 'beta' }, true],
      [{ ref: '{{s}}', less_than_or_equal: 'beta' }, true],
      [{ ref: '{{n}}', equals: 7 }, true],
      [{ ref: '{{n}}', not_equals: 7 }, false],
      [{ ref: '{{n}}', greater_than: 7 }, false],
      [{ ref: '{{n}}', greater_than_or_equal: 7 }, true],
      [{ ref: '{{n}}', less_than: 7.5 }, true],
      [{ ref: '{{n}}', less_than_or_equal: 6 }, false],
      [{ ref: '{{x}}', greater_than: 1.25 }, true],
      [{ ref: '{{b}}', equals: true }, true],
      [{ ref: '{{b}}', not_equals: true }, false],
      [{ ref: '{{o.inner.k}}', equals: 'v' }, true],
      [{ ref: '{{list[1]}}', equals: 20 }, true],
      [{ ref: '{{o.inner.k}}', is_present: true }, true],
      [{ ref: '{{maybe}}', is_present: true }, false],
      [{ ref: '{{o.nothing}}', is_null: true }, true],
      [{ ref: '{{o.inner.k}}', is_null: true }, false],
      [{ ref: '{{execution.workflow_id}}', equals: WORKFLOW_ID }, true],
      [{ ref: '{{execution.workflow_id}}', not_equals: WORKFLOW_ID }, false],
      [{ ref: '{{execution.id}}', equals: EXECUTION_NAME }, true],
      [{ all: [{ ref: '{{n}}', equals: 7 }, { any: [{ ref: '{{b}}', equals: false }, { not: { ref: '{{s}}', equals: 'x' } }] }] }, true],
      [{ not: { all: [{ ref: '{{n}}', equals: 7 }, { ref: '{{b}}', equals: true }] } }, false],
      [{ any: [{ not: { ref: '{{n}}', greater_than: 0 } }, { ref: '{{s}}', equals: 'gamma' }] }, false],
    ];
    const compiled = compileChecked(
      workflow(
        cases.map(([condition], i) => serviceCall(`case_${i}`, {}, [], { condition })),
        [param('s', 'string'), param('n', 'integer'), param('x', 'number'), param('b', 'boolean'), param('o', 'object'), param('list', 'array'), param('maybe', 'string', { required: false })],
      ),
    );
    const run = await execute(compiled.definition, { s: 'beta', n: 7, x: 1.5, b: true, o: { inner: { k: 'v' }, nothing: null }, list: [10, 20] });
    expect(run.status, run.cause).toBe('succeeded');
    const outcomes = cases.map((_, i) => (resultsOf(run)[`case_${i}`] as JsonObject).outcome);
    expect(outcomes).toEqual(cases.map(([, expected]) => (expected ? 'completed' : 'skipped')));
  });

  it('compiles is_present: false and is_null: false as Not(... true), which the interpreter evaluates as Step Functions does', async () => {
    const compiled = compileChecked(
      workflow(
        [serviceCall('absent', {}, [], { condition: { ref: '{{o.missing}}', is_present: false } }), serviceCall('not_null', {}, [], { condition: { ref: '{{o.k}}', is_null: false } })],
        [param('o', 'object')],
      ),
    );
    const states = allStates(compiled.definition);
    expect(states.get('absent: run?')).toMatchObject({ Choices: [{ Not: { Variable: '$.params.o.missing', IsPresent: true }, Next: 'absent' }], Default: 'absent: skipped' });
    expect(states.get('not_null: run?')).toMatchObject({ Choices: [{ Not: { Variable: '$.params.o.k', IsNull: true }, Next: 'not_null' }], Default: 'not_null: skipped' });
    // The interpreter takes `IsPresent: false` and `IsNull: false` as never holding; the Not forms hold here.
    const ran = resultsOf(await execute(compiled.definition, { o: { k: 1 } }));
    expect(ran.absent).not.toEqual(expect.objectContaining({ outcome: 'skipped' }));
    expect(ran.not_null).not.toEqual(expect.objectContaining({ outcome: 'skipped' }));
    const skipped = resultsOf(await execute(compiled.definition, { o: { missing: 1, k: null } }));
    expect(skipped.absent).toEqual(expect.objectContaining({ outcome: 'skipped' }));
    expect(skipped.not_null).toEqual(expect.objectContaining({ outcome: 'skipped' }));
  });

  it('checks a guard before the condition: an action whose condition reads a skipped output is skipped', async () => {
    const compiled = compileChecked(
      workflow([serviceCall('a', {}, [], { condition: { ref: '{{go}}', equals: true } }), serviceCall('b', {}, ['a'], { condition: { ref: '{{a.response.n}}', greater_than: 0 } })], [param('go', 'boolean')]),
    );
    const run = await execute(compiled.definition, { go: false });
    expect(run.status).toBe('succeeded');
    expect(resultsOf(run).b).toEqual({ outcome: 'skipped', status_code: null, response: null });
  });
});

describe('foreach', () => {
  const files = [{ name: 'a.txt' }, { name: 'b.txt' }, { name: 'c.txt' }, { name: 'd.txt' }, { name: 'e.txt' }, { name: 'f.txt' }];
  const each = (maxConcurrency: number) =>
    workflow(
      [
        serviceCall('list', { folder: '{{folder}}' }),
        foreach(
          'each_file',
          '{{files}}',
          { action_type: 'service_call', config: { service: 'svc', endpoint: '/file', method: 'POST', parameters: { name: '{{item.name}}', position: '{{index}}', whole: '{{item}}', owner: '{{list.response.owner}}', label: '#{{index}} {{item.name}}' } } },
          maxConcurrency,
          ['list'],
        ),
      ],
      [param('folder', 'string'), param('files', 'array')],
    );
  const handlers = (delay: (index: number) => number): Record<string, Handler> => ({
    list: service(() => ({ owner: 'ana' })),
    'each_file: each item': async (input) => {
      const { parameters } = (input as { Payload: { parameters: { position: number; name: string } } }).Payload;
      await sleep(delay(parameters.position));
      return lambdaResult({ done: parameters.name });
    },
  });

  it('runs the inner action once per item with the item, its index and upstream outputs; outputs keep item order', async () => {
    // Later items finish first: the outputs must still come back in item order.
    const run = await execute(compileChecked(each(0)).definition, { folder: 'f', files }, { handlers: handlers((index) => (files.length - index) * 4) });
    expect(run.status).toBe('succeeded');
    const calls = run.recorder.to('each_file: each item');
    expect(calls.map((call) => payloadOf(call).parameters).sort((a, b) => ((a as { position: number }).position - (b as { position: number }).position))).toEqual(
      files.map((file, index) => ({ name: file.name, position: index, whole: file, owner: 'ana', label: `#${index} ${file.name}` })),
    );
    expect(calls.map((call) => payloadOf(call).item_index).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(resultsOf(run).each_file).toEqual({ outcome: 'completed', status_code: null, response: files.map((file) => ({ status_code: 200, response: { done: file.name } })) });
  });

  it('respects max_concurrency (2): never more than two items at once, and two do overlap', async () => {
    const run = await execute(compileChecked(each(2)).definition, { folder: 'f', files }, { handlers: handlers(() => 15) });
    expect(run.status).toBe('succeeded');
    expect(run.recorder.maxConcurrent((state) => state === 'each_file: each item')).toBe(2);
  });

  it('runs every item at once with max_concurrency 0 (no limit)', async () => {
    const run = await execute(compileChecked(each(0)).definition, { folder: 'f', files }, { handlers: handlers(() => 25) });
    expect(run.recorder.maxConcurrent((state) => state === 'each_file: each item')).toBe(files.length);
  });

  it('returns an empty response for no items, without calling the inner action', async () => {
    const run = await execute(compileChecked(each(2)).definition, { folder: 'f', files: [] }, { handlers: handlers(() => 1) });
    expect(run.status).toBe('succeeded');
    expect(run.recorder.to('each_file: each item')).toHaveLength(0);
    expect(resultsOf(run).each_file).toEqual({ outcome: 'completed', status_code: null, response: [] });
  });

  it('fails naming the foreach when an item fails, with the items in the dead letter', async () => {
    const run = await execute(compileChecked(each(1)).definition, { folder: 'f', files }, {
      handlers: {
        ...handlers(() => 1),
        'each_file: each item': (input) => {
          const { parameters } = (input as { Payload: { parameters: { position: number } } }).Payload;
          if (parameters.position === 3) throw actionError('ServiceRejectedError', 'bad file');
          return lambdaResult({});
        },
      },
    });
    expect(run.status).toBe('failed');
    expect(run.error).toBe('ActionFailed');
    expect(run.cause).toBe('action each_file failed: ServiceRejectedError: bad file');
    expect((run.recorder.only('each_file: dead letter').input as { MessageBody: JsonObject }).MessageBody).toMatchObject({ kind: 'action_failed', action_id: 'each_file', error: 'ServiceRejectedError', cause: 'bad file' });
  });

  it('maps items with an inner transform (types kept) and sends one notification per item', async () => {
    const compiled = compileChecked(
      workflow(
        [
          foreach('shape', '{{rows}}', { action_type: 'transform', config: { output: { id: '{{item.id}}', at: '{{index}}', row: '{{item}}', text: 'row {{item.id}}' } } }, 0),
          foreach('announce', '{{rows}}', { action_type: 'notification', config: { message: 'row {{item.id}} at {{index}} of {{label}}' } }, 3),
        ],
        [param('rows', 'array'), param('label', 'string')],
      ),
    );
    const rows: JsonObject[] = [{ id: 7 }, { id: 8, extra: [1, { x: true }] }];
    const run = await execute(compiled.definition, { rows, label: 'L' });
    expect(run.status).toBe('succeeded');
    expect(resultsOf(run).shape).toEqual({
      outcome: 'completed',
      status_code: null,
      response: rows.map((row, index) => ({ status_code: null, response: { id: row.id, at: index, row, text: `row ${row.id}` } })),
    });
    expect(run.recorder.to('announce: each item').map((call) => detailOf(call).message).sort()).toEqual(['row 7 at 0 of L', 'row 8 at 1 of L']);
    expect((resultsOf(run).announce as { response: JsonObject[] }).response).toHaveLength(2);
  });
});

describe('wait', () => {
  const waits = FEATURE_WORKFLOWS.loops_and_waits!;

  it('compiles seconds to Seconds and a referenced timestamp to TimestampPath', () => {
    const states = allStates(compileChecked(waits).definition);
    expect(states.get('cool_down')).toMatchObject({ Type: 'Wait', Seconds: 30 });
    expect(states.get('until_window')).toMatchObject({ Type: 'Wait', TimestampPath: '$.params.window' });
    const literal = allStates(compileChecked(workflow([wait('w1', { until: '2030-01-01T00:00:00Z' }), wait('w2', { seconds: '{{delay}}' })], [param('delay', 'integer')])).definition);
    expect(literal.get('w1')).toMatchObject({ Type: 'Wait', Timestamp: '2030-01-01T00:00:00Z' });
    expect(literal.get('w2')).toMatchObject({ Type: 'Wait', SecondsPath: '$.params.delay' });
  });

  it('holds the actions after it until it ends (seconds and until, with waitTimeOverrides)', async () => {
    const compiled = compileChecked(workflow([serviceCall('before'), wait('pause', { seconds: 3600 }, ['before']), serviceCall('after', {}, ['pause']), wait('until', { until: '2099-01-01T00:00:00Z' }, ['after']), serviceCall('last', {}, ['until'])]));
    const run = await execute(compiled.definition, {}, { waitTimeOverrides: { pause: 60, until: 40 } });
    expect(run.status).toBe('succeeded');
    const [before, after, last] = ['before', 'after', 'last'].map((state) => run.recorder.only(state));
    expect(after!.start - before!.end).toBeGreaterThanOrEqual(55);
    expect(last!.start - after!.end).toBeGreaterThanOrEqual(35);
  });

  it('runs the loops-and-waits workflow end to end: foreach, waits and a transform that keeps types', async () => {
    const compiled = compileChecked(waits);
    const run = await execute(
      compiled.definition,
      { folder: 'docs', window: '2030-01-01T00:00:00Z', tags: ['x', 'y'], limit: 5, options: { deep: true, n: [1, 2] } },
      {
        handlers: { list: service(() => ({ files: ['a', 'b', 'c'], owner: 'ana' })), 'each_file: each item': service((input) => ({ got: (input as { Payload: { parameters: JsonObject } }).Payload.parameters })) },
        waitTimeOverrides: { cool_down: 5, until_window: 5 },
      },
    );
    expect(run.status, run.cause).toBe('succeeded');
    expect(resultsOf(run).report).toEqual({
      outcome: 'completed',
      status_code: null,
      response: {
        files: ['a', 'b', 'c'].map((file, index) => ({ status_code: 200, response: { got: { file, position: index, folder: 'docs', owner: 'ana' } } })),
        labels: [
          { status_code: null, response: { tag: 'x', n: 0 } },
          { status_code: null, response: { tag: 'y', n: 1 } },
        ],
        count: 5,
        text: 'done 5 in docs',
        list: [5, { deep: true, n: [1, 2] }, 'x'],
      },
    });
  });
});

describe('transform', () => {
  it('keeps the types of what it builds: integers, objects, arrays, booleans, null; text stays text', async () => {
    const compiled = compileChecked(
      workflow(
        [
          serviceCall('source'),
          transform('shape', { n: '{{count}}', o: '{{opts}}', deep: '{{source.response.nested}}', flag: '{{source.response.ok}}', nothing: '{{source.response.none}}', text: 'count={{count}}', list: ['{{count}}', '{{source.response.nested}}', 'lit', 3], code: '{{source.status_code}}' }, ['source']),
          transform('single', '{{count}}'),
          serviceCall('use', { n: '{{shape.response.n}}', all: '{{shape.response}}', single: '{{single.response}}' }, ['shape', 'single']),
        ],
        [param('count', 'integer'), param('opts', 'object')],
      ),
    );
    const run = await execute(compiled.definition, { count: 3, opts: { a: [1] } }, { handlers: { source: () => lambdaResult({ nested: { k: [1, 'two'] }, ok: false, none: null }, 201) } });
    expect(run.status, run.cause).toBe('succeeded');
    const shape = { n: 3, o: { a: [1] }, deep: { k: [1, 'two'] }, flag: false, nothing: null, text: 'count=3', list: [3, { k: [1, 'two'] }, 'lit', 3], code: 201 };
    expect(payloadOf(run.recorder.only('use')).parameters).toStrictEqual({ n: 3, all: shape, single: 3 });
  });
});

describe('on_failure continue', () => {
  const failures = compileChecked(FEATURE_WORKFLOWS.failures!);

  it('completes the run: readers of the failed output are skipped, actions that only depend on it run', async () => {
    const run = await execute(failures.definition, { url: 'u' }, { handlers: { fetch: rejected('gone') } });
    expect(run.status).toBe('succeeded');
    expect(run.recorder.to('fetch')).toHaveLength(1);
    expect(run.recorder.to('parse')).toHaveLength(0);
    expect(resultsOf(run).parse).toEqual({ outcome: 'skipped', status_code: null, response: null });
    expect(run.recorder.to('store')).toHaveLength(1);
    // notify reads fetch.status_code but says on_skipped_input: run.
    expect(detailOf(run.recorder.only('notify')).message).toMatch(/^fetch finished with /);
    expect(run.recorder.only('fetch: dead letter').input).toMatchObject({ MessageBody: { action_id: 'fetch', error: 'ServiceRejectedError', cause: 'gone' } });
  });

  it("records the error and cause as the failed action's result", async () => {
    const compiled = compileChecked(workflow([serviceCall('risky', {}, [], { on_failure: 'continue' }), serviceCall('other')]));
    const run = await execute(compiled.definition, {}, { handlers: { risky: rejected('HTTP 409: conflict') } });
    expect(run.status).toBe('succeeded');
    expect(resultsOf(run).risky).toEqual({ outcome: 'failed', status_code: null, response: null, error: 'ServiceRejectedError', cause: 'HTTP 409: conflict' });
    expect(resultsOf(run).other).toMatchObject({ outcome: 'completed' });
  });

  it('retries transient errors with the action policy before continuing (max_attempts 4)', async () => {
    const run = await execute(failures.definition, { url: 'u' }, { handlers: { fetch: flaky('ServiceUnavailableError', 99) } });
    expect(run.status).toBe('succeeded');
    expect(run.recorder.to('fetch')).toHaveLength(4);
    expect(run.recorder.to('parse')).toHaveLength(0);
  });

  it('runs every reader when the action succeeds', async () => {
    const run = await execute(failures.definition, { url: 'u' }, { handlers: { fetch: service(() => ({ body: 'b' })) } });
    expect(run.status).toBe('succeeded');
    expect(payloadOf(run.recorder.only('parse')).parameters).toEqual({ body: { body: 'b' } });
    expect(detailOf(run.recorder.only('notify')).message).toBe('fetch finished with 200');
  });
});

describe('compensation (saga)', () => {
  const saga = compileChecked(FEATURE_WORKFLOWS.saga!);
  const sagaHandlers = (ship: Handler, extra: Record<string, Handler> = {}): Record<string, Handler> => ({
    reserve: service(() => ({ id: 'r-1' })),
    charge: service(() => ({ id: 'c-1' })),
    ship,
    ...extra,
  });

  it('compensates completed actions newest first (charge, then reserve) and fails with WorkflowCompensated', async () => {
    const run = await execute(saga.definition, { item: 'book', amount: 12 }, { handlers: sagaHandlers(rejected('no courier')) });
    expect(run.status).toBe('failed');
    expect(run.error).toBe('WorkflowCompensated');
    const charge = run.recorder.only('charge: compensate');
    const reserve = run.recorder.only('reserve: compensate');
    expect(charge.startSeq).toBeGreaterThan(run.recorder.only('ship').endSeq);
    expect(reserve.startSeq).toBeGreaterThan(charge.endSeq);
    expect(payloadOf(charge)).toMatchObject({ action_id: 'charge.compensation', endpoint: '/undo', parameters: { charge: 'c-1' } });
    expect(payloadOf(reserve)).toMatchObject({ action_id: 'reserve.compensation', parameters: { reservation: 'r-1' } });
    expect(run.recorder.only('ship: dead letter').input).toMatchObject({ MessageBody: { action_id: 'ship', error: 'ServiceRejectedError' } });
  });

  it('compensates nothing and succeeds when nothing fails', async () => {
    const run = await execute(saga.definition, { item: 'book', amount: 12 }, { handlers: sagaHandlers(service(() => ({ shipped: true }))) });
    expect(run.status).toBe('succeeded');
    expect(run.recorder.calls.map((call) => call.state)).toEqual(['reserve', 'charge', 'ship']);
  });

  it('compensates only actions that completed (a skipped one is left alone)', async () => {
    const compiled = compileChecked(
      workflow(
        [
          serviceCall('reserve', {}, [], { compensation: compensationCall() }),
          serviceCall('charge', {}, ['reserve'], { condition: { ref: '{{pay}}', equals: true }, compensation: compensationCall() }),
          serviceCall('ship', {}, ['charge'], { on_failure: 'compensate' }),
        ],
        [param('pay', 'boolean')],
      ),
    );
    const run = await execute(compiled.definition, { pay: false }, { handlers: { ship: rejected() } });
    expect(run.error).toBe('WorkflowCompensated');
    expect(run.recorder.to('charge')).toHaveLength(0);
    expect(run.recorder.to('charge: compensate')).toHaveLength(0);
    expect(run.recorder.to('reserve: compensate')).toHaveLength(1);
  });

  it('runs the remaining compensations when one of them fails', async () => {
    const run = await execute(saga.definition, { item: 'book', amount: 12 }, {
      handlers: sagaHandlers(rejected(), { 'charge: compensate': () => Promise.reject(actionError('ServiceRejectedError', 'cannot refund')) }),
    });
    expect(run.error).toBe('WorkflowCompensated');
    expect(run.recorder.to('charge: compensate')).toHaveLength(1);
    expect(run.recorder.to('reserve: compensate')).toHaveLength(1);
  });

  it('compensates parallel actions before what they depend on', async () => {
    const compiled = compileChecked(
      workflow([
        serviceCall('reserve', {}, [], { compensation: compensationCall() }),
        serviceCall('charge_card', {}, ['reserve'], { compensation: compensationCall() }),
        serviceCall('charge_points', {}, ['reserve'], { compensation: compensationCall() }),
        serviceCall('ship', {}, ['charge_card', 'charge_points'], { on_failure: 'compensate' }),
      ]),
    );
    const run = await execute(compiled.definition, {}, { handlers: { ship: rejected(), 'charge_card: compensate': service(() => ({}), 15), 'charge_points: compensate': service(() => ({}), 15) } });
    expect(run.error).toBe('WorkflowCompensated');
    const reserve = run.recorder.only('reserve: compensate');
    const card = run.recorder.only('charge_card: compensate');
    const points = run.recorder.only('charge_points: compensate');
    expect(reserve.startSeq).toBeGreaterThan(Math.max(card.endSeq, points.endSeq));
    // The two compensations of independent actions run side by side.
    expect(run.recorder.maxConcurrent((state) => state === 'charge_card: compensate' || state === 'charge_points: compensate')).toBe(2);
  });

  it('does not compensate when an action with on_failure fail fails: the run fails with ActionFailed', async () => {
    const run = await execute(saga.definition, { item: 'book', amount: 12 }, { handlers: sagaHandlers(service(() => ({})), { charge: rejected('card declined') }) });
    expect(run.error).toBe('ActionFailed');
    expect(run.cause).toBe('action charge failed: ServiceRejectedError: card declined');
    expect(run.recorder.calls.filter((call) => call.state.endsWith(': compensate'))).toEqual([]);
  });
});

describe('sub_workflow', () => {
  const compiled = compileChecked(FEATURE_WORKFLOWS.sub_workflows!);

  it('starts the child with the rendered params and uses its Output as the response', async () => {
    const run = await execute(compiled.definition, { document_id: 'doc-9', depth: 2 }, { handlers: { child: () => ({ Output: { result: 'ok', pages: [1, 2] }, ExecutionArn: 'arn:child:1' }) } });
    expect(run.status).toBe('succeeded');
    expect(run.recorder.only('child').input).toEqual({
      StateMachineArn: '${Workflow:child_workflow:2}',
      // The child gets the input every compiled machine expects, carrying this run's trace.
      Input: { params: { document: 'doc-9', depth: 2 }, results: {}, failures: {}, trace_id: '', AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: EXECUTION_ARN },
    });
    expect(payloadOf(run.recorder.only('use_child')).parameters).toEqual({ result: 'ok', whole: { result: 'ok', pages: [1, 2] } });
    expect(compiled.placeholders).toContain('${Workflow:child_workflow:2}');
  });

  it("fails with ActionFailed when the child execution fails", async () => {
    const run = await execute(compiled.definition, { document_id: 'd', depth: 1 }, { handlers: { child: () => Promise.reject(actionError('States.TaskFailed', 'child failed')) } });
    expect(run.error).toBe('ActionFailed');
    expect(run.cause).toBe('action child failed: States.TaskFailed: child failed');
    expect(run.recorder.to('use_child')).toHaveLength(0);
  });

  it('targets the live alias when no version is pinned', () => {
    const unpinned = compileChecked(workflow([subWorkflow('child', { workflow_id: 'other' }, {})]));
    expect(unpinned.placeholders).toContain('${Workflow:other}');
  });
});

describe('concurrency', () => {
  it('runs independent actions at the same time: equal-length intervals of a fan-out all overlap', async () => {
    const leaves = Array.from({ length: 8 }, (_, i) => serviceCall(`leaf_${i}`, { i }, ['root']));
    const compiled = compileChecked(workflow([serviceCall('root'), ...leaves, serviceCall('join', {}, leaves.map((leaf) => leaf.action_id))]));
    const handlers = Object.fromEntries(leaves.map((leaf) => [leaf.action_id, service(() => ({}), 40)]));
    const run = await execute(compiled.definition, {}, { handlers });
    expect(run.status).toBe('succeeded');
    const calls = leaves.map((leaf) => run.recorder.only(leaf.action_id));
    // Every leaf started before any leaf ended.
    expect(Math.max(...calls.map((call) => call.startSeq))).toBeLessThan(Math.min(...calls.map((call) => call.endSeq)));
    expect(Math.max(...calls.map((call) => call.start))).toBeLessThan(Math.min(...calls.map((call) => call.end)));
    expect(run.recorder.only('join').startSeq).toBeGreaterThan(Math.max(...calls.map((call) => call.endSeq)));
  });

  it('runs the four ingest actions of the ingestion template side by side', async () => {
    const { TEMPLATES } = await import('../../../core/templates/catalog.ts');
    const ingestion = TEMPLATES.find((template) => template.name === 'ingestion')!;
    const ingest = ['ingest_github', 'ingest_jira', 'ingest_confluence', 'ingest_swagger'];
    const run = await execute(
      compileChecked(ingestion.definition).definition,
      { github_repository: 'o/r', jira_project: 'J', confluence_space: 'C', swagger_url: 'https://s', correlation_id: 'c-1' },
      { handlers: Object.fromEntries(ingest.map((id) => [id, service(() => ({ source: id }), 30)])) },
    );
    expect(run.status).toBe('succeeded');
    expect(run.recorder.maxConcurrent((state) => ingest.includes(state))).toBe(4);
    expect(payloadOf(run.recorder.only('analyze_consistency')).parameters).toEqual({
      github: { source: 'ingest_github' },
      jira: { source: 'ingest_jira' },
      confluence: { source: 'ingest_confluence' },
      swagger: { source: 'ingest_swagger' },
    });
    expect(detailOf(run.recorder.only('notify_complete')).message).toBe('Ingestion of o/r, J, C and https://s finished (consistency analysis status 200)');
  });
});
