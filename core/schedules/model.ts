import * as z from 'zod';

/**
 * Workflow schedules: a workflow run started at the times an EventBridge Scheduler expression names
 * (`cron(...)`, `rate(...)`, `at(...)`), in a time zone, with the run's parameters and an overlap policy.
 * In AWS each schedule is an EventBridge Scheduler schedule whose target starts the run; locally the local
 * scheduler fires them. Either way the firing goes through fireSchedule (service.ts), so the overlap policy
 * and the bookkeeping are the same.
 */

/** What a firing does when the schedule's previous run is still going. */
export const OVERLAP_POLICIES = ['allow', 'skip', 'cancel_previous'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** Who fired a run: its timer, or a `POST .../trigger`. */
export type FireTrigger = 'schedule' | 'manual';

/** What a firing did. */
export type FireOutcome = 'started' | 'skipped' | 'failed';

/** The last firing of a schedule, kept on it for `GET .../schedules` and for the overlap policy. */
export interface ScheduleFiring {
  readonly trigger: FireTrigger;
  readonly outcome: FireOutcome;
  /** When it was due (the timer's time; the request's time for a manual trigger). */
  readonly due_at: string;
  /** When it was handled. */
  readonly fired_at: string;
  /** The run it started, or (skipped) the run still going that made it skip. */
  readonly execution_id?: string;
  /** The run it cancelled first (`cancel_previous`). */
  readonly cancelled_execution_id?: string;
  /** Why it skipped or failed. */
  readonly reason?: string;
}

/** What a caller gives to create a schedule (defaults applied by the API schema): its definition. */
export interface ScheduleInput {
  /** EventBridge syntax: `cron(0 9 ? * MON-FRI *)`, `rate(15 minutes)`, `at(2027-01-01T09:00:00)`. */
  readonly expression: string;
  /** IANA time zone `cron` and `at` are read in (default UTC). */
  readonly timezone: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  /** A version to run (default: the workflow's latest at each firing). */
  readonly version?: number;
  readonly enabled: boolean;
  readonly overlap_policy: OverlapPolicy;
  readonly description?: string;
}

/** A stored schedule: its definition, whose it is, who changed it when, and its last firing. */
export interface WorkflowSchedule extends ScheduleInput {
  readonly schedule_id: string;
  readonly workflow_id: string;
  /** The workflow's tenant: runs start in it, and only it sees the schedule. */
  readonly tenant: string;
  readonly created_at: string;
  readonly created_by: string;
  readonly updated_at: string;
  readonly updated_by: string;
  /** Incremented by each change of the definition (not by firings): conditional writes compare it. */
  readonly revision: number;
  readonly last_firing?: ScheduleFiring;
}

/** How many schedules one workflow may have: each is an EventBridge Scheduler schedule (a quota per account). */
export const MAX_SCHEDULES_PER_WORKFLOW = 20;

/** A firing as stored and as the API shows it. */
export const ScheduleFiringSchema = z.object({
  trigger: z.enum(['schedule', 'manual'] as const satisfies readonly FireTrigger[]),
  outcome: z.enum(['started', 'skipped', 'failed'] as const satisfies readonly FireOutcome[]),
  due_at: z.string(),
  fired_at: z.string(),
  execution_id: z.string().optional(),
  cancelled_execution_id: z.string().optional(),
  reason: z.string().optional(),
}) satisfies z.ZodType<ScheduleFiring>;

/**
 * A schedule's fields but `parameters`, whose form differs (JSON text in a stored item, an object in the API):
 * the store's item schema and the API's response schema both spread these.
 */
export const scheduleFields = {
  schedule_id: z.string(),
  workflow_id: z.string(),
  tenant: z.string(),
  expression: z.string(),
  timezone: z.string(),
  version: z.number().int().min(1).optional(),
  enabled: z.boolean(),
  overlap_policy: z.enum(OVERLAP_POLICIES),
  description: z.string().optional(),
  created_at: z.string(),
  created_by: z.string(),
  updated_at: z.string(),
  updated_by: z.string(),
  revision: z.number().int(),
  last_firing: ScheduleFiringSchema.optional(),
};
