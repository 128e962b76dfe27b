import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admit, afterFailure, afterSuccess, circuitPolicyProblems, DEFAULT_CIRCUIT_POLICY, releaseTrial, type CircuitPolicy } from '../../../core/registry/circuit.ts';
import { CLOSED_CIRCUIT, type CircuitState } from '../../../core/registry/model.ts';

const policy = DEFAULT_CIRCUIT_POLICY;
const T0 = Date.parse('2026-11-01T00:00:00.000Z');
/** The time `seconds` after T0, as the ISO text circuits store. */
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

/** The circuit after a failure at each of `seconds`, from closed. */
function failedAt(seconds: readonly number[], from: CircuitState = CLOSED_CIRCUIT, rules: CircuitPolicy = policy): CircuitState {
  return seconds.reduce((circuit, second) => afterFailure(circuit, at(second), rules) ?? circuit, from);
}

describe('a closed circuit', () => {
  it('lets every call through and writes nothing for a success when it has no failures', () => {
    expect(admit(CLOSED_CIRCUIT, at(0), policy)).toEqual({ allowed: true });
    expect(afterSuccess(CLOSED_CIRCUIT)).toBeUndefined();
  });

  it('opens at the fifth failure within 60 s', () => {
    const four = failedAt([0, 10, 20, 30]);
    expect(four).toEqual({ state: 'closed', failures: [at(0), at(10), at(20), at(30)], revision: 4 });
    expect(failedAt([40], four)).toEqual({ state: 'open', failures: [at(0), at(10), at(20), at(30), at(40)], opened_at: at(40), revision: 5 });
  });

  it('does not open for five failures spread over more than the window: older ones fall out of it', () => {
    const circuit = failedAt([0, 20, 40, 60, 80]);
    expect(circuit.state).toBe('closed');
    expect(circuit.failures).toEqual([at(40), at(60), at(80)]);
  });

  it('forgets its failures on a success (they must come in a row), once', () => {
    const failing = failedAt([0, 1, 2, 3]);
    const cleared = afterSuccess(failing);
    expect(cleared).toEqual({ state: 'closed', failures: [], revision: 5 });
    expect(afterSuccess(cleared!)).toBeUndefined();
    expect(failedAt([4], cleared).state).toBe('closed');
  });

  it('follows a configured threshold and window', () => {
    const strict: CircuitPolicy = { ...policy, failureThreshold: 2, windowSeconds: 5 };
    expect(failedAt([0, 6], CLOSED_CIRCUIT, strict).state).toBe('closed');
    expect(failedAt([0, 4], CLOSED_CIRCUIT, strict).state).toBe('open');
  });
});

describe('an open circuit', () => {
  const open = failedAt([0, 1, 2, 3, 4]);

  it('refuses calls until the cool-down has passed, saying when to retry', () => {
    expect(admit(open, at(5), policy)).toEqual({ allowed: false, refusal: 'open', retry_after_seconds: 29 });
    expect(admit(open, at(33.5), policy)).toEqual({ allowed: false, refusal: 'open', retry_after_seconds: 1 });
  });

  it('after the cool-down admits one trial, which moves it to half-open', () => {
    expect(admit(open, at(34), policy)).toEqual({ allowed: true, next: { state: 'half_open', failures: open.failures, opened_at: at(4), trial_started_at: at(34), revision: 6 } });
  });

  it('ignores late outcomes of calls let through before it opened', () => {
    expect(afterFailure(open, at(6), policy)).toBeUndefined();
    expect(afterSuccess(open)).toBeUndefined();
  });
});

describe('a half-open circuit', () => {
  const open = failedAt([0, 1, 2, 3, 4]);
  const trial = (admit(open, at(40), policy) as { next: CircuitState }).next;

  it('refuses other calls while its trial is in flight', () => {
    expect(admit(trial, at(41), policy)).toEqual({ allowed: false, refusal: 'trial_in_progress', retry_after_seconds: 59 });
  });

  it('closes when the trial succeeds', () => {
    expect(afterSuccess(trial)).toEqual({ state: 'closed', failures: [], revision: trial.revision + 1 });
  });

  it('opens again for another cool-down when the trial fails', () => {
    const reopened = afterFailure(trial, at(42), policy)!;
    expect(reopened).toMatchObject({ state: 'open', opened_at: at(42), revision: trial.revision + 1 });
    expect(reopened.trial_started_at).toBeUndefined();
    expect(admit(reopened, at(50), policy)).toMatchObject({ allowed: false, retry_after_seconds: 22 });
  });

  it('lets a new trial replace one whose caller never reported, after the trial timeout', () => {
    expect(admit(trial, at(100), policy)).toEqual({ allowed: true, next: { ...trial, trial_started_at: at(100), revision: trial.revision + 1 } });
  });

  it('frees the trial for the next caller when the trial was abandoned, and only that trial', () => {
    const released = releaseTrial(trial, at(40))!;
    expect(released).toMatchObject({ state: 'half_open', revision: trial.revision + 1 });
    expect(released.trial_started_at).toBeUndefined();
    expect(admit(released, at(41), policy)).toMatchObject({ allowed: true, next: { trial_started_at: at(41) } });
    expect(releaseTrial(trial, at(39))).toBeUndefined();
    expect(releaseTrial(open, at(40))).toBeUndefined();
  });
});

describe('policies', () => {
  it('names every invalid value', () => {
    expect(circuitPolicyProblems(policy)).toEqual([]);
    expect(circuitPolicyProblems({ ...policy, failureThreshold: 0, cooldownSeconds: 1.5 })).toEqual([
      'failureThreshold must be a positive whole number, got 0',
      'cooldownSeconds must be a positive whole number, got 1.5',
    ]);
  });
});

describe('any sequence of calls (property)', () => {
  type Step = { readonly kind: 'call'; readonly ok: boolean; readonly dt: number };
  const stepArb: fc.Arbitrary<Step> = fc.record({ kind: fc.constant('call' as const), ok: fc.boolean(), dt: fc.integer({ min: 0, max: 40_000 }) });
  const policyArb: fc.Arbitrary<CircuitPolicy> = fc.record({
    failureThreshold: fc.integer({ min: 1, max: 6 }),
    windowSeconds: fc.integer({ min: 1, max: 90 }),
    cooldownSeconds: fc.integer({ min: 1, max: 60 }),
    trialTimeoutSeconds: fc.integer({ min: 1, max: 90 }),
  });

  it('moves one revision at a time, never admits while open before the cool-down, and never opens without the threshold reached', () => {
    fc.assert(
      fc.property(policyArb, fc.array(stepArb, { maxLength: 80 }), (rules, steps) => {
        let circuit: CircuitState = CLOSED_CIRCUIT;
        let time = T0;
        for (const step of steps) {
          time += step.dt;
          const now = new Date(time).toISOString();
          const admission = admit(circuit, now, rules);
          if (circuit.state === 'open' && time < Date.parse(circuit.opened_at!) + rules.cooldownSeconds * 1000) expect(admission.allowed).toBe(false);
          if (!admission.allowed) {
            expect(admission.retry_after_seconds).toBeGreaterThanOrEqual(1);
            continue;
          }
          if (admission.next) {
            expect(admission.next.revision).toBe(circuit.revision + 1);
            circuit = admission.next;
          }
          const next = step.ok ? afterSuccess(circuit) : afterFailure(circuit, now, rules);
          if (next === undefined) continue;
          expect(next.revision).toBe(circuit.revision + 1);
          expect(next.failures.length).toBeLessThanOrEqual(rules.failureThreshold);
          if (next.state === 'open' && circuit.state === 'closed') {
            expect(next.failures.length).toBe(rules.failureThreshold);
            expect(next.failures.every((failure) => Date.parse(failure) > time - rules.windowSeconds * 1000)).toBe(true);
          }
          if (next.state === 'closed' && step.ok) expect(next.failures).toEqual([]);
          circuit = next;
        }
      }),
      { numRuns: 300 },
    );
  });
});
