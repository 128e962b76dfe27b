import type { Clock, IdGenerator } from './ports.ts';

/** The real clock and id generator; tests inject their own. */
export const systemClock: Clock = { now: () => new Date().toISOString() };
export const randomIds: IdGenerator = { next: () => crypto.randomUUID() };
