import { createEmfMetrics, type EmfMetrics } from './observability/emf-metrics.ts';

/*
 * The EMF composition root, apart from aws-metrics.ts so that the route functions, which all record their
 * requests as EMF, do not carry prom-client: only the `/metrics` function renders the Prometheus format.
 */

const emf = new Map<string, EmfMetrics>();

/**
 * The EMF recorder of a function (one per container and service name): `orchestrator` for the API's route
 * functions, `action-runner`, `status-listener` for the workers. Call `flush()` at the end of each invocation.
 */
export function awsEmfMetrics(serviceName = 'orchestrator'): EmfMetrics {
  let recorder = emf.get(serviceName);
  if (!recorder) {
    recorder = createEmfMetrics({ namespace: 'Orchestrator', serviceName });
    emf.set(serviceName, recorder);
  }
  return recorder;
}
