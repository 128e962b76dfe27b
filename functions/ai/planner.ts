import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import type { ToolDescription } from '../../core/ai/workflow-tools.ts';
import type { FieldIssue } from '../../core/errors.ts';
import { WorkflowDefinitionSchema, type WorkflowDefinition } from '../../core/workflow/definition.ts';
import { assertValidDefinition, zodIssues } from '../../core/workflow/validate.ts';

/**
 * Planning (issue 17): `POST /ai/plan` turns a goal into a draft workflow with a LangGraph.js graph. The model
 * drafts; the orchestrator's own validator and compiler check the draft (and that every service it calls is
 * one the registry knows); every problem is fed back with its field, and the model repairs, at most
 * `maxRounds` answers in all. Nothing is saved here: the route saves a valid draft when asked to.
 *
 *   START -> write_draft -> check_draft --valid, or out of rounds--> END
 *                                  ^--- repair_draft <-- problems --'
 */

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export interface ModelUsage {
  readonly input_tokens: number;
  readonly output_tokens: number;
}

/** The language model the planner talks to (an OpenAI-compatible gateway, or Bedrock). */
export interface PlannerModel {
  readonly model: string;
  complete(messages: readonly ChatMessage[]): Promise<{ readonly text: string; readonly usage?: ModelUsage }>;
}

/** A tool of GET /tools; a service operation's service, method and path are what a service_call's config needs. */
export type PlannerTool = ToolDescription & { readonly service?: string; readonly method?: string; readonly path?: string };

export interface PlanRequest {
  readonly goal: string;
  /** Services the draft may call (default: every registered one, from the tools). */
  readonly services?: readonly string[];
  readonly constraints?: readonly string[];
  /** Answers of the model at most, the first draft included. */
  readonly maxRounds: number;
}

export interface PlannerDeps {
  readonly model: PlannerModel;
  /** What the draft can use: the registered services' operations and the existing workflows (GET /tools). */
  readonly tools: readonly PlannerTool[];
  /** The compiler's verdict on a definition (limits), as the API applies it when a workflow is created. */
  readonly compile: (definition: WorkflowDefinition) => readonly FieldIssue[];
  /** Names of the services the registry knows (a draft calling another one is refused). */
  readonly knownServices: ReadonlySet<string>;
}

export interface PlanResult {
  /** The last draft the model gave (parsed JSON), whether or not it is valid; undefined when none parsed. */
  readonly draft: unknown;
  readonly valid: boolean;
  /** The last draft's problems, each with its field. */
  readonly issues: readonly FieldIssue[];
  /** How many answers the model gave (1 = the first draft was valid). */
  readonly rounds: number;
  readonly explanation: string;
  readonly model: string;
  readonly usage: ModelUsage;
}

const PlanState = Annotation.Root({
  messages: Annotation<ChatMessage[]>({ reducer: (left, right) => [...left, ...right], default: () => [] }),
  draft: Annotation<unknown>(),
  explanation: Annotation<string>({ reducer: (_, next) => next, default: () => '' }),
  issues: Annotation<FieldIssue[]>({ reducer: (_, next) => next, default: () => [] }),
  rounds: Annotation<number>({ reducer: (_, next) => next, default: () => 0 }),
  usage: Annotation<ModelUsage>({
    reducer: (left, right) => ({ input_tokens: left.input_tokens + right.input_tokens, output_tokens: left.output_tokens + right.output_tokens }),
    default: () => ({ input_tokens: 0, output_tokens: 0 }),
  }),
});
type State = typeof PlanState.State;

/** Plans a workflow for `request`: the graph's last state as the answer. */
export async function planWorkflow(request: PlanRequest, deps: PlannerDeps): Promise<PlanResult> {
  const services = request.services ?? [...deps.knownServices].sort();
  const allowed = new Set(request.services?.filter((name) => deps.knownServices.has(name)) ?? deps.knownServices);

  const ask = async (messages: readonly ChatMessage[], state: State): Promise<Partial<State>> => {
    const answer = await deps.model.complete(messages);
    const parsed = parseAnswer(answer.text);
    return {
      messages: [...messages.slice(state.messages.length), { role: 'assistant', content: answer.text }],
      draft: parsed.draft,
      explanation: parsed.explanation,
      issues: parsed.issues,
      rounds: state.rounds + 1,
      ...(answer.usage ? { usage: answer.usage } : {}),
    };
  };

  const graph = new StateGraph(PlanState)
    .addNode('write_draft', (state) => ask([{ role: 'system', content: systemPrompt(deps.tools, services) }, { role: 'user', content: goalPrompt(request) }], state))
    .addNode('check_draft', (state) => ({ issues: state.issues.length > 0 ? state.issues : draftIssues(state.draft, deps, allowed) }))
    .addNode('repair_draft', (state) => ask([...state.messages, { role: 'user', content: repairPrompt(state.issues) }], state))
    .addEdge(START, 'write_draft')
    .addEdge('write_draft', 'check_draft')
    .addConditionalEdges('check_draft', (state) => (state.issues.length === 0 || state.rounds >= request.maxRounds ? END : 'repair_draft'))
    .addEdge('repair_draft', 'check_draft')
    .compile();

  // Each round is three steps (answer, check, and the edge back); LangGraph's limit is on steps.
  const final = await graph.invoke({}, { recursionLimit: request.maxRounds * 3 + 5 });
  return {
    draft: final.draft,
    valid: final.issues.length === 0,
    issues: final.issues,
    rounds: final.rounds,
    explanation: final.explanation,
    model: deps.model.model,
    usage: final.usage,
  };
}

/**
 * The draft's problems, as the API would report them on creating it (schema, definition rules, compiler
 * limits), and each service_call to a service the plan may not use.
 */
export function draftIssues(draft: unknown, deps: Pick<PlannerDeps, 'compile'>, allowedServices: ReadonlySet<string>): FieldIssue[] {
  const parsed = WorkflowDefinitionSchema.safeParse(draft);
  if (!parsed.success) return zodIssues(parsed.error, '');
  const unknown: FieldIssue[] = parsed.data.actions.flatMap((action, index) =>
    action.action_type === 'service_call' && !allowedServices.has(action.config.service)
      ? [{ field: `actions[${index}].config.service`, message: `${action.config.service} is not a registered service; use one of: ${[...allowedServices].sort().join(', ') || '(none registered)'}` }]
      : [],
  );
  try {
    assertValidDefinition(parsed.data);
  } catch (error) {
    const details = (error as { details?: readonly FieldIssue[] }).details;
    if (!Array.isArray(details)) throw error;
    return [...details, ...unknown];
  }
  return [...deps.compile(parsed.data), ...unknown];
}

/** The model's answer: a JSON object `{ "workflow": {...}, "explanation": "..." }`, possibly in a code fence. */
export function parseAnswer(text: string): { draft: unknown; explanation: string; issues: FieldIssue[] } {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text)?.[1];
  const candidate = fenced ?? text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
  let answer: unknown;
  try {
    answer = JSON.parse(candidate);
  } catch {
    return { draft: undefined, explanation: '', issues: [{ field: '(answer)', message: 'the answer is not a JSON object; answer with one JSON object {"workflow": {...}, "explanation": "..."}' }] };
  }
  if (typeof answer !== 'object' || answer === null || !('workflow' in answer)) {
    return { draft: answer, explanation: '', issues: [{ field: '(answer)', message: 'the JSON object has no "workflow" field' }] };
  }
  const { workflow, explanation } = answer as { workflow: unknown; explanation?: unknown };
  return { draft: workflow, explanation: typeof explanation === 'string' ? explanation : '', issues: [] };
}

function systemPrompt(tools: readonly PlannerTool[], services: readonly string[]): string {
  // Only the services the plan may call, each operation with what a service_call's config takes (service, method, endpoint).
  const operations = tools
    .filter((tool) => tool.kind === 'service_operation' && (tool.service === undefined || services.includes(tool.service)))
    .map((tool) => `- ${tool.name}${tool.service && tool.method && tool.path ? ` (service ${tool.service}: ${tool.method} ${tool.path})` : ''}: ${tool.description}`);
  const workflows = tools.filter((tool) => tool.kind === 'workflow').map((tool) => `- ${tool.title}: ${tool.description}`);
  return [
    'You design workflows for a workflow orchestrator. Answer with one JSON object and nothing else:',
    '{"workflow": <definition>, "explanation": "<why this design, in a few sentences>"}.',
    'A definition: {"name", "description", "parameters": [{"name", "type": string|integer|number|boolean|array|object, "required", "default"?, "description"?}],',
    '"actions": [{"action_id", "action_type": service_call|notification|wait|transform|foreach|sub_workflow|llm, "config", "depends_on": [action ids]}]}.',
    'service_call config: {"service", "endpoint" (a path starting with /), "method", "parameters"?}. transform config: {"output"}. notification config: {"message"}.',
    'Templates: {{parameter}}, {{action_id.response.field}}, {{execution.id}}. Dependencies must form no cycle; an action reads only actions it depends on, directly or not.',
    `Services you may call: ${services.length > 0 ? services.join(', ') : '(none: use no service_call)'}.`,
    ...(operations.length > 0 ? ['Their operations:', ...operations] : []),
    ...(workflows.length > 0 ? ['Existing workflows (sub_workflow may run them):', ...workflows] : []),
  ].join('\n');
}

function goalPrompt(request: PlanRequest): string {
  return [`Goal: ${request.goal}`, ...(request.constraints && request.constraints.length > 0 ? ['Constraints:', ...request.constraints.map((constraint) => `- ${constraint}`)] : [])].join('\n');
}

function repairPrompt(issues: readonly FieldIssue[]): string {
  return ['The orchestrator refused that draft:', ...issues.map((issue) => `- ${issue.field}: ${issue.message}`), 'Answer with the corrected JSON object, in the same form.'].join('\n');
}
