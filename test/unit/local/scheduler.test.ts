import { describe, expect, it } from 'vitest';
import { createLocalScheduler } from '../../../local/scheduler.ts';

describe('the local scheduler', () => {
  it('never fires before the due time on its clock, even when the timer runs ahead of that clock', async () => {
    // The clock falls 50 ms behind the timers once armed: a timer that fires on time is 50 ms early on this clock.
    let lag = 0;
    const clock = { now: () => new Date(Date.now() - lag).toISOString() };
    const fired: string[] = [];
    const scheduler = createLocalScheduler({ clock, log: () => undefined, fireSchedule: async () => undefined });
    const anchor = new Date(Date.now() - 60_000 + 200).toISOString();
    scheduler.arm({ key: 'soon', expression: 'rate(1 minute)', timezone: 'UTC', anchor, enabled: true, fire: async (dueAt) => void fired.push(dueAt) });
    lag = 50;
    await new Promise((resolve) => setTimeout(resolve, 400));
    await scheduler.stop();
    expect(fired).toHaveLength(1);
    expect(scheduler.firings[0]!.drift_ms).toBeGreaterThanOrEqual(0);
    expect(Date.parse(fired[0]!)).toBe(Date.parse(anchor) + 60_000);
  });

  it('arms the next time after each firing and stops firing once stopped', async () => {
    const fired: string[] = [];
    const scheduler = createLocalScheduler({ clock: { now: () => new Date().toISOString() }, log: () => undefined, fireSchedule: async () => undefined });
    scheduler.arm({ key: 'job', expression: 'rate(1 minute)', timezone: 'UTC', anchor: new Date(Date.now() - 60_000 + 100).toISOString(), enabled: true, fire: async (dueAt) => void fired.push(dueAt) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fired).toHaveLength(1);
    expect(Date.parse(scheduler.armed()[0]!.due_at) - Date.parse(fired[0]!)).toBe(60_000);
    await scheduler.stop();
    expect(scheduler.armed()).toEqual([]);
  });
});
