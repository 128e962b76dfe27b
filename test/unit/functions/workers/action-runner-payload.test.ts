import { describe, expect, it } from 'vitest';
import { ActionErrorName, RETRYABLE_ACTION_ERRORS } from '../../../../core/errors.ts';
import type { OutboundHttp, OutboundRequest } from '../../../../core/ports.ts';
import { createActionRunner } from '../../../../functions/workers/action-runner.ts';
import { ServiceCallPayloadSchema, type ServiceCallPayload } from '../../../../functions/workers/service-call.ts';
import { fixedRegistry } from '../../../support/fixed-registry.ts';
import { failure } from '../../../support/service-call-failure.ts';

const valid: ServiceCallPayload = {
  action_id: 'fetch',
  execution_id: 'exec-1',
  workflow_id: 'wf-1',
  workflow_version: 1,
  service: 'svc',
  endpoint: '/items',
  method: 'POST',
  parameters: { id: 7 },
  timeout_seconds: 5,
};

/** A runner whose outbound HTTP and progress record what reached them (nothing should, for a bad payload). */
function runner() {
  const sent: OutboundRequest[] = [];
  const recorded: string[] = [];
  const http: OutboundHttp = {
    send: (request) => {
      sent.push(request);
      return Promise.resolve({ status: 200, statusText: 'OK', url: request.url, method: request.method, headers: { 'content-type': 'application/json' }, body: { kind: 'complete', text: '{"ok":true}' } });
    },
  };
  const run = createActionRunner({
    registry: fixedRegistry({ svc: 'http://127.0.0.1:9/' }),
    env: {},
    http,
    progress: {
      attempts: {
        startAttempt: (_execution, action) => Promise.resolve(void recorded.push(`start ${action}`)),
        finishAttempt: (_execution, action) => Promise.resolve(void recorded.push(`finish ${action}`)),
      },
      clock: { now: () => '2026-11-25T10:00:00.000Z' },
    },
  });
  return { run, sent, recorded };
}

describe("the action runner's payload", () => {
  it('is refused as InvalidPayloadError naming every field and rule, before anything is recorded or sent', async () => {
    const { run, sent, recorded } = runner();
    const { method: _method, ...rest } = valid;
    const { error, details } = await failure(run({ ...rest, method: 'FETCH', timeout_seconds: '5', headers: { 'x-id': { nested: true } } }));
    expect(error.name).toBe(ActionErrorName.InvalidPayload);
    expect(error.retryable).toBe(false);
    expect(RETRYABLE_ACTION_ERRORS).not.toContain(error.name);
    expect(details.message).toMatch(/^the action runner's payload is not a service call payload .*: method: .*; headers\.x-id: must be a string, number or boolean \(a header value\); timeout_seconds: /);
    expect(details.request).toEqual({ service: 'svc', method: 'FETCH', url: null, headers: {} });
    expect(sent).toEqual([]);
    expect(recorded).toEqual([]);
  });

  it('that is not an object at all says so', async () => {
    const { error, details } = await failure(runner().run('{"action_id": "fetch"}'));
    expect(error.name).toBe(ActionErrorName.InvalidPayload);
    expect(details.message).toMatch(/: the payload must be a JSON object, not string$/);
    expect(details.request).toEqual({ service: '', method: '', url: null, headers: {} });
  });

  it('as compiled (templated header values that render to numbers or booleans included) is called', async () => {
    const { run, sent, recorded } = runner();
    const result = await run({ ...valid, headers: { 'x-count': 3, 'x-dry-run': false }, trace_id: 'a'.repeat(32), inline_result_bytes: 1024 });
    expect(result.status_code).toBe(200);
    expect(sent[0]?.headers).toMatchObject({ 'x-count': '3', 'x-dry-run': 'false' });
    expect(recorded).toEqual(['start fetch', 'finish fetch']);
  });

  it('with the gates its action feeds (gate_waiters) parses, and a list that leaves the action out is refused naming the waiter', async () => {
    expect(ServiceCallPayloadSchema.parse({ ...valid, gate_waiters: { deploy: ['fetch', 'test'] } })).toEqual({ ...valid, gate_waiters: { deploy: ['fetch', 'test'] } });
    const { run, sent } = runner();
    const { error, details } = await failure(run({ ...valid, gate_waiters: { deploy: ['test'], notify: [] } }));
    expect(error.name).toBe(ActionErrorName.InvalidPayload);
    expect(details.message).toContain('gate_waiters.deploy: must include the reporting producer fetch (it lists test)');
    expect(details.message).toContain('gate_waiters.notify');
    expect(sent).toEqual([]);
  });

  it('of a state machine compiled before templated endpoints, trace ids and inline limits still parses', () => {
    expect(ServiceCallPayloadSchema.parse(valid)).toEqual(valid);
  });
});
