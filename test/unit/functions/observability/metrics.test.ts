import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { QueueCounts } from '../../../../core/dead-letters/ports.ts';
import { CLOSED_CIRCUIT, INITIAL_HEALTH, type CircuitStateName, type HealthStatus, type ServiceInstance } from '../../../../core/registry/model.ts';
import { combined, MAX_MODEL_LABELS, MAX_SERVICE_LABELS, noopMetrics, type MetricsRecorder } from '../../../../functions/observability/metric-recorder.ts';
import { createPrometheusMetrics, queueDepths } from '../../../../functions/observability/metrics.ts';
import { readScrape } from './metrics-text.ts';

const NOW = '2026-11-01T12:00:00.000Z';

function instance(name: string, id: string, health: HealthStatus, circuit: CircuitStateName, expiresAt?: string): ServiceInstance {
  return {
    name,
    instance_id: id,
    url: `http://${id}.example.com`,
    health_path: '/health',
    tags: [],
    metadata: {},
    registered_at: '2026-11-01T00:00:00.000Z',
    updated_at: '2026-11-01T00:00:00.000Z',
    ...(expiresAt === undefined ? {} : { ttl_seconds: 60, expires_at: expiresAt }),
    health: { ...INITIAL_HEALTH, status: health },
    circuit: { ...CLOSED_CIRCUIT, state: circuit },
  };
}

describe('the Prometheus metrics', () => {
  it('render every orchestrator family in the text format, typed, before anything is recorded', async () => {
    const scrape = readScrape(await createPrometheusMetrics().render());
    expect(Object.fromEntries(scrape.families.filter((family) => family.name.startsWith('orchestrator_')).map((family) => [family.name, family.type]))).toEqual({
      orchestrator_http_requests_total: 'COUNTER',
      orchestrator_http_request_duration_seconds: 'HISTOGRAM',
      orchestrator_runs_started_total: 'COUNTER',
      orchestrator_runs_ended_total: 'COUNTER',
      orchestrator_run_duration_seconds: 'HISTOGRAM',
      orchestrator_actions_ended_total: 'COUNTER',
      orchestrator_action_duration_seconds: 'HISTOGRAM',
      orchestrator_service_calls_total: 'COUNTER',
      orchestrator_service_call_duration_seconds: 'HISTOGRAM',
      orchestrator_llm_tokens_total: 'COUNTER',
      orchestrator_circuit_state: 'GAUGE',
      orchestrator_registry_instances: 'GAUGE',
      orchestrator_registry_services: 'GAUGE',
      orchestrator_dead_letters: 'GAUGE',
      orchestrator_workflows: 'GAUGE',
      orchestrator_scrape_errors_total: 'COUNTER',
    });
    expect(scrape.value('orchestrator_runs_started_total')).toBe(0);
    // No process metrics unless asked for (noise in a Lambda).
    expect(scrape.families.some((family) => family.name.startsWith('process_') || family.name.startsWith('nodejs_'))).toBe(false);
  });

  it("count llm actions' tokens by model and direction, folding models past the label limit into other", async () => {
    const metrics = createPrometheusMetrics();
    metrics.llmTokens?.('anthropic.claude-3-5-haiku-20241022-v1:0', 'input', 120);
    metrics.llmTokens?.('anthropic.claude-3-5-haiku-20241022-v1:0', 'input', 30);
    metrics.llmTokens?.('anthropic.claude-3-5-haiku-20241022-v1:0', 'output', 9);
    metrics.llmTokens?.('gpt-4o-mini', 'output', -1);
    for (let index = 0; index < MAX_MODEL_LABELS + 5; index++) metrics.llmTokens?.(`model-${index}`, 'output', 1);
    const scrape = readScrape(await metrics.render());
    expect(scrape.value('orchestrator_llm_tokens_total', { model: 'anthropic.claude-3-5-haiku-20241022-v1:0', direction: 'input' })).toBe(150);
    expect(scrape.value('orchestrator_llm_tokens_total', { model: 'anthropic.claude-3-5-haiku-20241022-v1:0', direction: 'output' })).toBe(9);
    // A negative count is no count.
    expect(scrape.value('orchestrator_llm_tokens_total', { model: 'gpt-4o-mini', direction: 'output' })).toBeUndefined();
    expect(scrape.value('orchestrator_llm_tokens_total', { model: 'other', direction: 'output' })).toBe(6);
  });

  it('count HTTP requests by route, method and status, and observe their latency in buckets', async () => {
    const metrics = createPrometheusMetrics();
    metrics.httpRequest('getWorkflow', 'GET', 200, 0.02);
    metrics.httpRequest('getWorkflow', 'GET', 200, 0.3);
    metrics.httpRequest('getWorkflow', 'GET', 404, 0.001);
    metrics.httpRequest('createWorkflow', 'post', 401, 0.004);
    metrics.httpRequest('unmatched', 'GET', 404, 0.0005);
    const scrape = readScrape(await metrics.render());
    expect(scrape.value('orchestrator_http_requests_total', { route: 'getWorkflow', method: 'GET', status: '200' })).toBe(2);
    expect(scrape.value('orchestrator_http_requests_total', { route: 'getWorkflow', method: 'GET', status: '404' })).toBe(1);
    expect(scrape.value('orchestrator_http_requests_total', { route: 'createWorkflow', method: 'POST', status: '401' })).toBe(1);
    expect(scrape.value('orchestrator_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })).toBe(1);
    const latency = scrape.histogram('orchestrator_http_request_duration_seconds', { route: 'getWorkflow', method: 'GET' });
    expect(latency?.count).toBe(3);
    expect(latency?.sum).toBeCloseTo(0.321, 6);
    // Cumulative: 0.001 in every bucket, 0.02 from 0.025 on, 0.3 from 0.5 on.
    expect(latency?.buckets).toMatchObject({ '0.005': 1, '0.01': 1, '0.025': 2, '0.25': 2, '0.5': 3, '+Inf': 3 });
  });

  it('count runs started and ended by status, actions by type and status, with durations when known', async () => {
    const metrics = createPrometheusMetrics();
    metrics.runStarted('wf-1');
    metrics.runStarted('wf-2');
    metrics.runEnded('completed', 12);
    metrics.runEnded('failed', undefined);
    metrics.actionEnded('service_call', 'completed', 0.2);
    metrics.actionEnded('service_call', 'completed', 0.4);
    metrics.actionEnded('wait', 'skipped', undefined);
    const scrape = readScrape(await metrics.render());
    expect(scrape.value('orchestrator_runs_started_total')).toBe(2);
    expect(scrape.value('orchestrator_runs_ended_total', { status: 'completed' })).toBe(1);
    expect(scrape.value('orchestrator_runs_ended_total', { status: 'failed' })).toBe(1);
    expect(scrape.histogram('orchestrator_run_duration_seconds', { status: 'completed' })).toMatchObject({ count: 1, sum: 12 });
    // A run whose duration is unknown is counted, not observed.
    expect(scrape.histogram('orchestrator_run_duration_seconds', { status: 'failed' })).toBeUndefined();
    expect(scrape.value('orchestrator_actions_ended_total', { type: 'service_call', status: 'completed' })).toBe(2);
    expect(scrape.histogram('orchestrator_action_duration_seconds', { type: 'service_call', status: 'completed' })?.sum).toBeCloseTo(0.6, 6);
    expect(scrape.value('orchestrator_actions_ended_total', { type: 'wait', status: 'skipped' })).toBe(1);
  });

  it('count service calls by service, outcome and error name, with their latency by service', async () => {
    const metrics = createPrometheusMetrics();
    metrics.serviceCall('payments', 'ok', undefined, 200, 0.05);
    metrics.serviceCall('payments', 'error', 'ServiceUnavailableError', 503, 0.5);
    metrics.serviceCall('payments', 'error', 'ServiceUnavailableError', 503, 0.7);
    metrics.serviceCall('payments', 'error', 'SomethingNobodyDeclared', undefined, 0.1);
    const scrape = readScrape(await metrics.render());
    expect(scrape.value('orchestrator_service_calls_total', { service: 'payments', outcome: 'ok', error: 'none' })).toBe(1);
    expect(scrape.value('orchestrator_service_calls_total', { service: 'payments', outcome: 'error', error: 'ServiceUnavailableError' })).toBe(2);
    // Error names are those of core/errors.ts; anything else is `other`.
    expect(scrape.value('orchestrator_service_calls_total', { service: 'payments', outcome: 'error', error: 'other' })).toBe(1);
    expect(scrape.histogram('orchestrator_service_call_duration_seconds', { service: 'payments' })).toMatchObject({ count: 4 });
  });

  it('escape label values, which read back as they were recorded', async () => {
    const metrics = createPrometheusMetrics();
    const odd = 'say "hi"\\ to\nme';
    metrics.serviceCall(odd, 'ok', undefined, 200, 0.01);
    const text = await metrics.render();
    expect(text).toContain('service="say \\"hi\\"\\\\ to\\nme"');
    expect(readScrape(text).value('orchestrator_service_calls_total', { service: odd, outcome: 'ok', error: 'none' })).toBe(1);
  });

  it('bound every label: unknown methods, statuses, run statuses and action types become other, and services past the limit too', async () => {
    const metrics = createPrometheusMetrics();
    metrics.httpRequest('getWorkflow', 'BREW', 999, 0.01);
    metrics.runEnded('exploded', 1);
    metrics.actionEnded('teleport', 'vanished', 1);
    for (let index = 0; index <= MAX_SERVICE_LABELS; index++) metrics.serviceCall(`service-${index}`, 'ok', undefined, 200, 0.01);
    const scrape = readScrape(await metrics.render());
    expect(scrape.value('orchestrator_http_requests_total', { route: 'getWorkflow', method: 'other', status: 'other' })).toBe(1);
    expect(scrape.value('orchestrator_runs_ended_total', { status: 'other' })).toBe(1);
    expect(scrape.value('orchestrator_actions_ended_total', { type: 'other', status: 'other' })).toBe(1);
    expect(scrape.samples('orchestrator_service_calls_total')).toHaveLength(MAX_SERVICE_LABELS + 1);
    expect(scrape.value('orchestrator_service_calls_total', { service: 'service-0', outcome: 'ok', error: 'none' })).toBe(1);
    expect(scrape.value('orchestrator_service_calls_total', { service: 'other', outcome: 'ok', error: 'none' })).toBe(1);
  });

  it('read the gauges at scrape time: circuits, instances by health, services by status, dead letters and workflows', async () => {
    let instances = [
      instance('payments', 'p1', 'healthy', 'closed'),
      instance('payments', 'p2', 'unhealthy', 'open'),
      instance('search', 's1', 'healthy', 'half_open'),
      // Expired registrations are not live: left out.
      instance('ghost', 'g1', 'healthy', 'closed', '2026-11-01T11:00:00.000Z'),
    ];
    const metrics = createPrometheusMetrics({
      now: () => NOW,
      gauges: {
        services: async () => instances,
        deadLetters: queueDepths({ actions: { counts: async (): Promise<QueueCounts> => ({ visible: 4, inFlight: 1 }) }, deliveries: { counts: async (): Promise<QueueCounts> => ({ visible: 0, inFlight: 0 }) } }),
        workflows: async () => ({ active: 7, draft: 2 }),
      },
    });
    let scrape = readScrape(await metrics.render());
    expect(scrape.value('orchestrator_circuit_state', { service: 'payments', instance: 'p1', state: 'closed' })).toBe(1);
    expect(scrape.value('orchestrator_circuit_state', { service: 'payments', instance: 'p1', state: 'open' })).toBe(0);
    expect(scrape.value('orchestrator_circuit_state', { service: 'payments', instance: 'p2', state: 'open' })).toBe(1);
    expect(scrape.value('orchestrator_circuit_state', { service: 'search', instance: 's1', state: 'half_open' })).toBe(1);
    expect(scrape.samples('orchestrator_circuit_state', { service: 'ghost' })).toEqual([]);
    expect(scrape.value('orchestrator_registry_instances', { service: 'payments', health: 'healthy' })).toBe(1);
    expect(scrape.value('orchestrator_registry_instances', { service: 'payments', health: 'unhealthy' })).toBe(1);
    expect(scrape.value('orchestrator_registry_instances', { service: 'payments', health: 'unknown' })).toBe(0);
    // payments has one usable instance of two (degraded); search's only instance is half open, healthy.
    expect(scrape.value('orchestrator_registry_services', { status: 'degraded' })).toBe(1);
    expect(scrape.value('orchestrator_registry_services', { status: 'healthy' })).toBe(1);
    expect(scrape.value('orchestrator_registry_services', { status: 'unhealthy' })).toBe(0);
    expect(scrape.value('orchestrator_dead_letters', { queue: 'actions' })).toBe(4);
    expect(scrape.value('orchestrator_dead_letters', { queue: 'deliveries' })).toBe(0);
    expect(scrape.value('orchestrator_workflows', { status: 'active' })).toBe(7);
    expect(scrape.value('orchestrator_workflows', { status: 'draft' })).toBe(2);
    expect(scrape.total('orchestrator_scrape_errors_total')).toBe(0);

    // A service deregistered since: gone from the next scrape, not left with its old values.
    instances = instances.filter((entry) => entry.name !== 'search');
    scrape = readScrape(await metrics.render());
    expect(scrape.samples('orchestrator_circuit_state', { service: 'search' })).toEqual([]);
    expect(scrape.samples('orchestrator_registry_instances', { service: 'search' })).toEqual([]);
    expect(scrape.value('orchestrator_registry_services', { status: 'healthy' })).toBe(0);
  });

  it('leave out the gauges of a source that fails, count the failure, and render the rest', async () => {
    let failing = true;
    const metrics = createPrometheusMetrics({
      now: () => NOW,
      gauges: {
        services: async () => [instance('payments', 'p1', 'healthy', 'closed')],
        deadLetters: async () => {
          if (failing) throw new Error('GetQueueAttributes: access denied');
          return { actions: 3 };
        },
        workflows: async () => ({ active: 1 }),
      },
    });
    metrics.runStarted('wf-1');
    let scrape = readScrape(await metrics.render());
    expect(scrape.samples('orchestrator_dead_letters')).toEqual([]);
    expect(scrape.value('orchestrator_scrape_errors_total', { source: 'dead_letters' })).toBe(1);
    expect(scrape.value('orchestrator_scrape_errors_total', { source: 'services' })).toBe(0);
    expect(scrape.value('orchestrator_workflows', { status: 'active' })).toBe(1);
    expect(scrape.value('orchestrator_circuit_state', { service: 'payments', instance: 'p1', state: 'closed' })).toBe(1);
    expect(scrape.value('orchestrator_runs_started_total')).toBe(1);

    failing = false;
    scrape = readScrape(await metrics.render());
    expect(scrape.value('orchestrator_dead_letters', { queue: 'actions' })).toBe(3);
    expect(scrape.value('orchestrator_scrape_errors_total', { source: 'dead_letters' })).toBe(1);
  });

  it('count a source that does not answer in time as failed, without waiting for it', async () => {
    const metrics = createPrometheusMetrics({ sourceTimeoutMs: 20, gauges: { workflows: () => new Promise(() => undefined), deadLetters: async () => ({ actions: 0 }) } });
    const started = performance.now();
    const scrape = readScrape(await metrics.render());
    expect(performance.now() - started).toBeLessThan(2000);
    expect(scrape.value('orchestrator_scrape_errors_total', { source: 'workflows' })).toBe(1);
    expect(scrape.value('orchestrator_dead_letters', { queue: 'actions' })).toBe(0);
  });

  it('fail the dead-letter source when one queue cannot be read, rather than showing 0 for it', async () => {
    const depths = queueDepths({ actions: { counts: async () => ({ visible: 2, inFlight: 0 }) }, deliveries: { counts: async () => Promise.reject(new Error('no such queue')) }, deployments: undefined });
    await expect(depths()).rejects.toThrow('no such queue');
    await expect(queueDepths({ actions: { counts: async () => ({ visible: 2, inFlight: 5 }) } })()).resolves.toEqual({ actions: 2 });
  });

  it('add the process metrics when asked, in the registry given', async () => {
    const registry = new Registry();
    const metrics = createPrometheusMetrics({ registry, processMetrics: true });
    expect(metrics.registry).toBe(registry);
    const scrape = readScrape(await metrics.render());
    expect(scrape.typeOf('process_cpu_user_seconds_total')).toBe('COUNTER');
    expect(scrape.typeOf('nodejs_eventloop_lag_seconds')).toBe('GAUGE');
  });

  it('keep two recorders apart (each runtime of a process has its own registry)', async () => {
    const first = createPrometheusMetrics();
    const second = createPrometheusMetrics();
    first.runStarted('wf');
    expect(readScrape(await first.render()).value('orchestrator_runs_started_total')).toBe(1);
    expect(readScrape(await second.render()).value('orchestrator_runs_started_total')).toBe(0);
  });
});

describe('combined recorders', () => {
  it('give every recording to each recorder, even when one throws, and flush them all', async () => {
    const prometheus = createPrometheusMetrics();
    const flushed: string[] = [];
    const broken: MetricsRecorder = {
      ...noopMetrics,
      runStarted: () => {
        throw new Error('broken recorder');
      },
      flush: () => {
        flushed.push('broken');
        throw new Error('broken flush');
      },
    };
    const both = combined(broken, prometheus, { ...noopMetrics, flush: () => flushed.push('other') });
    expect(() => both.runStarted('wf')).not.toThrow();
    both.serviceCall('payments', 'ok', undefined, 200, 0.1);
    expect(() => both.flush?.()).not.toThrow();
    const scrape = readScrape(await prometheus.render());
    expect(scrape.value('orchestrator_runs_started_total')).toBe(1);
    expect(scrape.value('orchestrator_service_calls_total', { service: 'payments', outcome: 'ok', error: 'none' })).toBe(1);
    expect(flushed).toEqual(['broken', 'other']);
  });
});
