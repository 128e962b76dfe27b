import { describe, expect, it } from 'vitest';
import type { HealthSweep, InstanceCheckOutcome, SweepRequest, SweepSummary } from '../../../../core/registry/health-sweep.ts';
import { createHealthSweepWorker, SWEEP_MARGIN_MS } from '../../../../functions/workers/health-sweep.ts';

const outcome = (instanceId: string, from: InstanceCheckOutcome['previous_status'], to: InstanceCheckOutcome['status'], error?: string): InstanceCheckOutcome => ({
  name: 'svc',
  instance_id: instanceId,
  health_url: `http://${instanceId}.internal/health`,
  previous_status: from,
  status: to,
  check: { checked_at: '2026-11-25T10:00:00.000Z', status: to, latency_ms: 4, ...(to === 'healthy' ? {} : { detail: 'answered 500' }) },
  recorded: error === undefined,
  ...(error === undefined ? {} : { error }),
});

function summaryOf(instances: InstanceCheckOutcome[]): SweepSummary {
  return {
    started_at: '2026-11-25T10:00:00.000Z',
    finished_at: '2026-11-25T10:00:01.000Z',
    duration_ms: 1000,
    checked: instances.length,
    by_status: { healthy: instances.filter((item) => item.status === 'healthy').length, degraded: 0, unhealthy: instances.filter((item) => item.status === 'unhealthy').length },
    changed: instances.filter((item) => item.status !== item.previous_status).length,
    skipped_expired: 0,
    not_checked: 0,
    gone: 0,
    write_failures: instances.filter((item) => item.error !== undefined).length,
    instances,
  };
}

/** A sweep that answers `summary` and remembers what it was asked. */
function fixedSweep(summary: SweepSummary): HealthSweep & { requests: (SweepRequest | undefined)[] } {
  const requests: (SweepRequest | undefined)[] = [];
  return Object.assign(async (request?: SweepRequest) => (requests.push(request), summary), { requests });
}

describe('the scheduled health sweep worker', () => {
  it(`sweeps within the Lambda's remaining time less ${SWEEP_MARGIN_MS} ms, and logs the counts and every status change`, async () => {
    const sweep = fixedSweep(summaryOf([outcome('a', 'healthy', 'healthy'), outcome('b', 'unknown', 'unhealthy')]));
    const lines: Record<string, unknown>[] = [];
    const report = await createHealthSweepWorker({ sweep, log: (line) => lines.push(line) })({}, { getRemainingTimeInMillis: () => 60_000 });
    expect(sweep.requests).toEqual([{ budgetMs: 60_000 - SWEEP_MARGIN_MS }]);
    expect(report).toMatchObject({ checked: 2, changed: 1, changes: [{ name: 'svc', instance_id: 'b', from: 'unknown', to: 'unhealthy', detail: 'answered 500' }] });
    expect(report).not.toHaveProperty('instances');
    expect(lines).toEqual([expect.objectContaining({ kind: 'health_sweep', checked: 2, changes: report.changes })]);
  });

  it('fails the invocation when checks could not be recorded, so the function error metric shows it', async () => {
    const sweep = fixedSweep(summaryOf([outcome('a', 'healthy', 'healthy', 'the table is unreachable')]));
    await expect(createHealthSweepWorker({ sweep, log: () => undefined })({})).rejects.toThrow(/could not record 1 of 1 checks: the table is unreachable/);
  });
});
