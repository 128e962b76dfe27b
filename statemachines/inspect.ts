import type { Action } from '../core/workflow/definition.ts';
import type { Structure } from './structure.ts';

/** What a UI needs to draw a workflow: actions as nodes, dependencies as edges, and the parallel structure. */
export interface WorkflowGraph {
  readonly nodes: readonly {
    readonly id: string;
    readonly name: string;
    readonly action_type: Action['action_type'];
    readonly conditional: boolean;
    readonly on_failure: 'fail' | 'continue' | 'compensate';
    readonly compensated: boolean;
  }[];
  readonly edges: readonly { readonly from: string; readonly to: string }[];
  readonly structure: Structure;
}

export function workflowGraph(actions: readonly Action[], structure: Structure): WorkflowGraph {
  return {
    nodes: actions.map((action) => ({
      id: action.action_id,
      name: action.name ?? action.action_id,
      action_type: action.action_type,
      conditional: action.condition !== undefined,
      on_failure: action.on_failure ?? 'fail',
      compensated: action.compensation !== undefined,
    })),
    edges: actions.flatMap((action) => [...new Set(action.depends_on)].map((dep) => ({ from: dep, to: action.action_id }))),
    structure,
  };
}

/**
 * Whether a deployed definition (JSON text) ends a failure of `actionId` in the gate, a Task a redrive can
 * pass, rather than the Fail state of state machines compiled before the gate existed.
 */
export function hasRedriveGate(definitionText: string | undefined, actionId: string): boolean {
  interface Scope {
    readonly States?: Record<string, { readonly Type?: string; readonly Branches?: readonly Scope[]; readonly ItemProcessor?: Scope }>;
  }
  const gate = `${actionId}: failed`;
  const typeOf = (scope: Scope): string | undefined => {
    for (const [name, state] of Object.entries(scope.States ?? {})) {
      if (name === gate) return state.Type;
      for (const nested of [...(state.Branches ?? []), ...(state.ItemProcessor ? [state.ItemProcessor] : [])]) {
        const found = typeOf(nested);
        if (found) return found;
      }
    }
    return undefined;
  };
  try {
    return typeOf(JSON.parse(definitionText ?? '{}') as Scope) === 'Task';
  } catch {
    return false;
  }
}
