import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type ApiReply } from '../support/api.ts';
import { startEcosystemStub, type StubRequest } from '../support/ecosystem-stub.ts';
import { until } from '../support/poll.ts';

type Api = Awaited<ReturnType<typeof startTestApi>>;
type Stub = Awaited<ReturnType<typeof startEcosystemStub>>;
type Job = { name: string; workflow_id: string; schedule: { expression: string | null; timezone: string; enabled: boolean }; next_run: string | null; last_run: { execution_id: string; status: string; started_by: string } | null };

const SUMMARY = { total: 12, by_severity: { high: 2, medium: 4, low: 6 } };
const SAMPLE = [
  { level: 'error', message: 'disk full' },
  { level: 'warn', message: 'slow query' },
  { level: 'info', message: 'started' },
];
const OVERVIEW = { count: 40, by_level: { error: 3, warn: 7, info: 30 } };
const COLLECTED = { overview: { count: 99, by_level: { error: 9, info: 90 } }, sample: [{ level: 'error', message: 'from the collector' }, { level: 'info', message: 'a' }, { level: 'info', message: 'b' }] };

/** Reporting on loopback: the summary (its shape switchable), the log analysis (honouring limit), the quality recalculation. */
async function startReporting(summary: { answer: unknown } = { answer: SUMMARY }) {
  return startEcosystemStub({
    'GET /reports/summary': () => ({ body: summary.answer }),
    'GET /logs/analysis': (request: StubRequest) => ({ body: { overview: OVERVIEW, sample: SAMPLE.slice(0, Number(request.query.get('limit') ?? 50)) } }),
    'POST /quality/recalculate': () => ({ body: { recalculated: 17 } }),
  });
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

const finished = async (api: Api, executionId: string) => {
  let last: ApiReply | undefined;
  await until(async () => {
    last = await api.call('GET', `/workflows/executions/${executionId}`);
    return ['completed', 'failed', 'cancelled', 'timed_out'].includes(String(last.body.data.status));
  }, `run ${executionId} to finish`, 20_000, 50);
  return last!.body.data as { status: string; started_by: string };
};

describe('the demo bundle and the jobs, by hand', () => {
  const summary: { answer: unknown } = { answer: SUMMARY };
  let api: Api;
  let reporting: Stub;
  let notification: Stub;
  /** The recalc-quality run started by hand below, which GET /jobs shows as its last run. */
  let recalcRun = '';

  beforeAll(async () => {
    reporting = await startReporting(summary);
    notification = await startEcosystemStub({ 'POST /notify': () => ({ body: { sent: true } }) });
    api = await startTestApi({ serviceUrls: { REPORTING_URL: reporting.url, NOTIFICATION_URL: notification.url } });
  });
  afterAll(async () => {
    await api?.runtime.close();
    await Promise.all([reporting?.close(), notification?.close()]);
  });

  it("builds {summary, log_analysis} from reporting's summary and log analysis, asking for the limit given", async () => {
    const before = reporting.requests.length;
    const reply = await api.call('POST', '/demo/e2e', { body: { format: 'json', log_limit: 2 } });
    expect(reply.status).toBe(200);
    expect(reply.body.data).toEqual({ summary: SUMMARY, log_analysis: { overview: OVERVIEW, sample: SAMPLE.slice(0, 2) } });
    const asked = reporting.requests.slice(before);
    expect(asked.map((request) => `${request.method} ${request.path}`).sort()).toEqual(['GET /logs/analysis', 'GET /reports/summary']);
    expect(asked.find((request) => request.path === '/logs/analysis')?.query.get('limit')).toBe('2');
  });

  it('refuses a format other than json, naming format', async () => {
    const reply = await api.call('POST', '/demo/e2e', { body: { format: 'xml' } });
    expect(reply.status).toBe(400);
    expect(reply.body.details?.map((detail) => detail.field)).toContain('format');
  });

  it('answers 502 naming the field when reporting answers in another shape', async () => {
    summary.answer = { total: 'three', by_severity: {} };
    try {
      const reply = await api.call('POST', '/demo/e2e', { body: { log_limit: 2 } });
      expect(reply.status).toBe(502);
      expect(reply.body.details?.some((detail) => detail.field.includes('total'))).toBe(true);
    } finally {
      summary.answer = SUMMARY;
    }
  });

  it('starts recalc-quality as a run of its system workflow that asks reporting to recalculate', async () => {
    const reply = await api.call('POST', '/jobs/recalc-quality', { body: {} });
    expect(reply.status).toBe(202);
    const data = reply.body.data as { execution_id: string; workflow_id: string; correlation_id: string; job: string };
    expect(data).toMatchObject({ workflow_id: 'system-recalc-quality', job: 'recalc-quality' });
    expect(data.execution_id).toMatch(/\S/);
    expect(data.correlation_id).toMatch(/\S/);
    expect((await finished(api, data.execution_id)).status).toBe('completed');
    recalcRun = data.execution_id;
    const received = reporting.requests.find((request) => request.path === '/quality/recalculate' && (request.body as { correlation_id?: string }).correlation_id === data.correlation_id);
    expect(received?.method).toBe('POST');
    expect((received?.body as { requested_by?: string }).requested_by).toMatch(/\S/);
  });

  it('starts notify-consolidation, which sends a consolidation notice, and lists both jobs with their schedules and last runs', async () => {
    const reply = await api.call('POST', '/jobs/notify-consolidation', { body: { correlation_id: 'consolidate-1', message: 'Please review' } });
    expect(reply.status).toBe(202);
    const executionId = String(reply.body.data.execution_id);
    expect((await finished(api, executionId)).status).toBe('completed');
    const sent = notification.requests.find((request) => (request.body as { correlation_id?: string }).correlation_id === 'consolidate-1');
    expect(sent).toMatchObject({ method: 'POST', path: '/notify', body: { kind: 'consolidation', message: 'Please review' } });

    const jobs = await api.call<{ jobs: Job[] }>('GET', '/jobs');
    expect(jobs.status).toBe(200);
    const byName = Object.fromEntries(jobs.body.data.jobs.map((job) => [job.name, job]));
    expect(Object.keys(byName).sort()).toEqual(['notify-consolidation', 'recalc-quality']);
    expect(byName['recalc-quality']!.schedule).toEqual({ expression: 'cron(0 2 * * ? *)', timezone: 'UTC', enabled: true });
    expect(byName['notify-consolidation']!.schedule).toEqual({ expression: 'cron(0 9 ? * MON *)', timezone: 'UTC', enabled: true });
    for (const job of Object.values(byName)) {
      expect(job.next_run).toMatch(ISO);
      expect(Date.parse(job.next_run!)).toBeGreaterThan(Date.now());
      expect(job.last_run).toMatchObject({ status: 'completed' });
    }
    expect(byName['notify-consolidation']!.last_run!.execution_id).toBe(executionId);
    expect(byName['recalc-quality']!.last_run!.execution_id).toBe(recalcRun);
    // The default times: 02:00 every day, 09:00 on Mondays.
    expect(byName['recalc-quality']!.next_run!.slice(11, 19)).toBe('02:00:00');
    expect(new Date(byName['notify-consolidation']!.next_run!).getUTCDay()).toBe(1);
  });

  it('starts a job once for one Idempotency-Key, however often it is sent', async () => {
    const send = () => api.call('POST', '/jobs/recalc-quality', { body: {}, headers: { 'Idempotency-Key': 'nightly-2027-01-01' } });
    const [first, second] = [await send(), await send()];
    expect(first.status).toBe(202);
    expect(second.body.data.execution_id).toBe(first.body.data.execution_id);
    expect((await finished(api, String(first.body.data.execution_id))).status).toBe('completed');
  });
});

describe('the demo bundle with a log collector, and jobs by schedule', () => {
  let api: Api;
  let reporting: Stub;
  let collector: Stub;
  let scheduledAt: string;

  beforeAll(async () => {
    reporting = await startReporting();
    collector = await startEcosystemStub({ 'GET /logs/analysis': () => ({ body: COLLECTED }), 'POST /logs/batch': () => ({ status: 202, body: {} }) });
    scheduledAt = new Date(Date.now() + 2500).toISOString().slice(0, 19);
    api = await startTestApi({
      serviceUrls: { REPORTING_URL: reporting.url },
      logCollectorUrl: collector.url,
      jobSchedules: { 'recalc-quality': { expression: `at(${scheduledAt})`, enabled: true }, 'notify-consolidation': { enabled: false } },
    });
  });
  afterAll(async () => {
    await api?.runtime.close();
    await Promise.all([reporting?.close(), collector?.close()]);
  });

  it('reads the log analysis from the log collector, cut to the limit, and never asks reporting for it', async () => {
    const reply = await api.call('POST', '/demo/e2e', { body: { log_limit: 2 } });
    expect(reply.status).toBe(200);
    expect(reply.body.data).toEqual({ summary: SUMMARY, log_analysis: { overview: COLLECTED.overview, sample: COLLECTED.sample.slice(0, 2) } });
    expect(collector.requests.find((request) => request.path === '/logs/analysis')?.query.get('limit')).toBe('2');
    expect(reporting.requests.some((request) => request.path === '/logs/analysis')).toBe(false);
    expect(reporting.requests.some((request) => request.path === '/reports/summary')).toBe(true);
  });

  it('starts recalc-quality at its scheduled time as the schedule, and shows a disabled job without a next run', async () => {
    type Runs = { executions: Array<{ execution_id: string; started_by: string; status: string }> };
    let runs: ApiReply<Runs> | undefined;
    await until(async () => {
      runs = await api.call<Runs>('GET', '/workflows/system-recalc-quality/executions');
      return runs.status === 200 && runs.body.data.executions.length > 0;
    }, `the run scheduled at ${scheduledAt}`, 8000, 100);
    const [run] = runs!.body.data.executions;
    expect(run!.started_by).toBe('schedule');
    await until(() => reporting.requests.some((request) => request.path === '/quality/recalculate'), 'reporting to be asked to recalculate', 10_000, 50);
    expect(reporting.requests.find((request) => request.path === '/quality/recalculate')?.body).toMatchObject({ requested_by: 'schedule' });

    const jobs = await api.call<{ jobs: Job[] }>('GET', '/jobs');
    const notify = jobs.body.data.jobs.find((job) => job.name === 'notify-consolidation');
    expect(notify).toMatchObject({ schedule: { expression: null, timezone: 'UTC', enabled: false }, next_run: null });
    const recalc = jobs.body.data.jobs.find((job) => job.name === 'recalc-quality');
    // at(...) fires once: nothing after it.
    expect(recalc).toMatchObject({ schedule: { expression: `at(${scheduledAt})`, enabled: true }, next_run: null, last_run: { execution_id: run!.execution_id, started_by: 'schedule' } });
  });
});

describe('the demo bundle when reporting is down', () => {
  let api: Api;

  beforeAll(async () => {
    const gone = await startEcosystemStub({});
    await gone.close();
    api = await startTestApi({ serviceUrls: { REPORTING_URL: gone.url } });
  });
  afterAll(async () => {
    await api?.runtime.close();
  });

  it('answers 502 or 503, never 500', async () => {
    const reply = await api.call('POST', '/demo/e2e', { body: {} });
    expect([502, 503]).toContain(reply.status);
    expect(reply.body.message).toContain('reporting');
  });
});
