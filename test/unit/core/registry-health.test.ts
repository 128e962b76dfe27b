import { describe, expect, it } from 'vitest';
import { classifyProbe, DEFAULT_DEGRADED_LATENCY_MS, foldHealth } from '../../../core/registry/health.ts';
import { HEALTH_HISTORY_LENGTH, INITIAL_HEALTH, type HealthCheck, type InstanceHealth } from '../../../core/registry/model.ts';

const AT = '2026-11-25T10:00:00.000Z';
const at = (second: number) => `2026-11-25T10:00:${String(second).padStart(2, '0')}.000Z`;

describe('classifying a probe', () => {
  it('a fast 2xx is healthy, with its latency and status code and no detail', () => {
    expect(classifyProbe({ status_code: 200, latency_ms: 12.4, body: { status: 'ok' } }, AT)).toEqual({ checked_at: AT, status: 'healthy', latency_ms: 12, status_code: 200 });
    expect(classifyProbe({ status_code: 204, latency_ms: 3 }, AT).status).toBe('healthy');
  });

  it(`a 2xx slower than the threshold (default ${DEFAULT_DEGRADED_LATENCY_MS} ms) is degraded, saying how slow`, () => {
    expect(classifyProbe({ status_code: 200, latency_ms: DEFAULT_DEGRADED_LATENCY_MS }, AT).status).toBe('healthy');
    expect(classifyProbe({ status_code: 200, latency_ms: DEFAULT_DEGRADED_LATENCY_MS + 1 }, AT)).toMatchObject({ status: 'degraded', detail: `slow: answered in 1001 ms (degraded above 1000 ms)` });
    expect(classifyProbe({ status_code: 200, latency_ms: 150 }, AT, { degradedLatencyMs: 100 })).toMatchObject({ status: 'degraded', latency_ms: 150 });
  });

  it.each(['degraded', 'DEGRADED', 'partial', 'warn', 'warning'])('a 2xx whose body says status "%s" is degraded, quoting it', (status) => {
    expect(classifyProbe({ status_code: 200, latency_ms: 5, body: { status } }, AT)).toMatchObject({ status: 'degraded', detail: `reports status "${status}"` });
  });

  it.each(['down', 'DOWN', 'fail', 'unhealthy', 'error'])('a 2xx whose body says status "%s" is unhealthy: the service says so itself', (status) => {
    expect(classifyProbe({ status_code: 200, latency_ms: 5, body: { status } }, AT)).toMatchObject({ status: 'unhealthy', latency_ms: 5, detail: `answered 200 but reports status "${status}"` });
  });

  it('a body that is not an object with a short string status changes nothing', () => {
    for (const body of ['degraded', ['degraded'], { status: 3 }, { status: 'x'.repeat(65) }, { state: 'degraded' }, null]) {
      expect(classifyProbe({ status_code: 200, latency_ms: 5, body }, AT).status).toBe('healthy');
    }
  });

  it.each([500, 503, 404, 302, 199])('a %i is unhealthy, naming the code', (code) => {
    expect(classifyProbe({ status_code: code, latency_ms: 8 }, AT)).toEqual({ checked_at: AT, status: 'unhealthy', latency_ms: 8, status_code: code, detail: `answered ${code}` });
  });

  it("a non-2xx keeps the body's own status in the detail", () => {
    expect(classifyProbe({ status_code: 503, latency_ms: 8, body: { status: 'DOWN' } }, AT).detail).toBe('answered 503 (status "DOWN")');
  });

  it('no answer (timeout, connection refused, refused by policy) is unhealthy without latency or status code', () => {
    expect(classifyProbe({ error: 'no answer within 300 ms', timed_out: true }, AT)).toEqual({ checked_at: AT, status: 'unhealthy', latency_ms: null, status_code: null, detail: 'no answer within 300 ms' });
  });
});

const check = (status: HealthCheck['status'], second: number, detail?: string): HealthCheck => ({ checked_at: at(second), status, latency_ms: status === 'unhealthy' ? null : 10, ...(detail ? { detail } : {}) });
const fold = (checks: HealthCheck[], options?: { unhealthyAfter?: number }, from: InstanceHealth = INITIAL_HEALTH) => checks.reduce((health, next) => foldHealth(health, next, options), from);

describe('folding a check into the stored health', () => {
  it('puts the check first in the history, with the last check time, latency and detail on top', () => {
    const health = fold([check('healthy', 1), check('degraded', 2, 'slow')]);
    expect(health).toEqual({
      status: 'degraded',
      checked_at: at(2),
      latency_ms: 10,
      detail: 'slow',
      history: [check('degraded', 2, 'slow'), check('healthy', 1)],
      consecutive_failures: 1,
    });
  });

  it(`keeps the last ${HEALTH_HISTORY_LENGTH} checks, newest first`, () => {
    const health = fold(Array.from({ length: 15 }, (_, second) => check('healthy', second)));
    expect(health.history).toHaveLength(HEALTH_HISTORY_LENGTH);
    expect(health.history[0]!.checked_at).toBe(at(14));
    expect(health.history.at(-1)!.checked_at).toBe(at(5));
  });

  it('counts checks in a row that were not healthy, and a healthy one resets the count', () => {
    expect(fold([check('degraded', 1), check('unhealthy', 2), check('unhealthy', 3)]).consecutive_failures).toBe(3);
    expect(fold([check('unhealthy', 1), check('unhealthy', 2), check('healthy', 3)]).consecutive_failures).toBe(0);
  });

  it('an instance never seen answering is unhealthy at its first failed check', () => {
    expect(fold([check('unhealthy', 1, 'answered 500')])).toMatchObject({ status: 'unhealthy', detail: 'answered 500' });
  });

  it('an answering instance that fails one check is degraded, and unhealthy at the second failure in a row (hysteresis)', () => {
    const once = fold([check('healthy', 1), check('unhealthy', 2, 'answered 500')]);
    expect(once).toMatchObject({ status: 'degraded', detail: 'answered 500; 1 failed check in a row, unhealthy after 2', consecutive_failures: 1 });
    expect(once.history[0]!.status).toBe('unhealthy');
    expect(foldHealth(once, check('unhealthy', 3, 'answered 500'))).toMatchObject({ status: 'unhealthy', detail: 'answered 500', consecutive_failures: 2 });
  });

  it('a slow instance that then fails is degraded first too; a failure between good checks never makes it unhealthy', () => {
    expect(fold([check('degraded', 1, 'slow'), check('unhealthy', 2, 'timeout')]).status).toBe('degraded');
    expect(fold([check('healthy', 1), check('unhealthy', 2), check('healthy', 3), check('unhealthy', 4)]).status).toBe('degraded');
  });

  it('an unhealthy instance stays unhealthy while it fails, and one good check brings it back', () => {
    const down = fold([check('healthy', 1), check('unhealthy', 2), check('unhealthy', 3), check('unhealthy', 4)]);
    expect(down.status).toBe('unhealthy');
    expect(foldHealth(down, check('healthy', 5))).toMatchObject({ status: 'healthy', consecutive_failures: 0 });
    expect(foldHealth(down, check('healthy', 5)).detail).toBeUndefined();
  });

  it('unhealthyAfter 1 turns the hysteresis off; 3 needs three failures in a row', () => {
    expect(fold([check('healthy', 1), check('unhealthy', 2)], { unhealthyAfter: 1 }).status).toBe('unhealthy');
    expect(fold([check('healthy', 1), check('unhealthy', 2), check('unhealthy', 3)], { unhealthyAfter: 3 }).status).toBe('degraded');
    expect(fold([check('healthy', 1), check('unhealthy', 2), check('unhealthy', 3), check('unhealthy', 4)], { unhealthyAfter: 3 }).status).toBe('unhealthy');
  });
});
