import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type ApiReply } from '../support/api.ts';
import { startEcosystemStub, type StubRequest } from '../support/ecosystem-stub.ts';
import { until } from '../support/poll.ts';
import { bearer, hs256Token, randomSecret } from '../support/security.ts';

type Api = Awaited<ReturnType<typeof startTestApi>>;
type Stub = Awaited<ReturnType<typeof startEcosystemStub>>;
type Proxied = { service: string; status_code: number; response: unknown };

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const bodyOf = (request: StubRequest) => request.body as Record<string, unknown>;

/** The three proxies: the route, what the caller sends, and where (service, path) the body minus `kind` lands. */
const PROXIES = [
  { route: '/report/request', body: { kind: 'generate', report_type: 'weekly', format: 'markdown' }, service: 'reporting', path: '/reports/generate' },
  { route: '/report/request', body: { kind: 'life_of_ticket', ticket_id: 'PAY-7', include_events: true }, service: 'reporting', path: '/reports/life_of_ticket' },
  { route: '/report/request', body: { kind: 'pr_confidence', repo: 'acme/payments', pr_number: 12 }, service: 'reporting', path: '/reports/pr_confidence' },
  { route: '/summarization/suggest', body: { content: 'A long text.', policy: 'internal', format: 'bullets' }, service: 'secure_analyzer', path: '/suggest' },
  { route: '/docstore/save', body: { content: '# Doc', title: 'Doc', id: 'doc-1' }, service: 'doc_store', path: '/documents' },
] as const;

describe('ecosystem proxies: /report/request, /summarization/suggest, /docstore/save', () => {
  const secret = randomSecret();
  let api: Api;
  let reporting: Stub;
  let analyzer: Stub;
  let docStore: Stub;
  /** Calls to /documents per document id, for the flaky one. */
  const attempts = new Map<string, number>();

  beforeAll(async () => {
    const echo = (path: string) => (request: StubRequest) => ({ body: { handled: path, got: request.body, score: 0.9 } });
    reporting = await startEcosystemStub({
      'POST /reports/generate': echo('/reports/generate'),
      'POST /reports/life_of_ticket': (request) => (bodyOf(request).ticket_id === 'T-unknown' ? { status: 422, body: { message: 'ticket unknown' } } : echo('/reports/life_of_ticket')(request)),
      'POST /reports/pr_confidence': (request) =>
        bodyOf(request).pr_number === 429 ? { status: 429, headers: { 'retry-after': '7' }, body: { message: 'slow down' } } : bodyOf(request).pr_number === 500 ? { status: 500, body: { message: 'boom' } } : echo('/reports/pr_confidence')(request),
    });
    analyzer = await startEcosystemStub({ 'POST /suggest': echo('/suggest') });
    docStore = await startEcosystemStub({
      'POST /documents': (request) => {
        const id = String(bodyOf(request).id);
        attempts.set(id, (attempts.get(id) ?? 0) + 1);
        if (id.startsWith('flaky') && attempts.get(id) === 1) return { status: 503, body: { message: 'warming up' } };
        return echo('/documents')(request);
      },
    });
    api = await startTestApi({
      auth: { mode: 'optional', anonymousRole: 'admin', jwtSecret: secret },
      serviceUrls: { REPORTING_URL: reporting.url, SECURE_ANALYZER_URL: analyzer.url, DOC_STORE_URL: docStore.url },
    });
  });
  afterAll(async () => {
    await api?.runtime.close();
    await Promise.all([reporting?.close(), analyzer?.close(), docStore?.close()]);
  });

  const stubOf = (service: string) => ({ reporting, secure_analyzer: analyzer, doc_store: docStore })[service]!;

  for (const proxy of PROXIES) {
    it(`forwards ${proxy.route} ${'kind' in proxy.body ? `(${proxy.body.kind}) ` : ''}to ${proxy.service} POST ${proxy.path} and answers its reply in the envelope`, async () => {
      const stub = stubOf(proxy.service);
      const before = stub.requests.length;
      const [traceId, spanId] = [hex(16), hex(8)];
      const token = await hs256Token({ sub: 'alice', roles: ['operator'] }, secret);
      const reply = await api.call<Proxied>('POST', proxy.route, { body: proxy.body, headers: { ...bearer(token), traceparent: `00-${traceId}-${spanId}-01` } });
      expect(reply.status).toBe(200);
      const { kind: _kind, ...fields } = proxy.body as Record<string, unknown>;
      expect(reply.body.data).toEqual({ service: proxy.service, status_code: 200, response: { handled: proxy.path, got: fields, score: 0.9 } });
      const received = stub.requests.slice(before);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ method: 'POST', path: proxy.path, body: fields });
      const headers = received[0]!.headers;
      // The request's trace continues: same trace id, a span of the orchestrator's own as parent.
      expect(headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));
      expect(headers.traceparent).not.toContain(spanId);
      expect(headers['x-orchestrator-subject']).toBe('alice');
      expect(headers['x-orchestrator-tenant']).toBe('default');
      // The caller's credential is for this API only.
      expect(headers.authorization).toBeUndefined();
      expect(JSON.stringify(headers)).not.toContain(token);
    });
  }

  it("passes a service's 4xx on with its status and message, and a 429 with its Retry-After", async () => {
    const refused = await api.call('POST', '/report/request', { body: { kind: 'life_of_ticket', ticket_id: 'T-unknown' } });
    expect(refused.status).toBe(422);
    expect(refused.body.success).toBe(false);
    expect(refused.body.message).toContain('ticket unknown');
    const throttled = await api.call('POST', '/report/request', { body: { kind: 'pr_confidence', repo: 'acme/payments', pr_number: 429 } });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect(throttled.body.message).toContain('slow down');
  });

  it('answers 502 when the service fails with a 500', async () => {
    const reply = await api.call('POST', '/report/request', { body: { kind: 'pr_confidence', repo: 'acme/payments', pr_number: 500 } });
    expect(reply.status).toBe(502);
    expect(reply.body.success).toBe(false);
  });

  it('retries a POST with an Idempotency-Key after a 503 (same key both times), and tries one without a key once', async () => {
    const keyed = await api.call<Proxied>('POST', '/docstore/save', { body: { content: 'x', id: 'flaky-keyed' }, headers: { 'idempotency-key': 'save-flaky-1' } });
    expect(keyed.status).toBe(200);
    expect(keyed.body.data.status_code).toBe(200);
    const seen = docStore.requests.filter((request) => bodyOf(request).id === 'flaky-keyed');
    expect(seen).toHaveLength(2);
    expect(seen.map((request) => request.headers['idempotency-key'])).toEqual(['save-flaky-1', 'save-flaky-1']);

    const unkeyed = await api.call('POST', '/docstore/save', { body: { content: 'x', id: 'flaky-unkeyed' } });
    expect(unkeyed.status).toBe(502);
    expect(docStore.requests.filter((request) => bodyOf(request).id === 'flaky-unkeyed')).toHaveLength(1);
  });

  it('refuses an unknown kind naming the accepted ones, and life_of_ticket without ticket_id', async () => {
    const before = reporting.requests.length;
    const unknown = await api.call('POST', '/report/request', { body: { kind: 'burndown' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.details).toContainEqual({ field: 'kind', message: expect.stringContaining('generate, life_of_ticket, pr_confidence') });
    const noTicket = await api.call('POST', '/report/request', { body: { kind: 'life_of_ticket' } });
    expect(noTicket.status).toBe(400);
    expect(noTicket.body.details?.map((detail) => detail.field)).toContain('ticket_id');
    expect(reporting.requests.length).toBe(before);
  });

  it('records each forward as a proxy span listed among the calls to the service', async () => {
    const traceId = hex(16);
    const reply = await api.call('POST', '/report/request', { body: { kind: 'generate' }, headers: { traceparent: `00-${traceId}-${hex(8)}-01` } });
    expect(reply.status).toBe(200);
    let listed: ApiReply<{ calls: Array<{ trace_id: string; name: string; outcome: string; status_code?: number }> }> | undefined;
    await until(async () => {
      listed = await api.call('GET', '/infrastructure/tracing/service/reporting?limit=50');
      return listed.body.data.calls.some((entry) => entry.trace_id === traceId);
    }, 'the proxy span of reporting', 10_000, 50);
    expect(listed!.body.data.calls.find((entry) => entry.trace_id === traceId)).toMatchObject({ name: 'POST reporting', outcome: 'ok', status_code: 200 });
  });

  it("counts each forward among the service's calls in /metrics", async () => {
    const calls = async () => {
      const text = String((await api.call('GET', '/metrics')).body.data);
      return Number(/^orchestrator_service_calls_total\{service="doc_store",outcome="ok",error="none"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const before = await calls();
    expect((await api.call('POST', '/docstore/save', { body: { content: 'counted' } })).status).toBe(200);
    expect(await calls()).toBe(before + 1);
  });
});

describe('ecosystem proxies when the service is down, slow or unknown', () => {
  const SLOW_MS = 3000;
  let api: Api;
  let closed: Stub;
  let slow: Stub;

  beforeAll(async () => {
    closed = await startEcosystemStub({});
    await closed.close();
    slow = await startEcosystemStub({ 'POST /documents': () => ({ delayMs: SLOW_MS, body: { saved: true } }) });
    // No SECURE_ANALYZER_URL and nothing registered under secure_analyzer.
    api = await startTestApi({ proxyTimeoutSeconds: 0.5, serviceUrls: { REPORTING_URL: closed.url, DOC_STORE_URL: slow.url } });
  });
  afterAll(async () => {
    await api?.runtime.close();
    await slow?.close();
  });

  it('answers 502 when the connection is refused', async () => {
    const reply = await api.call('POST', '/report/request', { body: { kind: 'generate' } });
    expect(reply.status).toBe(502);
    expect(reply.body.message).toContain('reporting');
  });

  it('answers 503 for a service with no URL configured and no registered instance', async () => {
    const reply = await api.call('POST', '/summarization/suggest', { body: { content: 'text' } });
    expect(reply.status).toBe(503);
    expect(reply.body.message).toContain('secure_analyzer');
  });

  it('answers 504 within the proxy timeout when the service is slower, long before it would have answered', async () => {
    const started = Date.now();
    const reply = await api.call('POST', '/docstore/save', { body: { content: 'x' } });
    const took = Date.now() - started;
    expect(reply.status).toBe(504);
    expect(took).toBeLessThan(SLOW_MS / 2);
    expect(slow.requests).toHaveLength(1);
  });
});

describe('ecosystem proxies behind an open circuit', () => {
  let api: Api;
  let failing: Stub;

  beforeAll(async () => {
    failing = await startEcosystemStub({ 'POST /suggest': () => ({ status: 500, body: { message: 'broken' } }) });
    api = await startTestApi({ circuitPolicy: { failureThreshold: 2, windowSeconds: 60, cooldownSeconds: 60 } });
  });
  afterAll(async () => {
    await api?.runtime.close();
    await failing?.close();
  });

  it('answers 503 without calling the instance once its circuit opened', async () => {
    const registered = await api.call('POST', '/registry/register', { body: { name: 'secure_analyzer', url: failing.url, instance_id: 'analyzer-1' } });
    expect(registered.status).toBeLessThan(300);
    for (let failure = 0; failure < 2; failure += 1) {
      const reply = await api.call('POST', '/summarization/suggest', { body: { content: 'text' } });
      expect(reply.status).toBe(502);
    }
    expect(failing.requests).toHaveLength(2);
    const service = await api.call<{ instances: Array<{ circuit: { state: string } }> }>('GET', '/registry/secure_analyzer');
    expect(service.body.data.instances[0]?.circuit.state).toBe('open');
    const reply = await api.call('POST', '/summarization/suggest', { body: { content: 'text' } });
    expect(reply.status).toBe(503);
    expect(failing.requests).toHaveLength(2);
  });
});
