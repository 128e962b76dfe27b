/**
 * Dependency gates (ADR 0010): how an action waits for producers that the compiled structure cannot express.
 *
 * The compiler keeps every dependency a series-parallel structure can hold (nested Parallel states lose
 * nothing there). An edge it cannot hold becomes a gate: the consumer's state waits on a task token (in AWS,
 * `.waitForTaskToken`), and each of its gate's producers, when it finishes, reports to the gate. The gate is
 * released when the waiter waits and every producer has finished, whatever the order in which those happen,
 * exactly once; the producers' outputs that the waiter's templates read travel with the release.
 *
 * This module is the gate's rule, with no storage: adapters keep the state (one item per waiting action in
 * the run's item collection in AWS, a map locally) and call these to decide.
 */

/** A report that does not match the gate's declaration (other producers, or not one of them): a definition problem, never retried. */
export class GateDeclarationError extends Error {
  override readonly name = 'GateDeclarationError';
}

/** One waiting action's gate, as stored. */
export interface GateState {
  /** The producers it waits for (action ids). */
  readonly expected: readonly string[];
  /** The producers that finished, with their outputs (what the waiter's templates read of them). */
  readonly arrived: Readonly<Record<string, unknown>>;
  /** The waiter's task token, once it waits (the latest: a retried waiting state waits with a new one). */
  readonly token?: string;
  /**
   * The service call the waiter makes once released, when the waiter is the call itself (a gated call, ADR
   * 0016): whoever releases the gate has the call made and the token answered with its result.
   */
  readonly call?: unknown;
  /** The token the gate was released to, and when: each token is released to exactly one caller, once. */
  readonly released?: { readonly token: string; readonly at: string };
}

/** What releasing a gate sends to the waiting state: the token to answer and the outputs it waited for. */
export interface GateRelease {
  readonly token: string;
  /** Each expected producer's output, by action id. */
  readonly outputs: Readonly<Record<string, unknown>>;
  /** A gated call's service call: the token is answered with that call's result, not with the outputs. */
  readonly call?: unknown;
}

/**
 * Whether the gate can be released now: the waiter waits, every producer finished, and its token was not
 * released yet. A waiting state that Step Functions retried waits with a new token, which is released again:
 * the first one's attempt is over and nobody would answer the second otherwise.
 */
export function gateReady(state: GateState): boolean {
  return state.token !== undefined && state.released?.token !== state.token && state.expected.every((producer) => Object.hasOwn(state.arrived, producer));
}

/** The release of a ready gate (see gateReady). */
export function releaseOf(state: GateState): GateRelease {
  if (state.token === undefined) throw new Error('a gate without a waiter has nothing to release');
  return {
    token: state.token,
    outputs: Object.fromEntries(state.expected.map((producer) => [producer, state.arrived[producer] ?? null])),
    ...(state.call === undefined ? {} : { call: state.call }),
  };
}

/**
 * Problems with a gate's declaration: what a producer or waiter reports must agree with what the gate was
 * first told (the compiler writes the same list into every state of the gate), and a producer must be one
 * of those expected.
 */
export function gateProblem(stored: readonly string[] | undefined, expected: readonly string[], producer?: string): string | undefined {
  const sorted = [...new Set(expected)].sort();
  if (sorted.length === 0) return 'a gate waits for at least one producer';
  if (stored !== undefined && stored.join('\u0000') !== sorted.join('\u0000')) return `the gate waits for ${stored.join(', ')}, not ${sorted.join(', ')}`;
  if (producer !== undefined && !sorted.includes(producer)) return `${producer} is not a producer of this gate (it waits for ${sorted.join(', ')})`;
  return undefined;
}
