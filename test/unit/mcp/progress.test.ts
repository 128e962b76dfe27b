import { describe, expect, it } from 'vitest';
import { causeText, progressMessage } from '../../../functions/mcp/run-tool.ts';

/** What a progress notification and a failure say, from the run as the API shows it. */

const action = (action_id: string, status: 'pending' | 'running' | 'completed' | 'failed') => ({ action_id, action_type: 'service_call', status, attempts: status === 'pending' ? 0 : 1 });

describe('progressMessage', () => {
  it('names every running action while the run runs', () => {
    expect(progressMessage({ status: 'running', progress: { completed: 1, total: 4, percent: 25 }, actions: [action('a', 'completed'), action('b', 'running'), action('c', 'running'), action('d', 'pending')] })).toBe('running: b, c');
  });

  it('says the run is finishing once every action ended, and names the failing action of a failed run', () => {
    expect(progressMessage({ status: 'running', progress: { completed: 2, total: 2, percent: 100 }, actions: [action('a', 'completed'), action('b', 'completed')] })).toBe('finishing');
    expect(progressMessage({ status: 'failed', progress: { completed: 2, total: 2, percent: 100 }, actions: [action('a', 'completed'), action('b', 'failed')], error: { action_id: 'b', error: 'ServiceCallError', cause: '{}' } })).toBe('failed at b');
    expect(progressMessage({ status: 'paused', progress: { completed: 1, total: 2, percent: 50 }, actions: [action('a', 'completed'), action('b', 'pending')] })).toBe('paused');
  });
});

describe('causeText', () => {
  it("reads a service call's JSON cause by its message, and cuts any other cause short", () => {
    expect(causeText(JSON.stringify({ message: 'HTTP 500 from payments', status: 500 }))).toBe('HTTP 500 from payments');
    expect(causeText('socket hang up')).toBe('socket hang up');
    expect(causeText('x'.repeat(2000))).toHaveLength(500);
  });
});
