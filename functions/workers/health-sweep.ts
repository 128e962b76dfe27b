import type { Context } from 'aws-lambda';
import type { HealthSweep, SweepSummary } from '../../core/registry/health-sweep.ts';
import { sharedLog } from '../observability/logger.ts';

/** Left for the last writes (and logging) when a sweep's budget comes from the Lambda's remaining time. */
export const SWEEP_MARGIN_MS = 2000;

export interface HealthSweepWorkerDeps {
  readonly sweep: HealthSweep;
  readonly log?: (entry: Record<string, unknown>) => void;
}

/** What one scheduled sweep reports: the summary without the per-instance list (that is in the registry). */
export type SweepReport = Omit<SweepSummary, 'instances'> & { readonly changes: readonly { name: string; instance_id: string; from: string; to: string; detail?: string }[] };

/**
 * The scheduled health sweep (an EventBridge rule invokes it every interval; the event carries nothing it
 * needs). It sweeps within the Lambda's remaining time, logs one JSON line with the counts and every status
 * change, and fails the invocation when results could not be written, so the function's error metric shows
 * a registry the sweep cannot write to. A missed sweep is not retried: the next one is an interval away.
 */
export function createHealthSweepWorker({ sweep, log = sharedLog }: HealthSweepWorkerDeps) {
  return async (_event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SweepReport> => {
    const remaining = context?.getRemainingTimeInMillis();
    const summary = await sweep(remaining === undefined ? {} : { budgetMs: Math.max(0, remaining - SWEEP_MARGIN_MS) });
    const { instances, ...counts } = summary;
    const changes = instances
      .filter((outcome) => outcome.status !== outcome.previous_status)
      .map((outcome) => ({ name: outcome.name, instance_id: outcome.instance_id, from: outcome.previous_status, to: outcome.status, ...(outcome.check.detail === undefined ? {} : { detail: outcome.check.detail }) }));
    const report: SweepReport = { ...counts, changes };
    log({ kind: 'health_sweep', ...report });
    if (summary.write_failures > 0) {
      const first = instances.find((outcome) => outcome.error !== undefined);
      throw new Error(`health sweep could not record ${summary.write_failures} of ${summary.checked} checks: ${first?.error ?? 'unknown error'}`);
    }
    return report;
  };
}
