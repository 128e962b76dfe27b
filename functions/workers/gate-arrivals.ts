import { arriveAtGates, serviceCallOutput, type GateRequestDeps } from '../../core/execution/gate-requests.ts';
import type { ActionRunner } from './action-runner.ts';
import { parseServiceCallPayload } from './service-call.ts';

/**
 * The runner, reporting a successful service call to the dependency gates it feeds (ADR 0016): a call whose
 * payload lists `gate_waiters` reports its output (what its state records: `{ outcome, status_code,
 * response }`) to each of those gates and sends the releases it completes, before the result goes back. So a
 * service-call producer needs no report state of its own. A failed call reports nothing: the compiled failure
 * path has its own report state.
 *
 * The payload is read before the call (InvalidPayloadError, as the runner would), so that a malformed list is
 * refused without calling the service. A report that fails (the table unreachable) fails the invocation: its
 * retry calls again with the same Idempotency-Key, and the gates take a redelivered report as nothing new; a
 * report lost silently would leave the waiter waiting for ever.
 */
export function withGateArrivals(run: ActionRunner, deps: GateRequestDeps): ActionRunner {
  return async (payload, options) => {
    const call = typeof payload === 'object' && payload !== null && 'gate_waiters' in payload ? parseServiceCallPayload(payload) : undefined;
    const result = await run(payload, options);
    if (call?.gate_waiters) await arriveAtGates(deps, call.execution_id, call.action_id, call.gate_waiters, serviceCallOutput(result));
    return result;
  };
}
