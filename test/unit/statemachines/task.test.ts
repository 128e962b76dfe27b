import { describe, expect, it } from 'vitest';
import { RETRYABLE_ACTION_ERRORS } from '../../../core/errors.ts';
import { ACTION_TYPES } from '../../../core/workflow/definition.ts';
import { ACTION_COMPILERS } from '../../../statemachines/actions/index.ts';
import { Resource } from '../../../statemachines/asl.ts';
import { LAMBDA_TRANSIENT_ERRORS, pausable, task } from '../../../statemachines/task.ts';

describe('the Task builder', () => {
  it('writes every field in one order, and ends the branch when there is no next state', () => {
    const state = task({
      comment: 'c',
      resource: Resource.lambdaInvoke,
      parameters: { Payload: {} },
      resultSelector: {},
      resultPath: null,
      timeoutSeconds: 5,
      retry: { policy: undefined },
      catch: [{ ErrorEquals: ['States.ALL'], Next: 'x' }],
      next: undefined,
    });
    expect(Object.keys(state)).toEqual(['Type', 'Comment', 'Resource', 'Parameters', 'ResultSelector', 'ResultPath', 'TimeoutSeconds', 'Retry', 'Catch', 'End']);
  });

  it('retries an action with its policy over the errors of what it calls, and control tasks over Lambda errors only', () => {
    const call = task({ resource: Resource.lambdaInvoke, parameters: {}, retry: { policy: undefined }, next: 'n' });
    expect(call.Retry).toEqual([{ ErrorEquals: [...RETRYABLE_ACTION_ERRORS], IntervalSeconds: 2, MaxAttempts: 2, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: 'FULL' }]);
    const once = task({ resource: Resource.putEvents, parameters: {}, retry: { policy: { max_attempts: 1, interval_seconds: 2, backoff_rate: 2, max_delay_seconds: 60, jitter: 'full' } }, next: 'n' });
    expect(once.Retry).toEqual([]);
    const events = task({ resource: Resource.putEvents, parameters: {}, retry: { policy: undefined, retryTimeout: true }, next: 'n' });
    expect(events.Retry?.[0]?.ErrorEquals).toEqual(['EventBridge.InternalException', 'EventBridge.ThrottlingException', 'States.Timeout']);
    expect(task({ resource: Resource.lambdaInvoke, parameters: {}, retry: 'runner-control', next: 'n' }).Retry).toEqual([{ ErrorEquals: [...LAMBDA_TRANSIENT_ERRORS], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 }]);
    expect(task({ resource: Resource.putEvents, parameters: {}, retry: 'none', next: 'n' })).not.toHaveProperty('Retry');
  });

  it('makes a call pausable without moving its fields: the pause catch comes first, and the parked state fails like the call', () => {
    const failure = { ErrorEquals: ['States.ALL'], ResultPath: '$.failures.a', Next: 'a: failed' };
    const call = task({ resource: Resource.lambdaInvoke, parameters: { FunctionName: 'f', Payload: { action_id: 'a' } }, retry: { policy: undefined }, catch: [failure], next: 'b' });
    const { call: paused, parked } = pausable(call, 'a', 'a: held', { action_id: 'a' });
    expect(Object.keys(paused)).toEqual(Object.keys(call));
    expect(paused.Parameters).toEqual({ FunctionName: 'f', Payload: { action_id: 'a', pausable: true } });
    expect(paused.Catch?.map((catcher) => catcher.Next)).toEqual(['a: held', 'a: failed']);
    expect(parked.Catch).toEqual([failure]);
    expect(parked.Next).toBe('a');
    expect(call.Parameters).toEqual({ FunctionName: 'f', Payload: { action_id: 'a' } });
  });
});

describe('the action compilers', () => {
  it('have one module per action type', () => {
    expect(Object.keys(ACTION_COMPILERS).sort()).toEqual([...ACTION_TYPES].sort());
  });
});
