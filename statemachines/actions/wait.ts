import type { Action } from '../../core/workflow/definition.ts';
import type { WaitState } from '../asl.ts';
import { flow, type ActionContext, type ActionTarget, type States } from '../context.ts';
import { compileValue } from '../paths.ts';

/** A wait: one Wait state, for a number of seconds or until a time, either given or read from state data. */
export function compileWait(context: ActionContext, action: Extract<Action, { action_type: 'wait' }>, target: ActionTarget): States {
  const { seconds, until } = action.config;
  const wait: WaitState = { Type: 'Wait' };
  if (seconds !== undefined) {
    const compiled = compileValue(seconds, context.scope);
    if ('path' in compiled) wait.SecondsPath = compiled.path;
    else wait.Seconds = compiled.literal as number;
  } else {
    const compiled = compileValue(until, context.scope);
    if ('path' in compiled) wait.TimestampPath = compiled.path;
    else wait.Timestamp = compiled.literal as string;
  }
  // A wait leaves state data as it was: nothing of its is ever read, so it has no result (target.resultPath).
  return { [action.action_id]: { ...wait, ...flow(target.next) } };
}
