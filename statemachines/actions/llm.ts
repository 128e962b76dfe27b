import type { Action } from '../../core/workflow/definition.ts';
import { ANTHROPIC_BEDROCK_VERSION, instructionSuffix, LLM_STATE_ROLES, llmConversation, withInstruction } from '../../core/workflow/llm.ts';
import { Placeholder, Resource, type JsonObject, type TaskState } from '../asl.ts';
import { COMPLETED, flow, type ActionContext, type ActionTarget, type States } from '../context.ts';
import { failureHandling } from '../failure.ts';
import { compileValue, escapeIntrinsicText, executionIdPath, jsonPath, type CompiledValue, type PathScope } from '../paths.ts';
import { task } from '../task.ts';

type LlmAction = Extract<Action, { action_type: 'llm' }>;

/**
 * What the compiled call takes from Bedrock's Messages response (`{ Body: { content, usage } }`); the local
 * gateway answers in the same shape, and core/execution/llm-check.ts answerOfModelBody reads the same fields.
 */
const ANSWER: JsonObject = {
  'text.$': '$.Body.content[0].text',
  usage: { 'input_tokens.$': '$.Body.usage.input_tokens', 'output_tokens.$': '$.Body.usage.output_tokens' },
};

/**
 * An llm action: Bedrock's InvokeModel called natively (no Lambda), with the action's retry policy over
 * Bedrock's throttling and availability errors (docs/adr/0017-llm-action.md). Its states:
 *
 *   <id>            Pass: the conversation, rendered once into `$.results.<id>.prompt` (system text, and one
 *                   object per turn: payload templates cannot hold paths inside arrays, so the call's
 *                   `messages` is `States.Array` of them, which needs no JSON text built at run time)
 *   <id>: call      Task bedrock:invokeModel; its answer is the result `{ outcome, status_code: null,
 *                   response: { text, usage } }`, or, with output_schema, goes to the check:
 *   <id>: check     the action runner checks it (`llm_check`); valid, `<id>: answer` makes it the result
 *                   (`response.json` added); invalid, `<id>: repair` asks the model again with its own answer
 *                   and the schema errors appended, and `<id>: recheck` checks that answer, failing the action
 *                   with OutputSchemaMismatchError if it is still invalid.
 *
 * The result is always written at `$.results.<id>`, read or not: the states after the call read it there.
 */
export function compileLlm(context: ActionContext, action: LlmAction, target: ActionTarget): States {
  const id = action.action_id;
  const name = (role: string) => `${id}: ${role}`;
  const at = jsonPath('$.results', [id]);
  const { config } = action;
  const schema = config.output_schema;
  const failure = failureHandling(context, action, target);
  const { system, turns } = llmConversation(config);
  const systemValue = systemText(system, schema, context.scope);
  const turnPaths = turns.map((_, index) => `${at}.prompt.turns.m${index}`);
  const prompt = {
    ...(systemValue === undefined ? {} : field('system', systemValue)),
    turns: Object.fromEntries(turns.map((turn, index) => [`m${index}`, { role: turn.role, ...field('content', compileValue(turn.content, context.scope)) }])),
  };
  const call = (role: string, messages: string, answer: JsonObject, resultPath: string, next: string | undefined): TaskState =>
    task({
      comment: role === LLM_STATE_ROLES.repair ? 'asks again, with the answer and what it lacked' : undefined,
      resource: Resource.bedrockInvokeModel,
      parameters: {
        ModelId: config.model,
        Body: {
          anthropic_version: ANTHROPIC_BEDROCK_VERSION,
          max_tokens: config.max_tokens,
          ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
          ...(systemValue === undefined ? {} : { 'system.$': `${at}.prompt.system` }),
          'messages.$': `States.Array(${messages})`,
        },
      },
      resultSelector: answer,
      resultPath,
      timeoutSeconds: action.timeout_seconds,
      // A call that timed out (TimeoutSeconds) is retried like a throttled one.
      retry: { policy: action.retry, retryTimeout: true },
      catch: failure.catch,
      next,
    });
  const states: States = {
    [id]: { Type: 'Pass', Parameters: { prompt }, ResultPath: at, Next: name(LLM_STATE_ROLES.call) },
  };
  if (schema === undefined) {
    states[name(LLM_STATE_ROLES.call)] = call(LLM_STATE_ROLES.call, turnPaths.join(', '), { outcome: COMPLETED, status_code: null, response: ANSWER }, at, target.next);
    return { ...states, ...failure.states };
  }
  const check = (attempt: 1 | 2, answer: string, earlierUsage: string | undefined, resultPath: string, next: string | undefined): TaskState =>
    task({
      comment: attempt === 1 ? 'checks the answer against output_schema' : 'checks the repaired answer; still invalid, the action fails with OutputSchemaMismatchError',
      resource: Resource.lambdaInvoke,
      parameters: {
        FunctionName: Placeholder.actionRunner,
        Payload: { llm_check: { action_id: id, 'execution_id.$': executionIdPath(context.scope), attempt, schema, 'answer.$': answer, ...(earlierUsage === undefined ? {} : { 'earlier_usage.$': earlierUsage }) } },
      },
      resultSelector: { 'outcome.$': '$.Payload.outcome', status_code: null, 'response.$': '$.Payload.response' },
      resultPath,
      retry: 'runner-control',
      catch: failure.catch,
      next,
    });
  const repairTurns = [...turnPaths, `${at}.check.response.assistant`, `${at}.check.response.feedback`].join(', ');
  Object.assign(states, {
    [name(LLM_STATE_ROLES.call)]: call(LLM_STATE_ROLES.call, turnPaths.join(', '), ANSWER, `${at}.answer`, name(LLM_STATE_ROLES.check)),
    [name(LLM_STATE_ROLES.check)]: check(1, `${at}.answer`, undefined, `${at}.check`, name(LLM_STATE_ROLES.valid)),
    [name(LLM_STATE_ROLES.valid)]: { Type: 'Choice', Choices: [{ Variable: `${at}.check.outcome`, StringEquals: 'invalid', Next: name(LLM_STATE_ROLES.repair) }], Default: name(LLM_STATE_ROLES.answer) },
    [name(LLM_STATE_ROLES.answer)]: { Type: 'Pass', InputPath: `${at}.check`, ResultPath: at, ...flow(target.next) },
    [name(LLM_STATE_ROLES.repair)]: call(LLM_STATE_ROLES.repair, repairTurns, ANSWER, `${at}.retry`, name(LLM_STATE_ROLES.recheck)),
    [name(LLM_STATE_ROLES.recheck)]: check(2, `${at}.retry`, `${at}.answer.usage`, at, target.next),
  } satisfies States);
  return { ...states, ...failure.states };
}

/**
 * The system text: as written (templated), with the schema's instruction as its last paragraph when there is
 * one. A templated system text gets the instruction at run time (States.Format), escaped, so that nothing in
 * the schema is read as a template or a placeholder.
 */
function systemText(system: string | undefined, schema: Readonly<Record<string, unknown>> | undefined, scope: PathScope): CompiledValue | undefined {
  if (system === undefined) return schema === undefined ? undefined : { literal: withInstruction(undefined, schema) };
  const compiled = compileValue(system, scope);
  if (schema === undefined) return compiled;
  if ('literal' in compiled) return { literal: withInstruction(String(compiled.literal), schema) };
  return { path: `States.Format('{}${escapeIntrinsicText(instructionSuffix(schema))}', ${compiled.path})` };
}

function field(key: string, value: CompiledValue): JsonObject {
  return 'path' in value ? { [`${key}.$`]: value.path } : { [key]: value.literal };
}
