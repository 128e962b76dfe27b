import * as z from 'zod';
import { claimAtGate, gatedCallWait, InvalidGateRequestError, releasedCall } from '../../core/execution/gate-requests.ts';
import type { GateRelease } from '../../core/execution/dependency-gates.ts';
import type { DependencyGates, GatedCallDispatch, GateReleases, TaskAnswers } from '../../core/ports.ts';
import { zodIssues } from '../../core/workflow/validate.ts';
import type { ActionRunner } from './action-runner.ts';
import { parseServiceCallPayload } from './service-call.ts';

/**
 * Gated calls (ADR 0016): a service call that waits at its own dependency gate, in its own state, instead of
 * behind a `<W>: gate` state, so that waiting costs no state transition. Its state is
 * `lambda:invoke.waitForTaskToken` with the call's ServiceCallPayload plus `gate_wait` (its producers, its task
 * token, and where its request reads released outputs). The state's result is what the token is answered
 * with: `{ StatusCode, Payload }` as `lambda:invoke` would give, or the call's error name and cause, which
 * the state's Retry and Catch match as before.
 *
 * - The runner records the wait with the call. When every producer has already reported, the gate is released
 *   to this invocation: it makes the call and answers its own token.
 * - Otherwise the producer whose report completes the gate gets the release with the call in it, and hands it
 *   to `dispatch` (in AWS an asynchronous invocation of the runner: `{ released_call }`), which makes the call
 *   and answers the token. The report does not wait for the waiter's call.
 *
 * A retried state waits again with a new token: its gate is complete, so the call is made at once.
 */

const ReleasedCallSchema = z.object({
  released_call: z.object({ task_token: z.string().min(1).max(2048), call: z.record(z.string(), z.unknown()), outputs: z.record(z.string(), z.unknown()) }).strict(),
});

/** An invocation that makes a released gated call (sent by `dispatch`). */
export function isReleasedCallPayload(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload) && 'released_call' in payload;
}

/** The payload `dispatch` sends the runner for a released gated call. */
export function releasedCallPayload(token: string, call: unknown, outputs: Readonly<Record<string, unknown>>): { released_call: { task_token: string; call: unknown; outputs: Readonly<Record<string, unknown>> } } {
  return { released_call: { task_token: token, call, outputs } };
}

export interface GatedCallDeps {
  readonly gates: DependencyGates;
  readonly answers: TaskAnswers;
}

export interface GatedCalls {
  /** A gated call's state invoked the runner: waits, or makes the call when the gate is already complete. */
  wait(payload: unknown): Promise<{ waiting: boolean }>;
  /** A released gated call handed over by `dispatch`: makes it and answers its token. */
  made(payload: unknown): Promise<{ answered: true }>;
}

/** Gated calls made by `run` (the runner with its pause gate and gate arrivals: a gated call may feed gates too). */
export function createGatedCalls(run: ActionRunner, deps: GatedCallDeps): GatedCalls {
  /** Makes the call and answers the token: a failure of the call is the state's failure, a failure to answer is ours. */
  const answer = async (token: string, payload: unknown, outputs: Readonly<Record<string, unknown>>): Promise<void> => {
    let result: unknown;
    try {
      result = await run(releasedCall(payload, outputs));
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      // Lambda's own shape for a function's error, which everything reading a runner's cause expects.
      await deps.answers.fail(token, name, JSON.stringify({ errorType: name, errorMessage: message }));
      return;
    }
    await deps.answers.succeed(token, { StatusCode: 200, Payload: result });
  };

  return {
    async wait(payload) {
      const gate = gatedCallWait(payload);
      // A malformed call is refused before it waits (InvalidPayload, as the runner would); one with deferred
      // values is complete only once released.
      if (gate.deferred.length === 0) parseServiceCallPayload(releasedCall(payload, {}));
      const release = await claimAtGate(deps.gates, gate, payload);
      if (!release) return { waiting: true };
      await answer(release.token, release.call ?? payload, release.outputs);
      return { waiting: false };
    },
    async made(payload) {
      const parsed = ReleasedCallSchema.safeParse(payload);
      if (!parsed.success) throw new InvalidGateRequestError(`the released call is not valid: ${describe(parsed.error)}`);
      const { task_token: token, call, outputs } = parsed.data.released_call;
      await answer(token, call, outputs);
      return { answered: true };
    },
  };
}

/**
 * Where a gate's release goes: a gated call's to `dispatch` (its call is made apart, with the outputs its
 * deferred values read), any other's to its waiting state with the outputs.
 */
export function routeReleases(releases: GateReleases, dispatch: GatedCallDispatch): (release: GateRelease) => Promise<void> {
  return (release) => {
    if (release.call === undefined) return releases.release(release);
    return dispatch.dispatch(release.token, release.call, gatedCallWait(release.call).deferred.length > 0 ? release.outputs : {});
  };
}

function describe(error: z.ZodError): string {
  return zodIssues(error, '')
    .map((issue) => `${issue.field}: ${issue.message}`)
    .join('; ');
}
