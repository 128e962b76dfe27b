import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRateLimiter, type RateVerdict } from '../../../../core/auth/rate-limit.ts';

/** The token bucket of core/auth/rate-limit.ts, driven by explicit times (what the local gate passes from its clock). */

const T0 = Date.parse('2026-11-01T00:00:00.000Z');

function takeMany(limiter: ReturnType<typeof createRateLimiter>, caller: string, count: number, at: number): RateVerdict[] {
  return Array.from({ length: count }, () => limiter.take(caller, at));
}

describe('the per-caller token bucket', () => {
  it('admits a burst at once, then refuses', () => {
    const limiter = createRateLimiter({ rate: 1, burst: 3 });
    expect(takeMany(limiter, 'alice', 3, T0).every((verdict) => verdict.allowed)).toBe(true);
    expect(limiter.take('alice', T0)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('alice', T0 + 999).allowed).toBe(false);
  });

  it('refills at the steady rate, never beyond the burst', () => {
    const limiter = createRateLimiter({ rate: 2, burst: 2 });
    takeMany(limiter, 'alice', 2, T0);
    // 2 tokens a second: one token after 500 ms, not before.
    expect(limiter.take('alice', T0 + 499).allowed).toBe(false);
    expect(limiter.take('alice', T0 + 500).allowed).toBe(true);
    expect(limiter.take('alice', T0 + 500).allowed).toBe(false);
    // A long quiet period fills the bucket to the burst, no further.
    const later = T0 + 3_600_000;
    expect(takeMany(limiter, 'alice', 2, later).every((verdict) => verdict.allowed)).toBe(true);
    expect(limiter.take('alice', later).allowed).toBe(false);
  });

  it('keeps callers apart: one caller exhausting its bucket leaves another untouched', () => {
    const limiter = createRateLimiter({ rate: 1, burst: 2 });
    takeMany(limiter, 'key:abc', 5, T0);
    expect(limiter.take('key:abc', T0).allowed).toBe(false);
    expect(takeMany(limiter, 'sub:bob', 2, T0).every((verdict) => verdict.allowed)).toBe(true);
  });

  it('says when to retry: the whole seconds until one token is back, at least 1', () => {
    const slow = createRateLimiter({ rate: 0.25, burst: 1 });
    slow.take('alice', T0);
    expect(slow.take('alice', T0)).toEqual({ allowed: false, retryAfterSeconds: 4 });
    // After 1.5 s, 0.375 of a token is back: 0.625 / 0.25 = 2.5 s, rounded up.
    expect(slow.take('alice', T0 + 1500)).toEqual({ allowed: false, retryAfterSeconds: 3 });
    const fast = createRateLimiter({ rate: 100, burst: 1 });
    fast.take('alice', T0);
    expect(fast.take('alice', T0)).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('lets a caller that waited Retry-After seconds in again', () => {
    const limiter = createRateLimiter({ rate: 0.5, burst: 2 });
    takeMany(limiter, 'alice', 2, T0);
    const refused = limiter.take('alice', T0 + 300);
    if (refused.allowed) throw new Error('expected a refusal');
    expect(limiter.take('alice', T0 + 300 + refused.retryAfterSeconds * 1000).allowed).toBe(true);
  });

  it('does not let refused requests drain the bucket further (hammering does not lengthen the wait)', () => {
    const limiter = createRateLimiter({ rate: 1, burst: 1 });
    limiter.take('alice', T0);
    takeMany(limiter, 'alice', 1000, T0 + 10);
    expect(limiter.take('alice', T0 + 1000).allowed).toBe(true);
  });
});

describe('memory', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** The limiter's bucket map, found by watching Map.prototype.set for its callers' keys. */
  function watchBuckets(prefix: string): () => Map<string, unknown> {
    const seen = new Set<Map<string, unknown>>();
    const original = Map.prototype.set;
    vi.spyOn(Map.prototype, 'set').mockImplementation(function (this: Map<unknown, unknown>, key: unknown, value: unknown) {
      if (typeof key === 'string' && key.startsWith(prefix)) seen.add(this as Map<string, unknown>);
      return original.call(this, key, value);
    });
    return () => {
      expect(seen.size).toBe(1);
      return [...seen][0]!;
    };
  }

  it('forgets callers whose buckets are full again once it holds maxCallers, so memory follows active callers only', () => {
    const buckets = watchBuckets('caller-');
    const limiter = createRateLimiter({ rate: 1, burst: 5 }, 100);
    for (let index = 0; index < 100; index++) limiter.take(`caller-${index}`, T0);
    expect(buckets().size).toBe(100);
    // 5 s later every bucket is full again (burst 5 at 1/s): a new caller sweeps them all out.
    limiter.take('caller-new', T0 + 5000);
    expect(buckets().size).toBe(1);
    // A forgotten caller starts again with a full bucket: forgetting it changed nothing it can observe.
    expect(takeMany(limiter, 'caller-0', 5, T0 + 5000).every((verdict) => verdict.allowed)).toBe(true);
  });

  it('past maxCallers forgets the least recently used caller, keeping the one that just called', () => {
    const buckets = watchBuckets('caller-');
    const limiter = createRateLimiter({ rate: 1, burst: 5 }, 10);
    for (let index = 0; index < 10; index++) takeMany(limiter, `caller-${index}`, 5, T0);
    // caller-0 calls again (refused: its bucket is empty), so caller-1 is now the least recently used.
    expect(limiter.take('caller-0', T0 + 100).allowed).toBe(false);
    limiter.take('caller-new', T0 + 200);
    expect(buckets().size).toBeLessThanOrEqual(10);
    expect(buckets().has('caller-1')).toBe(false);
    expect(buckets().has('caller-0')).toBe(true);
    expect(limiter.take('caller-0', T0 + 200).allowed).toBe(false);
  });
});
