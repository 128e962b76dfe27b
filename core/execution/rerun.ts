import type { FieldIssue } from '../errors.ts';
import { transitiveDependencies } from '../workflow/graph.ts';
import type { Action } from '../workflow/definition.ts';
import type { ActionProgress, CompensationProgress } from './model.ts';

/**
 * What a retry or a rerun starts from. Pure: the use cases in service.ts apply it, the engines run it.
 */

/** A retry keeps what completed (reused, not called again) and sends every other action back to pending. */
export function retryProgress(actions: readonly ActionProgress[]): { progress: ActionProgress[]; reused: Set<string> } {
  // An action whose compensation ran was undone: it runs again rather than being reused.
  const reused = new Set(actions.filter((action) => action.status === 'completed' && !compensationRan(action)).map((action) => action.action_id));
  const progress = actions.map((action): ActionProgress => {
    if (reused.has(action.action_id)) return action;
    // Attempts add up across retries; the last attempt's error, end and reason belong to the attempt that ended.
    return {
      action_id: action.action_id,
      action_type: action.action_type,
      status: 'pending',
      attempts: action.attempts,
      ...(action.started_at ? { started_at: action.started_at } : {}),
      ...(action.compensation ? { compensation: PLANNED } : {}),
    };
  });
  return { progress, reused };
}

const PLANNED: CompensationProgress = { status: 'planned', attempts: 0 };

function compensationRan(action: ActionProgress): boolean {
  return action.compensation !== undefined && action.compensation.status !== 'planned' && action.compensation.status !== 'skipped';
}

/** `fromAction` and every action that depends on it, directly or through others. */
export function downstreamOf(actions: readonly Action[], fromAction: string): Set<string> {
  const upstream = transitiveDependencies(actions);
  return new Set(actions.filter((action) => action.action_id === fromAction || upstream.get(action.action_id)?.has(fromAction)).map((action) => action.action_id));
}

/**
 * A rerun from `fromAction` reuses the source run's outputs of every action that completed there and is not
 * downstream of `fromAction`; it runs `fromAction` and everything downstream. Returns the new run's starting
 * progress (reused actions completed, with their output; the rest pending), or the issue when `fromAction`
 * is not an action of the version.
 */
export function rerunPlan(
  actions: readonly Action[],
  source: readonly ActionProgress[],
  fromAction: string,
): { progress: ActionProgress[]; reused: Set<string> } | { issue: FieldIssue } {
  if (!actions.some((action) => action.action_id === fromAction)) {
    return { issue: { field: 'from_action', message: `'${fromAction}' is not an action of this run's workflow version; actions: ${actions.map((action) => action.action_id).join(', ')}` } };
  }
  const downstream = downstreamOf(actions, fromAction);
  const byId = new Map(source.map((action) => [action.action_id, action]));
  const reusable = (id: string) => {
    const before = byId.get(id);
    return before !== undefined && before.status === 'completed' && !compensationRan(before);
  };
  const reused = new Set(actions.filter((action) => !downstream.has(action.action_id) && reusable(action.action_id)).map((action) => action.action_id));
  const progress = actions.map((action): ActionProgress => {
    const before = byId.get(action.action_id);
    const compensation = action.compensation ? { compensation: PLANNED } : {};
    if (before && reused.has(action.action_id)) return { ...before, attempts: 0, ...compensation };
    return { action_id: action.action_id, action_type: action.action_type, status: 'pending', attempts: 0, ...compensation };
  });
  return { progress, reused };
}
