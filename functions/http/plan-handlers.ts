import type { PlanService } from '../ai/plan-service.ts';
import { handlerFactory, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import type { Secured } from './services.ts';

/** What `POST /ai/plan` needs. */
export interface PlanHttpServices {
  readonly planner: PlanService;
}

/** Draft workflows for a goal, written by a language model and checked by the orchestrator (issue 17). */
export function createPlanHandlers({ planner, security }: PlanHttpServices & Secured) {
  const handle = handlerFactory(security);
  return {
    planWorkflow: handle(routes.planWorkflow, async ({ body, caller, actor }) => {
      const plan = await planner.plan(body, { tenant: caller.tenant, actor });
      const rounds = plural(plan.rounds, 'round');
      const message = plan.valid
        ? `valid plan in ${rounds}${plan.saved ? `; saved as workflow ${plan.saved.workflow_id} (${plan.saved.status})` : ''}`
        : `no valid plan after ${rounds}: ${plural(plan.issues.length, 'problem')}${body.save ? '; nothing saved' : ''}`;
      return { message, data: plan };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
