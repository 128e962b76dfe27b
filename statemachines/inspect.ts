import type { Action } from '../core/workflow/definition.ts';
import type { StateMachineDefinition } from './asl.ts';
import type { Structure } from './structure.ts';

/**
 * What a UI needs to draw a workflow: actions as nodes, dependencies as edges (each held by the structure or
 * by a dependency gate), the parallel structure, where gates wait, and which child machine runs each action.
 */
export interface WorkflowGraph {
  readonly nodes: readonly {
    readonly id: string;
    readonly name: string;
    readonly action_type: Action['action_type'];
    readonly conditional: boolean;
    readonly on_failure: 'fail' | 'continue' | 'compensate';
    readonly compensated: boolean;
  }[];
  /** `gated`: the structure does not order the two; `to` waits for `from` at its dependency gate (ADR 0016). */
  readonly edges: readonly { readonly from: string; readonly to: string; readonly gated: boolean }[];
  readonly structure: Structure;
  /**
   * Each action that waits at a dependency gate, the producers it waits for, and whether it waits in its own
   * call (a gated call, no state of its own) or in a `<id>: gate` state before it.
   */
  readonly gates: readonly { readonly action_id: string; readonly waits_for: readonly string[]; readonly in_call: boolean }[];
  /** A split workflow's child machines and the actions each runs (the others run in the root). Empty for most. */
  readonly parts: readonly { readonly part: number; readonly actions: readonly string[] }[];
}

export function workflowGraph(
  actions: readonly Action[],
  compiled: {
    readonly structure: Structure;
    readonly gates: ReadonlyMap<string, readonly string[]>;
    readonly gatedCalls: ReadonlySet<string>;
    readonly children: readonly { readonly part: number; readonly definition: StateMachineDefinition }[];
  },
): WorkflowGraph {
  const ids = new Set(actions.map((action) => action.action_id));
  return {
    nodes: actions.map((action) => ({
      id: action.action_id,
      name: action.name ?? action.action_id,
      action_type: action.action_type,
      conditional: action.condition !== undefined,
      on_failure: action.on_failure ?? 'fail',
      compensated: action.compensation !== undefined,
    })),
    edges: actions.flatMap((action) => [...new Set(action.depends_on)].map((dep) => ({ from: dep, to: action.action_id, gated: compiled.gates.get(action.action_id)?.includes(dep) ?? false }))),
    structure: compiled.structure,
    gates: [...compiled.gates].map(([action, producers]) => ({ action_id: action, waits_for: [...producers], in_call: compiled.gatedCalls.has(action) })),
    parts: compiled.children.map((child) => ({ part: child.part, actions: actionsIn(child.definition, ids) })),
  };
}

/** The actions whose own state is in `machine` (in its branches too, not in the machines it starts). */
function actionsIn(machine: StateMachineDefinition, ids: ReadonlySet<string>): string[] {
  const found: string[] = [];
  const visit = (scope: StateMachineDefinition) => {
    for (const [name, state] of Object.entries(scope.States)) {
      if (ids.has(name)) found.push(name);
      if (state.Type === 'Parallel') state.Branches.forEach(visit);
    }
  };
  visit(machine);
  return found;
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
