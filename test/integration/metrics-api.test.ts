import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';
import { until } from '../support/poll.ts';
import { readScrape, type Scrape } from '../unit/functions/observability/metrics-text.ts';

/**
 * `GET /metrics` of the local runtime, scraped over HTTP like Prometheus does: a service registered on
 * loopback, a workflow that calls it through the default action runner, and the counters, histograms and
 * gauges that this moved, read back with an independent parser.
 */

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;

const SERVICE = 'metrics_probe';
let service: Server;
let serviceUrl: string;
let runtime: LocalRuntime;
let call: Call;

beforeAll(async () => {
  service = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ ok: true }));
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
  ({ runtime, call } = await startTestApi());
});

afterAll(async () => {
  await runtime?.engine.idle();
  await runtime?.close();
  service.closeAllConnections();
  await new Promise((resolve) => service.close(resolve));
});

async function scrape(): Promise<{ status: number; contentType: string | null; metrics: Scrape }> {
  const response = await fetch(`${runtime.url}/metrics`);
  return { status: response.status, contentType: response.headers.get('content-type'), metrics: readScrape(await response.text()) };
}

describe('GET /metrics on the local runtime', () => {
  it('shows the requests, the run, its action and its service call, and the registry, dead letters and workflows as they are', async () => {
    const registered = await call<{ instance_id: string }>('POST', '/registry/register', { body: { name: SERVICE, url: serviceUrl } });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    const created = await call<{ workflow_id: string }>('POST', '/workflows', {
      body: { name: 'metered', actions: [{ action_id: 'probe', action_type: 'service_call', config: { service: SERVICE, endpoint: '/probe', method: 'POST', parameters: { n: 1 } } }] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const started = await call<{ execution_id: string }>('POST', `/workflows/${created.body.data.workflow_id}/execute`, { body: {} });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const executionId = started.body.data.execution_id;
    await until(async () => (await call<{ status: string }>('GET', `/workflows/executions/${executionId}`)).body.data.status === 'completed', 'the run to complete');
    await runtime.engine.idle();
    // A path no route serves.
    expect((await fetch(`${runtime.url}/no/such/route`)).status).toBe(404);

    const { status, contentType, metrics } = await scrape();
    expect(status).toBe(200);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');

    expect(metrics.value('orchestrator_runs_started_total')).toBe(1);
    expect(metrics.value('orchestrator_runs_ended_total', { status: 'completed' })).toBe(1);
    expect(metrics.histogram('orchestrator_run_duration_seconds', { status: 'completed' })?.count).toBe(1);
    expect(metrics.value('orchestrator_actions_ended_total', { type: 'service_call', status: 'completed' })).toBe(1);
    expect(metrics.histogram('orchestrator_action_duration_seconds', { type: 'service_call', status: 'completed' })?.count).toBe(1);
    expect(metrics.value('orchestrator_service_calls_total', { service: SERVICE, outcome: 'ok', error: 'none' })).toBe(1);
    expect(metrics.histogram('orchestrator_service_call_duration_seconds', { service: SERVICE })?.count).toBe(1);

    expect(metrics.value('orchestrator_http_requests_total', { route: 'registerService', method: 'POST', status: '201' })).toBe(1);
    expect(metrics.value('orchestrator_http_requests_total', { route: 'createWorkflow', method: 'POST', status: '201' })).toBe(1);
    expect(metrics.value('orchestrator_http_requests_total', { route: 'executeWorkflow', method: 'POST', status: '202' })).toBe(1);
    expect(metrics.value('orchestrator_http_requests_total', { route: 'getExecution', method: 'GET', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(metrics.value('orchestrator_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })).toBe(1);
    expect(metrics.histogram('orchestrator_http_request_duration_seconds', { route: 'executeWorkflow', method: 'POST' })?.count).toBe(1);

    // Gauges, read at the scrape: the instance just registered (not checked yet, circuit closed), the empty
    // dead-letter queue, the workflow.
    expect(metrics.value('orchestrator_circuit_state', { service: SERVICE, instance: registered.body.data.instance_id, state: 'closed' })).toBe(1);
    expect(metrics.value('orchestrator_registry_instances', { service: SERVICE, health: 'unknown' })).toBe(1);
    expect(metrics.value('orchestrator_registry_services', { status: 'unknown' })).toBe(1);
    expect(metrics.value('orchestrator_dead_letters', { queue: 'actions' })).toBe(0);
    expect(metrics.total('orchestrator_workflows')).toBe(1);
    expect(metrics.total('orchestrator_scrape_errors_total')).toBe(0);
    // A long-lived process: prom-client's process metrics too.
    expect(metrics.typeOf('process_cpu_user_seconds_total')).toBe('COUNTER');
  });

  it('counts its own scrapes', async () => {
    const before = (await scrape()).metrics.value('orchestrator_http_requests_total', { route: 'getMetrics', method: 'GET', status: '200' }) ?? 0;
    const after = (await scrape()).metrics.value('orchestrator_http_requests_total', { route: 'getMetrics', method: 'GET', status: '200' });
    expect(after).toBe(before + 1);
  });
});
