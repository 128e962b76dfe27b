import { ValidationError } from '../../core/errors.ts';
import { applyCustomizations, findTemplate, TEMPLATES } from '../../core/templates/catalog.ts';
import { WorkflowDefinitionSchema } from '../../core/workflow/definition.ts';
import type { Workflow } from '../../core/workflow/model.ts';
import { zodIssues } from '../../core/workflow/validate.ts';
import { createHttpHandler, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import { compileWorkflow } from '../../statemachines/compile.ts';
import { workflowGraph } from '../../statemachines/inspect.ts';
import { checkHealth } from './health.ts';
import type { HttpServices } from './services.ts';

/** The workflow-management context's handlers, keyed by route name. No side effects until called. */
export function createWorkflowHandlers({ workflows, workflowStore, serviceVersion }: HttpServices) {
  return {
    workflowsHealth: createHttpHandler(routes.workflowsHealth, async () => {
      const health = await checkHealth(serviceVersion, { workflow_table: () => workflowStore.ping() });
      return { message: `workflow management is ${health.status}`, data: health, status: health.status === 'healthy' ? 200 : 503 };
    }),

    createWorkflow: createHttpHandler(routes.createWorkflow, async ({ body, actor }) => {
      const workflow = await workflows.createWorkflow(body, actor);
      return { message: `workflow '${workflow.name}' created`, data: present(workflow, workflow.version), headers: created(workflow) };
    }),

    listWorkflows: createHttpHandler(routes.listWorkflows, async ({ query }) => {
      const page = await workflows.listWorkflows({
        page: query.page,
        pageSize: query.page_size,
        status: query.status,
        createdBy: query.created_by,
        cursor: query.next_token,
      });
      return {
        message: `${page.items.length} of ${page.total} workflows`,
        data: {
          workflows: page.items,
          total: page.total,
          page: query.next_token ? undefined : query.page,
          page_size: query.page_size,
          has_more: page.nextCursor !== undefined,
          next_token: page.nextCursor ?? null,
        },
      };
    }),

    searchWorkflows: createHttpHandler(routes.searchWorkflows, async ({ query }) => {
      const { hits, total_matches } = await workflows.searchWorkflows(query.q, query.limit);
      return {
        message: `${total_matches} workflow${total_matches === 1 ? '' : 's'} match '${query.q}'`,
        data: { query: query.q, total_matches, results: hits.map((hit) => ({ ...hit.workflow, score: hit.score, matched: hit.matched })) },
      };
    }),

    workflowStatistics: createHttpHandler(routes.workflowStatistics, async () => ({
      message: 'workflow statistics',
      data: await workflows.statistics(),
    })),

    listTemplates: createTemplateListHandler(),

    createFromTemplate: createHttpHandler(routes.createFromTemplate, async ({ body, actor }) => {
      const template = findTemplate(body.template_name);
      const parsed = WorkflowDefinitionSchema.safeParse(applyCustomizations(template, body.customizations));
      if (!parsed.success) throw new ValidationError(zodIssues(parsed.error, 'customizations'));
      const workflow = await workflows.createWorkflow(parsed.data, actor);
      return {
        message: `workflow '${workflow.name}' created from template '${template.name}'`,
        data: present(workflow, workflow.version),
        headers: created(workflow),
      };
    }),

    getWorkflow: createHttpHandler(routes.getWorkflow, async ({ params, query }) => {
      const { workflow, latest_version } = await workflows.getWorkflow(params.workflow_id, query.version);
      return { message: `workflow '${workflow.name}' version ${workflow.version}`, data: present(workflow, latest_version), headers: etag(workflow) };
    }),

    updateWorkflow: createHttpHandler(routes.updateWorkflow, async ({ params, body, headers, actor }) => {
      const { expected_version, ...patch } = body;
      const result = await workflows.updateWorkflow(params.workflow_id, patch, actor, {
        revision: parseIfMatch(headers['if-match']),
        version: expected_version,
      });
      const message = !result.changed
        ? 'nothing changed'
        : result.new_version
          ? `workflow updated; definition is now version ${result.workflow.version}`
          : 'workflow metadata updated';
      return { message, data: present(result.workflow, result.workflow.version), headers: etag(result.workflow) };
    }),

    deleteWorkflow: createHttpHandler(routes.deleteWorkflow, async ({ params, headers }) => {
      await workflows.deleteWorkflow(params.workflow_id, { revision: parseIfMatch(headers['if-match']) });
      return { message: 'workflow deleted', data: { workflow_id: params.workflow_id, deleted: true as const } };
    }),

    listWorkflowVersions: createHttpHandler(routes.listWorkflowVersions, async ({ params }) => {
      const versions = await workflows.listVersions(params.workflow_id);
      return {
        message: `${versions.length} version${versions.length === 1 ? '' : 's'}`,
        data: {
          workflow_id: params.workflow_id,
          latest_version: versions[versions.length - 1]?.version ?? 0,
          versions: versions.map(({ workflow_id: _id, ...version }) => version),
        },
      };
    }),

    getStateMachine: createHttpHandler(routes.getStateMachine, async ({ params, query }) => {
      const { workflow, latest_version } = await workflows.getWorkflow(params.workflow_id, query.version);
      const compiled = compileWorkflow(workflow);
      return {
        message: `state machine of '${workflow.name}' version ${workflow.version}: ${compiled.limits.states} states`,
        data: {
          workflow_id: workflow.workflow_id,
          version: workflow.version,
          latest_version,
          execution_mode: compiled.executionMode,
          definition: compiled.definition as unknown as Record<string, unknown>,
          placeholders: [...compiled.placeholders],
          graph: workflowGraph(workflow.actions, compiled.structure),
          limits: {
            definition_bytes: compiled.limits.definitionBytes,
            states: compiled.limits.states,
            estimated_history_events: compiled.limits.estimatedHistoryEvents,
            warnings: [...compiled.limits.warnings],
          },
        },
      };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}

/** The template catalog is code, not data: listing it needs no table, so its Lambda gets no table access. */
export function createTemplateListHandler(): ApiHandler {
  return createHttpHandler(routes.listTemplates, async () => ({
    message: `${TEMPLATES.length} templates`,
    data: {
      templates: TEMPLATES.map((template) => ({
        name: template.name,
        title: template.title,
        description: template.description,
        category: template.category,
        parameters: WorkflowDefinitionSchema.parse(template.definition).parameters,
        action_count: template.definition.actions.length,
        definition: template.definition,
      })),
    },
  }));
}

function present(workflow: Workflow, latestVersion: number) {
  return { ...workflow, latest_version: latestVersion };
}

function etag(workflow: Workflow): Record<string, string> {
  return { etag: `"${workflow.revision}"` };
}

function created(workflow: Workflow): Record<string, string> {
  return { ...etag(workflow), location: `/workflows/${workflow.workflow_id}` };
}

/** `If-Match: "3"` (also W/"3" or 3) -> 3. `*` means any revision, so no precondition. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(header);
  if (!match) throw new ValidationError([{ field: 'If-Match', message: `expected the ETag of a previous response, like "3"; got ${JSON.stringify(header)}` }]);
  return Number(match[1]);
}
