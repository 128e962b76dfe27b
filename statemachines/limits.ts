import type { Action, ExecutionMode } from '../core/workflow/definition.ts';
import type { StateMachineDefinition } from './asl.ts';
import { makespan, type Structure } from './structure.ts';

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
  readonly definitionBytes: number;
  readonly states: number;
  /** History events of one run where every action runs once without retries (a standard workflow's floor). */
  readonly estimatedHistoryEvents: number;
}

export function checkLimits(input: {
  definition: StateMachineDefinition;
  text: string;
  executionMode: ExecutionMode;
  actions: readonly Action[];
  structure: Structure;
}): LimitReport {
  const errors: { field: string; message: string }[] = [];
  const warnings: string[] = [];
  const definitionBytes = new TextEncoder().encode(input.text).length;
  const states = countStates(input.definition);
  if (definitionBytes > STEP_FUNCTIONS_LIMITS.definitionBytes) {
    errors.push({ field: 'actions', message: `the compiled state machine is ${definitionBytes} bytes; Step Functions accepts at most ${STEP_FUNCTIONS_LIMITS.definitionBytes}` });
  } else if (definitionBytes > STEP_FUNCTIONS_LIMITS.definitionBytes / 4) {
    warnings.push(`the compiled state machine is ${definitionBytes} bytes, over a quarter of the 1 MB limit`);
  }
  // A Task is entered, scheduled, started, succeeded and exited: about 5 events; other states 2.
  const estimatedHistoryEvents = 2 + Math.round(states.tasks * 5 + (states.total - states.tasks) * 2);
  if (input.executionMode === 'standard' && estimatedHistoryEvents > STEP_FUNCTIONS_LIMITS.standardHistoryEvents * 0.8) {
    warnings.push(`one run records about ${estimatedHistoryEvents} history events; a standard workflow stops at ${STEP_FUNCTIONS_LIMITS.standardHistoryEvents}`);
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
    // Fixed waits along the slowest path of the structure: the least time any run can take.
    const seconds = new Map(input.actions.map((action) => [action.action_id, action.action_type === 'wait' && typeof action.config.seconds === 'number' ? action.config.seconds : 0]));
    const least = makespan(input.structure, (id) => seconds.get(id) ?? 0);
    if (least > STEP_FUNCTIONS_LIMITS.expressSeconds && !errors.some((error) => error.field.endsWith('.config.seconds'))) {
      errors.push({ field: 'actions', message: `waits along one path add up to ${least} s; an express workflow must finish within ${STEP_FUNCTIONS_LIMITS.expressSeconds} s` });
    }
    warnings.push('express workflows are at-least-once: service calls must be idempotent');
  }
  return { errors, warnings, definitionBytes, states: states.total, estimatedHistoryEvents };
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
