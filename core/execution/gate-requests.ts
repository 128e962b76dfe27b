import * as z from 'zod';
import { GATE_UNAVAILABLE_ERROR } from '../errors.ts';
import type { DependencyGates } from '../ports.ts';
import { zodIssues } from '../workflow/validate.ts';
import { GateDeclarationError, type GateRelease } from './dependency-gates.ts';
import { renderDeferredValues } from './deferred-values.ts';

/**
 * The contract of the compiled dependency-gate states (ADR 0016) with the action runner (and the local engine):
 *
 * - a waiter's `<W>: gate` state (`lambda:invoke.waitForTaskToken`) sends `{ gate: { wait: {...} } }` with its
 *   task token; its result is the release's outputs, sent back with the token (SendTaskSuccess);
 * - a producer's `<P>: report` state (`lambda:invoke`) sends `{ gate: { arrive: {...} } }` with its output and
 *   every gate it feeds (`waiters`: each waiter's full producer list);
 * - a service call that feeds gates carries `gate_waiters` in its ServiceCallPayload: the runner reports its
 *   arrival itself after a successful call (no extra state).
 *
 * Whoever's report completes a gate receives its release (exactly once per token, DependencyGates) and sends
 * it to the waiter before answering.
 */

/** Thrown for a gate payload that is not one: names every field and rule. Not retryable (the same payload fails again). */
export class InvalidGateRequestError extends Error {
  override readonly name = 'InvalidGateRequestError';
}

/** The gates' store or the release could not be reached: retryable (GATE_UNAVAILABLE_ERROR). */
export class GateUnavailableError extends Error {
  override readonly name = GATE_UNAVAILABLE_ERROR;
}

const ActionId = z.string().min(1);
/** A gate's producers: the compiler writes them sorted, but the gates sort what they are given anyway. */
const Producers = z.array(ActionId).min(1);

/** `waiter -> that waiter's full producer list`, for every gate one producer feeds. */
export const GateWaitersSchema = z.record(ActionId, Producers);
export type GateWaiters = Readonly<Record<string, readonly string[]>>;

const GateWaitSchema = z.object({
  execution_id: z.string().min(1),
  waiter: ActionId,
  producers: Producers,
  // Step Functions' task tokens are at most 1024 characters; the park payload allows the same 2048.
  task_token: z.string().min(1).max(2048),
});

const GateArriveSchema = z
  .object({
    execution_id: z.string().min(1),
    producer: ActionId,
    // Any JSON, null included (a producer that recorded nothing reports null), but present: a report
    // without it is a compiler's mistake, not an output.
    output: z.unknown(),
    waiters: GateWaitersSchema,
  })
  .superRefine((arrive, context) => {
    if (Object.keys(arrive.waiters).length === 0) context.addIssue({ code: 'custom', path: ['waiters'], message: 'must name at least one waiting action' });
    for (const problem of gateWaitersProblems(arrive.producer, arrive.waiters)) context.addIssue({ code: 'custom', path: ['waiters', ...problem.path], message: problem.message });
  });

const GateRequestSchema = z.object({
  gate: z
    .object({ wait: GateWaitSchema.optional(), arrive: GateArriveSchema.optional() })
    .strict()
    .superRefine((gate, context) => {
      if ((gate.wait === undefined) === (gate.arrive === undefined)) context.addIssue({ code: 'custom', message: 'must hold exactly one of wait and arrive' });
    }),
});

/** A parsed gate payload. */
export type GateRequest =
  | { readonly kind: 'wait'; readonly executionId: string; readonly waiter: string; readonly producers: readonly string[]; readonly token: string }
  | { readonly kind: 'arrive'; readonly executionId: string; readonly producer: string; readonly output: unknown; readonly waiters: GateWaiters };

/** What answering a gate request needs: the gates, and how a release reaches its waiter (GateReleases). */
export interface GateRequestDeps {
  readonly gates: DependencyGates;
  readonly release: (release: GateRelease) => Promise<void>;
}

/** Whether an event is meant as a gate payload (`{ gate: ... }`); parseGateRequest says whether it is a valid one. */
export function isGatePayload(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload) && 'gate' in payload;
}

/** Reads a gate payload; one that is not valid throws InvalidGateRequestError naming each field (`gate.wait.producers`...). */
export function parseGateRequest(payload: unknown): GateRequest {
  const parsed = GateRequestSchema.safeParse(payload);
  if (!parsed.success) throw new InvalidGateRequestError(`the gate payload is not valid: ${describe(parsed.error)}`);
  const { wait, arrive } = parsed.data.gate;
  if (wait) return { kind: 'wait', executionId: wait.execution_id, waiter: wait.waiter, producers: wait.producers, token: wait.task_token };
  // The refinement above guarantees one of the two.
  const report = arrive!;
  return { kind: 'arrive', executionId: report.execution_id, producer: report.producer, output: report.output, waiters: report.waiters };
}

/**
 * Answers one gate payload: a wait records the waiter's token (and releases it at once when its producers
 * have all reported), an arrival reports the producer to each gate it feeds and releases those it completes.
 * Returns what the Lambda answers: `{ waiting }` for a wait (Step Functions ignores it: the state's result is
 * what the release sends), `{ released }` for a report.
 */
export async function handleGateRequest(payload: unknown, deps: GateRequestDeps): Promise<{ waiting: boolean } | { released: number }> {
  const request = parseGateRequest(payload);
  if (request.kind === 'wait') return { waiting: !(await waitAtGate(deps, request)) };
  return { released: await arriveAtGates(deps, request.executionId, request.producer, request.waiters, request.output) };
}

/** A waiter at its gate: its run, its id, the producers it waits for, and the task token to answer. */
export interface GateWait {
  readonly executionId: string;
  readonly waiter: string;
  readonly producers: readonly string[];
  readonly token: string;
}

/** The waiter waits with its token; returns whether this call released its gate (then its token was answered). */
export async function waitAtGate(deps: GateRequestDeps, request: GateWait): Promise<boolean> {
  const release = await claimAtGate(deps.gates, request);
  if (release) await deliver(deps, request.executionId, request.waiter, release);
  return release !== undefined;
}

/**
 * The waiter waits with its token (and, for a gated call, the call it makes once released); returns the
 * release when this call completed the gate, for the caller to deliver itself. Store failures are
 * GateUnavailableError.
 */
export async function claimAtGate(gates: DependencyGates, request: GateWait, call?: unknown): Promise<GateRelease | undefined> {
  return unavailableOnFailure(() => gates.wait(request.executionId, request.waiter, request.producers, request.token, call), `waiting at the gate of ${request.waiter}`);
}

/**
 * Sends a release this caller claimed. When sending fails, the claim is given back first, so that the
 * report's redelivery (the state's Retry on GateUnavailableError) claims and sends it again: a claimed
 * release that was never sent would leave its waiter waiting for ever.
 */
async function deliver(deps: GateRequestDeps, executionId: string, waiter: string, release: GateRelease): Promise<void> {
  try {
    await deps.release(release);
  } catch (error) {
    await deps.gates.reopen(executionId, waiter, release.token).catch(() => undefined);
    throw new GateUnavailableError(`releasing the gate of ${waiter} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Failures of the gates' store (not of the request itself) as the retryable GateUnavailableError. */
async function unavailableOnFailure<T>(work: () => Promise<T>, doing: string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof InvalidGateRequestError || error instanceof GateDeclarationError) throw error;
    throw new GateUnavailableError(`${doing} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}


/**
 * Producer `producer` finished with `output`: reports it to the gate of each waiter it feeds and sends the
 * releases this completes. Returns how many it released. The gates are independent items, so they are
 * reported at once; a failure fails the whole report, whose redelivery adds nothing to the gates that took it.
 */
export async function arriveAtGates(deps: GateRequestDeps, executionId: string, producer: string, waiters: GateWaiters, output: unknown): Promise<number> {
  const released = await Promise.all(
    Object.entries(waiters).map(async ([waiter, producers]) => {
      const release = await unavailableOnFailure(() => deps.gates.arrive(executionId, waiter, producers, producer, output), `reporting ${producer} to the gate of ${waiter}`);
      if (release) await deliver(deps, executionId, waiter, release);
      return release !== undefined;
    }),
  );
  return released.filter(Boolean).length;
}

/**
 * Gated calls (ADR 0016; functions/workers/gated-calls.ts): a service call that waits at its own gate carries
 * `gate_wait` (its producers and its state's task token) beside its ServiceCallPayload.
 */

/** The field of a ServiceCallPayload that makes it a gated call. */
export const GATE_WAIT_FIELD = 'gate_wait';

const GatedCallSchema = z
  .object({
    execution_id: z.string().min(1),
    action_id: ActionId,
    [GATE_WAIT_FIELD]: z
      .object({
        producers: Producers,
        task_token: z.string().min(1).max(2048),
        // Where the request holds values rendered from the release (core/execution/deferred-values.ts).
        deferred: z.array(z.array(z.string()).min(1)).optional(),
      })
      .strict(),
  })
  .loose();

/** A state's payload that is a gated call (`gate_wait` beside the service call's fields). */
export function isGatedCallPayload(payload: unknown): payload is Record<string, unknown> {
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload) && GATE_WAIT_FIELD in payload;
}

/** The service call a gated call makes, without what it waited with. */
export function callOf(payload: Record<string, unknown>): Record<string, unknown> {
  const { [GATE_WAIT_FIELD]: _waited, ...call } = payload;
  return call;
}

/** The gate a gated call waits at (InvalidGateRequestError naming each field when it is not one). */
export function gatedCallWait(payload: unknown): GateWait & { readonly deferred: readonly (readonly string[])[] } {
  const parsed = GatedCallSchema.safeParse(payload);
  if (!parsed.success) throw new InvalidGateRequestError(`the gated call is not valid: ${describe(parsed.error)}`);
  const wait = parsed.data[GATE_WAIT_FIELD];
  return { executionId: parsed.data.execution_id, waiter: parsed.data.action_id, producers: wait.producers, token: wait.task_token, deferred: wait.deferred ?? [] };
}

/**
 * The service call a released gated call makes: its payload without what it waited with, and its deferred
 * values rendered from the release's outputs (TemplateValueError when one cannot be).
 */
export function releasedCall(payload: unknown, outputs: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { deferred } = gatedCallWait(payload);
  const call = callOf(payload as Record<string, unknown>);
  return deferred.length === 0 ? call : renderDeferredValues(call, deferred, outputs);
}

const GateFeedingCallSchema = z.object({ execution_id: z.string().min(1), action_id: ActionId, gate_waiters: GateWaitersSchema }).loose();

/**
 * The gates a service call's payload says it feeds (its `gate_waiters`, with its run and its own action as
 * the producer); undefined when it feeds none. For those that read the payload outside the runner (the local
 * engine, replaying a recorded call); the runner reads it with its own schema. Malformed: InvalidGateRequestError.
 */
export function gateFeedOf(payload: unknown): { readonly executionId: string; readonly producer: string; readonly waiters: GateWaiters } | undefined {
  if (typeof payload !== 'object' || payload === null || !('gate_waiters' in payload) || payload.gate_waiters === undefined) return undefined;
  const parsed = GateFeedingCallSchema.safeParse(payload);
  if (!parsed.success) throw new InvalidGateRequestError(`the service call's gate fields are not valid: ${describe(parsed.error)}`);
  const problems = gateWaitersProblems(parsed.data.action_id, parsed.data.gate_waiters);
  if (problems.length > 0) throw new InvalidGateRequestError(`the service call's gate fields are not valid: ${problems.map((problem) => `gate_waiters.${problem.path.join('.')}: ${problem.message}`).join('; ')}`);
  return { executionId: parsed.data.execution_id, producer: parsed.data.action_id, waiters: parsed.data.gate_waiters };
}

/**
 * What a completed service call reports to its gates: exactly what its state records in `results` (the
 * compiled ResultSelector), so the waiter reads the producer as its templates would. A response the runner
 * stored outside state data is reported as the reference it returned.
 */
export function serviceCallOutput(result: { readonly status_code: number; readonly response: unknown }): { outcome: 'completed'; status_code: number; response: unknown } {
  return { outcome: 'completed', status_code: result.status_code, response: result.response };
}

/**
 * Problems of a producer's `waiters` (or a service call's `gate_waiters`): the producer must be one of each
 * gate's producers (the gates would refuse it too, but only after a service call was made). Each problem's
 * path is the waiter's id, under the field that holds the map.
 */
export function gateWaitersProblems(producer: string, waiters: Readonly<Record<string, readonly string[]>>): { path: string[]; message: string }[] {
  return Object.entries(waiters)
    .filter(([, producers]) => !producers.includes(producer))
    .map(([waiter, producers]) => ({ path: [waiter], message: `must include the reporting producer ${producer} (it lists ${producers.join(', ')})` }));
}

function describe(error: z.ZodError, prefix = ''): string {
  return zodIssues(error, prefix)
    .map((issue) => `${issue.field}: ${issue.message}`)
    .join('; ');
}
