import { useEffect, useRef, useState } from 'preact/hooks';
import { OrchestratorApiError, type OrchestratorClient } from '../../../client/index.ts';
import { isFinished, type ActionStatus, type Execution } from '../api/types.ts';

/** How the page follows the run: its event stream, polling (when the stream fails), or not at all (finished). */
export type LiveMode = 'connecting' | 'stream' | 'polling' | 'finished';

const POLL_MS = 2000;
const ACTION_STATUSES: readonly ActionStatus[] = ['pending', 'running', 'completed', 'failed', 'skipped', 'cancelled', 'not_run'];

/** Read the record this often anyway while following the stream: a proxy that holds events back cannot freeze the page. */
const SAFETY_MS = 15_000;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });

/** The latest time the record mentions: the stream catches up from there, so nothing between the read and the stream is lost. */
function latestTime(run: Execution): string {
  const times = [run.created_at, run.started_at, run.ended_at, ...run.actions.flatMap((action) => [action.started_at, action.ended_at]), ...(run.redrives ?? []).map((redrive) => redrive.at)];
  return times.filter((time): time is string => typeof time === 'string').reduce((latest, time) => (Date.parse(time) > Date.parse(latest) ? time : latest), run.created_at);
}

/** An action event's new status, applied at once so a node changes colour before the full record is read again. */
function applyEvent(run: Execution, data: string): Execution {
  let envelope: unknown;
  try {
    envelope = JSON.parse(data);
  } catch {
    return run;
  }
  const payload = typeof envelope === 'object' && envelope !== null && 'data' in envelope ? envelope.data : undefined;
  if (typeof payload !== 'object' || payload === null || !('action_id' in payload) || !('status' in payload)) return run;
  const status = ACTION_STATUSES.find((candidate) => candidate === payload.status);
  if (!status || typeof payload.action_id !== 'string') return run;
  return { ...run, actions: run.actions.map((action) => (action.action_id === payload.action_id ? { ...action, status } : action)) };
}

/**
 * A run, kept current while it is unfinished: each event of its stream (streamEvents with its execution_id)
 * updates the node at once and has the record read again; when the stream cannot be had, the record is read
 * every two seconds. A finished run is read once, and followed again when a retry or resume reopens it.
 */
export function useLiveExecution(client: OrchestratorClient, id: string) {
  const [run, setRun] = useState<Execution | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [mode, setMode] = useState<LiveMode>('connecting');
  const runRef = useRef<Execution | undefined>(undefined);
  runRef.current = run;

  useEffect(() => {
    setRun(undefined);
    setError(undefined);
    const controller = new AbortController();
    client.call('getExecution', { params: { execution_id: id } }).then(
      (loaded) => !controller.signal.aborted && setRun(loaded),
      (failure: unknown) => !controller.signal.aborted && setError(failure),
    );
    return () => controller.abort();
  }, [client, id]);

  const finished = run === undefined ? undefined : isFinished(run.status);
  useEffect(() => {
    if (finished !== false) {
      if (finished) setMode('finished');
      return undefined;
    }
    const controller = new AbortController();
    const { signal } = controller;
    let queued = false;
    const reread = async () => {
      try {
        const next = await client.call('getExecution', { params: { execution_id: id } });
        if (!signal.aborted) {
          setRun(next);
          setError(undefined);
        }
      } catch (failure) {
        if (!signal.aborted) setError(failure);
      }
    };
    // A burst of events (a fan-out finishing) becomes one read.
    const rereadSoon = () => {
      if (queued) return;
      queued = true;
      setTimeout(() => {
        queued = false;
        if (!signal.aborted) void reread();
      }, 150);
    };
    const poll = async () => {
      setMode('polling');
      while (!signal.aborted) {
        await reread();
        await sleep(POLL_MS, signal);
      }
    };
    const follow = async () => {
      let lastEventId: string | undefined;
      const since = runRef.current ? latestTime(runRef.current) : undefined;
      for (let failures = 0; !signal.aborted; ) {
        try {
          setMode('stream');
          const events = client.stream('streamEvents', { query: { execution_id: id, ...(since ? { since } : {}) }, signal, ...(lastEventId ? { lastEventId } : {}) });
          for await (const event of events) {
            if (event.id) lastEventId = event.id;
            setRun((current) => (current ? applyEvent(current, event.data) : current));
            rereadSoon();
          }
          // The answer ended (in AWS the stream is a catch-up that the client asks again for): read, then resume.
          failures = 0;
          rereadSoon();
          await sleep(POLL_MS, signal);
        } catch (failure) {
          if (signal.aborted) return;
          // An HTTP error (a proxy that does not stream, a 5xx) will not turn into a stream: poll at once.
          // A dropped connection is tried once more first.
          failures += 1;
          if (failure instanceof OrchestratorApiError || failures >= 2) return poll();
          await sleep(POLL_MS, signal);
        }
      }
    };
    void follow();
    const safety = setInterval(() => void reread(), SAFETY_MS);
    return () => {
      clearInterval(safety);
      controller.abort();
    };
  }, [client, id, finished]);

  return { run, setRun, error, mode };
}
