import type { SystemWorkflowName } from './system-workflows.ts';

/**
 * The jobs' catalogue, apart from the service that runs them: the route table's schemas and every function's
 * configuration read it, and need neither the system workflows' definitions nor the schedule evaluation.
 */

/** The cross-service jobs, each a run of a system workflow, by hand (`POST /jobs/<name>`) or on its schedule. */
export const JOBS = {
  'recalc-quality': {
    workflow: 'recalc_quality',
    description: "Recalculates the reporting service's quality scores",
    defaultSchedule: 'cron(0 2 * * ? *)',
  },
  'notify-consolidation': {
    workflow: 'notify_consolidation',
    description: 'Sends a consolidation notice through the notification service',
    defaultSchedule: 'cron(0 9 ? * MON *)',
  },
} as const satisfies Record<string, { workflow: SystemWorkflowName; description: string; defaultSchedule: string }>;
export type JobName = keyof typeof JOBS;
export const JOB_NAMES = Object.keys(JOBS) as JobName[];

/** A job's schedule: an EventBridge expression read in UTC (EventBridge rules have no time zone), or off. */
export type JobSchedule = { readonly expression: string; readonly enabled: true } | { readonly enabled: false };

/** The actor of runs a job's schedule starts. */
export const SYSTEM_SCHEDULE_ACTOR = 'schedule';
