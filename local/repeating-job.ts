/** A local stand-in for an EventBridge schedule. */
export interface RepeatingJob {
  /** Stops the schedule and waits for a run in progress (each run's own timeouts bound that wait). */
  stop(): Promise<void>;
}

/**
 * Runs `job` every `intervalSeconds`, the next run an interval after the previous one ended (never two at
 * once). A run that throws is logged with `kind` and the schedule goes on. The timer does not keep the
 * process alive.
 */
export function startRepeatingJob(kind: string, job: () => Promise<unknown>, intervalSeconds: number, log: (line: Record<string, unknown>) => void): RepeatingJob {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = job()
        .then(() => undefined)
        .catch((error: unknown) => log({ kind, level: 'error', message: error instanceof Error ? error.message : String(error) }))
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, intervalSeconds * 1000);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
