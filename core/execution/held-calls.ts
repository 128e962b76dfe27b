import type { ExecutionStatus } from './model.ts';

/**
 * Pause on Step Functions (ADR 0012). Step Functions cannot hold an execution, so the runner refuses to call
 * while the run is paused, and the compiled state parks the call in a callback task: its task token is kept
 * here until the run is resumed, then sent back, and the call is made again. Whoever removes a parked token
 * (resume, or the parking side when it finds the run no longer paused) is the one that sends it back, so a
 * token goes back exactly once, with single-item conditional writes only.
 */

/** Where parked calls are kept: one record per call, beside its run. */
export interface ParkedCallStore {
  /** The run's status, read on its own (the runner asks before every call it may have to park). */
  runStatus(executionId: string): Promise<ExecutionStatus | undefined>;
  park(executionId: string, callKey: string, taskToken: string): Promise<void>;
  /** Keys of the calls parked on a run. */
  parkedCalls(executionId: string): Promise<string[]>;
  /** Removes a parked call and returns its token; undefined when someone else removed it first. */
  claim(executionId: string, callKey: string): Promise<string | undefined>;
}

/** Sends a parked call's token back so that its state goes on (Step Functions' SendTaskSuccess). */
export interface TaskTokens {
  /** A token whose execution has ended (stopped, timed out) is not an error: there is nothing left to resume. */
  resume(taskToken: string): Promise<void>;
}

/** One call to park: the run, the call (its action, and its item inside a foreach) and its task token. */
export interface ParkRequest {
  readonly executionId: string;
  readonly actionId: string;
  readonly itemIndex?: number;
  readonly taskToken: string;
}

/** `<action_id>[#<item index>]`: unique among a run's calls that can be in flight at once. */
export function parkedCallKey(actionId: string, itemIndex?: number): string {
  return itemIndex === undefined ? actionId : `${actionId}#${itemIndex}`;
}

/**
 * Parks a call; if the run was resumed (or ended) meanwhile, takes it back and lets it go at once. Returns
 * whether the call stays parked.
 */
export async function parkCall(store: ParkedCallStore, tokens: TaskTokens, request: ParkRequest): Promise<boolean> {
  const key = parkedCallKey(request.actionId, request.itemIndex);
  await store.park(request.executionId, key, request.taskToken);
  // Read after the write: a resume that changed the status before it would not have seen this call.
  if ((await store.runStatus(request.executionId)) === 'paused') return true;
  const token = await store.claim(request.executionId, key);
  if (token !== undefined) await tokens.resume(token);
  return false;
}

/** Lets every parked call of a run go (after the run's status left `paused`); returns how many it released. */
export function releaseParkedCalls(store: ParkedCallStore, tokens: TaskTokens, executionId: string): Promise<number> {
  return claimParkedCalls(store, executionId, (token) => tokens.resume(token));
}

/** Drops every call parked on a run that was stopped: their tasks ended with it, so no token is sent back. */
export function discardParkedCalls(store: ParkedCallStore, executionId: string): Promise<number> {
  return claimParkedCalls(store, executionId, async () => undefined);
}

/** Claims each call parked on a run and hands its token on; a call someone else claimed first is skipped. */
async function claimParkedCalls(store: ParkedCallStore, executionId: string, claimed: (token: string) => Promise<void>): Promise<number> {
  let count = 0;
  for (const key of await store.parkedCalls(executionId)) {
    const token = await store.claim(executionId, key);
    if (token === undefined) continue;
    await claimed(token);
    count += 1;
  }
  return count;
}
