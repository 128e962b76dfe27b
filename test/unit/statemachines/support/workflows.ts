/** Builders for workflow definitions as users write them (JSON input, before schema defaults). */

export type ActionInput = { readonly action_id: string; readonly action_type: string; readonly config: Record<string, unknown>; readonly depends_on?: readonly string[] } & Record<string, unknown>;

export interface WorkflowInput {
  readonly name: string;
  readonly execution_mode?: 'standard' | 'express';
  readonly parameters: readonly Record<string, unknown>[];
  readonly actions: readonly ActionInput[];
}

export function workflow(actions: readonly ActionInput[], parameters: readonly Record<string, unknown>[] = [], extra: Partial<WorkflowInput> = {}): WorkflowInput {
  return { name: 'test workflow', parameters, actions, ...extra };
}

export function param(name: string, type: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, type, required: true, ...extra };
}

export function serviceCall(id: string, parameters: Record<string, unknown> = {}, dependsOn: readonly string[] = [], extra: Record<string, unknown> = {}): ActionInput {
  return { action_id: id, action_type: 'service_call', config: { service: 'svc', endpoint: `/${id}`, method: 'POST', parameters }, depends_on: dependsOn, ...extra };
}

export function notification(id: string, message: string, dependsOn: readonly string[] = [], extra: Record<string, unknown> = {}): ActionInput {
  return { action_id: id, action_type: 'notification', config: { message }, depends_on: dependsOn, ...extra };
}

export function transform(id: string, output: unknown, dependsOn: readonly string[] = [], extra: Record<string, unknown> = {}): ActionInput {
  return { action_id: id, action_type: 'transform', config: { output }, depends_on: dependsOn, ...extra };
}

export function wait(id: string, config: { seconds?: unknown; until?: unknown }, dependsOn: readonly string[] = [], extra: Record<string, unknown> = {}): ActionInput {
  return { action_id: id, action_type: 'wait', config, depends_on: dependsOn, ...extra };
}

export function foreach(id: string, items: string, inner: { action_type: string; config: Record<string, unknown> }, maxConcurrency: number, dependsOn: readonly string[] = [], extra: Record<string, unknown> = {}): ActionInput {
  return { action_id: id, action_type: 'foreach', config: { items, max_concurrency: maxConcurrency, action: inner }, depends_on: dependsOn, ...extra };
}

export function subWorkflow(id: string, target: { workflow_id: string; version?: number }, parameters: Record<string, unknown>, dependsOn: readonly string[] = [], extra: Record<string, unknown> = {}): ActionInput {
  return { action_id: id, action_type: 'sub_workflow', config: { ...target, parameters }, depends_on: dependsOn, ...extra };
}

export function llm(id: string, config: Record<string, unknown>, dependsOn: readonly string[] = [], extra: Record<string, unknown> = {}): ActionInput {
  return { action_id: id, action_type: 'llm', config: { model: 'anthropic.claude-3-5-haiku-20241022-v1:0', ...config }, depends_on: dependsOn, ...extra };
}

/** An output_schema the feature workflow and the llm tests use: a label from a list and a confidence. */
export const LABEL_SCHEMA = {
  type: 'object',
  properties: { label: { enum: ['good', 'bad'] }, confidence: { type: 'number', minimum: 0, maximum: 1 } },
  required: ['label', 'confidence'],
  additionalProperties: false,
} as const;

export function compensationCall(parameters: Record<string, unknown> = {}): Record<string, unknown> {
  return { action_type: 'service_call', config: { service: 'svc', endpoint: '/undo', method: 'POST', parameters } };
}

/**
 * Workflows that exercise each feature of the compiler; their compiled definitions are golden files, and the
 * execution tests run them.
 */
export const FEATURE_WORKFLOWS: Readonly<Record<string, WorkflowInput>> = {
  conditions: workflow(
    [
      serviceCall('check', { document: '{{document_id}}' }),
      serviceCall('deep_scan', { id: '{{check.response.id}}' }, ['check'], {
        condition: { all: [{ ref: '{{check.response.score}}', greater_than: 5 }, { not: { ref: '{{mode}}', equals: 'fast' } }] },
      }),
      notification('report', 'scan {{deep_scan.response.verdict}} for {{document_id}}', ['deep_scan']),
      serviceCall('archive', { document: '{{document_id}}' }, ['deep_scan'], { condition: { any: [{ ref: '{{check.status_code}}', equals: 200 }, { ref: '{{force}}', equals: true }] } }),
      transform('summary', { verdict: '{{deep_scan.response}}', archived: '{{archive.status_code}}' }, ['report', 'archive'], { on_skipped_input: 'run' }),
    ],
    [param('document_id', 'string'), param('mode', 'string', { enum: ['fast', 'full'] }), param('force', 'boolean', { required: false, default: false })],
  ),
  failures: workflow(
    [
      serviceCall('fetch', { url: '{{url}}' }, [], { on_failure: 'continue', retry: { max_attempts: 4, interval_seconds: 1, backoff_rate: 1.5, jitter: 'none' } }),
      serviceCall('parse', { body: '{{fetch.response}}' }, ['fetch']),
      notification('notify', 'fetch finished with {{fetch.status_code}}', ['fetch'], { on_skipped_input: 'run' }),
      serviceCall('store', { url: '{{url}}' }, ['fetch'], { timeout_seconds: 10, retry: { max_attempts: 1 } }),
    ],
    [param('url', 'string')],
  ),
  loops_and_waits: workflow(
    [
      serviceCall('list', { folder: '{{folder}}' }),
      foreach('each_file', '{{list.response.files}}', { action_type: 'service_call', config: { service: 'svc', endpoint: '/file', method: 'POST', parameters: { file: '{{item}}', position: '{{index}}', folder: '{{folder}}', owner: '{{list.response.owner}}' } } }, 2, ['list']),
      wait('cool_down', { seconds: 30 }, ['each_file']),
      wait('until_window', { until: '{{window}}' }, ['list']),
      foreach('labels', '{{tags}}', { action_type: 'transform', config: { output: { tag: '{{item}}', n: '{{index}}' } } }, 0),
      transform('report', { files: '{{each_file.response}}', labels: '{{labels.response}}', count: '{{limit}}', text: 'done {{limit}} in {{folder}}', list: ['{{limit}}', '{{options}}', 'x'] }, ['cool_down', 'until_window', 'labels']),
    ],
    [param('folder', 'string'), param('window', 'string'), param('tags', 'array'), param('limit', 'integer'), param('options', 'object')],
  ),
  saga: workflow(
    [
      serviceCall('reserve', { item: '{{item}}' }, [], { compensation: compensationCall({ reservation: '{{reserve.response.id}}' }) }),
      serviceCall('charge', { amount: '{{amount}}', reservation: '{{reserve.response.id}}' }, ['reserve'], { compensation: compensationCall({ charge: '{{charge.response.id}}' }) }),
      serviceCall('ship', { reservation: '{{reserve.response.id}}' }, ['charge'], { on_failure: 'compensate' }),
    ],
    [param('item', 'string'), param('amount', 'integer')],
  ),
  sub_workflows: workflow(
    [
      subWorkflow('child', { workflow_id: 'child_workflow', version: 2 }, { document: '{{document_id}}', depth: '{{depth}}' }),
      serviceCall('use_child', { result: '{{child.response.result}}', whole: '{{child.response}}' }, ['child']),
    ],
    [param('document_id', 'string'), param('depth', 'integer')],
  ),
  llm: workflow(
    [
      serviceCall('fetch', { url: '{{document_url}}' }),
      llm('summarize', { system: 'You summarise documents for {{audience}}.', prompt: 'Summarise in one paragraph:\n{{fetch.response.content}}', max_tokens: 512, temperature: 0.2 }, ['fetch']),
      llm(
        'classify',
        { messages: [{ role: 'system', content: 'You classify summaries.' }, { role: 'user', content: 'Classify this summary: {{summarize.response.text}}' }], output_schema: LABEL_SCHEMA },
        ['summarize'],
        { retry: { max_attempts: 4, interval_seconds: 5 }, timeout_seconds: 120 },
      ),
      notification('report', '{{classify.response.json.label}} after {{summarize.response.usage.output_tokens}} tokens', ['classify']),
    ],
    [param('document_url', 'string'), param('audience', 'string', { required: false, default: 'engineers' })],
  ),
};
