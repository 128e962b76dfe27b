import { awsPlanService } from '../aws-planner.ts';
import { secured } from '../aws-security.ts';
import { createPlanHandlers } from '../http/plan-handlers.ts';

export const handler = createPlanHandlers(secured({ planner: awsPlanService() })).planWorkflow;
