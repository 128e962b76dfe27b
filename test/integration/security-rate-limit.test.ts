import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiReply } from '../support/api.ts';
import { allAuditRecords, bearer, hs256Token, ManualClock, startSecureApi, type SecureApi } from '../support/security.ts';

/**
 * The local gate's per-caller token bucket over real HTTP (rate 1/s, burst 2), with a clock that only moves
 * when the test says so: a caller past its burst gets 429 with Retry-After, others are unaffected, and each
 * refusal is in the audit trail.
 */

const clock = new ManualClock();
const marker = randomUUID().slice(0, 8);
let api: SecureApi;
let auditor: Record<string, string>;

beforeAll(async () => {
  api = await startSecureApi({ mode: 'required', overrides: { clock, rateLimit: { rate: 1, burst: 2 } } });
  auditor = bearer(await api.token(`rl-auditor-${marker}`, 'admin'));
});
afterAll(() => api?.runtime.close());
// Every bucket is full again at the start of each test.
beforeEach(() => clock.advance(60_000));

async function burst(headers: Record<string, string>, count: number, path = '/auth/whoami'): Promise<ApiReply[]> {
  const replies: ApiReply[] = [];
  for (let index = 0; index < count; index++) replies.push(await api.call('GET', path, { headers }));
  return replies;
}

function expectRateLimited(reply: ApiReply, retryAfter = '1'): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(429);
  expect(reply.body.error_code).toBe('RATE_LIMITED');
  expect(reply.headers.get('retry-after')).toBe(retryAfter);
}

describe('per-caller rate limit', () => {
  it('answers 429 with Retry-After once a caller has used its burst, while another caller is unaffected', async () => {
    const alice = bearer(await api.token(`rl-alice-${marker}`, 'viewer'));
    const bob = bearer(await api.token(`rl-bob-${marker}`, 'viewer'));
    const [first, second, third] = await burst(alice, 3);
    expect([first!.status, second!.status]).toEqual([200, 200]);
    expectRateLimited(third!);
    expect((await burst(bob, 2)).map((reply) => reply.status)).toEqual([200, 200]);
    expectRateLimited((await burst(alice, 1))[0]!);
  });

  it('lets the caller in again after Retry-After seconds, one token a second', async () => {
    const carol = bearer(await api.token(`rl-carol-${marker}`, 'viewer'));
    const replies = await burst(carol, 3);
    const retryAfter = Number(replies[2]!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    clock.advance(retryAfter * 1000);
    expect((await burst(carol, 2)).map((reply) => reply.status)).toEqual([200, 429]);
  });

  it('counts a caller by its credential, not by the token string: two tokens of one subject share a bucket', async () => {
    const sub = `rl-dave-${marker}`;
    const one = bearer(await hs256Token({ sub, roles: ['viewer'], extra: { jti: 'one' } }, api.secret));
    const two = bearer(await hs256Token({ sub, roles: ['viewer'], extra: { jti: 'two' } }, api.secret));
    expect(one.authorization).not.toBe(two.authorization);
    await burst(one, 2);
    expectRateLimited((await burst(two, 1))[0]!);
  });

  it('limits callers with bad credentials by address, so guessing tokens is throttled too', async () => {
    const forged = bearer(`${(await api.token(`rl-eve-${marker}`, 'admin')).slice(0, -4)}AAAA`);
    const replies = await burst(forged, 3, '/workflows');
    expect(replies.map((reply) => reply.status)).toEqual([401, 401, 429]);
    expectRateLimited(replies[2]!);
    // Anonymous callers from the same address share that bucket: public routes are throttled too.
    expectRateLimited((await burst({}, 1, '/health'))[0]!);
  });

  it('records each 429 in the audit trail, with the caller and the request id', async () => {
    const frank = `rl-frank-${marker}`;
    const replies = await burst(bearer(await api.token(frank, 'operator')), 3);
    expectRateLimited(replies[2]!);
    const requestId = replies[2]!.headers.get('x-request-id')!;
    const records = (await allAuditRecords(api.call, auditor, { since: '2000-01-01T00:00:00Z' })).filter((record) => record.request_id === requestId);
    expect(records).toMatchObject([{ action: 'rateLimit', outcome: 429, actor: frank, method: 'jwt', route: 'GET /auth/whoami', reason: expect.stringMatching(/too many requests/) }]);
  });
});
