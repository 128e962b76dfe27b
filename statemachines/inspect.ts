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
