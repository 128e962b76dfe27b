import { describe, expect, it } from 'vitest';
import { settleProgress, type ActionProgress } from '../../../../core/execution/model.ts';
import { downstreamOf, rerunPlan, retryProgress } from '../../../../core/execution/rerun.ts';
import { ActionSchema, type Action } from '../../../../core/workflow/definition.ts';

const call = (id: string, dependsOn: string[] = []): Action => ActionSchema.parse({ action_id: id, action_type: 'service_call', depends_on: dependsOn, config: { service: 's', endpoint: `/${id}`, method: 'GET' } });
const progress = (id: string, status: ActionProgress['status'], extra: Partial<ActionProgress> = {}): ActionProgress => ({ action_id: id, action_type: 'service_call', status, attempts: status === 'pending' ? 0 : 1, ...extra });

// fetch -> analyze -> report, and side on its own; audit depends on fetch and report.
const actions = [call('fetch'), call('side'), call('analyze', ['fetch']), call('report', ['analyze']), call('audit', ['fetch', 'report'])];

describe('what a rerun reuses', () => {
  it('runs from_action and everything downstream of it, directly or through others', () => {
    expect([...downstreamOf(actions, 'analyze')].sort()).toEqual(['analyze', 'audit', 'report']);
    expect([...downstreamOf(actions, 'side')]).toEqual(['side']);
  });

  it('reuses every completed action that is not downstream, with its output, and nothing that did not complete', () => {
    const source = [progress('fetch', 'completed', { output: { status_code: 200, response: { n: 1 } } }), progress('side', 'failed'), progress('analyze', 'completed'), progress('report', 'completed'), progress('audit', 'completed')];
    const plan = rerunPlan(actions, source, 'analyze');
    if ('issue' in plan) throw new Error(plan.issue.message);
    expect([...plan.reused]).toEqual(['fetch']);
    expect(plan.progress.map((action) => [action.action_id, action.status, action.attempts])).toEqual([
      ['fetch', 'completed', 0],
      ['side', 'pending', 0],
      ['analyze', 'pending', 0],
      ['report', 'pending', 0],
      ['audit', 'pending', 0],
    ]);
    expect(plan.progress[0]?.output).toEqual({ status_code: 200, response: { n: 1 } });
  });

  it('names the actions when from_action is not one of them', () => {
    expect(rerunPlan(actions, [], 'nope')).toEqual({ issue: { field: 'from_action', message: expect.stringContaining('fetch, side, analyze, report, audit') } });
  });
});

describe('what a retry keeps', () => {
  it('keeps completed actions and sends the rest back to pending, attempts kept, their last end and error gone', () => {
    const { progress: reset, reused } = retryProgress([
      progress('fetch', 'completed'),
      progress('analyze', 'failed', { attempts: 3, error: { error: 'ServiceUnavailableError', cause: '503' }, ended_at: 'x' }),
      progress('report', 'not_run', { reason: 'the run failed at analyze before it started' }),
    ]);
    expect([...reused]).toEqual(['fetch']);
    expect(reset).toEqual([progress('fetch', 'completed'), { action_id: 'analyze', action_type: 'service_call', status: 'pending', attempts: 3 }, { action_id: 'report', action_type: 'service_call', status: 'pending', attempts: 1 }]);
  });
});

describe('settling the progress of a run that ended', () => {
  it('leaves nothing pending or running: not_run and cancelled, each with the reason', () => {
    const settled = settleProgress([progress('a', 'completed'), progress('b', 'running'), progress('c', 'pending')], 'failed', '2026-12-05T10:00:00.000Z', 'x');
    expect(settled.map((action) => [action.action_id, action.status, action.reason])).toEqual([
      ['a', 'completed', undefined],
      ['b', 'cancelled', 'stopped while running: the run failed at x'],
      ['c', 'not_run', 'the run failed at x before it started'],
    ]);
    expect(settled[1]?.ended_at).toBe('2026-12-05T10:00:00.000Z');
  });

  it('changes nothing while the run is still going', () => {
    const running = [progress('b', 'running'), progress('c', 'pending')];
    expect(settleProgress(running, 'running', 'now')).toEqual(running);
  });
});
