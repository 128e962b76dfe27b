import { describe, expect, it } from 'vitest';
import type { ToolCatalog, ToolFilters } from '../../../core/ai/tool-catalog.ts';
import type { TenantScope } from '../../../core/auth/model.ts';
import type { ServiceInstance } from '../../../core/registry/model.ts';
import type { WorkflowDefinition } from '../../../core/workflow/definition.ts';
import { createPlanService, type PlanServiceDeps } from '../../../functions/ai/plan-service.ts';
import type { ChatMessage, PlannerModel } from '../../../functions/ai/planner.ts';
import { ERROR_STATUS } from '../../../functions/middleware/envelope.ts';
import { compilerCheck } from '../../../statemachines/compile.ts';

/**
 * The plan use case around the planner's graph: what it gives the model (the caller's tools, the live services),
 * what it refuses before asking, its time budget, and what it saves. The graph, validator and compiler are the
 * real ones; the model, registry, catalog and workflow service are stand-ins (test/integration/ai-plan.test.ts
 * runs it all over HTTP).
 */

const NOW = '2026-12-01T10:00:00.000Z';
const instance = (name: string, extra: Partial<ServiceInstance> = {}) =>
  ({ name, instance_id: `${name}-1`, url: `http://${name}.internal`, health_path: '/health', tags: [], metadata: {}, registered_at: NOW, updated_at: NOW, ...extra }) as ServiceInstance;
const valid = JSON.stringify({
  workflow: { name: 'fetch a document', parameters: [{ name: 'doc', type: 'string', required: true }], actions: [{ action_id: 'fetch', action_type: 'service_call', config: { service: 'docs', endpoint: '/documents/{{doc}}', method: 'GET' } }] },
  explanation: 'one call',
});

function setUp(answer: (messages: readonly ChatMessage[], signal: AbortSignal) => Promise<string>, overrides: Partial<PlanServiceDeps> = {}) {
  const seen: { messages: ChatMessage[][]; scopes: TenantScope[]; filters: ToolFilters[]; created: { definition: WorkflowDefinition; actor: string; tenant: string }[] } = { messages: [], scopes: [], filters: [], created: [] };
  const tools: ToolCatalog = {
    async list(filters, scope) {
      seen.filters.push(filters);
      seen.scopes.push(scope);
      return {
        generated_at: NOW,
        tools: [
          { name: 'docs.getDocument', kind: 'service_operation', title: 'getDocument', description: 'Read a document', input_schema: {}, service: 'docs', method: 'GET', path: '/documents/{id}', operation_id: 'getDocument', tags: [] },
          { name: 'mail.send', kind: 'service_operation', title: 'send', description: 'Send mail', input_schema: {}, service: 'mail', method: 'POST', path: '/send', operation_id: 'send', tags: [] },
        ],
        notes: [],
        counts: { tools: 2, workflows: 0, service_operations: 2, services_read: 2, services_unreadable: 0 },
      };
    },
  };
  const modelFor = (signal: AbortSignal): PlannerModel => ({
    model: 'scripted',
    async complete(messages) {
      seen.messages.push([...messages]);
      return { text: await answer(messages, signal), usage: { input_tokens: 10, output_tokens: 5 } };
    },
  });
  const service = createPlanService({
    model: { configured: true, modelFor },
    tools,
    registry: { list: async () => [instance('docs'), instance('mail'), instance('gone', { expires_at: '2026-11-30T00:00:00.000Z' })] },
    compiler: compilerCheck,
    workflows: {
      async createWorkflow(definition, actor, tenant = 'default') {
        seen.created.push({ definition, actor, tenant });
        return { ...definition, workflow_id: 'wf-1', tenant, version: 1 } as never;
      },
    },
    clock: { now: () => NOW },
    defaultMaxRounds: 3,
    timeBudgetMs: 1000,
    ...overrides,
  });
  return { service, seen };
}

const caller = { tenant: 'acme', actor: 'alice' };
const statusOf = (error: unknown) => ERROR_STATUS[(error as Error).name]?.status;

describe('planning a workflow', () => {
  it("gives the model the caller's tenant's tools, each operation with its service, method and path, and the live services only", async () => {
    const { service, seen } = setUp(async () => valid);
    const plan = await service.plan({ goal: 'read a document', save: false }, caller);
    expect(plan).toMatchObject({ valid: true, rounds: 1, max_rounds: 3, saved: null, workflow_id: null, model: 'scripted', explanation: 'one call' });
    expect(seen.scopes).toEqual([{ tenant: 'acme' }]);
    const system = seen.messages[0]![0]!.content;
    expect(system).toContain('- docs.getDocument (service docs: GET /documents/{id}): Read a document');
    expect(system).toContain('Services you may call: docs, mail.');
    expect(system).not.toContain('gone');
  });

  it('shows only the operations of the services the request names', async () => {
    const { service, seen } = setUp(async () => valid);
    await service.plan({ goal: 'read a document', services: ['docs'], save: false }, caller);
    expect(seen.messages[0]![0]!.content).not.toContain('mail.send');
  });

  it('refuses services that are not registered, naming each, before asking the model', async () => {
    const { service, seen } = setUp(async () => valid);
    const error = await service.plan({ goal: 'x', services: ['docs', 'gone', 'nobody'], save: false }, caller).catch((caught: unknown) => caught);
    expect(statusOf(error)).toBe(400);
    expect((error as { details: unknown }).details).toEqual([
      { field: 'services[1]', message: 'gone is not a registered service; registered: docs, mail' },
      { field: 'services[2]', message: 'nobody is not a registered service; registered: docs, mail' },
    ]);
    expect(seen.messages).toEqual([]);
  });

  it('answers 503 with the configured message when there is no model', async () => {
    const { service } = setUp(async () => valid, { model: { configured: false, missing: 'set LLM_GATEWAY_URL' } });
    const error = await service.plan({ goal: 'x', save: false }, caller).catch((caught: unknown) => caught);
    expect(statusOf(error)).toBe(503);
    expect((error as Error).message).toBe('set LLM_GATEWAY_URL');
  });

  it('stops a plan that outlives its time budget with a 504 naming the budget, and saves nothing', async () => {
    const { service, seen } = setUp(
      (_messages, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
        }),
      { timeBudgetMs: 50 },
    );
    const error = await service.plan({ goal: 'x', max_rounds: 4, save: true }, caller).catch((caught: unknown) => caught);
    expect(statusOf(error)).toBe(504);
    expect((error as Error).message).toMatch(/longer than its 0.05 s budget \(at most 4 model answers\)/);
    expect(seen.created).toEqual([]);
  });

  it('saves a valid plan as a draft of the caller, in the caller\'s tenant, with the definition the API would store', async () => {
    const { service, seen } = setUp(async () => valid);
    const plan = await service.plan({ goal: 'x', save: true }, caller);
    expect(plan.saved).toEqual({ workflow_id: 'wf-1', version: 1, status: 'draft' });
    expect(plan.workflow_id).toBe('wf-1');
    expect(seen.created).toHaveLength(1);
    expect(seen.created[0]).toMatchObject({ actor: 'alice', tenant: 'acme', definition: { name: 'fetch a document', status: 'draft', execution_mode: 'standard' } });
  });
});
