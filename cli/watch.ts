import { setTimeout as sleep } from 'node:timers/promises';
import type { OrchestratorClient } from '../client/index.ts';
import { isFinal, type Execution, type WatchView } from './watch-view.ts';

export interface WatchOptions {
  /** Aborted (Ctrl-C): watching stops, the run goes on. */
  readonly signal: AbortSignal;
  /** How often to read the run when there is no event stream. */
  readonly pollMs?: number;
  /** How often to read it anyway while the stream is open, in case an event never comes. */
  readonly safetyPollMs?: number;
  /** How often a live view redraws elapsed times. */
  readonly tickMs?: number;
}

/**
 * Follows a run until it ends (or `signal` aborts) and returns its last state. The run's events
 * (`GET /infrastructure/events/stream?execution_id=`, from the run's creation on, so nothing that happened
 * before the stream opened is missed) say when to read it again; the run itself (`GET` execution) is what is
 * shown, so the view never depends on what each event carries. If the stream cannot be opened or ends (in AWS
 * it answers what was recorded and closes), the run is read every `pollMs` instead.
 */
export async function watchExecution(client: OrchestratorClient, executionId: string, view: WatchView, options: WatchOptions): Promise<Execution> {
  const { signal, pollMs = 500, safetyPollMs = 2000, tickMs = 250 } = options;
  const read = () => client.call('getExecution', { params: { execution_id: executionId } });
  let latest = await read();
  view.update(latest);
  if (isFinal(latest)) return latest;

  const stop = new AbortController();
  const abortStream = () => stop.abort();
  signal.addEventListener('abort', abortStream, { once: true });
  // One read at a time; events that arrive meanwhile ask for one more read after it, not one each.
  let reading: Promise<void> | undefined;
  let readAgain = false;
  const refresh = (): Promise<void> => {
    if (reading) {
      readAgain = true;
      return reading;
    }
    reading = (async () => {
      do {
        readAgain = false;
        latest = await read();
        view.update(latest);
      } while (readAgain && !isFinal(latest));
    })().finally(() => {
      reading = undefined;
    });
    return reading;
  };
  let refreshFailure: unknown;
  const background = (ms: number, task: () => unknown) =>
    setInterval(() => {
      void Promise.resolve()
        .then(task)
        .catch((error: unknown) => {
          refreshFailure = error;
          stop.abort();
        });
    }, ms);
  const ticker = background(tickMs, () => view.tick());
  const safety = background(safetyPollMs, () => (isFinal(latest) ? stop.abort() : refresh()));
  try {
    try {
      for await (const _event of client.stream('streamEvents', { query: { execution_id: executionId, since: latest.created_at }, signal: stop.signal })) {
        await refresh();
        if (isFinal(latest)) break;
      }
    } catch {
      // A stream that cannot be had is not a failure of the watch: polling below takes over.
      if (signal.aborted) return latest;
    } finally {
      // Closes the connection: leaving the loop alone would keep it (and the process) open.
      stop.abort();
      clearInterval(safety);
    }
    if (refreshFailure !== undefined) throw refreshFailure;
    await reading;
    while (!isFinal(latest) && !signal.aborted) {
      await sleep(pollMs, undefined, { signal }).catch(() => undefined);
      if (!signal.aborted) await refresh();
    }
    return latest;
  } finally {
    clearInterval(ticker);
    signal.removeEventListener('abort', abortStream);
    view.close();
  }
}
