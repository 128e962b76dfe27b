import { answerOfModelBody } from '../../core/execution/llm-check.ts';
import { addUsage, type ActionProgress, type ActionUsage } from '../../core/execution/model.ts';
import type { Action } from '../../core/workflow/definition.ts';
import { LLM_STATE_ROLES } from '../../core/workflow/llm.ts';

/**
 * The progress of llm actions in the local engine, from their Task states (statemachines/actions/llm.ts): each
 * model call (`<id>: call`, `<id>: repair`) is an attempt and adds its tokens; the action completes with the
 * call's answer (no output_schema), or with the answer a check made its result (`<id>: check` when valid at
 * once, `<id>: recheck` after the repair). Tokens are kept per state, so a call replayed from its checkpoint
 * (a resumed run) is not counted twice.
 */

/** `<id>: <role>` of an llm action's Task states: what the engine does with each one's start and result. */
export interface LlmStep {
  readonly actionId: string;
  readonly kind: 'model' | 'check';
  /** The action has no output_schema: its call's answer is its result. */
  readonly final: boolean;
}

export interface LlmSteps {
  /** The step of a Task state, when it is one of an llm action's. */
  of(stateName: string): LlmStep | undefined;
  /** The change of the action's progress when the step starts (a model call is an attempt). */
  started(step: LlmStep, current: ActionProgress | undefined, now: string): Partial<ActionProgress> | undefined;
  /** The change when it returns `result` (its task result: Bedrock's `{ Body }`, or the runner's `{ Payload }`); `input` is the task's. */
  succeeded(step: LlmStep, stateName: string, input: Record<string, unknown>, result: unknown, now: string): Partial<ActionProgress> | undefined;
}

export function llmSteps(actions: readonly Action[]): LlmSteps {
  const steps = new Map<string, LlmStep>();
  for (const action of actions) {
    if (action.action_type !== 'llm') continue;
    const id = action.action_id;
    const final = action.config.output_schema === undefined;
    steps.set(`${id}: ${LLM_STATE_ROLES.call}`, { actionId: id, kind: 'model', final });
    if (final) continue;
    steps.set(`${id}: ${LLM_STATE_ROLES.repair}`, { actionId: id, kind: 'model', final: false });
    steps.set(`${id}: ${LLM_STATE_ROLES.check}`, { actionId: id, kind: 'check', final: false });
    steps.set(`${id}: ${LLM_STATE_ROLES.recheck}`, { actionId: id, kind: 'check', final: false });
  }
  // Tokens of each action's calls, by state: set, never added, so a replayed call counts once.
  const usage = new Map<string, Map<string, ActionUsage>>();
  const total = (actionId: string): ActionUsage | undefined => [...(usage.get(actionId)?.values() ?? [])].reduce<ActionUsage | undefined>((sum, call) => addUsage(sum, call), undefined);

  return {
    of: (stateName) => steps.get(stateName),
    started(step, current, now) {
      if (step.kind !== 'model') return undefined;
      return { status: 'running', attempts: (current?.attempts ?? 0) + 1, started_at: current?.started_at ?? now };
    },
    succeeded(step, stateName, input, result, now) {
      if (step.kind === 'model') {
        const answer = answerOfModelBody((result as { Body?: unknown } | null)?.Body);
        if (!answer) return undefined;
        const calls = usage.get(step.actionId) ?? usage.set(step.actionId, new Map()).get(step.actionId)!;
        calls.set(stateName, { model: String(input['ModelId']), ...answer.usage });
        const tokens = { usage: total(step.actionId)! };
        return step.final ? { ...tokens, status: 'completed', ended_at: now, output: { status_code: null, response: answer }, error: undefined } : tokens;
      }
      const checked = (result as { Payload?: { outcome?: unknown; response?: unknown } } | null)?.Payload;
      if (checked?.outcome !== 'completed') return undefined;
      return { status: 'completed', ended_at: now, output: { status_code: null, response: checked.response }, error: undefined, ...(total(step.actionId) ? { usage: total(step.actionId)! } : {}) };
    },
  };
}
