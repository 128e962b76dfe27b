import { describe, expect, it } from 'vitest';
import type { ApiDriftService, PollReport } from '../../../../core/registry/openapi-poll.ts';
import { createOpenApiPollWorker } from '../../../../functions/workers/openapi-poll.ts';

describe('the scheduled OpenAPI poll worker', () => {
  const report: PollReport = {
    polled_at: '2026-11-25T00:00:00.000Z',
    counts: { first_snapshot: 1, unchanged: 0, drift: 1, skipped: 1, error: 1 },
    services: [
      { name: 'new_one', status: 'first_snapshot', digest: 'sha256:a', operations: 2 },
      { name: 'moved', status: 'drift', counts: { added: 2, removed: 0, changed: 1 }, event_id: 'evt-9', diff: { added: [], removed: [], changed: [] } },
      { name: 'quiet', status: 'skipped', reason: 'no instance registers an openapi_path' },
      { name: 'broken', status: 'error', reason: 'no answer within 5000 ms' },
    ],
  };

  it('polls every service, and logs and returns the counts, the drift and the errors', async () => {
    const polled: (string | undefined)[] = [];
    const apiDrift: ApiDriftService = {
      poll: async (name) => {
        polled.push(name);
        return report;
      },
    };
    const lines: Record<string, unknown>[] = [];
    const summary = await createOpenApiPollWorker({ apiDrift, log: (line) => lines.push(line) })({ source: 'aws.events', 'detail-type': 'Scheduled Event' });
    expect(polled).toEqual([undefined]);
    expect(summary).toEqual({
      polled_at: report.polled_at,
      counts: report.counts,
      drift: [{ name: 'moved', added: 2, removed: 0, changed: 1, event_id: 'evt-9' }],
      errors: [{ name: 'broken', reason: 'no answer within 5000 ms' }],
    });
    expect(lines).toEqual([{ kind: 'openapi_poll', ...summary }]);
  });

  it('fails the invocation when the registry cannot be read', async () => {
    const apiDrift: ApiDriftService = { poll: () => Promise.reject(new Error('DynamoDB is unavailable')) };
    await expect(createOpenApiPollWorker({ apiDrift, log: () => undefined })()).rejects.toThrow('DynamoDB is unavailable');
  });
});
