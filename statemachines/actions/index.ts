import type { Action, ActionType } from '../../core/workflow/definition.ts';
import type { ChoiceRule } from '../asl.ts';
import { conditionRule } from '../conditions.ts';
import { gateReportState, gateWaitState, waitsInItsCall } from '../gates.ts';
import { executionIdPath, resultLocation } from '../paths.ts';
import { COMPLETED, flow, type ActionContext, type ActionTarget, type Context, type Fragment, type States } from '../context.ts';
import { compileForeach } from './foreach.ts';
import { compileLlm } from './llm.ts';
import { compileNotification } from './notification.ts';
import { compileServiceCall } from './service-call.ts';
import { compileSubWorkflow } from './sub-workflow.ts';
import { compileTransform } from './transform.ts';
import { compileWait } from './wait.ts';

/**
 * Compiles one action type: the complete states that run an action of that type, in definition order, and
 * its failure handling. The first state is named by the action's id: the guard, the rerun check and the
 * redrive gate (failure.ts) all go to it. The states put the action's result at `target.resultPath` and
 * continue at `target.next`, from every way out (completed, or failed and recorded).
 */
export type ActionCompiler<A extends Action = Action> = (context: ActionContext, action: A, target: ActionTarget) => States;

/** One compiler per action type: a type added to core/workflow/definition.ts without one does not compile. */
export const ACTION_COMPILERS = {
  service_call: compileServiceCall,
  notification: compileNotification,
  wait: compileWait,
  transform: compileTransform,
  foreach: compileForeach,
  sub_workflow: compileSubWorkflow,
  llm: compileLlm,
} satisfies { readonly [T in ActionType]: ActionCompiler<Extract<Action, { action_type: T }>> };

/** The states of one action, from its type's compiler. */
export function compileActionStates(context: ActionContext, action: Action, target: ActionTarget): States {
  // The registry is keyed by the action's own type, so the compiler it finds takes this action.
  const compile = ACTION_COMPILERS[action.action_type] as ActionCompiler;
  const states = compile(context, action, target);
  if (!(action.action_id in states)) throw new Error(`the ${action.action_type} compiler did not name a state ${action.action_id}`);
  return states;
}

/** Wait states leave state data as it was: nothing of theirs is ever read. */
export function writesResult(action: Action): boolean {
  return action.action_type !== 'wait';
}

/**
 * One action as a piece of the flow: its states behind its condition and the guards on its inputs, behind
 * its dependency gate when it has one, and, in the rerun variant, behind the check for a reused result; then,
 * when it feeds gates, the report to them. `after` holds the results needed once it is done; `available` the
 * results in state data when it starts.
 */
export function actionFragment(context: Context, action: Action, after: ReadonlySet<string>, available: ReadonlySet<string>): Fragment {
  const id = action.action_id;
  const waits = context.gates.waits.get(id);
  const released = context.gates.released.get(id);
  const reports = context.gates.reports.get(id);
  const scope = released ? { ...context.scope, released } : context.scope;
  // What a report sends is the recorded result, so a producer keeps it.
  const keep = (after.has(id) || reports !== undefined) && writesResult(action);
  const present = keep ? new Set([...available, id]) : available;
  const resultPath = keep ? `$.results.${id}` : null;
  const guards = context.guardedInputs.get(id) ?? [];
  const guarded = action.condition !== undefined || guards.length > 0;
  const check = `${id}: reuse?`;
  const guard = `${id}: run?`;
  const gate = `${id}: gate`;
  const report = `${id}: report`;
  const runs = guarded ? guard : id;
  // A gated call waits in its own state: no gate state before it.
  const gateWait = waits && waitsInItsCall(action, context.gates, context.guardedInputs) ? waits : undefined;
  const entry = waits && !gateWait ? gate : runs;

  const build = (next: string | undefined) => {
    const { states } = context;
    // Every way out goes through the report when there is one (a completed service call reports from the runner).
    const onward = reports ? report : next;
    const runnerReports = reports && action.action_type === 'service_call' ? { waiters: reports, completedNext: next } : undefined;
    const own = compileActionStates({ ...context, scope }, action, { resultPath, next: onward, ...(runnerReports ? { runnerReports } : {}), ...(gateWait ? { gateWait } : {}) });
    Object.assign(states, own);
    // A service call that can only complete (reported by the runner) or fail the run never enters its report state: leave it out.
    const reported = reports !== undefined && (guarded || context.reuse || !runnerReports || (action.on_failure ?? 'fail') !== 'fail');
    if (guarded) {
      const skipped = `${id}: skipped`;
      states[skipped] = {
        Type: 'Pass',
        Comment: guards.length > 0 ? `skipped when its condition is false or ${guards.join(', ')} did not complete` : 'skipped when its condition is false',
        Result: { outcome: 'skipped', status_code: null, response: null },
        ResultPath: resultPath,
        ...flow(onward),
      };
      const choices: ChoiceRule[] = [];
      if (guards.length > 0) {
        const incomplete = guards.map((input) => ({ Not: { Variable: `${resultLocation(input, scope)}.outcome`, StringEquals: COMPLETED } }));
        choices.push({ ...(incomplete.length === 1 ? incomplete[0]! : { Or: incomplete }), Next: skipped });
      }
      choices.push({ ...(action.condition ? conditionRule(action.condition, scope) : { Variable: '$.params', IsPresent: true }), Next: id });
      states[guard] = { Type: 'Choice', Choices: choices, Default: skipped };
    }
    if (waits && !gateWait) states[gate] = gateWaitState(executionIdPath(scope), id, waits, released !== undefined, runs);
    if (reported) states[report] = gateReportState(executionIdPath(scope), id, writesResult(action), reports, next);
    if (context.reuse) {
      // The rerun variant: a result the rerun reuses is taken from the input, and the action does not run.
      const reused = `${id}: reused`;
      states[reused] = { Type: 'Pass', Comment: 'reused from the run this one reruns', InputPath: `$.reuse.${id}`, ResultPath: resultPath, ...flow(onward) };
      states[check] = { Type: 'Choice', Choices: [{ Variable: `$.reuse.${id}`, IsPresent: true, Next: reused }], Default: entry };
    }
  };
  return { start: context.reuse ? check : entry, present, build };
}
