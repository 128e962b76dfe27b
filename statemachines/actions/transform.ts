import type { Action } from '../../core/workflow/definition.ts';
import type { JsonObject } from '../asl.ts';
import { COMPLETED, flow, type ActionContext, type ActionTarget, type States } from '../context.ts';
import { compileValue, type PathScope } from '../paths.ts';

/** A transform: one Pass state whose result is the output value, built from parameters and earlier results. */
export function compileTransform(context: ActionContext, action: Extract<Action, { action_type: 'transform' }>, target: ActionTarget): States {
  return {
    [action.action_id]: {
      Type: 'Pass',
      Parameters: { outcome: COMPLETED, status_code: null, ...transformResponse(action.config.output, context.scope) },
      ResultPath: target.resultPath,
      ...flow(target.next),
    },
  };
}

/** A transform's `response` field: the value itself, or the path it is read from. Shared with foreach items. */
export function transformResponse(output: unknown, scope: PathScope): JsonObject {
  const compiled = compileValue(output, scope);
  return 'path' in compiled ? { 'response.$': compiled.path } : { response: compiled.literal };
}
