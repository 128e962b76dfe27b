import type { Clock, DependencyGates } from '../../core/ports.ts';
import { gateProblem, gateReady, releaseOf, type GateRelease, type GateState } from '../../core/execution/dependency-gates.ts';

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

  async wait(executionId: string, waiter: string, expected: readonly string[], token: string): Promise<GateRelease | undefined> {
    return this.update(executionId, waiter, expected, undefined, (state) => ({ ...state, token }));
  }

  private update(executionId: string, waiter: string, expected: readonly string[], producer: string | undefined, change: (state: GateState) => GateState): GateRelease | undefined {
    const key = `${executionId}\u0000${waiter}`;
    const current = this.gates.get(key);
    const problem = gateProblem(current?.expected, expected, producer);
    if (problem) throw new Error(`gate of ${waiter} in run ${executionId}: ${problem}`);
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
