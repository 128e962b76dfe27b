import { templateRefs } from '../core/execution/deferred-values.ts';
import type { Action } from '../core/workflow/definition.ts';
import type { Analysis } from './analysis.ts';
import { Placeholder, Resource, type TaskState } from './asl.ts';
import type { LosslessStructure } from './lossless.ts';
import { task } from './task.ts';

/**
 * Where the compiled machine waits on dependency gates (ADR 0016), and the two states a gate adds. An action
 * waits for the producers the structure does not run before it: the dependencies the structure could not
 * hold, and the upstream actions whose outputs it reads (or whose outcome it checks) that ran in another
 * branch. The second kind never delays it (they finished before its dependencies did); their outputs come
 * with the release, since they are not in its state data.
 */
export interface GatePlacement {
  /** Waiting action -> the producers its gate waits for (sorted). */
  readonly waits: ReadonlyMap<string, readonly string[]>;
  /** Waiting action -> the producers whose outputs it reads from the release (`$.released`). */
  readonly released: ReadonlyMap<string, ReadonlySet<string>>;
  /** Producer -> each waiter it reports to, with that waiter's full producer list (what the gate is declared with). */
  readonly reports: ReadonlyMap<string, Readonly<Record<string, readonly string[]>>>;
}

/** Where the release's outputs go in the waiter's state data. */
export const RELEASED = '$.released';

export function placeGates(actions: readonly Action[], lossless: LosslessStructure, analysis: Pick<Analysis, 'reads' | 'guardedInputs'>): GatePlacement {
  const waits = new Map<string, string[]>();
  const released = new Map<string, Set<string>>();
  const reports = new Map<string, Record<string, string[]>>();
  for (const action of actions) {
    const id = action.action_id;
    const read = new Set([...(analysis.reads.get(id) ?? []), ...(analysis.guardedInputs.get(id) ?? [])]);
    // The dependencies the structure cannot hold, and the producers whose outputs it reads from other branches.
    const producers = [...new Set([...(lossless.gates.get(id) ?? []), ...lossless.notBefore(id, read)])].sort();
    if (producers.length === 0) continue;
    waits.set(id, producers);
    const outputs = producers.filter((producer) => read.has(producer));
    if (outputs.length > 0) released.set(id, new Set(outputs));
    for (const producer of producers) (reports.get(producer) ?? reports.set(producer, {}).get(producer)!)[id] = producers;
  }
  return { waits, released, reports };
}

/**
 * Whether a waiter waits in its own call rather than in a `<W>: gate` state before it (a gated call): a
 * service call with nothing between its gate and its call (no condition, no guarded input). Its state is then
 * `lambda:invoke.waitForTaskToken` and the runner makes the call once the gate is released
 * (functions/workers/gated-calls.ts), so waiting costs no transition. Released outputs it reads are rendered
 * into its request by the runner (core/execution/deferred-values.ts); its service, endpoint and method, which
 * its dead letter and failure states read from state data too, and its compensation must not read them.
 */
export function waitsInItsCall(action: Action, placement: Pick<GatePlacement, 'waits' | 'released'>, guardedInputs: ReadonlyMap<string, readonly string[]>): boolean {
  const id = action.action_id;
  if (!placement.waits.has(id) || action.action_type !== 'service_call' || action.condition !== undefined || (guardedInputs.get(id)?.length ?? 0) > 0) return false;
  const released = placement.released.get(id);
  if (!released) return true;
  const { service, endpoint, method } = action.config;
  return ![service, endpoint, method, action.compensation ?? null].some((value) => templateRefs(value).some((ref) => released.has(ref.root)));
}

/**
 * The waiter's state before its action: the action runner records the wait with this state's task token,
 * and the gate's release (at once, when every producer already reported) sends the token back with their
 * outputs. No time limit of its own: it waits as long as its producers run.
 */
export function gateWaitState(executionId: string, waiter: string, producers: readonly string[], readsOutputs: boolean, next: string): TaskState {
  return task({
    comment: `waits for ${producers.join(', ')}, which run in other branches`,
    resource: Resource.lambdaInvokeCallback,
    parameters: { FunctionName: Placeholder.actionRunner, Payload: { gate: { wait: { 'execution_id.$': executionId, waiter, producers: [...producers], 'task_token.$': '$$.Task.Token' } } } },
    resultPath: readsOutputs ? RELEASED : null,
    retry: 'gate',
    next,
  });
}

/**
 * The producer's report to the gates it feeds, after every way its action ends (completed, skipped, failed
 * and recorded, reused): their waiters must never be left waiting. Its recorded result is what they read of
 * it. A service call that completes is reported by the action runner itself and skips this state.
 */
export function gateReportState(executionId: string, producer: string, writesResult: boolean, waiters: Readonly<Record<string, readonly string[]>>, next: string | undefined): TaskState {
  return task({
    comment: `reports to the gates of ${Object.keys(waiters).join(', ')}`,
    resource: Resource.lambdaInvoke,
    parameters: {
      FunctionName: Placeholder.actionRunner,
      Payload: { gate: { arrive: { 'execution_id.$': executionId, producer, ...(writesResult ? { 'output.$': `$.results.${producer}` } : { output: null }), waiters: copyWaiters(waiters) } } },
    },
    resultPath: null,
    retry: 'gate',
    next,
  });
}

/** The waiters map as the definition holds it (fresh arrays: the definition is data, not shared state). */
export function copyWaiters(waiters: Readonly<Record<string, readonly string[]>>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(waiters).map(([waiter, producers]) => [waiter, [...producers]]));
}
