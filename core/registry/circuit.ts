import type { CircuitState } from './model.ts';

/**
 * Circuit breaking as pure functions of an instance's CircuitState and the time. Every function returns the
 * next state to store, or undefined when nothing changes: the caller writes it with
 * `ServiceRegistry.updateCircuit`, conditional on the revision it read, so that among callers racing on one
 * circuit (every Lambda shares it through the registry table) exactly one moves it.
 *
 * closed --(failureThreshold failures in a row within windowSeconds)--> open
 * open --(cooldownSeconds later, one caller wins the move)--> half_open, with its trial call in flight
 * half_open --(the trial answers)--> closed;  --(it fails)--> open again, for another cool-down
 *
 * "In a row": a success on a closed circuit forgets its failures. The count says whether the instance is down
 * now, not how often it errs: with failures counted across successes, a busy instance failing one call in a
 * thousand would trip its circuit every minute.
 */

export interface CircuitPolicy {
  /** Failures (with no success between them) within `windowSeconds` that open the circuit. */
  readonly failureThreshold: number;
  readonly windowSeconds: number;
  /** How long an open circuit refuses calls before one trial call is let through. */
  readonly cooldownSeconds: number;
  /**
   * A trial that has not reported after this long is presumed lost (its caller died or was cut off) and
   * another caller may take its place; otherwise a lost trial would keep the circuit half-open for ever.
   */
  readonly trialTimeoutSeconds: number;
}

export const DEFAULT_CIRCUIT_POLICY: CircuitPolicy = { failureThreshold: 5, windowSeconds: 60, cooldownSeconds: 30, trialTimeoutSeconds: 60 };

/** Why a circuit refuses a call. */
export type CircuitRefusal = 'open' | 'trial_in_progress';

export type Admission =
  /**
   * The call may go. With `next` it is the half-open trial: the caller must store `next` (conditional on the
   * revision it read) and is admitted only if its write wins; a caller that loses was not admitted.
   */
  | { readonly allowed: true; readonly next?: CircuitState }
  | { readonly allowed: false; readonly refusal: CircuitRefusal; readonly retry_after_seconds: number };

/** Whether `circuit` lets a call through at `now` (ISO-8601). */
export function admit(circuit: CircuitState, now: string, policy: CircuitPolicy): Admission {
  const at = Date.parse(now);
  if (circuit.state === 'closed') return { allowed: true };
  if (circuit.state === 'open') {
    const reopensAt = circuit.opened_at === undefined ? at : Date.parse(circuit.opened_at) + policy.cooldownSeconds * 1000;
    if (at < reopensAt) return { allowed: false, refusal: 'open', retry_after_seconds: secondsUntil(reopensAt, at) };
    return { allowed: true, next: trialFrom(circuit, now) };
  }
  const abandonedAt = circuit.trial_started_at === undefined ? at : Date.parse(circuit.trial_started_at) + policy.trialTimeoutSeconds * 1000;
  if (at < abandonedAt) return { allowed: false, refusal: 'trial_in_progress', retry_after_seconds: secondsUntil(abandonedAt, at) };
  return { allowed: true, next: trialFrom(circuit, now) };
}

/**
 * The instance answered. A half-open circuit closes (its trial, or any call, went through); a closed one
 * forgets its failures, and with none (the common case) nothing is written. An open circuit stays open: the
 * success is of a call let through before it opened, and only the cool-down and a trial reopen it.
 */
export function afterSuccess(circuit: CircuitState): CircuitState | undefined {
  if (circuit.state === 'open') return undefined;
  if (circuit.state === 'closed' && circuit.failures.length === 0) return undefined;
  return { state: 'closed', failures: [], revision: circuit.revision + 1 };
}

/**
 * The instance failed (5xx, timeout, no connection). A closed circuit counts the failure within the window
 * and opens at the threshold; a half-open one opens again (its trial failed, or a late call did: either way
 * the instance is not known to work); an open one is already open.
 */
export function afterFailure(circuit: CircuitState, now: string, policy: CircuitPolicy): CircuitState | undefined {
  if (circuit.state === 'open') return undefined;
  const failures = [...recentFailures(circuit.failures, now, policy), now].slice(-policy.failureThreshold);
  if (circuit.state === 'half_open' || failures.length >= policy.failureThreshold) {
    return { state: 'open', failures, opened_at: now, revision: circuit.revision + 1 };
  }
  return { state: 'closed', failures, revision: circuit.revision + 1 };
}

/**
 * The trial started at `trialStartedAt` ended without an answer from the instance (the call was cancelled, or
 * refused before it was sent): the next caller may take the trial now rather than after the trial timeout.
 * Undefined when that trial is no longer the circuit's.
 */
export function releaseTrial(circuit: CircuitState, trialStartedAt: string): CircuitState | undefined {
  if (circuit.state !== 'half_open' || circuit.trial_started_at !== trialStartedAt) return undefined;
  return { state: 'half_open', failures: circuit.failures, ...(circuit.opened_at === undefined ? {} : { opened_at: circuit.opened_at }), revision: circuit.revision + 1 };
}

/** Failures still within the window at `now`. */
export function recentFailures(failures: readonly string[], now: string, policy: CircuitPolicy): string[] {
  const since = Date.parse(now) - policy.windowSeconds * 1000;
  return failures.filter((failure) => Date.parse(failure) > since);
}

/** Problems with a policy (every one named); empty when it is valid. */
export function circuitPolicyProblems(policy: CircuitPolicy): string[] {
  return (Object.entries(policy) as [keyof CircuitPolicy, number][])
    .filter(([, value]) => !Number.isInteger(value) || value < 1)
    .map(([name, value]) => `${name} must be a positive whole number, got ${value}`);
}

function trialFrom(circuit: CircuitState, now: string): CircuitState {
  return { state: 'half_open', failures: circuit.failures, ...(circuit.opened_at === undefined ? {} : { opened_at: circuit.opened_at }), trial_started_at: now, revision: circuit.revision + 1 };
}

/** Whole seconds from `at` to `until` (ms), at least 1: a retry sooner would be refused again. */
function secondsUntil(until: number, at: number): number {
  return Math.max(1, Math.ceil((until - at) / 1000));
}
