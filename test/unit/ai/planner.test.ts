import { describe, expect, it } from 'vitest';
import { draftIssues, parseAnswer, planWorkflow, type ChatMessage, type PlannerModel } from '../../../functions/ai/planner.ts';
import { compilerCheck } from '../../../statemachines/compile.ts';
import type { WorkflowDefinition } from '../../../core/workflow/definition.ts';
import type { Workflow } from '../../../core/workflow/model.ts';

/** The planner's repair loop with a scripted model: the graph, the validator and the compiler are the real ones. */
function scripted(answers: readonly string[]): PlannerModel & { readonly seen: ChatMessage[][] } {
  const seen: ChatMessage[][] = [];
  return {
    model: 'scripted',
    seen,
    async complete(messages) {
      seen.push([...messages]);
      const text = answers[Math.min(seen.length - 1, answers.length - 1)]!;
      return { text, usage: { input_tokens: 100, output_tokens: 20 } };
    },
  };
}

const compile = (definition: WorkflowDefinition) => compilerCheck.check({ workflow_id: 'plan', version: 1, tenant: 'default', ...definition } as unknown as Workflow).errors;
const call = (id: string, service: string, dependsOn: string[]) => ({ action_id: id, action_type: 'service_call', config: { service, endpoint: `/${id}`, method: 'POST' }, depends_on: dependsOn });
const answer = (actions: unknown[], explanation = 'fetch then summarise') => JSON.stringify({ workflow: { name: 'summarise a document', parameters: [{ name: 'url', type: 'string', required: true }], actions }, explanation });

describe('the planner', () => {
  const deps = { tools: [], compile, knownServices: new Set(['fetcher', 'summarizer']) };

  it('feeds back a cycle and an unknown service with their fields, and ends with the repaired draft', async () => {
    const model = scripted([
      // A cycle (a <-> b) and a service nobody registered.
      '```json\n' + answer([call('a', 'fetcher', ['b']), call('b', 'translator', ['a'])]) + '\n```',
      answer([call('a', 'fetcher', []), call('b', 'summarizer', ['a'])]),
    ]);
    const result = await planWorkflow({ goal: 'summarise the document at a URL', maxRounds: 3 }, { ...deps, model });
    expect(result).toMatchObject({ valid: true, issues: [], rounds: 2, explanation: 'fetch then summarise', model: 'scripted', usage: { input_tokens: 200, output_tokens: 40 } });
    expect((result.draft as { actions: { action_id: string }[] }).actions.map((action) => action.action_id)).toEqual(['a', 'b']);
    // The repair request carried every problem of the first draft, each with its field.
    const repair = model.seen[1]!.at(-1)!.content;
    expect(repair).toContain('actions[1].config.service: translator is not a registered service; use one of: fetcher, summarizer');
    expect(repair).toMatch(/cycle/i);
    // ... after the whole conversation so far: system, goal, the first answer.
    expect(model.seen[1]!.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(model.seen[0]![0]!.content).toContain('Services you may call: fetcher, summarizer');
  });

  it('stops after max_rounds answers with the last draft and its problems', async () => {
    const model = scripted(['not json at all', answer([call('a', 'translator', [])])]);
    const result = await planWorkflow({ goal: 'x', maxRounds: 2 }, { ...deps, model });
    expect(result).toMatchObject({ valid: false, rounds: 2 });
    expect(result.issues).toEqual([{ field: 'actions[0].config.service', message: expect.stringContaining('translator is not a registered service') }]);
    expect(model.seen).toHaveLength(2);
    expect(model.seen[1]!.at(-1)!.content).toContain('(answer): the answer is not a JSON object');
  });

  it('limits the services to those the request names, when it names some', async () => {
    const model = scripted([answer([call('a', 'summarizer', [])])]);
    const result = await planWorkflow({ goal: 'x', services: ['fetcher'], maxRounds: 1 }, { ...deps, model });
    expect(result.valid).toBe(false);
    expect(result.issues[0]!.message).toContain('use one of: fetcher');
  });

  it('reads an answer in a code fence or bare, and says what is wrong with one it cannot use', () => {
    expect(parseAnswer('Here:\n```json\n{"workflow": {"name": "x"}, "explanation": "e"}\n```')).toEqual({ draft: { name: 'x' }, explanation: 'e', issues: [] });
    expect(parseAnswer('sure! {"workflow": 1}')).toEqual({ draft: 1, explanation: '', issues: [] });
    expect(parseAnswer('{"name": "x"}').issues[0]!.message).toBe('the JSON object has no "workflow" field');
    expect(draftIssues({ name: 'x', actions: [] }, { compile }, new Set()).map((issue) => issue.field)).toContain('actions');
  });
});
