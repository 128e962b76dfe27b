import type { Action, ExecutionMode, ParameterType } from '../core/workflow/definition.ts';
import { actionFragment, writesResult } from './actions/index.ts';
import { analyse } from './analysis.ts';
import type { JsonObject, StateMachineDefinition } from './asl.ts';
import { flow, inSequence, type CompileInput, type Context, type Fragment, type InlineResultShares, type States } from './context.ts';
import { checkLimits, type LimitReport } from './limits.ts';
import { referencedActions, type PathScope } from './paths.ts';
import { buildSagaEnd, SAGA_CHECK } from './saga.ts';
import { placeGates, waitsInItsCall } from './gates.ts';
import { losslessStructure } from './lossless.ts';
import { actionWeights, CLEARLY_OVER, childMachineFragment, estimatedWeight, overBudget, planSplit, sumWeights, type Weight } from './split.ts';
import { actionsOf, type Structure } from './structure.ts';

export { conditionRule } from './conditions.ts';
export { DEFAULT_SERVICE_CALL_TIMEOUT_SECONDS, type CompileInput, type InlineResultShares } from './context.ts';

/**
 * Compiles one workflow version into a Step Functions state machine (JSONPath ASL): the dependency DAG as
 * nested Parallel states (structure.ts), each action as its states (a Task, a Wait, a Pass, a Map), guards
 * for conditions and skipped inputs, retries, catches, the dead-letter queue, and saga compensation.
 * Pure: the same input gives the same definition. See docs/adr/0003-workflow-compiler.md.
 */

export interface CompileOptions {
  /**
   * The rerun variant (Step Functions; ADR 0012): each action first looks for its result in the input's
   * `reuse` map, and takes it from there instead of running when it is there. One more state per action,
   * so only reruns use it.
   */
  readonly reuse?: boolean;
}

export interface CompiledWorkflow {
  readonly definition: StateMachineDefinition;
  /**
   * The child state machines of a workflow too large for one (split.ts), in part order: the definition
   * starts part n through the placeholder `${WorkflowPart:n}`, and parts may start later parts. Empty for most workflows.
   */
  readonly children: readonly { readonly part: number; readonly definition: StateMachineDefinition }[];
  readonly structure: Structure;
  /** Each action that waits on a dependency gate, and the producers it waits for (ADR 0016). */
  readonly gates: ReadonlyMap<string, readonly string[]>;
  /** The gated actions that wait in their own call (gated calls), with no gate state. */
  readonly gatedCalls: ReadonlySet<string>;
  readonly executionMode: ExecutionMode;
  /** `${...}` placeholders in the definition, which the runtime replaces with its resources. */
  readonly placeholders: readonly string[];
  readonly limits: LimitReport;
}

/**
 * State data is at most 256 KiB, and every result a run keeps is in it at once (plus the parameters, the
 * failures, and what a Parallel's branches copy). Each service call may keep an equal share of this budget
 * inline; the action runner stores anything larger outside state data and keeps a reference
 * (`inline_result_bytes` in its payload; docs/adr/0005-large-results.md). The rest of the 256 KiB is left for
 * parameters and everything that is not a service call's result.
 */
export const STATE_RESULTS_BUDGET_BYTES = 160 * 1024;
/** A share is never smaller (a reference and a little structure fit) nor larger (one result alone stays well under 256 KiB). */
export const MIN_INLINE_RESULT_BYTES = 2 * 1024;
export const MAX_INLINE_RESULT_BYTES = 200 * 1024;
/**
 * A foreach keeps every item's result in one array, and how many items there will be is not known when
 * compiling: its share is split as if there were this many (more items can still outgrow the budget).
 */
export const FOREACH_ASSUMED_ITEMS = 16;
/**
 * The input a compiled machine expects. Runtimes build it (never users), so no state is spent shaping it:
 * `results` and `failures` exist from the start and every ResultPath only adds a leaf; `trace_id` travels in
 * state data (joins and foreach items keep it) so every service call sends the run's trace.
 */
export function executionInput(
  params: Record<string, unknown>,
  traceId = '',
): { params: Record<string, unknown>; results: Record<string, never>; failures: Record<string, never>; trace_id: string } {
  return { params, results: {}, failures: {}, trace_id: traceId };
}

export function compileWorkflow(input: CompileInput, options: CompileOptions = {}): CompiledWorkflow {
  const byId = new Map(input.actions.map((action) => [action.action_id, action]));
  const parameterTypes = new Map<string, ParameterType>(input.parameters.map((parameter) => [parameter.name, parameter.type]));
  const scope: PathScope = { workflowId: input.workflow_id, workflowVersion: input.version, parameterTypes };
  // Lossless on every graph (ADR 0016): exact series-parallel pieces, and gates where the structure cannot hold an edge.
  const analysis = analyse(input.actions, scope);
  const lossless = losslessStructure(input.actions, (id) => [...(analysis.reads.get(id) ?? []), ...(analysis.guardedInputs.get(id) ?? [])]);
  const gates = placeGates(input.actions, lossless, analysis);
  const executionMode = input.execution_mode ?? 'standard';
  const gatedCalls = new Set(input.actions.filter((action) => waitsInItsCall(action, gates, analysis.guardedInputs)).map((action) => action.action_id));

  // What must still be in state data when the forward flow ends: its outputs (the sinks) and, for a saga,
  // every result a compensation reads.
  const depended = new Set(input.actions.flatMap((action) => action.depends_on));
  const finalNeeds = new Set(input.actions.filter((action) => !depended.has(action.action_id) && writesResult(action)).map((action) => action.action_id));
  if (analysis.saga) {
    for (const action of input.actions) {
      if (action.on_failure === 'compensate') finalNeeds.add(action.action_id);
      if (action.compensation) {
        finalNeeds.add(action.action_id);
        for (const id of referencedActions(action.compensation.config, scope)) finalNeeds.add(id);
      }
    }
  }

  const assemble = (structure: Structure, machines: ReadonlySet<Structure>) => {
    const states: States = {};
    const context: Context = {
      input, scope, byId, ...analysis, gates, states, counters: { forks: 0 }, machines, children: [],
      inlineResultBytes: inlineResultShares(input.actions), reuse: options.reuse ?? false,
    };
    const body = structureFragment(context, structure, finalNeeds, new Set());
    // A saga's forward flow ends in the check whether to compensate; otherwise the machine ends with it.
    body.build(context.saga ? SAGA_CHECK : undefined);
    if (context.saga) buildSagaEnd(context, structure);
    const definition: StateMachineDefinition = {
      Comment: `workflow ${input.workflow_id} version ${input.version}${input.name ? `: ${input.name}` : ''}`,
      StartAt: body.start,
      States: states,
    };
    const machinesOf = [definition, ...context.children.map((child) => child.definition)].map((machine) => ({ definition: machine, text: JSON.stringify(machine) }));
    const placeholders = [...new Set(machinesOf.flatMap((machine) => [...machine.text.matchAll(/\$\{[^}]+\}/g)].map((match) => match[0])))].sort();
    const limits = checkLimits({ machines: machinesOf, executionMode, actions: input.actions, nodes: input.actions });
    return { definition, children: context.children, structure, gates: gates.waits, gatedCalls, executionMode, placeholders, limits };
  };

  const ids = new Set(byId.keys());
  const split = (weightOf: (id: string) => Weight) => {
    const plan = planSplit(lossless.structure, weightOf);
    return assemble(plan.structure, plan.machines);
  };
  // Step Functions' .sync waits are for standard workflows only: an express one stays whole (its limits say when it is too big).
  // A workflow that clearly needs splitting is split on estimated weights, compiled once; one near the budget is
  // compiled whole first, and split on the weights measured there if it is over.
  const estimated = new Map(input.actions.map((action) => [action.action_id, estimatedWeight(action, gates)]));
  if (executionMode === 'standard' && overBudget(sumWeights(estimated.values()), CLEARLY_OVER)) {
    const compiled = split((id) => estimated.get(id)!);
    // An estimate far off (a machine over the hard limit) is planned again on what this compilation measured.
    if (compiled.limits.errors.length === 0) return compiled;
    const measured = actionWeights([compiled.definition, ...compiled.children.map((child) => child.definition)], ids);
    return split((id) => measured.get(id) ?? estimated.get(id)!);
  }
  const whole = assemble(lossless.structure, new Set());
  if (executionMode !== 'standard' || !overBudget({ bytes: whole.limits.definitionBytes, events: whole.limits.estimatedHistoryEvents })) return whole;
  const measured = actionWeights([whole.definition], ids);
  return split((id) => measured.get(id) ?? estimated.get(id)!);
}

/** STATE_RESULTS_BUDGET_BYTES shared equally by the service calls whose results the state may keep. */
export function inlineResultShares(actions: readonly Action[]): InlineResultShares {
  const calls = actions.filter((action) => action.action_type === 'service_call' || (action.action_type === 'foreach' && action.config.action.action_type === 'service_call')).length;
  const clamp = (bytes: number) => Math.min(MAX_INLINE_RESULT_BYTES, Math.max(MIN_INLINE_RESULT_BYTES, Math.floor(bytes)));
  const share = clamp(STATE_RESULTS_BUDGET_BYTES / Math.max(1, calls));
  return { action: share, foreachItem: clamp(share / FOREACH_ASSUMED_ITEMS), compensation: MAX_INLINE_RESULT_BYTES };
}

// --- structure -------------------------------------------------------------------------------------------

/**
 * `after` holds the results needed once this piece is done; `available` the results in state data when it
 * starts. A Parallel's ResultSelector keeps exactly what is needed after it, so state data never carries
 * results nobody reads.
 */
function structureFragment(context: Context, structure: Structure, after: ReadonlySet<string>, available: ReadonlySet<string>): Fragment {
  if (context.machines.has(structure)) return childMachineFragment(context, structure, (child, piece) => pieceFragment(child, piece, after, available));
  return pieceFragment(context, structure, after, available);
}

/** A piece of the structure, in the machine being built. */
function pieceFragment(context: Context, structure: Structure, after: ReadonlySet<string>, available: ReadonlySet<string>): Fragment {
  switch (structure.kind) {
    case 'action':
      return actionFragment(context, context.byId.get(structure.id)!, after, available);
    case 'sequence': {
      const needs = structure.steps.map((step) => readsOf(context, step));
      const fragments: Fragment[] = [];
      let present = new Set(available);
      structure.steps.forEach((step, index) => {
        const later = new Set(after);
        for (let j = index + 1; j < structure.steps.length; j++) for (const id of needs[j]!) later.add(id);
        const fragment = structureFragment(context, step, later, present);
        present = new Set(fragment.present);
        fragments.push(fragment);
      });
      return inSequence(fragments, present);
    }
    case 'parallel':
      return parallelFragment(context, structure.branches, after, available);
  }
}

function parallelFragment(context: Context, branches: readonly Structure[], after: ReadonlySet<string>, available: ReadonlySet<string>): Fragment {
  const name = `fork ${++context.counters.forks}`;
  // Branches end where they end: they are built now, so the forks inside them are numbered before the next step's.
  const compiled = branches.map((branch) => {
    const states: States = {};
    const fragment = structureFragment({ ...context, states }, branch, after, available);
    fragment.build(undefined);
    return { definition: { StartAt: fragment.start, States: states } satisfies StateMachineDefinition, present: fragment.present };
  });
  // Keep what is needed after the fork, each result taken from a branch that holds it (the one that
  // produced it, or any branch for a result that existed before the fork).
  const results: JsonObject = {};
  const kept = new Set<string>();
  // Where each result is: the first branch that produced it, else the first that holds it.
  const producedIn = new Map<string, number>();
  const heldIn = new Map<string, number>();
  compiled.forEach((branch, index) => {
    for (const id of branch.present) {
      if (!after.has(id)) continue;
      if (!heldIn.has(id)) heldIn.set(id, index);
      if (!available.has(id) && !producedIn.has(id)) producedIn.set(id, index);
    }
  });
  for (const id of [...after].sort()) {
    const source = producedIn.get(id) ?? heldIn.get(id);
    if (source === undefined) continue;
    results[`${id}.$`] = `$[${source}].results.${id}`;
    kept.add(id);
  }
  const build = (next: string | undefined) => {
    context.states[name] = {
      Type: 'Parallel',
      Comment: forkComment(branches),
      Branches: compiled.map((branch) => branch.definition),
      // A rerun's reused results must outlive the fork: the actions after it look for theirs there too.
      ResultSelector: { 'params.$': '$[0].params', 'trace_id.$': `$[0].trace_id`, results, failures: {}, ...(context.reuse ? { 'reuse.$': '$[0].reuse' } : {}) },
      ...flow(next),
    };
  };
  return { start: name, present: kept, build };
}

/**
 * `runs a > b | c`: each branch's actions in order. A large fork names its first actions only: the comment of
 * every enclosing fork would otherwise repeat the whole workflow, and the definition grow with its depth.
 */
function forkComment(branches: readonly Structure[]): string {
  const MAX_NAMED = 24;
  let named = 0;
  const shown = branches.map((branch) => {
    const ids = actionsOf(branch);
    const room = Math.max(0, MAX_NAMED - named);
    named += Math.min(room, ids.length);
    return ids.length <= room ? ids.join(' > ') : `${[...ids.slice(0, room), '…'].join(' > ')}`;
  });
  const total = branches.reduce((sum, branch) => sum + actionsOf(branch).length, 0);
  return `runs ${shown.join(' | ')}${total > MAX_NAMED ? ` (${total} actions)` : ''}`;
}

function readsOf(context: Context, structure: Structure): Set<string> {
  const ids = new Set<string>();
  for (const id of actionsOf(structure)) {
    for (const read of context.reads.get(id) ?? []) ids.add(read);
    for (const guard of context.guardedInputs.get(id) ?? []) ids.add(guard);
  }
  return ids;
}

/** The compiler as the domain's limit check: errors refuse the definition, warnings are reported. */
export const compilerCheck = {
  check(workflow: CompileInput): { errors: readonly { field: string; message: string }[]; warnings: readonly string[] } {
    const { limits } = compileWorkflow(workflow);
    return { errors: limits.errors, warnings: limits.warnings };
  },
};
