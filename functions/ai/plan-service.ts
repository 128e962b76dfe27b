import type { z } from 'zod';
import type { ToolCatalog } from '../../core/ai/tool-catalog.ts';
import { DependencyUnavailableError, GatewayTimeoutError, ValidationError, type FieldIssue } from '../../core/errors.ts';
import type { Clock, ServiceRegistry, WorkflowCompilerCheck } from '../../core/ports.ts';
import { isExpired } from '../../core/registry/model.ts';
import { WorkflowDefinitionSchema, type WorkflowDefinition } from '../../core/workflow/definition.ts';
import type { Workflow } from '../../core/workflow/model.ts';
import type { WorkflowService } from '../../core/workflow/service.ts';
import type { PlanWorkflowBody, PlanWorkflowResponse } from '../http/plan-schemas.ts';
import { forbiddenKeyIssues } from '../middleware/forbidden-keys.ts';
import { planWorkflow, type PlannerModel } from './planner.ts';

/**
 * `POST /ai/plan` (issue 17): a goal in, a checked draft workflow out. The planner's graph (planner.ts) asks the
 * model; this use case gives it what the caller may use (GET /tools' listing for the caller's tenant and the
 * registry's services), the API's own verdict on a definition, the bound on rounds and a time budget, and saves
 * a valid plan as a draft workflow when asked, through the same workflow service as `POST /workflows`.
 */

export type PlanRequest = z.output<typeof PlanWorkflowBody>;
export type PlanResponse = z.output<typeof PlanWorkflowResponse>;

/** Who asks: the plan's workflows are the tenant's, and a saved one is created by the actor, in that tenant. */
export interface PlanCaller {
  readonly tenant: string;
  readonly actor: string;
}

/** The model the planner asks, or why there is none (the message names the variable to set). */
export type PlannerModelSource =
  | { readonly configured: true; readonly modelFor: (signal: AbortSignal) => PlannerModel }
  | { readonly configured: false; readonly missing: string };

export interface PlanServiceDeps {
  readonly model: PlannerModelSource;
  readonly tools: ToolCatalog;
  readonly registry: Pick<ServiceRegistry, 'list'>;
  /** The compiler's limit check, as the workflow service applies it on create (statemachines/compile.ts compilerCheck). */
  readonly compiler: WorkflowCompilerCheck;
  readonly workflows: Pick<WorkflowService, 'createWorkflow'>;
  readonly clock: Clock;
  /** Rounds when the request names none (ORCHESTRATOR_PLANNER_MAX_ROUNDS). */
  readonly defaultMaxRounds: number;
  /** How long one plan may take in all, model calls included: past it, the call in flight is cancelled (504). */
  readonly timeBudgetMs: number;
}

export interface PlanService {
  plan(request: PlanRequest, caller: PlanCaller): Promise<PlanResponse>;
}

/**
 * The id a draft is checked under: the API names a new workflow with a random UUID, and the compiled machine's
 * Comment carries it, so an id of the same length makes the compiler measure what it would measure on create.
 */
const DRAFT_WORKFLOW_ID = '00000000-0000-4000-8000-000000000000';

export function createPlanService(deps: PlanServiceDeps): PlanService {
  return {
    async plan(request, caller) {
      if (!deps.model.configured) throw new DependencyUnavailableError(deps.model.missing);
      const knownServices = await liveServiceNames(deps);
      const unknown = unknownServiceIssues(request.services, knownServices);
      if (unknown.length > 0) throw new ValidationError(unknown);
      // The caller's tenant, admins included: a plan becomes a workflow of that tenant, whose workflows it may run.
      const listing = await deps.tools.list({}, { tenant: caller.tenant });
      const maxRounds = request.max_rounds ?? deps.defaultMaxRounds;
      const deadline = AbortSignal.timeout(deps.timeBudgetMs);
      let result: Awaited<ReturnType<typeof planWorkflow>>;
      try {
        result = await planWorkflow(
          { goal: request.goal, ...(request.services ? { services: request.services } : {}), ...(request.constraints ? { constraints: request.constraints } : {}), maxRounds },
          { model: deps.model.modelFor(deadline), tools: listing.tools, compile: (definition) => apiVerdict(definition, caller, deps), knownServices },
        );
      } catch (error) {
        if (!deadline.aborted) throw error;
        throw new GatewayTimeoutError(
          `planning took longer than its ${deps.timeBudgetMs / 1000} s budget (at most ${maxRounds} model answers): ask for fewer max_rounds, or configure a faster model`,
          [],
          { cause: error },
        );
      }
      const saved = request.save && result.valid ? await saveDraft(result.draft, caller, deps) : null;
      return {
        draft: result.draft ?? null,
        valid: result.valid,
        issues: [...result.issues],
        rounds: result.rounds,
        max_rounds: maxRounds,
        explanation: result.explanation,
        model: result.model,
        usage: result.usage,
        workflow_id: saved?.workflow_id ?? null,
        saved,
      };
    },
  };
}

/** Names of the services with a live instance: what a draft may call (and what `services` may name). */
async function liveServiceNames(deps: Pick<PlanServiceDeps, 'registry' | 'clock'>): Promise<Set<string>> {
  const now = deps.clock.now();
  return new Set((await deps.registry.list()).filter((instance) => !isExpired(instance, now)).map((instance) => instance.name));
}

function unknownServiceIssues(services: readonly string[] | undefined, known: ReadonlySet<string>): FieldIssue[] {
  const names = [...known].sort();
  return (services ?? []).flatMap((service, index) =>
    known.has(service) ? [] : [{ field: `services[${index}]`, message: `${service} is not a registered service${names.length > 0 ? `; registered: ${names.join(', ')}` : ' (none is registered)'}` }],
  );
}

/**
 * What `POST /workflows` would refuse of a definition beyond its schema and rules (which the planner checks):
 * keys its body parser refuses, and the compiler's limits, checked as the workflow service checks them.
 */
function apiVerdict(definition: WorkflowDefinition, caller: PlanCaller, deps: Pick<PlanServiceDeps, 'compiler' | 'clock'>): FieldIssue[] {
  const now = deps.clock.now();
  const workflow: Workflow = {
    workflow_id: DRAFT_WORKFLOW_ID,
    ...definition,
    tenant: caller.tenant,
    version: 1,
    revision: 1,
    created_by: caller.actor,
    created_at: now,
    updated_by: caller.actor,
    updated_at: now,
    version_created_by: caller.actor,
    version_created_at: now,
  };
  return [...forbiddenKeyIssues(definition), ...deps.compiler.check(workflow).errors];
}

/** A valid draft, created as a workflow of the caller's tenant with status `draft`: it does not run until someone activates it. */
async function saveDraft(draft: unknown, caller: PlanCaller, deps: Pick<PlanServiceDeps, 'workflows'>): Promise<NonNullable<PlanResponse['saved']>> {
  const definition = WorkflowDefinitionSchema.parse(draft);
  const workflow = await deps.workflows.createWorkflow({ ...definition, status: 'draft' }, caller.actor, caller.tenant);
  return { workflow_id: workflow.workflow_id, version: workflow.version, status: workflow.status };
}
