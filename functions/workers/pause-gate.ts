import * as z from 'zod';
import { RUN_PAUSED_ERROR } from '../../core/errors.ts';
import { parkCall, type ParkedCallStore, type TaskTokens } from '../../core/execution/held-calls.ts';
import { zodIssues } from '../../core/workflow/validate.ts';
import type { ActionRunner } from './action-runner.ts';
import { sharedLog } from '../observability/logger.ts';

/**
 * The action runner's side of pause on Step Functions (ADR 0012, core/execution/held-calls.ts). A call whose
 * payload says `pausable` (compiled with a callback state to park in) is refused with RunPaused while its run
 * is paused; the compiled catch then invokes the runner again with a `park` payload and a task token, which
 * is kept until resume sends it back.
 */

/** Thrown instead of calling: the state machine's Catch on RUN_PAUSED_ERROR parks the call. */
export class RunPausedError extends Error {
  override readonly name = RUN_PAUSED_ERROR;
}

/** The payload of a compiled `<id>: held` state (`lambda:invoke.waitForTaskToken`). */
export const ParkPayloadSchema = z.object({
  park: z.object({
    execution_id: z.string().min(1),
    action_id: z.string().min(1),
    item_index: z.number().int().min(0).optional(),
    task_token: z.string().min(1).max(2048),
  }),
});

export function isParkPayload(event: unknown): boolean {
  return typeof event === 'object' && event !== null && 'park' in event;
}

/** Parks one call (or lets it go at once when its run is no longer paused). */
export function createCallParker(store: ParkedCallStore, tokens: TaskTokens): (event: unknown) => Promise<{ parked: boolean }> {
  return async (event) => {
    const parsed = ParkPayloadSchema.safeParse(event);
    if (!parsed.success) {
      const problems = zodIssues(parsed.error).map((issue) => `${issue.field}: ${issue.message}`);
      throw new Error(`the park payload is not valid: ${problems.join('; ')}`);
    }
    const { execution_id, action_id, item_index, task_token } = parsed.data.park;
    const parked = await parkCall(store, tokens, { executionId: execution_id, actionId: action_id, taskToken: task_token, ...(item_index === undefined ? {} : { itemIndex: item_index }) });
    return { parked };
  };
}

/**
 * The runner, refusing pausable calls of paused runs. A status that cannot be read lets the call go: a pause
 * is never a reason for work to fail.
 */
export function withPauseGate(run: ActionRunner, store: Pick<ParkedCallStore, 'runStatus'>): ActionRunner {
  return async (payload, options) => {
    const call = payload as { pausable?: unknown; execution_id?: unknown; action_id?: unknown } | null;
    if (call?.pausable === true && typeof call.execution_id === 'string') {
      let status: string | undefined;
      try {
        status = await store.runStatus(call.execution_id);
      } catch (error) {
        sharedLog({ level: 'warn', message: 'could not read the run status before a call; calling anyway', execution_id: call.execution_id, error: error instanceof Error ? error.message : String(error) });
      }
      if (status === 'paused') throw new RunPausedError(`execution ${call.execution_id} is paused: ${String(call.action_id)} waits for resume`);
    }
    return run(payload, options);
  };
}
