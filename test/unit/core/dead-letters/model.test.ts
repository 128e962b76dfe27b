import { describe, expect, it } from 'vitest';
import { parseDeadLetter, type ReceivedMessage } from '../../../../core/dead-letters/model.ts';
import type { EventEnvelope } from '../../../../core/events/envelope.ts';

const message = (body: unknown, extra: Partial<ReceivedMessage> = {}): ReceivedMessage => ({
  messageId: 'm-1',
  receiptHandle: 'h-1',
  body: typeof body === 'string' ? body : JSON.stringify(body),
  sentAt: '2026-03-01T10:00:00.000Z',
  receiveCount: 2,
  attributes: {},
  ...extra,
});

/** What the compiled state machine's "<action>: dead letter" state sends (statemachines/failure.ts). */
const actionFailed = {
  kind: 'action_failed',
  action_id: 'charge',
  execution_id: 'run-1',
  workflow_id: 'orders',
  workflow_version: 3,
  service: 'payments',
  endpoint: '/charge',
  method: 'POST',
  error: 'ServiceUnavailableError',
  cause: '{"status":503,"request":{"url":"http://payments/charge"}}',
};

const envelope = (type: string, data: Record<string, unknown>, tenant = 'acme'): EventEnvelope =>
  ({ event_id: 'ev-1', type, source: '/orchestrator/workflows', time: '2026-03-01T09:59:00.000Z', tenant, data }) as EventEnvelope;

const busEvent = (detail: EventEnvelope) => ({ version: '0', id: 'eb-1', 'detail-type': detail.type, source: detail.source, account: '123456789012', time: detail.time, region: 'us-east-1', resources: [], detail });

describe('reading a dead letter', () => {
  it('reads a failed action: its run, action, workflow, error type and cause', () => {
    expect(parseDeadLetter('actions', message(actionFailed))).toMatchObject({
      queue: 'actions',
      message_id: 'm-1',
      kind: 'action_failed',
      sent_at: '2026-03-01T10:00:00.000Z',
      receive_count: 2,
      execution_id: 'run-1',
      action_id: 'charge',
      workflow_id: 'orders',
      workflow_version: 3,
      error_type: 'ServiceUnavailableError',
      error_message: actionFailed.cause,
      body: actionFailed,
    });
  });

  it('reads a failed compensation, and a failure without an error name as of type unknown', () => {
    const letter = parseDeadLetter('actions', message({ ...actionFailed, kind: 'compensation_failed', error: null, cause: null }));
    expect(letter).toMatchObject({ kind: 'compensation_failed', execution_id: 'run-1', error_type: 'unknown' });
    expect(letter.error_message).toBeUndefined();
  });

  it('keeps the start of a long cause only', () => {
    const letter = parseDeadLetter('actions', message({ ...actionFailed, cause: 'x'.repeat(5000) }));
    expect(letter.error_message!.length).toBeLessThanOrEqual(1001);
  });

  it('reads an EventBridge dead letter of the deployer: the version-published envelope, its tenant, and the ERROR_CODE attribute', () => {
    const event = envelope('orchestrator.workflow.version_published', { workflow_id: 'orders', version: 4 });
    const letter = parseDeadLetter('deployments', message(busEvent(event), { attributes: { ERROR_CODE: 'SDK_CLIENT_ERROR', ERROR_MESSAGE: 'Lambda throttled', RULE_ARN: 'arn:aws:events:us-east-1:1:rule/x' } }));
    expect(letter).toMatchObject({ kind: 'deployment_failed', workflow_id: 'orders', workflow_version: 4, tenant: 'acme', error_type: 'SDK_CLIENT_ERROR', error_message: 'Lambda throttled' });
    expect(letter.event).toEqual(event);
  });

  it('does not take another event in the deployments queue for a deployment', () => {
    const letter = parseDeadLetter('deployments', message(busEvent(envelope('orchestrator.workflow.deleted', { workflow_id: 'orders' }))));
    expect(letter).toMatchObject({ kind: 'unknown', error_type: 'unknown' });
    expect(letter.problem).toContain('orchestrator.workflow.deleted');
  });

  it("reads a failed delivery: the subscription, the event, the run it concerns and the delivery's own error", () => {
    const event = { ...envelope('orchestrator.run.failed', { execution_id: 'run-9', workflow_id: 'orders' }), source: '/orchestrator/runs' };
    const letter = parseDeadLetter('deliveries', message({ subscription_id: 'sub-1', event, error: 'HTTP 410 from the receiver', attempts: 5, failed_at: '2026-03-01T10:00:00Z' }));
    expect(letter).toMatchObject({ kind: 'delivery_failed', subscription_id: 'sub-1', execution_id: 'run-9', workflow_id: 'orders', tenant: 'acme', error_type: 'HTTP 410 from the receiver' });
  });

  it('reads an error object of a delivery by its name and message', () => {
    const event = envelope('orchestrator.run.failed', {});
    expect(parseDeadLetter('deliveries', message({ subscription_id: 's', event, error: { name: 'TimeoutError', message: 'no answer in 10 s' } }))).toMatchObject({ error_type: 'TimeoutError', error_message: 'no answer in 10 s' });
  });

  it("reads an API destination's dead letter as a delivery naming its rule, not a subscription", () => {
    const letter = parseDeadLetter('deliveries', message(busEvent(envelope('orchestrator.run.failed', {})), { attributes: { RULE_ARN: 'arn:aws:events:us-east-1:1:rule/sub-1', ERROR_CODE: 'ApiDestinationError' } }));
    expect(letter).toMatchObject({ kind: 'delivery_failed', rule_arn: 'arn:aws:events:us-east-1:1:rule/sub-1', error_type: 'ApiDestinationError' });
    expect(letter.subscription_id).toBeUndefined();
  });

  it('takes what fits no shape for unknown, saying why, and keeps a body that is not JSON as text', () => {
    const missing = parseDeadLetter('actions', message({ kind: 'action_failed', workflow_id: 'w' }));
    expect(missing.kind).toBe('unknown');
    expect(missing.problem).toMatch(/execution_id/);
    expect(missing.execution_id).toBeUndefined();
    const text = parseDeadLetter('actions', message('not json {'));
    expect(text).toMatchObject({ kind: 'unknown', body: 'not json {', problem: 'the body is not JSON', body_length: 10 });
  });

  it('reads the same body differently by queue: a failed-action body in the deliveries queue is unknown', () => {
    expect(parseDeadLetter('deliveries', message(actionFailed)).kind).toBe('unknown');
  });
});
