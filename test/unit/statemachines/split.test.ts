import { describe, expect, it } from 'vitest';
import type { StateMachineDefinition, TaskState } from '../../../statemachines/asl.ts';
import { STEP_FUNCTIONS_LIMITS } from '../../../statemachines/limits.ts';
import { MACHINE_BUDGET } from '../../../statemachines/split.ts';
import { actionError, allStates, compileChecked, execute, payloadOf, type Handler } from './support/harness.ts';
import { serviceCall, wait, workflow } from './support/workflows.ts';
import { largeWorkflow } from '../../support/large-workflow.ts';

/**
 * Workflows too large for one state machine (statemachines/split.ts): 1,000 actions compile into a root and
 * child machines, each valid and within Step Functions' limits, and run as one workflow would.
 */

function machinesOf(compiled: ReturnType<typeof compileChecked>): StateMachineDefinition[] {
  return [compiled.definition, ...compiled.children.map((child) => child.definition)];
}

describe('a workflow of 1,000 actions', () => {
  const { actions, last, chainEnd } = largeWorkflow(1000);
  const compiled = compileChecked(workflow(actions));

  it('compiles into child state machines, each valid (asl-validator) and within the budget, every action in exactly one', () => {
    expect(actions).toHaveLength(1000);
    expect(compiled.children.length).toBeGreaterThan(3);
    expect(compiled.limits.errors).toEqual([]);
    expect(compiled.limits.machines).toBe(compiled.children.length + 1);
    for (const machine of machinesOf(compiled)) {
      const bytes = Buffer.byteLength(JSON.stringify(machine), 'utf8');
      // Pieces are filled up to the budget; the pieces that stay in a parent leave it a little over at most.
      expect(bytes).toBeLessThan(MACHINE_BUDGET.bytes * 1.25);
      expect(bytes).toBeLessThan(STEP_FUNCTIONS_LIMITS.definitionBytes);
    }
    const owners = new Map<string, number>();
    machinesOf(compiled).forEach((machine) => {
      for (const name of allStates(machine).keys()) if (!name.includes(' ')) owners.set(name, (owners.get(name) ?? 0) + 1);
    });
    expect([...owners.keys()].sort()).toEqual(actions.map((action) => action.action_id).sort());
    expect([...owners.values()].every((count) => count === 1)).toBe(true);
    // Each part is started exactly once, by its parent, through its placeholder.
    const starts = machinesOf(compiled).flatMap((machine) => [...allStates(machine).values()].filter((state): state is TaskState => state.Type === 'Task' && String(state.Parameters?.StateMachineArn).startsWith('${WorkflowPart:')));
    expect(starts.map((state) => state.Parameters!.StateMachineArn).sort()).toEqual(compiled.children.map((child) => `\${WorkflowPart:${child.part}}`).sort());
    expect(compiled.placeholders).toEqual(expect.arrayContaining(compiled.children.map((child) => `\${WorkflowPart:${child.part}}`)));
  });

  it('refers to the run, not to a child execution, in every child', () => {
    for (const child of compiled.children) {
      const text = JSON.stringify(child.definition);
      expect(text).not.toContain('$$.Execution.Name');
      expect(text).toContain('$$.Execution.Input.run.execution_id');
    }
  });

  it('runs every action once, after its dependencies, with the outputs it reads from other machines', async () => {
    const result = await execute(compiled.definition, {}, { children: compiled.children });
    expect(result.status).toBe('succeeded');
    const calls = new Map(actions.filter((action) => action.action_type === 'service_call').map((action) => [action.action_id, result.recorder.only(action.action_id)]));
    for (const action of actions) {
      const call = calls.get(action.action_id);
      if (!call) continue;
      for (const dep of action.depends_on ?? []) {
        const before = calls.get(dep);
        if (before) expect(call.startSeq, `${action.action_id} after ${dep}`).toBeGreaterThan(before.endSeq);
      }
      // The run's id, not the child's: what idempotency keys, progress and gates are keyed by.
      expect(payloadOf(call).execution_id).toBe('exec-1');
    }
    expect(payloadOf(calls.get('chain0')!).parameters).toEqual({ from: 'start' });
    expect(payloadOf(calls.get(last)!).parameters).toEqual({ chain_end: chainEnd, fan_in: 'wide0' });
  });

  it('fails as one machine would when an action inside a child fails: the same error, naming the action', async () => {
    // chain250 runs in a child machine (perhaps nested): its failure crosses at least one .sync boundary.
    const depth = (part: number): number => {
      const parent = compiled.children.find((child) => JSON.stringify(child.definition).includes(`"\${WorkflowPart:${part}}"`));
      return parent ? 1 + depth(parent.part) : 1;
    };
    const home = compiled.children.find((child) => allStates(child.definition).has('chain250'))!;
    expect(home).toBeDefined();
    expect(depth(home.part)).toBeGreaterThanOrEqual(1);
    const failing: Record<string, Handler> = { chain250: () => Promise.reject(actionError('ServiceRejectedError', 'no')) };
    const result = await execute(compiled.definition, {}, { children: compiled.children, handlers: failing });
    expect(result.status).toBe('failed');
    expect(result.error).toBe('ActionFailed');
    expect(result.cause).toContain('chain250');
    expect(result.recorder.to(last)).toHaveLength(0);
  });
});

describe('small workflows', () => {
  it('stay one state machine', () => {
    const compiled = compileChecked(workflow([serviceCall('a'), wait('w', { seconds: 5 }, ['a']), serviceCall('b', { v: '{{a.response}}' }, ['w'])]));
    expect(compiled.children).toEqual([]);
    expect(compiled.limits.machines).toBe(1);
    expect(compiled.placeholders.filter((placeholder) => placeholder.startsWith('${WorkflowPart'))).toEqual([]);
  });
});
