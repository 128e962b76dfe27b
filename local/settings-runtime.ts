import type { LocalConfig } from './config.ts';
import type { LocalRuntimeOptions } from './runtime.ts';
import { loggerLevelOf } from '../functions/config.ts';

/**
 * `npm start`'s runtime options from its configuration: LocalConfig as it is, but for the observability
 * settings, which the runtime takes in its own shape (local/observability.ts), and the log collector's URL,
 * which it takes at the top level with the secrets its logger scrubs.
 */
export function runtimeOptionsFrom(config: LocalConfig): LocalRuntimeOptions {
  const { observability, ...rest } = config;
  return {
    ...rest,
    observability: {
      tracing: observability.tracingEnabled,
      metrics: observability.metricsEnabled,
      spanRetentionDays: observability.spanRetentionDays,
      ...(observability.otlpEndpoint === undefined ? {} : { otlpEndpoint: observability.otlpEndpoint }),
      ...(observability.otlpHeaders === undefined ? {} : { otlpHeaders: observability.otlpHeaders }),
    },
    ...(observability.logCollectorUrl === undefined ? {} : { logCollectorUrl: observability.logCollectorUrl }),
    logLevel: loggerLevelOf(observability.logLevel),
    logSecrets: [config.auth.jwtSecret, config.auth.adminApiKey, config.auth.peerToken, config.cursorSecret, config.llmGateway.apiKey, ...Object.values(observability.otlpHeaders ?? {})].filter((secret): secret is string => secret !== undefined),
  };
}
