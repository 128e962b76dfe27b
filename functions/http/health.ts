export type HealthStatus = 'healthy' | 'unhealthy';

export interface HealthReport {
  status: HealthStatus;
  service: string;
  version: string;
  checks: Record<string, { status: HealthStatus; latency_ms: number; error?: string }>;
}

const CHECK_TIMEOUT_MS = 2000;

/** Runs every probe concurrently with a timeout; the report is healthy only if all of them are. */
export async function checkHealth(version: string, probes: Record<string, () => Promise<void>>): Promise<HealthReport> {
  const checks: HealthReport['checks'] = {};
  await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          probe(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
          }),
        ]);
        checks[name] = { status: 'healthy', latency_ms: elapsed(started) };
      } catch (error) {
        checks[name] = { status: 'unhealthy', latency_ms: elapsed(started), error: error instanceof Error ? error.message : String(error) };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const status = Object.values(checks).every((check) => check.status === 'healthy') ? 'healthy' : 'unhealthy';
  return { status, service: 'orchestrator', version, checks };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
