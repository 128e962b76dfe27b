import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoServiceRegistry } from '../adapters/aws/dynamo/dynamo-service-registry.ts';
import { withRegistryEvents } from '../core/events/registry-events.ts';
import { awsEventEmitter } from './aws-events.ts';
import { awsOutboundHttp, awsSecretResolver } from './aws-outbound.ts';
import { awsSpanRecorder } from './aws-observability.ts';
import { readLambdaConfig, required, type LambdaConfig } from './config.ts';
import { createServiceProxy, logAnalysisServiceOf, type ServiceProxy } from './ecosystem/service-proxy.ts';
import { sharedLog } from './observability/logger.ts';
import { createActionRunner } from './workers/action-runner.ts';
import { awsEmfMetrics } from './aws-emf.ts';
import { noopMetrics } from './observability/metric-recorder.ts';
import { meteredRunner } from './observability/run-metrics.ts';

/** The proxies: the action runner's resolution, outbound rules, circuits and credentials, within ORCHESTRATOR_PROXY_TIMEOUT_SECONDS. */
export function awsServiceProxy(config: LambdaConfig = readLambdaConfig()): ServiceProxy {
  const runner = createActionRunner({
    registry: withRegistryEvents(new DynamoServiceRegistry(sharedDocumentClient(), required(config.REGISTRY_TABLE_NAME, 'REGISTRY_TABLE_NAME')), awsEventEmitter(config)),
    env: process.env,
    http: awsOutboundHttp(config),
    secrets: awsSecretResolver(),
    circuitPolicy: {
      failureThreshold: config.ORCHESTRATOR_CIRCUIT_FAILURE_THRESHOLD,
      windowSeconds: config.ORCHESTRATOR_CIRCUIT_WINDOW_SECONDS,
      cooldownSeconds: config.ORCHESTRATOR_CIRCUIT_COOLDOWN_SECONDS,
    },
  });
  // Each attempt counts among the service's calls (EMF), published with the request's own metrics when it is answered.
  const metrics = config.ORCHESTRATOR_METRICS_ENABLED === false ? noopMetrics : awsEmfMetrics();
  return createServiceProxy({ runner: meteredRunner(runner, metrics), spans: awsSpanRecorder(config, sharedLog), timeoutSeconds: config.ORCHESTRATOR_PROXY_TIMEOUT_SECONDS });
}


/** What the proxy routes' handlers need: the proxy alone (no engine, no workflow service). */
export function awsProxyHttpServices(config: LambdaConfig = readLambdaConfig()) {
  let proxy: ServiceProxy | undefined;
  return {
    get ecosystem(): never {
      throw new Error('ingestion and jobs are composed by their own entries (functions/aws-ecosystem.ts)');
    },
    get serviceProxy() {
      return (proxy ??= awsServiceProxy(config));
    },
    logAnalysisService: logAnalysisServiceOf(config),
  };
}
