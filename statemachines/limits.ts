import type { Action, ExecutionMode } from '../core/workflow/definition.ts';
import type { StateMachineDefinition } from './asl.ts';
import type { GraphNode } from '../core/workflow/graph.ts';
import { longestPath } from '../core/workflow/graph.ts';

/**
 * The Step Functions quotas a workflow can run into, checked at compile time: a definition over 1 MB or an
 * express workflow that cannot finish in 5 minutes is refused; what depends on run-time data (payload sizes,
 * history length with large foreach arrays) is a warning.
 */
export const STEP_FUNCTIONS_LIMITS = {
  definitionBytes: 1024 * 1024,
  expressSeconds: 5 * 60,
  payloadBytes: 256 * 1024,
  standardHistoryEvents: 25_000,
} as const;

export interface LimitReport {
  readonly errors: readonly { field: string; message: string }[];
  readonly warnings: readonly string[];
  /** The largest machine's definition (the only one, unless the workflow was split into child machines). */
  readonly definitionBytes: number;
  /** State machines a run uses: 1, or 1 + its child machines. */
  readonly machines: number;
  /** States of every machine. */
  readonly states: number;
  /** History events of one run of the largest machine where every state is entered once (no retries). */
  readonly estimatedHistoryEvents: number;
}

export function checkLimits(input: {
  /** The workflow's machines, the root first, each with its JSON text. */
  machines: readonly { definition: StateMachineDefinition; text: string }[];
  executionMode: ExecutionMode;
  actions: readonly Action[];
  nodes: readonly GraphNode[];
}): LimitReport {
  const errors: { field: string; message: string }[] = [];
  const warnings: string[] = [];
  let definitionBytes = 0;
  let estimatedHistoryEvents = 0;
  let total = 0;
  input.machines.forEach((machine, index) => {
    const bytes = utf8Length(machine.text);
    const states = countStates(machine.definition);
    total += states.total;
    definitionBytes = Math.max(definitionBytes, bytes);
    // A Task is entered, scheduled, started, succeeded and exited: about 5 events; other states 2.
    estimatedHistoryEvents = Math.max(estimatedHistoryEvents, 2 + Math.round(states.tasks * 5 + (states.total - states.tasks) * 2));
    const which = index === 0 ? 'the compiled state machine' : `child state machine ${index}`;
    if (bytes > STEP_FUNCTIONS_LIMITS.definitionBytes) {
      errors.push({ field: 'actions', message: `${which} is ${bytes} bytes; Step Functions accepts at most ${STEP_FUNCTIONS_LIMITS.definitionBytes}` });
    } else if (bytes > STEP_FUNCTIONS_LIMITS.definitionBytes / 4) {
      warnings.push(`${which} is ${bytes} bytes, over a quarter of the 1 MB limit`);
    }
  });
  if (input.executionMode === 'standard' && estimatedHistoryEvents > STEP_FUNCTIONS_LIMITS.standardHistoryEvents * 0.8) {
    warnings.push(`one run records about ${estimatedHistoryEvents} history events in one state machine; a standard workflow stops at ${STEP_FUNCTIONS_LIMITS.standardHistoryEvents}`);
  }
  input.actions.forEach((action, index) => {
    if (action.action_type === 'foreach' && input.executionMode === 'standard') {
      warnings.push(`actions[${index}] (${action.action_id}): each foreach item adds about ${action.config.action.action_type === 'transform' ? 4 : 8} history events; more than about 2,000 items per run can reach the 25,000-event limit`);
    }
    if (input.executionMode !== 'express') return;
    if (action.action_type === 'wait') {
      const seconds = typeof action.config.seconds === 'number' ? action.config.seconds : undefined;
      if (seconds !== undefined && seconds > STEP_FUNCTIONS_LIMITS.expressSeconds) {
        errors.push({ field: `actions[${index}].config.seconds`, message: `waits ${seconds} s; an express workflow must finish within ${STEP_FUNCTIONS_LIMITS.expressSeconds} s` });
      } else if (seconds === undefined) {
        warnings.push(`actions[${index}] (${action.action_id}): an express workflow fails if this wait ends more than 5 minutes after the run started`);
      }
    }
    if (action.timeout_seconds !== undefined && action.timeout_seconds > STEP_FUNCTIONS_LIMITS.expressSeconds) {
      errors.push({ field: `actions[${index}].timeout_seconds`, message: `${action.timeout_seconds} s is longer than an express workflow may run (${STEP_FUNCTIONS_LIMITS.expressSeconds} s)` });
    }
    if (action.action_type === 'sub_workflow') {
      errors.push({ field: `actions[${index}].action_type`, message: 'an express workflow cannot wait for another workflow (.sync integrations are standard-only)' });
    }
  });
  if (input.executionMode === 'express') {
    // Fixed waits along the slowest dependency path: the least time any run can take (the structure adds no order).
    const seconds = new Map(input.actions.map((action) => [action.action_id, action.action_type === 'wait' && typeof action.config.seconds === 'number' ? action.config.seconds : 0]));
    const least = longestPath(input.nodes, (id) => seconds.get(id) ?? 0);
    if (least > STEP_FUNCTIONS_LIMITS.expressSeconds && !errors.some((error) => error.field.endsWith('.config.seconds'))) {
      errors.push({ field: 'actions', message: `waits along one path add up to ${least} s; an express workflow must finish within ${STEP_FUNCTIONS_LIMITS.expressSeconds} s` });
    }
    warnings.push('express workflows are at-least-once: service calls must be idempotent');
  }
  return { errors, warnings, definitionBytes, machines: input.machines.length, states: total, estimatedHistoryEvents };
}

/** UTF-8 bytes of `text`, without encoding it (definitions are megabytes, almost all ASCII). */
function utf8Length(text: string): number {
  // The native scan is much faster than the loop, and almost every definition is ASCII only.
  if (!/[\u0080-\uffff]/.test(text)) return text.length;
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    // Two bytes up to U+07FF, three for the rest of the BMP; a surrogate pair (4 bytes) is two units of 2 each.
    bytes += code < 0x800 ? 1 : code >= 0xd800 && code <= 0xdfff ? 1 : 2;
  }
  return bytes;
}

function countStates(definition: StateMachineDefinition): { total: number; tasks: number } {
  let total = 0;
  let tasks = 0;
  const visit = (machine: StateMachineDefinition) => {
    for (const state of Object.values(machine.States)) {
      total++;
      if (state.Type === 'Task') tasks++;
      if (state.Type === 'Parallel') state.Branches.forEach(visit);
      if (state.Type === 'Map') visit(state.ItemProcessor);
    }
  };
  visit(definition);
  return { total, tasks };
}
