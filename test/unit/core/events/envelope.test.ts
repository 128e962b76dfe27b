import { describe, expect, it } from 'vitest';
import { EVENT_SOURCES, EVENT_TYPES, fromCloudEvent, newEvent, replayedEvent, toCloudEvent, type EventEnvelope } from '../../../../core/events/envelope.ts';

const clock = { now: () => '2026-12-05T10:00:00.000Z' };
const sequence = () => {
  let n = 0;
  return { next: () => `evt-${++n}` };
};
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('the event envelope', () => {
  it('stamps a new event with an id, the time, and the source its type belongs to', () => {
    const ids = sequence();
    const run = newEvent({ type: 'orchestrator.run.failed', tenant: 'acme', subject: 'executions/exec-1', trace_id: TRACE, correlation_id: 'exec-1', data: { execution_id: 'exec-1', error: 'ActionFailed' } }, clock, ids);
    expect(run).toEqual({
      event_id: expect.stringMatching(/^[0-9a-z]{8}-evt-1$/),
      type: 'orchestrator.run.failed',
      source: EVENT_SOURCES.runs,
      time: '2026-12-05T10:00:00.000Z',
      subject: 'executions/exec-1',
      trace_id: TRACE,
      correlation_id: 'exec-1',
      tenant: 'acme',
      data: { execution_id: 'exec-1', error: 'ActionFailed' },
    });
    expect(newEvent({ type: 'orchestrator.action.compensated', tenant: 'acme', data: {} }, clock, ids).source).toBe(EVENT_SOURCES.runs);
    expect(newEvent({ type: 'orchestrator.service.circuit_opened', tenant: 'acme', data: {} }, clock, ids).source).toBe(EVENT_SOURCES.registry);
    expect(newEvent({ type: 'orchestrator.dlq.retried', tenant: 'acme', data: {} }, clock, ids).source).toBe(EVENT_SOURCES.deadLetters);
    expect(newEvent({ type: 'orchestrator.workflow.version_published', tenant: 'acme', data: {} }, clock, ids)).toMatchObject({ event_id: expect.stringMatching(/-evt-5$/), source: EVENT_SOURCES.workflows });
  });

  it('gives events of one millisecond ids that sort in the order they were made (the history orders by time, then id)', () => {
    const ids = { next: () => Math.random().toString(36).slice(2) };
    const made = Array.from({ length: 50 }, () => newEvent({ type: 'orchestrator.run.started', tenant: 'acme', data: {} }, clock, ids).event_id);
    expect([...made].sort()).toEqual(made);
  });

  it('leaves out an empty trace id, and refuses one that is not a W3C trace id', () => {
    expect(newEvent({ type: 'orchestrator.run.started', tenant: 'acme', trace_id: '', data: {} }, clock, sequence())).not.toHaveProperty('trace_id');
    expect(() => newEvent({ type: 'orchestrator.run.started', tenant: 'acme', trace_id: 'not-a-trace', data: {} }, clock, sequence())).toThrow(/32 lowercase hex/);
  });

  it('covers every family the issue lists, each type under its entity', () => {
    const families = new Set(EVENT_TYPES.map((type) => type.split('.')[1]));
    expect([...families].sort()).toEqual(['action', 'dlq', 'run', 'service', 'workflow']);
    for (const change of ['requested', 'started', 'paused', 'resumed', 'retried', 'completed', 'failed', 'cancelled', 'timed_out']) expect(EVENT_TYPES).toContain(`orchestrator.run.${change}`);
  });

  it('is a CloudEvents 1.0 event in structured mode, and reads back to the same envelope', () => {
    const event: EventEnvelope = replayedEvent(newEvent({ type: 'orchestrator.action.completed', tenant: 'acme', subject: 'executions/e/actions/charge', trace_id: TRACE, correlation_id: 'e', data: { status_code: 200 } }, clock, sequence()));
    const document = toCloudEvent(event);
    expect(document).toEqual({
      specversion: '1.0',
      id: event.event_id,
      type: 'orchestrator.action.completed',
      source: '/orchestrator/runs',
      time: '2026-12-05T10:00:00.000Z',
      subject: 'executions/e/actions/charge',
      datacontenttype: 'application/json',
      traceid: TRACE,
      correlationid: 'e',
      tenant: 'acme',
      replayed: true,
      data: { status_code: 200 },
    });
    // Extension attribute names are lowercase letters and digits only (CloudEvents 1.0).
    for (const name of Object.keys(document)) expect(name).toMatch(/^[a-z0-9]+$/);
    expect(fromCloudEvent(document)).toEqual({ event });
  });

  it('names the attribute of a CloudEvents document that is not one of ours', () => {
    expect(fromCloudEvent({ specversion: '0.3' })).toEqual({ issues: ['specversion: must be "1.0"'] });
    const result = fromCloudEvent({ specversion: '1.0', id: '', type: 'com.example.other', source: '/x', time: 'yesterday', tenant: 'acme', data: {}, traceid: 'zz' });
    expect('issues' in result ? result.issues.map((issue) => issue.split(':')[0]) : []).toEqual(['id', 'type', 'time', 'traceid']);
  });
});
