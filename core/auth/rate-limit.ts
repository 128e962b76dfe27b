/**
 * A token bucket per caller: `rate` tokens a second up to `burst`; a request takes one. Pure (time is
 * passed in), so the local server and tests drive it with any clock. In AWS, API Gateway's stage throttling
 * does this job.
 */
export interface RateLimitPolicy {
  /** Steady requests per second. */
  readonly rate: number;
  /** The most requests at once after a quiet period. */
  readonly burst: number;
}

export type RateVerdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

export interface RateLimiter {
  take(callerKey: string, nowMs: number): RateVerdict;
}

/**
 * Buckets idle long enough to be full again are forgotten, and at most `maxCallers` are kept. The map is in
 * order of last use (a bucket moves to the end when used), so forgetting starts at the front and stops at the
 * first recent bucket: constant work per request. Past `maxCallers` the least recently used caller is forgotten
 * (it starts again with a full bucket, which only a flood of distinct callers can cause).
 */
export function createRateLimiter(policy: RateLimitPolicy, maxCallers = 100_000): RateLimiter {
  const buckets = new Map<string, Bucket>();
  const refillMs = (policy.burst / policy.rate) * 1000;

  function sweep(nowMs: number): void {
    for (const [key, bucket] of buckets) {
      if (nowMs - bucket.at < refillMs) break;
      buckets.delete(key);
    }
    if (buckets.size >= maxCallers) buckets.delete(buckets.keys().next().value!);
  }

  return {
    take(callerKey, nowMs) {
      let bucket = buckets.get(callerKey);
      if (!bucket) {
        if (buckets.size >= maxCallers) sweep(nowMs);
        bucket = { tokens: policy.burst, at: nowMs };
        buckets.set(callerKey, bucket);
      } else {
        bucket.tokens = Math.min(policy.burst, bucket.tokens + ((nowMs - bucket.at) / 1000) * policy.rate);
        bucket.at = nowMs;
        buckets.delete(callerKey);
        buckets.set(callerKey, bucket);
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / policy.rate)) };
    },
  };
}
