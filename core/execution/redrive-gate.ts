import * as z from 'zod';
import { WorkflowErrorName } from '../errors.ts';
import { zodIssues } from '../workflow/validate.ts';

/**
 * The contract of the compiled `<id>: failed` task (statemachines/failure.ts redriveGate): the action runner (and the local
 * engine) receive `{ redrive_gate: {...} }` and either fail it with ActionFailed and the recorded cause, which
 * ends the run, or let it go because the run was redriven since the failure was recorded.
 */

const RedriveGateSchema = z.object({
  redrive_gate: z.object({
    action_id: z.string().min(1),
    cause: z.string(),
    failed_at_redrive: z.number().int().min(0),
    redrive_count: z.number().int().min(0),
  }),
});

export function isRedriveGatePayload(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && 'redrive_gate' in payload;
}

/** How the run failed at the action: the error the gate raises while the run has not been redriven. */
export class ActionFailedError extends Error {
  override readonly name = WorkflowErrorName.ActionFailed;
}

/**
 * Throws ActionFailedError (the recorded cause) unless the run was redriven after the failure was recorded;
 * then returns, and the flow goes back to the action. A payload that is not a gate's throws too: a run must
 * never go on past a failure by mistake.
 */
export function passRedriveGate(payload: unknown): { redriven: true } {
  const parsed = RedriveGateSchema.safeParse(payload);
  if (!parsed.success) {
    throw new ActionFailedError(`the run failed at an action, and its redrive gate payload is not valid: ${zodIssues(parsed.error).map((issue) => `${issue.field}: ${issue.message}`).join('; ')}`);
  }
  const gate = parsed.data.redrive_gate;
  if (gate.redrive_count <= gate.failed_at_redrive) throw new ActionFailedError(gate.cause);
  return { redriven: true };
}
