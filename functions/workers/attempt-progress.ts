import { RETRYABLE_ACTION_ERRORS } from '../../core/errors.ts';
import type { AttemptOutcome, Clock, ExecutionStore } from '../../core/ports.ts';
import type { ServiceCallPayload, ServiceCallResult } from './service-call.ts';
import { sharedLog } from '../observability/logger.ts';

type Perform = (payload: ServiceCallPayload, options?: { readonly signal?: AbortSignal }) => Promise<ServiceCallResult>;

/** Where attempts are recorded (the executions table in AWS), and the clock their times come from. */
export interface AttemptProgress {
  readonly attempts: Pick<ExecutionStore, 'startAttempt' | 'finishAttempt'>;
  readonly clock: Clock;
}

/**
 * Records each attempt as the action's progress around the call. The start is written while the request is
 * in flight; the end before the runner answers (Lambda freezes once it has). A write that fails is logged and
 * never fails the call: progress is a view, the state machine's own record decides the outcome. Foreach
 * items and compensations are not actions of their own (the final reconciliation records them).
 */
export function withAttemptProgress(perform: Perform, { attempts, clock }: AttemptProgress): Perform {
  const quietly = async (what: string, payload: ServiceCallPayload, write: () => Promise<void>) => {
    try {
      await write();
    } catch (error) {
      sharedLog({ level: 'warn', message: `could not record the ${what} of an attempt`, execution_id: payload.execution_id, action_id: payload.action_id, error: describe(error) });
    }
  };
  return async (payload, options) => {
    if (payload.item_index !== undefined || payload.action_id.includes('.')) return perform(payload, options);
    const started = quietly('start', payload, () => attempts.startAttempt(payload.execution_id, payload.action_id, clock.now()));
    let outcome: AttemptOutcome | undefined;
    try {
      const result = await perform(payload, options);
      outcome = { status: 'completed', ended_at: clock.now(), output: { status_code: result.status_code, response: result.response } };
      return result;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      // A retryable failure may be followed by another attempt: the action is still running until the run says otherwise.
      const status = RETRYABLE_ACTION_ERRORS.includes(name) ? 'running' : 'failed';
      outcome = { status, ended_at: clock.now(), error: { error: name, cause: error instanceof Error ? error.message : String(error) } };
      throw error;
    } finally {
      await started;
      const ended = outcome;
      if (ended) await quietly('end', payload, () => attempts.finishAttempt(payload.execution_id, payload.action_id, ended));
    }
  };
}

function describe(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return error instanceof Error ? `${error.message}${cause}` : String(error);
}
