import { systemClock } from '../core/system.ts';
import type { Clock } from '../core/ports.ts';
import { lambdaConfigReport, readLambdaConfig, type LambdaConfig } from './config.ts';
import type { ConfigurationReport, InfoDocument, PlatformInfo } from './http/observability-services.ts';

/**
 * `GET /info` and `GET /config/effective` in AWS: what the answering function knows, from its environment
 * (set by CDK: SERVICE_VERSION, ORCHESTRATOR_COMMIT, ORCHESTRATOR_BUILD_TIME, the auth mode...). `started_at`
 * is this function instance's cold start. Features the function cannot see from its own environment (peers,
 * the WAF rate limit, mutual TLS on a custom domain) are not reported rather than guessed.
 */
export function createAwsPlatformInfo(config: LambdaConfig = readLambdaConfig(), options: { clock?: Clock; startedAt?: string; nodeVersion?: string } = {}): PlatformInfo {
  const clock = options.clock ?? systemClock;
  const startedAt = options.startedAt ?? clock.now();
  const features: Record<string, boolean> = {
    tracing: config.ORCHESTRATOR_TRACING_ENABLED,
    metrics: config.ORCHESTRATOR_METRICS_ENABLED,
    otlp_export: config.ORCHESTRATOR_TRACING_ENABLED && config.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined,
    log_collector: config.LOG_COLLECTOR_URL !== undefined,
    // API Gateway serves HTTPS only.
    tls: true,
    cors: config.ORCHESTRATOR_CORS_ORIGINS !== undefined,
    authentication: config.ORCHESTRATOR_AUTH_MODE !== 'off',
  };
  return {
    info(): InfoDocument {
      return {
        name: config.POWERTOOLS_SERVICE_NAME ?? 'orchestrator',
        version: config.SERVICE_VERSION,
        commit: config.ORCHESTRATOR_COMMIT ?? 'unknown',
        build_time: config.ORCHESTRATOR_BUILD_TIME ?? 'unknown',
        runtime: { kind: 'aws', region: config.AWS_REGION ?? 'unknown', node: options.nodeVersion ?? process.version },
        started_at: startedAt,
        uptime_seconds: Math.max(0, Math.round(Date.parse(clock.now()) - Date.parse(startedAt)) / 1000),
        auth_mode: config.ORCHESTRATOR_AUTH_MODE,
        features: { ...features },
      };
    },
  };
}

/** The function's own settings, read once at init (secrets `***`). */
export function createAwsConfigurationReport(env?: Record<string, string | undefined>): ConfigurationReport {
  const report = lambdaConfigReport(env);
  return { effective: () => report };
}
