import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DeadLetterInspector } from '../../core/dead-letters/ports.ts';
import { isExpired, serviceStatus, type CircuitStateName, type HealthStatus, type ServiceInstance } from '../../core/registry/model.ts';
import type { MetricsExposition } from '../http/observability-services.ts';
import { bounded, DistinctLabel, MAX_MODEL_LABELS, MAX_ROUTE_LABELS, MAX_SERVICE_LABELS, OTHER, validSeconds, type MetricsRecorder } from './metric-recorder.ts';

/** The Prometheus recorder (prom-client): what `GET /metrics` renders. The recorder's contract and its bounded labels are in metric-recorder.ts. */

// ---- Prometheus ----------------------------------------------------------------------------------------------

/**
 * What the gauges read at scrape time. Each is optional (a runtime without a registry table leaves it out) and
 * each may fail alone: its gauges are then missing from that scrape and `orchestrator_scrape_errors_total`
 * counts it. Every source must be cheap: one Query of the registry's list index, one GetQueueAttributes per
 * queue, the workflow store's maintained counts.
 */
export interface GaugeSources {
  /** Every registered instance (ServiceRegistry.list); expired ones are left out here. */
  readonly services?: () => Promise<readonly ServiceInstance[]>;
  /** Approximate messages waiting in each dead-letter queue, by queue name (queueDepths). */
  readonly deadLetters?: () => Promise<Readonly<Record<string, number>>>;
  /** Workflows by status (WorkflowStore.counts().byStatus). */
  readonly workflows?: () => Promise<Readonly<Record<string, number>>>;
}

export type GaugeSourceName = 'services' | 'dead_letters' | 'workflows';

export interface PrometheusMetricsOptions {
  /** Default: a registry of its own (never prom-client's global one: several runtimes may share a process). */
  readonly registry?: Registry;
  readonly gauges?: GaugeSources;
  /** prom-client's process metrics (CPU, memory, event loop lag, GC): for a long-lived process; noise in Lambda. */
  readonly processMetrics?: boolean;
  /** A source that has not answered by then fails (and is counted); default 5000 ms. */
  readonly sourceTimeoutMs?: number;
  /** Instance expiry is judged at this time; default the system clock. */
  readonly now?: () => string;
}

export type PrometheusMetrics = MetricsRecorder &
  MetricsExposition & {
    readonly registry: Registry;
  };

const CIRCUIT_STATES: readonly CircuitStateName[] = ['closed', 'open', 'half_open'];
const HEALTH_STATUSES: readonly HealthStatus[] = ['healthy', 'degraded', 'unhealthy', 'unknown'];

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SERVICE_CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const ACTION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
const RUN_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];

/**
 * The recorder behind `GET /metrics`: counters and histograms kept in a prom-client registry, gauges read from
 * `gauges` on each render. Renders run one at a time, so two scrapes never interleave their gauge values.
 */
export function createPrometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const routes = new DistinctLabel(MAX_ROUTE_LABELS);
  const services = new DistinctLabel(MAX_SERVICE_LABELS);
  const models = new DistinctLabel(MAX_MODEL_LABELS);

  const httpRequests = new Counter({ name: 'orchestrator_http_requests_total', help: 'HTTP requests answered, by route name (or unmatched), method and status code', labelNames: ['route', 'method', 'status'], registers });
  const httpDuration = new Histogram({ name: 'orchestrator_http_request_duration_seconds', help: 'Time to answer an HTTP request, from the handler receiving it to its response', labelNames: ['route', 'method'], buckets: HTTP_BUCKETS, registers });
  const runsStarted = new Counter({ name: 'orchestrator_runs_started_total', help: 'Workflow runs that started (pending to running)', registers });
  const runsEnded = new Counter({ name: 'orchestrator_runs_ended_total', help: 'Workflow runs that ended, by final status', labelNames: ['status'], registers });
  const runDuration = new Histogram({ name: 'orchestrator_run_duration_seconds', help: 'Duration of the runs that ended, by final status (runs whose start this process saw)', labelNames: ['status'], buckets: RUN_BUCKETS, registers });
  const actionsEnded = new Counter({ name: 'orchestrator_actions_ended_total', help: 'Actions that ended, by action type and status (completed, failed, skipped)', labelNames: ['type', 'status'], registers });
  const actionDuration = new Histogram({ name: 'orchestrator_action_duration_seconds', help: 'Duration of the actions that ended, by action type and status (actions whose start this process saw)', labelNames: ['type', 'status'], buckets: ACTION_BUCKETS, registers });
  const serviceCalls = new Counter({ name: 'orchestrator_service_calls_total', help: 'Service calls by the action runner (each attempt), by service, outcome and error name (none when ok)', labelNames: ['service', 'outcome', 'error'], registers });
  const llmTokens = new Counter({ name: 'orchestrator_llm_tokens_total', help: 'Tokens of the model calls of llm actions that answered, by model and direction (input, output)', labelNames: ['model', 'direction'], registers });
  const serviceCallDuration = new Histogram({ name: 'orchestrator_service_call_duration_seconds', help: 'Duration of service calls (each attempt), by service', labelNames: ['service'], buckets: SERVICE_CALL_BUCKETS, registers });

  const circuitState = new Gauge({ name: 'orchestrator_circuit_state', help: 'Circuit breaker of each registered instance: 1 for its current state, 0 for the others', labelNames: ['service', 'instance', 'state'], registers });
  const registryInstances = new Gauge({ name: 'orchestrator_registry_instances', help: 'Registered (unexpired) instances, by service and health status', labelNames: ['service', 'health'], registers });
  const registryServices = new Gauge({ name: 'orchestrator_registry_services', help: 'Registered services, by the status their instances sum up to', labelNames: ['status'], registers });
  const deadLetters = new Gauge({ name: 'orchestrator_dead_letters', help: 'Approximate messages waiting in each dead-letter queue', labelNames: ['queue'], registers });
  const workflows = new Gauge({ name: 'orchestrator_workflows', help: 'Workflows, by status (the store\'s maintained counts)', labelNames: ['status'], registers });
  const scrapeErrors = new Counter({ name: 'orchestrator_scrape_errors_total', help: 'Gauge sources that failed or timed out during a scrape (their gauges were left out of it)', labelNames: ['source'], registers });

  const sources = options.gauges ?? {};
  const configured: [GaugeSourceName, (() => Promise<unknown>) | undefined][] = [
    ['services', sources.services],
    ['dead_letters', sources.deadLetters],
    ['workflows', sources.workflows],
  ];
  // Every configured source has its error series from the start: rate() needs the 0 before the first failure.
  for (const [source, read] of configured) if (read) scrapeErrors.inc({ source }, 0);
  const timeoutMs = options.sourceTimeoutMs ?? 5000;
  const now = options.now ?? (() => new Date().toISOString());

  /** The source's value, or undefined (counted) when it failed or took too long. */
  const read = async <T>(source: GaugeSourceName, reader: (() => Promise<T>) | undefined): Promise<T | undefined> => {
    if (!reader) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${source} did not answer within ${timeoutMs} ms`)), timeoutMs);
        timer.unref?.();
      });
      return await Promise.race([reader(), timeout]);
    } catch {
      scrapeErrors.inc({ source });
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  };

  const setServiceGauges = (instances: readonly ServiceInstance[]): void => {
    const at = now();
    const byService = new Map<string, ServiceInstance[]>();
    for (const instance of instances) {
      if (isExpired(instance, at)) continue;
      const group = byService.get(instance.name);
      if (group) group.push(instance);
      else byService.set(instance.name, [instance]);
    }
    const servicesByStatus = new Map<HealthStatus, number>(HEALTH_STATUSES.map((status) => [status, 0]));
    for (const [name, group] of byService) {
      const service = services.of(name);
      const healthCounts = new Map<HealthStatus, number>(HEALTH_STATUSES.map((status) => [status, 0]));
      for (const instance of group) {
        healthCounts.set(instance.health.status, (healthCounts.get(instance.health.status) ?? 0) + 1);
        for (const state of CIRCUIT_STATES) circuitState.set({ service, instance: instance.instance_id, state }, instance.circuit.state === state ? 1 : 0);
      }
      // `other` (past MAX_SERVICE_LABELS) sums every service folded into it.
      for (const [health, count] of healthCounts) registryInstances.inc({ service, health }, count);
      const status = serviceStatus(group);
      servicesByStatus.set(status, (servicesByStatus.get(status) ?? 0) + 1);
    }
    for (const [status, count] of servicesByStatus) registryServices.set({ status }, count);
  };

  const setCounts = (gauge: Gauge, label: string, counts: Readonly<Record<string, number>>): void => {
    for (const [value, count] of Object.entries(counts)) if (Number.isFinite(count)) gauge.set({ [label]: value }, count);
  };

  const renderNow = async (): Promise<string> => {
    const [instances, depths, counts] = await Promise.all([read('services', sources.services), read('dead_letters', sources.deadLetters), read('workflows', sources.workflows)]);
    // Reset before setting: a service removed since the last scrape must not linger with its old values.
    for (const gauge of [circuitState, registryInstances, registryServices, deadLetters, workflows]) gauge.reset();
    if (instances) setServiceGauges(instances);
    if (depths) setCounts(deadLetters, 'queue', depths);
    if (counts) setCounts(workflows, 'status', counts);
    return registry.metrics();
  };

  let previous: Promise<unknown> = Promise.resolve();
  return {
    registry,
    render() {
      const rendered = previous.then(renderNow);
      previous = rendered.catch(() => undefined);
      return rendered;
    },
    httpRequest(route, method, status, seconds) {
      const labels = { route: routes.of(route), method: bounded.method(method) };
      httpRequests.inc({ ...labels, status: bounded.status(status) });
      if (validSeconds(seconds)) httpDuration.observe(labels, seconds);
    },
    runStarted() {
      runsStarted.inc();
    },
    runEnded(status, seconds) {
      const labels = { status: bounded.runStatus(status) };
      runsEnded.inc(labels);
      if (validSeconds(seconds)) runDuration.observe(labels, seconds);
    },
    actionEnded(actionType, status, seconds) {
      const labels = { type: bounded.actionType(actionType), status: bounded.actionStatus(status) };
      actionsEnded.inc(labels);
      if (validSeconds(seconds)) actionDuration.observe(labels, seconds);
    },
    serviceCall(service, outcome, errorName, _statusCode, seconds) {
      const label = services.of(service);
      serviceCalls.inc({ service: label, outcome, error: outcome === 'ok' ? 'none' : bounded.error(errorName ?? OTHER) });
      if (validSeconds(seconds)) serviceCallDuration.observe({ service: label }, seconds);
    },
    llmTokens(model, direction, tokens) {
      if (!Number.isFinite(tokens) || tokens < 0) return;
      llmTokens.inc({ model: models.of(model), direction: direction === 'input' ? 'input' : 'output' }, tokens);
    },
  };
}

/**
 * The `deadLetters` gauge source from the queues' inspectors (SQS GetQueueAttributes, one per queue, read in
 * parallel): each queue's visible messages. One queue that cannot be read fails the source (its gauge is left
 * out and counted) rather than showing a misleading 0.
 */
export function queueDepths(inspectors: Readonly<Record<string, Pick<DeadLetterInspector, 'counts'> | undefined>>): () => Promise<Record<string, number>> {
  const queues = Object.entries(inspectors).filter((entry): entry is [string, Pick<DeadLetterInspector, 'counts'>] => entry[1] !== undefined);
  return async () => Object.fromEntries(await Promise.all(queues.map(async ([queue, inspector]) => [queue, (await inspector.counts()).visible] as const)));
}
