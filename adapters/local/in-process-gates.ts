import type { Clock, DependencyGates, GateReleases } from '../../core/ports.ts';
import { waitAtGate, type GateRequestDeps, type GateWait } from '../../core/execution/gate-requests.ts';
import { GateDeclarationError, gateProblem, gateReady, releaseOf, type GateRelease, type GateState } from '../../core/execution/dependency-gates.ts';

/**
 * Dependency gates in the local runtime's memory (the local engine runs every run of this process, so the
 * gates need no storage of their own). Each call reads and writes a gate in one synchronous step, so the rule
 * of core/execution/dependency-gates.ts holds without conditions.
 */
export class InProcessDependencyGates implements DependencyGates {
  private readonly gates = new Map<string, GateState>();
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  async arrive(executionId: string, waiter: string, expected: readonly string[], producer: string, output: unknown): Promise<GateRelease | undefined> {
    return this.update(executionId, waiter, expected, producer, (state) => (Object.hasOwn(state.arrived, producer) ? state : { ...state, arrived: { ...state.arrived, [producer]: output } }));
  }

  async wait(executionId: string, waiter: string, expected: readonly string[], token: string, call?: unknown): Promise<GateRelease | undefined> {
    return this.update(executionId, waiter, expected, undefined, (state) => ({ ...state, token, ...(call === undefined ? {} : { call: structuredClone(call) }) }));
  }

  async forget(executionId: string): Promise<void> {
    const prefix = `${executionId}\u0000`;
    for (const key of [...this.gates.keys()]) if (key.startsWith(prefix)) this.gates.delete(key);
  }

  async reopen(executionId: string, waiter: string, token: string): Promise<void> {
    const key = `${executionId}\u0000${waiter}`;
    const current = this.gates.get(key);
    if (current?.released?.token !== token) return;
    const { released: _released, ...open } = current;
    this.gates.set(key, open);
  }

  private update(executionId: string, waiter: string, expected: readonly string[], producer: string | undefined, change: (state: GateState) => GateState): GateRelease | undefined {
    const key = `${executionId}\u0000${waiter}`;
    const current = this.gates.get(key);
    const problem = gateProblem(current?.expected, expected, producer);
    if (problem) throw new GateDeclarationError(`gate of ${waiter} in run ${executionId}: ${problem}`);
    const next = change(current ?? { expected: [...new Set(expected)].sort(), arrived: {} });
    if (!gateReady(next)) {
      this.gates.set(key, next);
      return undefined;
    }
    const release = releaseOf(next);
    this.gates.set(key, { ...next, released: { token: release.token, at: this.clock.now() } });
    return release;
  }
}

/**
 * Where the local runtime's gate releases go: the engine has no task tokens, so each waiting state takes a
 * fresh one here and waits for its release (a promise), which a producer's report or the runner's arrival
 * resolves with the outputs. A release for a token nobody waits on any more (its run ended, or it was
 * released already) is dropped, as Step Functions ignores an answer to a finished task.
 */
export class LocalGateReleases implements GateReleases {
  private readonly waiting = new Map<string, (outputs: Record<string, unknown>) => void>();
  private issued = 0;

  /**
   * A new token and the outputs its release will bring. `signal` (the run's end or cancellation) rejects the
   * promise and drops the token; so does `discard`, for a wait that could not be recorded.
   */
  expect(signal: AbortSignal): { readonly token: string; readonly released: Promise<Record<string, unknown>> } {
    // Unique in this process, which is where every local run's gates and waits live.
    const token = `local-gate-${++this.issued}`;
    const released = new Promise<Record<string, unknown>>((resolve, reject) => {
      const stop = () => {
        this.waiting.delete(token);
        reject(new Error('the run ended while an action waited at its dependency gate'));
      };
      if (signal.aborted) return stop();
      signal.addEventListener('abort', stop, { once: true });
      this.waiting.set(token, (outputs) => {
        signal.removeEventListener('abort', stop);
        resolve(outputs);
      });
    });
    // A wait abandoned with its run must not surface as an unhandled rejection.
    released.catch(() => undefined);
    return { token, released };
  }

  /** Stops waiting for `token` (its wait failed before it was recorded). */
  discard(token: string): void {
    this.waiting.delete(token);
  }

  async release(release: GateRelease): Promise<void> {
    const resolve = this.waiting.get(release.token);
    this.waiting.delete(release.token);
    resolve?.({ ...release.outputs });
  }
}

/** A local runtime's dependency gates (ADR 0016): what the engine and the runner's arrivals share. */
export interface LocalGates extends GateRequestDeps {
  readonly releases: LocalGateReleases;
}

/** In-process gates and their releases, for one runtime (the engine's runs and the runner that reports to them). */
export function createLocalGates(clock: Clock): LocalGates {
  const releases = new LocalGateReleases();
  return { gates: new InProcessDependencyGates(clock), releases, release: (release) => releases.release(release) };
}

/**
 * Waits at a gate in this process: records the wait with a fresh local token and resolves with the producers'
 * outputs once it is released (at once when they all reported already). `signal` (the run's end) rejects it.
 * What a `<W>: gate` state and a gated call both do locally.
 */
export async function awaitRelease(gates: LocalGates, wait: Omit<GateWait, 'token'>, signal: AbortSignal): Promise<Record<string, unknown>> {
  const { token, released } = gates.releases.expect(signal);
  try {
    await waitAtGate(gates, { ...wait, token });
  } catch (error) {
    gates.releases.discard(token);
    throw error;
  }
  return released;
}
