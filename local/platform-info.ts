import { execFileSync } from 'node:child_process';
import type { Clock } from '../core/ports.ts';
import type { ConfigurationReport, EffectiveConfig, InfoDocument, PlatformInfo } from '../functions/http/observability-services.ts';
import type { AuthSettings } from '../functions/auth/authenticator.ts';
import type { CorsPolicy } from '../functions/cors.ts';
import type { RateLimitPolicy } from '../core/auth/rate-limit.ts';
import type { TlsMaterial } from './tls.ts';
import type { BuildSettings } from './config.ts';
import type { LocalObservabilitySettings } from './observability.ts';

/**
 * `GET /info` and `GET /config/effective` on one machine. What /info reports comes from the settings the
 * runtime was started with (its LocalRuntimeOptions).
 */
export interface LocalInfoSettings {
  readonly serviceVersion: string;
  readonly region: string;
  /** Omitted: the runtime's default, `optional`. */
  readonly auth?: Pick<AuthSettings, 'mode'>;
  readonly tls?: TlsMaterial;
  readonly peers?: readonly string[];
  readonly cors?: CorsPolicy;
  readonly rateLimit?: RateLimitPolicy;
  /** As the runtime takes them; omitted, or a switch omitted: on. Nothing exported without an endpoint. */
  readonly observability?: Pick<LocalObservabilitySettings, 'tracing' | 'metrics' | 'otlpEndpoint'>;
  /** LOG_COLLECTOR_URL. */
  readonly logCollectorUrl?: string;
  /** ORCHESTRATOR_COMMIT, ORCHESTRATOR_BUILD_TIME. */
  readonly build?: BuildSettings;
}

export interface LocalPlatformInfoOptions {
  readonly settings: LocalInfoSettings;
  readonly clock: Clock;
  /** When the runtime started (ISO-8601); default: now. */
  readonly startedAt?: string;
  /** The commit when ORCHESTRATOR_COMMIT is unset; default: `git rev-parse HEAD`, run once here (`unknown` if it fails). */
  readonly gitCommit?: () => string | undefined;
  /** Default: this process's Node.js version. */
  readonly nodeVersion?: string;
}

/** The orchestrator's name in /info (and the logger's service). */
export const SERVICE_NAME = 'orchestrator';

/**
 * What is running and what is switched on. The commit is read once, when this is built: ORCHESTRATOR_COMMIT,
 * else `git rev-parse HEAD` in the working directory, else `unknown`; the build time is ORCHESTRATOR_BUILD_TIME,
 * else the start time (a local checkout is built when it starts).
 */
export function createLocalPlatformInfo(options: LocalPlatformInfoOptions): PlatformInfo {
  const { settings, clock } = options;
  const startedAt = options.startedAt ?? clock.now();
  const commit = settings.build?.commit ?? (options.gitCommit ?? gitHead)() ?? 'unknown';
  const buildTime = settings.build?.buildTime ?? startedAt;
  const tracing = settings.observability?.tracing !== false;
  const authMode = settings.auth?.mode ?? 'optional';
  const features: Record<string, boolean> = {
    tracing,
    metrics: settings.observability?.metrics !== false,
    otlp_export: tracing && settings.observability?.otlpEndpoint !== undefined,
    log_collector: settings.logCollectorUrl !== undefined,
    tls: settings.tls !== undefined,
    mutual_tls: settings.tls?.clientCa !== undefined,
    peers: (settings.peers ?? []).length > 0,
    cors: settings.cors !== undefined,
    rate_limit: settings.rateLimit !== undefined,
    authentication: authMode !== 'off',
  };
  return {
    info(): InfoDocument {
      const now = clock.now();
      return {
        name: SERVICE_NAME,
        version: settings.serviceVersion,
        commit,
        build_time: buildTime,
        runtime: { kind: 'local', region: settings.region, node: options.nodeVersion ?? process.version },
        started_at: startedAt,
        uptime_seconds: Math.max(0, Math.round(Date.parse(now) - Date.parse(startedAt)) / 1000),
        auth_mode: authMode,
        features: { ...features },
      };
    },
  };
}

/**
 * `GET /config/effective`: the report readLocalConfig made at start (LocalConfig.configReport). A runtime
 * started without one (tests build LocalRuntimeOptions by hand) reports that it has none.
 */
export function createLocalConfigurationReport(report: EffectiveConfig | undefined): ConfigurationReport {
  const effective: EffectiveConfig = report ?? { file: null, settings: [], notes: ['started without a configuration report: the runtime was given its options directly, not through readLocalConfig'] };
  return { effective: () => effective };
}

/** The checkout's commit, or undefined (not a git checkout, git not installed, too slow). */
function gitHead(): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim();
    return /^[0-9a-f]{7,64}$/.test(head) ? head : undefined;
  } catch {
    return undefined;
  }
}
