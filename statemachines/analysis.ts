import type { Action } from '../core/workflow/definition.ts';
import { topologicalOrder } from '../core/workflow/graph.ts';
import { llmTemplatedConfig } from '../core/workflow/llm.ts';
import { referencedActions, type PathScope } from './paths.ts';

/** What the compiler must know of each action before it builds any state: what it reads, and what it must check first. */
export interface Analysis {
  /** Per action: every action result it reads (templates, guards, conditions). */
  readonly reads: ReadonlyMap<string, ReadonlySet<string>>;
  /** Actions whose result may be `skipped` or `failed` rather than `completed`. */
  readonly uncertain: ReadonlySet<string>;
  /** Per action: upstream actions whose outputs it reads and whose outcome it must check first. */
  readonly guardedInputs: ReadonlyMap<string, readonly string[]>;
  /** Whether any action starts compensation when it fails. */
  readonly saga: boolean;
}

export function analyse(actions: readonly Action[], scope: PathScope): Analysis {
  const byId = new Map(actions.map((action) => [action.action_id, action]));
  const reads = new Map<string, Set<string>>();
  const uncertain = new Set<string>();
  const guardedInputs = new Map<string, string[]>();
  /** Actions whose failure (or whose upstream's compensate failure) must stop everything downstream. */
  const aborting = new Set<string>();
  // Declaration order is not dependency order; walk dependencies first so that every action's inputs are known.
  // Any such order gives the same answer: an action only reads actions upstream of it (validation).
  for (const id of topologicalOrder(actions)) {
    const action = byId.get(id)!;
    const inputs = new Set<string>();
    for (const value of actionTemplateValues(action)) for (const ref of referencedActions(value.value, { ...scope, loopVariables: value.loop })) inputs.add(ref);
    inputs.delete(id);
    const guards = new Set(action.on_skipped_input === 'run' ? [] : [...inputs].filter((input) => uncertain.has(input)));
    // After a failure that starts compensation, nothing downstream of it may run, reader or not.
    for (const dep of action.depends_on) if (aborting.has(dep)) guards.add(dep);
    if ([...guards].some((guard) => aborting.has(guard)) || action.on_failure === 'compensate') aborting.add(id);
    guardedInputs.set(id, [...guards]);
    if (action.condition || guards.size > 0 || action.on_failure === 'continue' || action.on_failure === 'compensate') uncertain.add(id);
    reads.set(id, inputs);
  }
  const saga = actions.some((action) => action.on_failure === 'compensate');
  return { reads, uncertain, guardedInputs, saga };
}

/** The values of an action in which templates are evaluated when it runs (compensations run later). */
function actionTemplateValues(action: Action): { value: unknown; loop?: boolean }[] {
  const values: { value: unknown; loop?: boolean }[] = [];
  if (action.action_type === 'foreach') {
    values.push({ value: action.config.items }, { value: action.config.action.config, loop: true });
  } else {
    values.push({ value: action.action_type === 'llm' ? llmTemplatedConfig(action.config) : action.config });
  }
  if (action.condition) values.push({ value: action.condition });
  return values;
}
