import { isFinalRun, type OrchestratorAccess, type RunDocument } from './access.ts';

/** The first wait of a run followed by polling; each next one doubles, up to the poll interval. */
const FIRST_POLL_MS = 10;

export interface FollowOptions {
  /** Stops following (the run goes on): the request was cancelled, or the server's wait is over. */
  readonly signal: AbortSignal;
  /** How often to read the run when nothing tells us it changed (no event source, or it closed). */
  readonly pollIntervalMs: number;
  /** How often to read it anyway while events arrive, in case one is never sent. */
  readonly safetyPollMs: number;
  /** Each state read, the first (the started run) included. */
  readonly onChange: (run: RunDocument) => void;
}

/**
 * Follows a run until it ends or `signal` aborts, and gives the last state read. Events (when the access has
 * them) only say when to read again: what is reported is always the run as `getRun` shows it, so progress
 * never depends on what an event carries. One read at a time; events arriving meanwhile ask for one more read,
 * not one each.
 */
export async function followRun(access: OrchestratorAccess, started: RunDocument, options: FollowOptions): Promise<RunDocument> {
  const { signal, onChange } = options;
  let latest = started;
  onChange(latest);
  if (isFinalRun(latest) || signal.aborted) return latest;

  const wake = createWake();
  const events = new AbortController();
  let streaming = access.followRun !== undefined;
  const consuming = streaming ? consume() : Promise.resolve();

  async function consume(): Promise<void> {
    try {
      for await (const _event of access.followRun!(started.execution_id, { since: started.created_at, signal: events.signal })) wake.fire();
    } catch {
      // An event source that cannot be had (or broke) is no failure of the call: polling takes over.
    } finally {
      streaming = false;
      wake.fire();
    }
  }

  let polls = 0;
  try {
    while (!isFinalRun(latest) && !signal.aborted) {
      // Polling starts soon and slows down to pollIntervalMs: a short run is answered soon after it ends, a long
      // one costs no more reads than the interval allows.
      await wake.wait(streaming ? options.safetyPollMs : Math.min(options.pollIntervalMs, FIRST_POLL_MS * 2 ** polls++), signal);
      if (signal.aborted) break;
      latest = await access.getRun(started.execution_id, signal);
      onChange(latest);
    }
    return latest;
  } finally {
    // Closes the event connection: leaving the loop alone would keep it (and a process) open.
    events.abort();
    await consuming;
  }
}

/** A wake-up call that is not lost when it comes before anyone waits. */
function createWake(): { fire(): void; wait(ms: number, signal: AbortSignal): Promise<void> } {
  let pending = false;
  let release: (() => void) | undefined;
  return {
    fire() {
      pending = true;
      release?.();
    },
    async wait(ms, signal) {
      if (!pending) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            release = undefined;
            resolve();
          };
          const timer = setTimeout(done, ms);
          signal.addEventListener('abort', done, { once: true });
          release = done;
        });
      }
      pending = false;
    },
  };
}
