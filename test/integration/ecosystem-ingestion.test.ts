import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type ApiReply } from '../support/api.ts';
import { startEcosystemStub, type StubRequest } from '../support/ecosystem-stub.ts';
import { until } from '../support/poll.ts';

type Api = Awaited<ReturnType<typeof startTestApi>>;
type Stub = Awaited<ReturnType<typeof startEcosystemStub>>;

const INGEST_MS = 300;
const SCOPES = {
  github: { repo: 'acme/payments', ref: 'main' },
  jira: { project: 'PAY', jql: 'updated > -7d' },
  confluence: { space: 'ENG' },
  swagger: { url: 'https://api.example.com/openapi.json' },
} as const;

describe('ingestion: POST /ingest and POST /workflows/run', () => {
  let api: Api;
  let agent: Stub;
  let engine: Stub;

  beforeAll(async () => {
    agent = await startEcosystemStub(
      Object.fromEntries(Object.keys(SCOPES).map((source) => [`POST /ingest/${source}`, (request: StubRequest) => ({ delayMs: INGEST_MS, body: { ingested: 3, source, scope: (request.body as { scope: unknown }).scope } })])),
    );
    engine = await startEcosystemStub({ 'POST /analyze': () => ({ body: { findings: 2 } }) });
    api = await startTestApi({ serviceUrls: { SOURCE_AGENT_URL: agent.url, CONSISTENCY_ENGINE_URL: engine.url } });
  });
  afterAll(async () => {
    await api?.runtime.close();
    await Promise.all([agent?.close(), engine?.close()]);
  });

  const finished = async (executionId: string) => {
    let last: ApiReply | undefined;
    await until(async () => {
      last = await api.call('GET', `/workflows/executions/${executionId}`);
      return ['completed', 'failed', 'cancelled', 'timed_out'].includes(String(last.body.data.status));
    }, `run ${executionId} to finish`, 20_000, 50);
    return last!.body.data as { status: string; actions: Array<{ action_id: string; status: string; started_at?: string; ended_at?: string; output?: { response: unknown } }> };
  };

  it('ingests one source as a run of the system ingestion workflow and answers its ids', async () => {
    const reply = await api.call('POST', '/ingest', { body: { source: 'github', scope: SCOPES.github } });
    expect(reply.status).toBe(202);
    const data = reply.body.data as { execution_id: string; workflow_id: string; trace_id: string; correlation_id: string; sources: string[] };
    expect(data.workflow_id).toBe('system-ingestion');
    expect(data.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(data.correlation_id).toMatch(/\S/);
    expect(data.sources).toEqual(['github']);
    const run = await finished(data.execution_id);
    expect(run.status).toBe('completed');
    const byId = Object.fromEntries(run.actions.map((action) => [action.action_id, action.status]));
    expect(byId).toEqual({ ingest_github: 'completed', ingest_jira: 'skipped', ingest_confluence: 'skipped', ingest_swagger: 'skipped', consistency_analysis: 'skipped' });
    const received = agent.requests.find((request) => (request.body as { correlation_id?: string }).correlation_id === data.correlation_id);
    expect(received?.path).toBe('/ingest/github');
    expect(received?.body).toEqual({ source: 'github', scope: SCOPES.github, correlation_id: data.correlation_id });
    // The run continues the request's trace: the service sees it in traceparent.
    expect(received?.headers.traceparent).toContain(data.trace_id);
  });

  it.each(Object.entries(SCOPES))('ingests %s alone: its scope goes to POST /ingest/<source> and only its action runs', async (source, scope) => {
    const reply = await api.call('POST', '/ingest', { body: { source, scope } });
    expect(reply.status).toBe(202);
    const correlationId = String(reply.body.data.correlation_id);
    const run = await finished(String(reply.body.data.execution_id));
    expect(run.status).toBe('completed');
    expect(run.actions.filter((action) => action.status === 'completed').map((action) => action.action_id)).toEqual([`ingest_${source}`]);
    const received = agent.requests.filter((request) => (request.body as { correlation_id?: string }).correlation_id === correlationId);
    expect(received.map((request) => [request.path, (request.body as { scope: unknown }).scope])).toEqual([[`/ingest/${source}`, scope]]);
  });

  it('keeps the correlation id it is given', async () => {
    const reply = await api.call('POST', '/ingest', { body: { source: 'jira', scope: SCOPES.jira, correlation_id: 'release-42' } });
    expect(reply.status).toBe(202);
    expect(reply.body.data.correlation_id).toBe('release-42');
    await finished(String(reply.body.data.execution_id));
    expect(agent.requests.some((request) => request.path === '/ingest/jira' && (request.body as { correlation_id: string }).correlation_id === 'release-42')).toBe(true);
  });

  it('refuses an unknown source naming the accepted ones, and a scope missing what its source needs', async () => {
    const unknown = await api.call('POST', '/ingest', { body: { source: 'gitlab', scope: {} } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.details).toContainEqual({ field: 'source', message: expect.stringContaining('github, jira, confluence, swagger') });
    const noRepo = await api.call('POST', '/ingest', { body: { source: 'github', scope: { ref: 'main' } } });
    expect(noRepo.status).toBe(400);
    expect(noRepo.body.details).toContainEqual({ field: 'scope.repo', message: 'repo is required' });
    const badKey = await api.call('POST', '/ingest', { body: { source: 'jira', scope: { project: 'pay' } } });
    expect(badKey.body.details?.[0]?.field).toBe('scope.project');
    const badUrl = await api.call('POST', '/ingest', { body: { source: 'swagger', scope: { url: 'ftp://x' } } });
    expect(badUrl.body.details?.[0]?.field).toBe('scope.url');
  });

  it('ingests four sources in parallel, then starts the analysis after all four, as one run with per-source progress', async () => {
    const reply = await api.call('POST', '/workflows/run', { body: { sources: Object.entries(SCOPES).map(([source, scope]) => ({ source, scope })), correlation_id: 'four-sources' } });
    expect(reply.status).toBe(202);
    const run = await finished(String(reply.body.data.execution_id));
    expect(run.status).toBe('completed');
    for (const source of Object.keys(SCOPES)) expect(run.actions.find((action) => action.action_id === `ingest_${source}`)?.status).toBe('completed');
    const ingests = agent.requests.filter((request) => (request.body as { correlation_id?: string }).correlation_id === 'four-sources');
    expect(ingests).toHaveLength(4);
    // They overlap in time: each started before any other ended.
    const lastStart = Math.max(...ingests.map((request) => request.startedAt));
    const firstEnd = Math.min(...ingests.map((request) => request.endedAt ?? Infinity));
    expect(lastStart).toBeLessThan(firstEnd);
    const analysis = engine.requests.find((request) => (request.body as { correlation_id?: string }).correlation_id === 'four-sources');
    expect(analysis).toBeDefined();
    expect(analysis!.startedAt).toBeGreaterThanOrEqual(Math.max(...ingests.map((request) => request.endedAt ?? Infinity)));
    expect((analysis!.body as { sources: string[] }).sources.sort()).toEqual(Object.keys(SCOPES).sort());
    expect(run.actions.find((action) => action.action_id === 'consistency_analysis')?.status).toBe('completed');
  });

  it('skips the analysis when analyze is false, and a route word is never taken for a workflow id', async () => {
    const reply = await api.call('POST', '/workflows/run', { body: { sources: [{ source: 'confluence', scope: SCOPES.confluence }], analyze: false } });
    expect(reply.status).toBe(202);
    const run = await finished(String(reply.body.data.execution_id));
    expect(run.actions.find((action) => action.action_id === 'consistency_analysis')?.status).toBe('skipped');
    // The fixed word: GET has no route there (405), and no workflow can ever be read as `run`.
    expect((await api.call('GET', '/workflows/run')).status).toBe(405);
    const empty = await api.call('POST', '/workflows/run', { body: { sources: [] } });
    expect(empty.status).toBe(400);
    expect(empty.body.details?.[0]).toEqual({ field: 'sources', message: 'sources must name at least one source' });
  });
});
