import { ConflictError } from '../../../core/errors.ts';
import type { Execution } from '../../../core/execution/model.ts';

/**
 * A rerun on Step Functions (ADR 0012) starts the workflow's rerun variant with `reuse`: the result each
 * reused action had in the run it reruns, as state data holds results (`{ outcome, status_code, response }`).
 * They come from the source run's record, so a result the record could not keep whole (an output over the
 * store's limit, kept as a preview) or one held by reference under the source run's trace (large results in
 * S3, which a new run may not read) cannot be reused: the rerun is refused, naming the action.
 */
export function reuseMap(source: Execution, actions: ReadonlySet<string>): Record<string, unknown> {
  const reuse: Record<string, unknown> = {};
  for (const actionId of [...actions].sort()) {
    const progress = source.actions.find((action) => action.action_id === actionId);
    if (progress?.status !== 'completed') {
      throw refusal(source, actionId, `it did not complete there (${progress?.status ?? 'missing'})`);
    }
    const output = progress.output ?? { status_code: null, response: null };
    const text = JSON.stringify(output.response ?? null);
    if (isPreview(output.response)) throw refusal(source, actionId, 'its result was too large to keep whole in the run record');
    if (text.includes('"payload_ref":"s3://')) throw refusal(source, actionId, "its result is stored by reference under that run's trace, which a new run may not read");
    reuse[actionId] = { outcome: 'completed', status_code: output.status_code, response: output.response ?? null };
  }
  return reuse;
}

function isPreview(response: unknown): boolean {
  const value = response as { truncated?: unknown; size_bytes?: unknown; preview?: unknown } | null;
  return typeof value === 'object' && value !== null && value.truncated === true && typeof value.size_bytes === 'number' && typeof value.preview === 'string';
}

function refusal(source: Execution, actionId: string, why: string): ConflictError {
  return new ConflictError(`action ${actionId} of execution ${source.execution_id} cannot be reused on Step Functions: ${why}; rerun from ${actionId} or an action before it`, [
    { field: 'from_action', message: `${actionId} cannot be reused: ${why}` },
  ]);
}
