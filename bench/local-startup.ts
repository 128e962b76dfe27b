import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnvironment, PROJECT_ROOT, sleep } from './environment.ts';
import { median, round, table, verdict } from './stats.ts';

export const STARTUP_TARGET_MS = 3000;
/** Give up on a run that has not answered by then: the report says so instead of hanging. */
const READY_DEADLINE_MS = 30_000;
/** With no run in flight a stop takes well under a second; local/main.ts forces an exit after the grace period + 10 s. */
const SHUTDOWN_DEADLINE_MS = 8000;
const POLL_INTERVAL_MS = 5;

export interface StartupRun {
  /** Spawn of `node local/main.ts` to the first HTTP 200 from /health. */
  readonly readyMs?: number;
  /** Spawn to the "listening" line on stdout. */
  readonly listeningLogMs?: number;
  /** SIGTERM to process exit. */
  readonly shutdownMs?: number;
  readonly exitCode: number | null;
  readonly exitSignal: string | null;
  readonly error?: string;
}

export interface StartupSection {
  readonly command: string;
  readonly runs: readonly StartupRun[];
  readonly medianReadyMs: number;
  readonly medianListeningLogMs: number;
  readonly medianShutdownMs: number;
  readonly withinTarget: boolean;
  readonly allCleanExits: boolean;
}

export async function measureLocalStartup(options: { runs: number }): Promise<StartupSection> {
  const runs: StartupRun[] = [];
  for (let run = 0; run < options.runs; run++) runs.push(await startAndStopOnce());
  const values = (pick: (run: StartupRun) => number | undefined) => runs.map(pick).filter((value): value is number => value !== undefined);
  const medianReadyMs = round(median(values((run) => run.readyMs)));
  return {
    command: 'node local/main.ts',
    runs,
    medianReadyMs,
    medianListeningLogMs: round(median(values((run) => run.listeningLogMs))),
    medianShutdownMs: round(median(values((run) => run.shutdownMs))),
    withinTarget: runs.every((run) => run.readyMs !== undefined) && medianReadyMs < STARTUP_TARGET_MS,
    allCleanExits: runs.every((run) => run.exitCode === 0 && run.error === undefined),
  };
}

/** One cold start on a fresh data directory (so the table is created, as on a first `npm start`), then SIGTERM. */
async function startAndStopOnce(): Promise<StartupRun> {
  const dataDir = await mkdtemp(join(tmpdir(), 'orchestrator-bench-data-'));
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, ['local/main.ts'], {
    cwd: PROJECT_ROOT,
    env: childEnvironment({ PORT: String(port), HOST: '127.0.0.1', ORCHESTRATOR_DATA_DIR: dataDir }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  let listeningLogMs: number | undefined;
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (listeningLogMs === undefined && output.includes('listening on')) listeningLogMs = round(performance.now() - started);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));

  try {
    const readyMs = await waitForHealth(`http://127.0.0.1:${port}/health`, started, child);
    if (readyMs === undefined) {
      child.kill('SIGKILL');
      const exit = await exited;
      return { listeningLogMs, exitCode: exit.code, exitSignal: exit.signal, error: `no 200 from /health within ${READY_DEADLINE_MS} ms: ${lastLines(output)}` };
    }
    const stopping = performance.now();
    child.kill('SIGTERM');
    const exit = await Promise.race([exited, sleep(SHUTDOWN_DEADLINE_MS).then(() => undefined)]);
    if (!exit) {
      child.kill('SIGKILL');
      const killed = await exited;
      return { readyMs, listeningLogMs, exitCode: killed.code, exitSignal: killed.signal, error: `still running ${SHUTDOWN_DEADLINE_MS} ms after SIGTERM` };
    }
    return { readyMs, listeningLogMs, shutdownMs: round(exit.at - stopping), exitCode: exit.code, exitSignal: exit.signal };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Polls until /health answers 200; undefined if the process dies or the deadline passes first. */
async function waitForHealth(url: string, started: number, child: ChildProcess): Promise<number | undefined> {
  while (performance.now() - started < READY_DEADLINE_MS) {
    if (child.exitCode !== null || child.signalCode !== null) return undefined;
    if ((await statusOf(url)) === 200) return round(performance.now() - started);
    await sleep(POLL_INTERVAL_MS);
  }
  return undefined;
}

/** The status of a GET, or undefined when nothing answers yet. No keep-alive agent: each probe is independent. */
function statusOf(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const probe = request(url, { agent: false, timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    probe.once('timeout', () => probe.destroy());
    probe.once('error', () => resolve(undefined));
    probe.end();
  });
}

/** A port nothing listens on right now. main.ts accepts PORT=0 too, but then the URL is only in its log. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-5).join(' | ');
}

export function renderStartupSection(section: StartupSection): string {
  const rows = section.runs.map((run, index) => [
    index + 1,
    run.listeningLogMs ?? '-',
    run.readyMs ?? '-',
    run.shutdownMs ?? '-',
    run.exitSignal ? `signal ${run.exitSignal}` : String(run.exitCode),
    run.error ?? '',
  ]);
  return [
    `2. LOCAL START-UP (\`${section.command}\`, fresh data dir each run, time to first 200 on /health; target < ${STARTUP_TARGET_MS} ms)`,
    table(['run', 'log line ms', 'ready ms', 'SIGTERM->exit ms', 'exit', 'error'], rows),
    `  median ready ${section.medianReadyMs} ms (${verdict(section.withinTarget)}); median "listening" log line ${section.medianListeningLogMs} ms; median shutdown ${section.medianShutdownMs} ms; ${section.allCleanExits ? 'every run exited 0' : 'NOT every run exited cleanly'}`,
  ].join('\n');
}
