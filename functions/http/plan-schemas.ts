import * as z from 'zod';
import { SERVICE_NAME_PATTERN } from '../../core/registry/registration.ts';
import { FieldIssueSchema } from './error-schemas.ts';

/** Request and response shapes of `POST /ai/plan` (issue 17): a goal in, a checked draft workflow out. */

/** The most rounds a request may ask for: each is one model answer, and the route has a time limit. */
export const MAX_PLAN_ROUNDS = 10;

export const PlanWorkflowBody = z.object({
  goal: z.string({ error: 'goal must be a string' }).trim().min(1, 'goal must not be empty').max(4000, 'goal must be at most 4000 characters').describe('What the workflow should do, in plain words'),
  services: z
    .array(z.string().regex(SERVICE_NAME_PATTERN, "each service must start with a letter or digit and contain only letters, digits, '_', '-' or '.'"), { error: 'services must be an array of service names' })
    .min(1, 'services must name at least one service when given')
    .max(50, 'services must name at most 50 services')
    .optional()
    .describe('The registered services the draft may call (default: all)'),
  constraints: z
    .array(z.string().min(1, 'a constraint must not be empty').max(500, 'a constraint must be at most 500 characters'), { error: 'constraints must be an array of strings' })
    .max(20, 'at most 20 constraints')
    .optional()
    .describe('Rules the draft must follow, in plain words'),
  max_rounds: z
    .number({ error: 'max_rounds must be a number' })
    .int('max_rounds must be an integer')
    .min(1, 'max_rounds must be at least 1')
    .max(MAX_PLAN_ROUNDS, `max_rounds must be at most ${MAX_PLAN_ROUNDS}`)
    .optional()
    .describe('Model answers at most, the first draft included (default ORCHESTRATOR_PLANNER_MAX_ROUNDS, 3)'),
  save: z.boolean({ error: 'save must be true or false' }).default(false).describe('Create the workflow (as a draft) when the plan is valid; nothing is saved otherwise'),
});

export const PlanWorkflowResponse = z.object({
  draft: z.unknown().describe("The last draft the model gave (a workflow definition), valid or not; null when no answer parsed as JSON"),
  valid: z.boolean().describe("The draft passed the orchestrator's validator and compiler, and calls only registered services"),
  issues: z.array(FieldIssueSchema).describe("The last draft's problems, each with its field"),
  rounds: z.number().int().describe('Model answers it took (1: the first draft was valid)'),
  max_rounds: z.number().int(),
  explanation: z.string().describe("The model's explanation of its draft"),
  model: z.string(),
  usage: z.object({ input_tokens: z.number().int(), output_tokens: z.number().int() }).describe('Tokens of every round together'),
  // Top level as well as in `saved`: the audit record of the request names the workflow it created from this field.
  workflow_id: z.string().nullable().describe('The id of the workflow saved (as in saved.workflow_id); null when nothing was saved'),
  saved: z
    .object({ workflow_id: z.string(), version: z.number().int(), status: z.string() })
    .nullable()
    .describe('The workflow created with save: true and a valid draft; null otherwise'),
});
