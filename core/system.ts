import type { Clock, IdGenerator } from './ports.ts';

/** The real clock and id generator; tests inject their own. */
export const systemClock: Clock = { now: () => new Date().toISOString() };
export const randomIds: IdGenerator = { next: () => crypto.randomUUID() };

/**
 * Retries of an update that lost a race without a precondition (workflow updates): up to 100 attempts with
 * "full jitter" pauses, a random time up to 5 ms doubling per attempt, capped at 250 ms, so that a hundred
 * writers of one item spread out instead of colliding again at once (at most about 20 s in all, in the worst case).
 */
export const contendedUpdateRetry = {
  attempts: 100,
  pause: (attempt: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(250, 5 * 2 ** Math.min(attempt, 16)))),
};
