import type { DependencyCheck } from '../../core/ports.ts';

/**
 * Runs one cheap SDK call as a dependency check: reachable when it answers within `timeoutMs`, whatever it
 * answers, unless `call` throws. The SDK call gets the signal, and the race covers a client that ignores it.
 */
export async function timedCheck(timeoutMs: number, call: (abortSignal: AbortSignal) => Promise<unknown>): Promise<DependencyCheck> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      call(controller.signal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const timeout = new Error(`no answer within ${timeoutMs} ms`);
          controller.abort(timeout);
          reject(timeout);
        }, timeoutMs);
      }),
    ]);
    return { reachable: true, latency_ms: elapsed(started) };
  } catch (error) {
    const message = controller.signal.aborted ? String((controller.signal.reason as Error).message) : describe(error);
    return { reachable: false, latency_ms: elapsed(started), error: message };
  } finally {
    clearTimeout(timer);
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.message && error.message !== error.name ? `${error.name}: ${error.message}` : error.name;
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
