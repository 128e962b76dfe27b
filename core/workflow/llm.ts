import type { Action } from './definition.ts';

/**
 * The conversation an `llm` action holds with its model, as written (templates left in): what the compiler
 * renders into the model request and what validation reads. One request format is used everywhere: the
 * Anthropic Messages body of Amazon Bedrock's InvokeModel (`anthropic_version`, `max_tokens`, `system`,
 * `messages`, `temperature`), which Step Functions sends natively in AWS and the local runtime translates for
 * an OpenAI-compatible endpoint (adapters/http/llm-gateway.ts). See docs/adr/0017-llm-action.md.
 */

export type LlmConfig = Extract<Action, { action_type: 'llm' }>['config'];
export type LlmTurn = { readonly role: 'user' | 'assistant'; readonly content: string };

/** The Messages API version Bedrock's Anthropic models take in the body. */
export const ANTHROPIC_BEDROCK_VERSION = 'bedrock-2023-05-31';

/** Between the parts of the system text (`system`, then each system-role message, then the schema's instruction). */
const PARAGRAPH = '\n\n';

/**
 * The system text (`system` and the system-role messages, in order, as one text: the Messages format has one
 * system prompt, not system turns) and the user and assistant turns. A `prompt` is one user turn.
 */
export function llmConversation(config: LlmConfig): { readonly system?: string; readonly turns: readonly LlmTurn[] } {
  const messages = config.messages ?? [{ role: 'user' as const, content: config.prompt ?? '' }];
  const systemParts = [...(config.system === undefined ? [] : [config.system]), ...messages.filter((message) => message.role === 'system').map((message) => message.content)];
  const turns = messages.filter((message): message is LlmTurn => message.role !== 'system').map(({ role, content }) => ({ role, content }));
  return { ...(systemParts.length > 0 ? { system: systemParts.join(PARAGRAPH) } : {}), turns };
}

/**
 * What the model is told when its answer must match `output_schema`: the last paragraph of the system text,
 * with the schema itself. The Messages format has no schema parameter, so the instruction is the contract,
 * and the check after the answer (core/execution/llm-check.ts) is what enforces it.
 */
export function schemaInstruction(schema: Readonly<Record<string, unknown>>): string {
  return `Answer with a single JSON value and nothing else: no prose before or after it, no code fences. It must validate against this JSON Schema:\n${JSON.stringify(schema, null, 2)}`;
}

/** The system text with the schema's instruction as its last paragraph. */
export function withInstruction(system: string | undefined, schema: Readonly<Record<string, unknown>>): string {
  return system === undefined ? schemaInstruction(schema) : `${system}${PARAGRAPH}${schemaInstruction(schema)}`;
}

/** What follows the system text when a schema's instruction is appended to it (for a system text built at run time). */
export function instructionSuffix(schema: Readonly<Record<string, unknown>>): string {
  return `${PARAGRAPH}${schemaInstruction(schema)}`;
}

/**
 * The states of an llm action beside its first (`<id>`, which renders the conversation), by the role in their
 * names (`<id>: call`): the compiler names them, and progress is read back from them (statemachines/progress.ts,
 * the local engine).
 */
export const LLM_STATE_ROLES = {
  /** The model call. */
  call: 'call',
  /** The action runner checks the answer against output_schema. */
  check: 'check',
  valid: 'valid?',
  /** A valid first answer becomes the result. */
  answer: 'answer',
  /** The model is asked again, with the schema errors. */
  repair: 'repair',
  /** The repair's answer is checked; invalid, the action fails. */
  recheck: 'recheck',
} as const;

/** The parts of an llm action's config that hold templates: everything but `output_schema`, which is literal JSON Schema. */
export function llmTemplatedConfig(config: LlmConfig): Omit<LlmConfig, 'output_schema'> {
  const { output_schema: _schema, ...templated } = config;
  return templated;
}
