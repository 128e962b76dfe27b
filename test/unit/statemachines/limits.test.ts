import { describe, expect, it } from 'vitest';
import { ActionSchema } from '../../../core/workflow/definition.ts';
import { compilerCheck, compileWorkflow } from '../../../statemachines/compile.ts';
import { STEP_FUNCTIONS_LIMITS } from '../../../statemachines/limits.ts';
import { allStates, aslErrors, compileChecked, compileDefinition, parseWorkflow, WORKFLOW_ID, WORKFLOW_VERSION } from './support/harness.ts';
import { foreach, notification, param, serviceCall, subWorkflow, transform, wait, workflow, type ActionInput } from './support/workflows.ts';

/** Step Functions quotas checked at compile time (statemachines/limits.ts): errors refuse, warnings inform. */

const express = (actions: readonly ActionInput[], parameters: readonly Record<string, unknown>[] = []) => workflow(actions, parameters, { execution_mode: 'express' });
const limitsOf = (input: unknown) => compileDefinition(parseWorkflow(input)).limits;

describe('express workflows', () => {
  it('refuse a wait over 300 s, naming the field; 300 s is accepted', () => {
    const over = limitsOf(express([serviceCall('a'), wait('pause', { seconds: 301 }, ['a'])]));
    expect(over.errors).toEqual([{ field: 'actions[1].config.seconds', message: expect.stringContaining('301') }]);
    expect(limitsOf(express([serviceCall('a'), wait('pause', { seconds: 300 }, ['a'])])).errors).toEqual([]);
  });

  it('refuse a sub_workflow (.sync integrations are standard-only)', () => {
    const limits = limitsOf(express([serviceCall('a'), subWorkflow('child', { workflow_id: 'other' }, {}, ['a'])]));
    expect(limits.errors).toEqual([{ field: 'actions[1].action_type', message: expect.stringContaining('express') }]);
  });

  it('refuse an action timeout over 300 s', () => {
    const limits = limitsOf(express([serviceCall('slow', {}, [], { timeout_seconds: 301 })]));
    expect(limits.errors).toEqual([{ field: 'actions[0].timeout_seconds', message: expect.stringContaining('301') }]);
  });

  it('report every problem at once', () => {
    const limits = limitsOf(express([wait('w', { seconds: 1000 }), subWorkflow('s', { workflow_id: 'x' }, {}, ['w']), serviceCall('t', {}, ['s'], { timeout_seconds: 900 })]));
    expect(limits.errors.map((error) => error.field)).toEqual(['actions[0].config.seconds', 'actions[1].action_type', 'actions[2].timeout_seconds']);
  });

  it('warn about waits whose length is only known at run time, and about at-least-once delivery', () => {
    const limits = limitsOf(express([wait('until', { until: '{{deadline}}' }), wait('later', { until: '2030-01-01T00:00:00Z' })], [param('deadline', 'string')]));
    expect(limits.errors).toEqual([]);
    expect(limits.warnings).toEqual(expect.arrayContaining([expect.stringContaining('actions[0] (until)'), expect.stringContaining('actions[1] (later)'), expect.stringContaining('at-least-once')]));
  });

  it('are accepted when within the limits, and the same actions are fine in standard mode', () => {
    const actions = [serviceCall('a'), wait('pause', { seconds: 3600 }, ['a']), subWorkflow('child', { workflow_id: 'other' }, {}, ['pause'])];
    expect(limitsOf(workflow(actions)).errors).toEqual([]);
    expect(limitsOf(express(actions)).errors).toHaveLength(2);
    expect(compileChecked(express([serviceCall('a'), wait('pause', { seconds: 10 }, ['a'])])).executionMode).toBe('express');
  });

  // limits.ts: "an express workflow that cannot finish in 5 minutes is refused". Each wait is checked alone, so
  // waits in sequence that together exceed 5 minutes pass: 200 s then 200 s cannot finish within 300 s.
  it('refuse waits in sequence that add up to more than 300 s', () => {
    const limits = limitsOf(express([wait('first', { seconds: 200 }), serviceCall('between', {}, ['first']), wait('second', { seconds: 200 }, ['between'])]));
    expect(limits.errors).not.toEqual([]);
  });
});

describe('standard workflows', () => {
  it('warn that each foreach item adds history events, naming the action', () => {
    const limits = limitsOf(
      workflow(
        [
          serviceCall('a'),
          foreach('calls', '{{items}}', { action_type: 'service_call', config: { service: 's', endpoint: '/x', method: 'GET' } }, 5, ['a']),
          foreach('shapes', '{{items}}', { action_type: 'transform', config: { output: '{{item}}' } }, 0),
        ],
        [param('items', 'array')],
      ),
    );
    expect(limits.errors).toEqual([]);
    expect(limits.warnings).toEqual([expect.stringMatching(/^actions\[1\] \(calls\): each foreach item adds about 8 history events/), expect.stringMatching(/^actions\[2\] \(shapes\): each foreach item adds about 4 history events/)]);
  });

  it('do not warn about foreach in express mode (no history limit there)', () => {
    const limits = limitsOf(express([foreach('calls', '{{items}}', { action_type: 'transform', config: { output: '{{item}}' } }, 5)], [param('items', 'array')]));
    expect(limits.warnings.filter((warning) => warning.includes('foreach'))).toEqual([]);
  });

  it('are checked by compilerCheck, the domain hook used on create and update', () => {
    const parsed = parseWorkflow(express([wait('w', { seconds: 301 })]));
    const checked = compilerCheck.check({ workflow_id: WORKFLOW_ID, version: WORKFLOW_VERSION, execution_mode: parsed.execution_mode, parameters: parsed.parameters, actions: parsed.actions });
    expect(checked.errors).toEqual([{ field: 'actions[0].config.seconds', message: expect.any(String) }]);
  });
});

describe('size and history', () => {
  it('measures definitionBytes as the UTF-8 size of the definition, and counts every state', () => {
    const compiled = compileChecked(
      workflow(
        [
          serviceCall('a', { text: 'déjà vu 日本語 🚀 {{name}}' }),
          notification('b', 'ünïcödé {{a.response.x}}', ['a']),
          foreach('c', '{{items}}', { action_type: 'service_call', config: { service: 's', endpoint: '/x', method: 'GET' } }, 2, ['a']),
          transform('d', { v: '{{name}}' }, ['b', 'c']),
        ],
        [param('name', 'string'), param('items', 'array')],
      ),
    );
    const text = JSON.stringify(compiled.definition);
    expect(compiled.limits.definitionBytes).toBe(Buffer.byteLength(text, 'utf8'));
    expect(compiled.limits.definitionBytes).toBeGreaterThan(text.length);
    const states = allStates(compiled.definition);
    expect(compiled.limits.states).toBe(states.size);
    const tasks = [...states.values()].filter((state) => state.Type === 'Task').length;
    expect(compiled.limits.estimatedHistoryEvents).toBe(2 + tasks * 5 + (states.size - tasks) * 2);
  });

  it('keeps an express workflow over a quarter of the 1 MB limit whole, with a warning (.sync children are standard-only)', () => {
    const padding = 'x'.repeat(2_000);
    const actions = Array.from({ length: 100 }, (_, i) => serviceCall(`step_${i}`, { padding, note: `${padding} {{name}}` }, i === 0 ? [] : [`step_${Math.floor((i - 1) / 2)}`]));
    const compiled = compileDefinition(parseWorkflow(express(actions, [param('name', 'string')])));
    expect(compiled.children).toEqual([]);
    expect(compiled.limits.definitionBytes).toBe(Buffer.byteLength(JSON.stringify(compiled.definition), 'utf8'));
    expect(compiled.limits.definitionBytes).toBeGreaterThan(STEP_FUNCTIONS_LIMITS.definitionBytes / 4);
    expect(compiled.limits.errors).toEqual([]);
    expect(compiled.limits.warnings).toEqual(expect.arrayContaining([expect.stringContaining(`${compiled.limits.definitionBytes} bytes, over a quarter`)]));
    expect(aslErrors(compiled.definition)).toEqual([]);
  });

  it('refuses a compiled definition over 1 MB (the compiler checks whatever it is given)', () => {
    // An express workflow cannot be split, so this many actions are more than its one definition may hold.
    const actions = Array.from({ length: 600 }, (_, i) => ActionSchema.parse(serviceCall(`step_${i}`, { value: i }, i === 0 ? [] : [`step_${Math.floor((i - 1) / 3)}`])));
    const compiled = compileWorkflow({ workflow_id: WORKFLOW_ID, version: WORKFLOW_VERSION, execution_mode: 'express', parameters: [], actions });
    expect(compiled.limits.definitionBytes).toBe(Buffer.byteLength(JSON.stringify(compiled.definition), 'utf8'));
    expect(compiled.limits.definitionBytes).toBeGreaterThan(STEP_FUNCTIONS_LIMITS.definitionBytes);
    expect(compiled.limits.errors).toEqual([{ field: 'actions', message: `the compiled state machine is ${compiled.limits.definitionBytes} bytes; Step Functions accepts at most ${STEP_FUNCTIONS_LIMITS.definitionBytes}` }]);
  });
});
