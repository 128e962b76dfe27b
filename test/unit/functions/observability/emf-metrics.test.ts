import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEmfMetrics } from '../../../../functions/observability/emf-metrics.ts';
import { combined } from '../../../../functions/observability/metric-recorder.ts';
import { createPrometheusMetrics } from '../../../../functions/observability/metrics.ts';
import { readScrape } from './metrics-text.ts';

/**
 * The EMF lines Powertools prints on stdout, captured and read as CloudWatch Logs would: one JSON document per
 * line with the `_aws.CloudWatchMetrics` directive naming the namespace, the dimension sets and the metrics,
 * and the values at the top level.
 */

interface EmfLine {
  _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

let printed: string[] = [];
beforeEach(() => {
  printed = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

function emfLines(): EmfLine[] {
  return printed
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EmfLine)
    .filter((line) => line._aws !== undefined);
}

/** The one line whose metrics include `name`. */
function lineWith(lines: readonly EmfLine[], name: string, dimensions: Record<string, string> = {}): EmfLine {
  const found = lines.filter((line) => line._aws.CloudWatchMetrics[0]!.Metrics.some((metric) => metric.Name === name) && Object.entries(dimensions).every(([key, value]) => line[key] === value));
  expect(found, `one EMF line with ${name} ${JSON.stringify(dimensions)}`).toHaveLength(1);
  return found[0]!;
}

describe('EMF metrics', () => {
  it('print HTTP requests as one line per route and status class: namespace, dimensions, units and values', () => {
    const metrics = createEmfMetrics({ serviceName: 'orchestrator-api' });
    metrics.httpRequest('getWorkflow', 'GET', 200, 0.02);
    metrics.httpRequest('getWorkflow', 'GET', 204, 0.3);
    metrics.httpRequest('getWorkflow', 'GET', 404, 0.001);
    expect(printed).toEqual([]);
    metrics.flush();
    const lines = emfLines();
    expect(lines).toHaveLength(2);
    const ok = lineWith(lines, 'HttpRequests', { status_class: '2xx' });
    expect(ok._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Orchestrator',
        Dimensions: [['service', 'route', 'status_class']],
        Metrics: [
          { Name: 'HttpRequests', Unit: 'Count' },
          { Name: 'HttpRequestDuration', Unit: 'Milliseconds' },
        ],
      },
    ]);
    expect(ok).toMatchObject({ service: 'orchestrator-api', route: 'getWorkflow', status_class: '2xx', HttpRequests: 2 });
    expect(ok['HttpRequestDuration']).toEqual([20, 300]);
    expect(lineWith(lines, 'HttpRequests', { status_class: '4xx' })).toMatchObject({ HttpRequests: 1, HttpRequestDuration: 1 });
  });

  it('print runs, actions and service calls with their own bounded dimensions', () => {
    const metrics = createEmfMetrics({ namespace: 'OrchestratorTest', serviceName: 'action-runner' });
    metrics.runStarted('wf-1');
    metrics.runEnded('completed', 12.5);
    metrics.runEnded('failed', undefined);
    metrics.actionEnded('service_call', 'completed', 0.25);
    metrics.serviceCall('payments', 'ok', undefined, 200, 0.05);
    metrics.serviceCall('payments', 'error', 'ServiceTimeoutError', undefined, 1);
    metrics.serviceCall('payments', 'error', 'NotAnActionError', undefined, 1);
    metrics.flush();
    const lines = emfLines();
    expect(new Set(lines.map((line) => line._aws.CloudWatchMetrics[0]!.Namespace))).toEqual(new Set(['OrchestratorTest']));
    const started = lineWith(lines, 'RunsStarted');
    expect(started._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service']]);
    expect(started).toMatchObject({ service: 'action-runner', RunsStarted: 1 });
    const completed = lineWith(lines, 'RunsEnded', { status: 'completed' });
    expect(completed._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'status']]);
    expect(completed).toMatchObject({ RunsEnded: 1, RunDuration: 12.5 });
    expect(completed._aws.CloudWatchMetrics[0]!.Metrics).toContainEqual({ Name: 'RunDuration', Unit: 'Seconds' });
    // A run without a known duration: counted, no duration value.
    const failed = lineWith(lines, 'RunsEnded', { status: 'failed' });
    expect(failed['RunDuration']).toBeUndefined();
    expect(lineWith(lines, 'ActionsEnded')).toMatchObject({ action_type: 'service_call', status: 'completed', ActionsEnded: 1, ActionDuration: 250 });
    const calls = lineWith(lines, 'ServiceCalls', { outcome: 'error' });
    expect(calls._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'called_service', 'outcome']]);
    expect(calls).toMatchObject({ called_service: 'payments', ServiceCalls: 2, ServiceCallDuration: [1000, 1000] });
    expect(lineWith(lines, 'ServiceCalls', { outcome: 'ok' })).toMatchObject({ ServiceCalls: 1, ServiceCallDuration: 50 });
    expect(lineWith(lines, 'ServiceCallErrors', { error: 'ServiceTimeoutError' })).toMatchObject({ ServiceCallErrors: 1 });
    expect(lineWith(lines, 'ServiceCallErrors', { error: 'other' })).toMatchObject({ ServiceCallErrors: 1 });
  });

  it('print nothing when nothing was recorded, and forget what a flush printed', () => {
    const metrics = createEmfMetrics({ serviceName: 'orchestrator-api' });
    metrics.flush();
    expect(emfLines()).toEqual([]);
    metrics.runStarted('wf');
    metrics.flush();
    metrics.flush();
    expect(emfLines()).toHaveLength(1);
  });

  it('split a dimension set with many values over several lines, each with its dimensions', () => {
    const metrics = createEmfMetrics({ serviceName: 'orchestrator-api' });
    for (let index = 0; index < 250; index++) metrics.httpRequest('listWorkflows', 'GET', 200, index / 1000);
    metrics.flush();
    const lines = emfLines();
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) {
      expect(line._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'route', 'status_class']]);
      expect(line).toMatchObject({ route: 'listWorkflows', status_class: '2xx' });
    }
    const values = lines.flatMap((line) => [line['HttpRequestDuration']].flat() as number[]);
    expect(values).toHaveLength(250);
    expect(lines.reduce((sum, line) => sum + Number(line['HttpRequests'] ?? 0), 0)).toBe(250);
  });

  it('fan out with the in-process registry: a Lambda\'s /metrics and CloudWatch see the same recording', async () => {
    const prometheus = createPrometheusMetrics();
    const emf = createEmfMetrics({ serviceName: 'orchestrator-api' });
    const both = combined(prometheus, emf);
    both.httpRequest('getMetrics', 'GET', 200, 0.01);
    both.flush?.();
    expect(lineWith(emfLines(), 'HttpRequests')).toMatchObject({ route: 'getMetrics', HttpRequests: 1 });
    expect(readScrape(await prometheus.render()).value('orchestrator_http_requests_total', { route: 'getMetrics', method: 'GET', status: '200' })).toBe(1);
  });
});
