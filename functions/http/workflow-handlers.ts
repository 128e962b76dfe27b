import { scopeOf } from '../../core/auth/model.ts';
import type { HandlerSecurity } from '../middleware/security.ts';
import { ValidationError } from '../../core/errors.ts';
import { applyCustomizations, findTemplate, TEMPLATES } from '../../core/templates/catalog.ts';
import { WorkflowDefinitionSchema } from '../../core/workflow/definition.ts';
import type { Workflow } from '../../core/workflow/model.ts';
import { zodIssues } from '../../core/workflow/validate.ts';
import { handlerFactory, createHttpHandler, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import { compileWorkflow } from '../../statemachines/compile.ts';
import { workflowGraph } from '../../statemachines/inspect.ts';
import { checkHealth } from './health.ts';
import type { HttpServices } from './services.ts';
import { IF_MATCH_PATTERN } from './workflow-schemas.ts';

/** The workflow-management context's handlers, keyed by route name. No side effects until called. */
export function createWorkflowHandlers(services: HttpServices) {
  // `schedules` is read when a workflow is deleted: only that route's function composes it (functions/entries/delete-workflow.ts).
  const { workflows, workflowStore, serviceVersion, security } = services;
  const handle = handlerFactory(security);
  return {
    workflowsHealth: handle(routes.workflowsHealth, async () => {
      const health = await checkHealth(serviceVersion, { workflow_table: () => workflowStore.ping() });
      return { message: `workflow management is ${health.status}`, data: health, status: health.status === 'healthy' ? 200 : 503 };
    }),

    createWorkflow: handle(routes.createWorkflow, async ({ body, actor, caller }) => {
      const workflow = await workflows.createWorkflow(body, actor, caller.tenant);
      return { message: `workflow '${workflow.name}' created`, data: present(workflow, workflow.version), headers: created(workflow) };
    }),

    listWorkflows: handle(routes.listWorkflows, async ({ query, caller }) => {
      const page = await workflows.listWorkflows(
        {
          page: query.page,
          pageSize: query.page_size,
          status: query.status,
          createdBy: query.created_by,
          cursor: query.next_token,
        },
        scopeOf(caller, query.tenant),
      );
      return {
        message: `${page.items.length} of ${page.total} workflows`,
        data: {
          workflows: page.items,
          total: page.total,
          // Cursor pages keep counting pages: the cursor knows its position and its page size.
          page: Math.floor(page.offset / page.limit) + 1,
          page_size: page.limit,
          has_more: page.nextCursor !== undefined,
          next_token: page.nextCursor ?? null,
        },
      };
    }),

    searchWorkflows: handle(routes.searchWorkflows, async ({ query, caller }) => {
      const { hits, total_matches } = await workflows.searchWorkflows(query.q, query.limit, scopeOf(caller, query.tenant));
      return {
        message: `${total_matches} workflow${total_matches === 1 ? '' : 's'} match '${query.q}'`,
        data: { query: query.q, total_matches, results: hits.map((hit) => ({ ...hit.workflow, score: hit.score, matched: hit.matched })) },
      };
    }),

    workflowStatistics: handle(routes.workflowStatistics, async ({ query, caller }) => ({
      message: 'workflow statistics',
      data: await workflows.statistics(scopeOf(caller, query.tenant)),
    })),

    listTemplates: createTemplateListHandler(security),

    createFromTemplate: handle(routes.createFromTemplate, async ({ body, actor, caller }) => {
      const template = findTemplate(body.template_name);
      const parsed = WorkflowDefinitionSchema.safeParse(applyCustomizations(template, body.customizations));
      if (!parsed.success) throw new ValidationError(zodIssues(parsed.error, 'customizations'));
      const workflow = await workflows.createWorkflow(parsed.data, actor, caller.tenant);
      return {
        message: `workflow '${workflow.name}' created from template '${template.name}'`,
        data: present(workflow, workflow.version),
        headers: created(workflow),
      };
    }),

    getWorkflow: handle(routes.getWorkflow, async ({ params, query, caller }) => {
      const { workflow, latest_version } = await workflows.getWorkflow(params.workflow_id, query.version, scopeOf(caller));
      return { message: `workflow '${workflow.name}' version ${workflow.version}`, data: present(workflow, latest_version), headers: etag(workflow) };
    }),

    updateWorkflow: handle(routes.updateWorkflow, async ({ params, body, headers, actor, caller }) => {
      const { expected_version, ...patch } = body;
      const result = await workflows.updateWorkflow(
        params.workflow_id,
        patch,
        actor,
        { revision: parseIfMatch(headers['if-match']), version: expected_version },
        scopeOf(caller),
      );
      const message = !result.changed
        ? 'nothing changed'
        : result.new_version
          ? `workflow updated; definition is now version ${result.workflow.version}`
          : 'workflow metadata updated';
      return { message, data: present(result.workflow, result.workflow.version), headers: etag(result.workflow) };
    }),

    deleteWorkflow: handle(routes.deleteWorkflow, async ({ params, headers, caller }) => {
      await workflows.deleteWorkflow(params.workflow_id, { revision: parseIfMatch(headers['if-match']) }, scopeOf(caller), caller.subject);
      // Its schedules go with it. Should this fail, each removes itself at its next firing (fireSchedule).
      const removed = await services.schedules.removeWorkflowSchedules(params.workflow_id);
      return { message: `workflow deleted${removed > 0 ? ` with its ${removed} schedule${removed === 1 ? '' : 's'}` : ''}`, data: { workflow_id: params.workflow_id, deleted: true as const } };
    }),

    listWorkflowVersions: handle(routes.listWorkflowVersions, async ({ params, caller }) => {
      const versions = await workflows.listVersions(params.workflow_id, scopeOf(caller));
      return {
        message: `${versions.length} version${versions.length === 1 ? '' : 's'}`,
        data: {
          workflow_id: params.workflow_id,
          latest_version: versions[versions.length - 1]?.version ?? 0,
          versions: versions.map(({ workflow_id: _id, ...version }) => version),
        },
      };
    }),

    getStateMachine: handle(routes.getStateMachine, async ({ params, query, caller }) => {
      const { workflow, latest_version } = await workflows.getWorkflow(params.workflow_id, query.version, scopeOf(caller));
      const compiled = compileWorkflow(workflow);
      return {
        message: `state machine of '${workflow.name}' version ${workflow.version}: ${compiled.limits.states} states`,
        data: {
          workflow_id: workflow.workflow_id,
          version: workflow.version,
          latest_version,
          execution_mode: compiled.executionMode,
          definition: compiled.definition as unknown as Record<string, unknown>,
          children: compiled.children.map((child) => ({ part: child.part, definition: child.definition as unknown as Record<string, unknown> })),
          placeholders: [...compiled.placeholders],
          graph: workflowGraph(workflow.actions, compiled),
          limits: {
            machines: compiled.limits.machines,
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
export function createTemplateListHandler(security: HandlerSecurity): ApiHandler {
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
  }), security);
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
  if (header === undefined) return undefined;
  if (!IF_MATCH_PATTERN.test(header)) throw new ValidationError([{ field: 'If-Match', message: `expected the ETag of a previous response, like "3" (also W/"3"), or *; got ${JSON.stringify(header.slice(0, 64))}` }]);
  const revision = /\d+/.exec(header);
  return revision ? Number(revision[0]) : undefined;
}
