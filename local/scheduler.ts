import type { Clock, Log, ScheduleTimer } from '../core/ports.ts';
import type { WorkflowSchedule } from '../core/schedules/model.ts';
import { parseScheduleExpression } from '../core/schedules/expression.ts';
import { nextFireTimes } from '../core/schedules/fire-times.ts';

/** setTimeout's longest delay (about 24.8 days): a later time is reached by re-arming. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Something the local scheduler fires: a workflow schedule or a job. */
export interface ScheduledEntry {
  readonly key: string;
  readonly expression: string;
  readonly timezone: string;
  /** Where rate(...) counts from. */
  readonly anchor: string;
  readonly enabled: boolean;
  /** Called at each due time (ISO, UTC); its failure is logged, the next time is armed anyway. */
  readonly fire: (dueAt: string) => Promise<unknown>;
}

export interface FiringRecord {
  readonly key: string;
  readonly due_at: string;
  /** Milliseconds between the due time and the moment the firing began. */
  readonly drift_ms: number;
}

export interface LocalScheduler extends ScheduleTimer {
  /** Arms (or re-arms, or with `enabled: false` disarms) one entry. */
  arm(entry: ScheduledEntry): void;
  disarm(key: string): void;
  /** The entries armed and their next due times. */
  armed(): Array<{ key: string; due_at: string }>;
  /** Resolves once the firings in flight have ended; no timer fires after it. */
  stop(): Promise<void>;
  /** The last firings (at most 1,000), for the drift benchmark and tests. */
  readonly firings: readonly FiringRecord[];
}

export interface LocalSchedulerOptions {
  readonly clock: Clock;
  readonly log: Log;
  /** What a workflow schedule's firing does (ScheduleService.fireSchedule). */
  readonly fireSchedule: (workflowId: string, scheduleId: string, dueAt: string) => Promise<unknown>;
}

/**
 * The local runtime's stand-in for EventBridge Scheduler and the jobs' rules: one timer per schedule, armed
 * for its next time (core/schedules/expression.ts, so the times are those AWS would pick) and re-armed after
 * each firing. Schedules are persisted with the data (the workflows table); the runtime arms them all at
 * start. Like EventBridge Scheduler without a flexible window, times missed while the process was down are
 * not caught up.
 */
export function createLocalScheduler({ clock, log, fireSchedule }: LocalSchedulerOptions): LocalScheduler {
  const timers = new Map<string, { timer: NodeJS.Timeout; dueAt: string }>();
  const inFlight = new Set<Promise<unknown>>();
  const firings: FiringRecord[] = [];
  let stopped = false;

  const nextAfter = (entry: ScheduledEntry, after: string): string | undefined => {
    const parsed = parseScheduleExpression(entry.expression);
    if ('problems' in parsed) {
      log({ level: 'warn', message: 'schedule not armed: its expression does not parse', key: entry.key, expression: entry.expression });
      return undefined;
    }
    return nextFireTimes(parsed.expression, { after, timezone: entry.timezone, anchor: entry.anchor, count: 1 })[0];
  };

  const disarm = (key: string) => {
    const current = timers.get(key);
    if (current) clearTimeout(current.timer);
    timers.delete(key);
  };

  const arm = (entry: ScheduledEntry, after: string = clock.now()): void => {
    disarm(entry.key);
    if (stopped || !entry.enabled) return;
    const dueAt = nextAfter(entry, after);
    if (dueAt === undefined) return;
    const wait = (): void => {
      const delay = Date.parse(dueAt) - Date.parse(clock.now());
      if (delay > MAX_TIMER_MS) {
        timers.set(entry.key, { timer: setTimeout(wait, MAX_TIMER_MS).unref(), dueAt });
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(entry.key);
        if (stopped) return;
        // Timers run on the event loop's cached time, which can be a millisecond behind the wall clock the due
        // time is on: never fire early, wait out what is left.
        if (Date.parse(clock.now()) < Date.parse(dueAt)) {
          wait();
          return;
        }
        firings.push({ key: entry.key, due_at: dueAt, drift_ms: Date.parse(clock.now()) - Date.parse(dueAt) });
        if (firings.length > 1000) firings.splice(0, firings.length - 1000);
        const firing = entry.fire(dueAt).catch((error: unknown) => {
          log({ level: 'error', message: 'scheduled firing failed', key: entry.key, due_at: dueAt, error: error instanceof Error ? error.message : String(error) });
        });
        inFlight.add(firing);
        void firing.finally(() => inFlight.delete(firing));
        // The next time after this one, not after now: a slow firing never makes the schedule skip a time.
        arm(entry, dueAt);
      }, Math.max(0, delay));
      // The API server keeps the process alive; a pending schedule alone does not.
      timer.unref();
      timers.set(entry.key, { timer, dueAt });
    };
    wait();
  };

  const scheduleEntry = (schedule: WorkflowSchedule): ScheduledEntry => ({
    key: scheduleKey(schedule),
    expression: schedule.expression,
    timezone: schedule.timezone,
    anchor: schedule.created_at,
    enabled: schedule.enabled,
    fire: (dueAt) => fireSchedule(schedule.workflow_id, schedule.schedule_id, dueAt),
  });

  return {
    arm: (entry) => arm(entry),
    disarm,
    armed: () => [...timers].map(([key, { dueAt }]) => ({ key, due_at: dueAt })),
    put: async (schedule) => arm(scheduleEntry(schedule)),
    remove: async (schedule) => disarm(scheduleKey(schedule)),
    firings,
    stop: async () => {
      stopped = true;
      for (const key of [...timers.keys()]) disarm(key);
      await Promise.allSettled([...inFlight]);
    },
  };
}

function scheduleKey(schedule: Pick<WorkflowSchedule, 'workflow_id' | 'schedule_id'>): string {
  return `schedule:${schedule.workflow_id}:${schedule.schedule_id}`;
}
