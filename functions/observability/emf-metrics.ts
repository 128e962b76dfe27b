import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { bounded, DistinctLabel, MAX_ROUTE_LABELS, MAX_SERVICE_LABELS, OTHER, validSeconds, type MetricsRecorder } from './metric-recorder.ts';

/**
 * The same measures as CloudWatch metrics, in AWS: Embedded Metric Format lines (Powertools Metrics) that
 * CloudWatch Logs turns into metrics of `namespace`. Every combination of dimension values is a custom metric
 * of its own (billed each), so the dimensions are few and bounded:
 *
 *   HttpRequests (Count), HttpRequestDuration (ms)           route, status_class (2xx..5xx)
 *   RunsStarted (Count)                                      -
 *   RunsEnded (Count), RunDuration (s)                       status
 *   ActionsEnded (Count), ActionDuration (ms)                action_type, status
 *   ServiceCalls (Count), ServiceCallDuration (ms)           called_service, outcome
 *   ServiceCallErrors (Count)                                error (an ActionErrorName)
 *
 * Powertools adds its `service` dimension (the function's service name) to each set, so the called service
 * is `called_service`. Recordings are buffered; `flush()` (at the end of each invocation: a Lambda is frozen
 * once it answers) prints one EMF line per dimension set, counts summed and durations as their values.
 */

export interface EmfMetricsOptions {
  /** The CloudWatch namespace; default `Orchestrator`. */
  readonly namespace?: string;
  /** Powertools' `service` dimension: which part of the orchestrator records (`orchestrator`, `action-runner`). */
  readonly serviceName: string;
  /** Default: a Metrics instance of its own. */
  readonly metrics?: Metrics;
}

export interface EmfMetrics extends MetricsRecorder {
  /** Prints what was recorded since the last flush as EMF lines on stdout, and forgets it. Never throws. */
  flush(): void;
}

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

interface Group {
  readonly dimensions: Readonly<Record<string, string>>;
  /** Count metrics, summed. */
  readonly counts: Map<string, number>;
  /** Duration metrics: every value recorded (CloudWatch computes the percentiles). */
  readonly values: Map<string, { readonly unit: Unit; readonly values: number[] }>;
}

/** Powertools publishes on its own at 100 values of one metric, dropping the dimensions: stop short of it. */
const MAX_VALUES_PER_LINE = 99;

export function createEmfMetrics(options: EmfMetricsOptions): EmfMetrics {
  const powertools = options.metrics ?? new Metrics({ namespace: options.namespace ?? 'Orchestrator', serviceName: options.serviceName });
  const routes = new DistinctLabel(MAX_ROUTE_LABELS);
  const services = new DistinctLabel(MAX_SERVICE_LABELS);
  let groups = new Map<string, Group>();

  const group = (dimensions: Record<string, string>): Group => {
    const key = JSON.stringify(dimensions);
    let found = groups.get(key);
    if (!found) {
      found = { dimensions, counts: new Map(), values: new Map() };
      groups.set(key, found);
    }
    return found;
  };
  const count = (dimensions: Record<string, string>, name: string, value = 1): void => {
    const target = group(dimensions);
    target.counts.set(name, (target.counts.get(name) ?? 0) + value);
  };
  const observe = (dimensions: Record<string, string>, name: string, unit: Unit, value: number | undefined): void => {
    if (!validSeconds(value)) return;
    const target = group(dimensions);
    const series = target.values.get(name) ?? { unit, values: [] };
    series.values.push(unit === MetricUnit.Milliseconds ? value * 1000 : value);
    target.values.set(name, series);
  };

  const publish = (target: Group): void => {
    const begin = () => {
      for (const [name, value] of Object.entries(target.dimensions)) powertools.addDimension(name, value);
    };
    begin();
    for (const [name, value] of target.counts) powertools.addMetric(name, MetricUnit.Count, value);
    for (const [name, { unit, values }] of target.values) {
      for (let index = 0; index < values.length; index++) {
        if (index > 0 && index % MAX_VALUES_PER_LINE === 0) {
          powertools.publishStoredMetrics();
          begin();
        }
        powertools.addMetric(name, unit, values[index]!);
      }
    }
    powertools.publishStoredMetrics();
  };

  return {
    httpRequest(route, _method, status, seconds) {
      const dimensions = { route: routes.of(route), status_class: bounded.statusClass(status) };
      count(dimensions, 'HttpRequests');
      observe(dimensions, 'HttpRequestDuration', MetricUnit.Milliseconds, seconds);
    },
    runStarted() {
      count({}, 'RunsStarted');
    },
    runEnded(status, seconds) {
      const dimensions = { status: bounded.runStatus(status) };
      count(dimensions, 'RunsEnded');
      observe(dimensions, 'RunDuration', MetricUnit.Seconds, seconds);
    },
    actionEnded(actionType, status, seconds) {
      const dimensions = { action_type: bounded.actionType(actionType), status: bounded.actionStatus(status) };
      count(dimensions, 'ActionsEnded');
      observe(dimensions, 'ActionDuration', MetricUnit.Milliseconds, seconds);
    },
    serviceCall(service, outcome, errorName, _statusCode, seconds) {
      const dimensions = { called_service: services.of(service), outcome };
      count(dimensions, 'ServiceCalls');
      observe(dimensions, 'ServiceCallDuration', MetricUnit.Milliseconds, seconds);
      if (outcome === 'error') count({ error: bounded.error(errorName ?? OTHER) }, 'ServiceCallErrors');
    },
    flush() {
      const pending = groups;
      groups = new Map();
      for (const target of pending.values()) {
        try {
          publish(target);
        } catch {
          // A line Powertools refuses is lost, not the invocation.
          powertools.clearMetrics();
          powertools.clearDimensions();
        }
      }
    },
  };
}
