import { rmdirSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

/**
 * Bundles import `@aws-sdk/*` at run time (it is external, as in Lambda). ESM ignores NODE_PATH, so they
 * must live below a directory whose ancestors hold `node_modules`: a scratch folder inside the project.
 * Git and ESLint ignore `.bench-tmp/`; the benchmark removes it when done, interrupted or not.
 */
export const SCRATCH_ROOT = join(PROJECT_ROOT, '.bench-tmp');

/** Fake credentials and no metadata probing: no SDK client the benchmark starts may reach for real AWS. */
export const AWS_TEST_ENVIRONMENT = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
} as const;

/**
 * The environment of a measured child process: only what it needs, so inherited settings (NODE_OPTIONS,
 * NODE_COMPILE_CACHE, npm's variables) cannot speed up or slow down one run and not another.
 */
export function childEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) inherited[name] = value;
  }
  return { ...inherited, ...AWS_TEST_ENVIRONMENT, ...extra };
}

/** Scratch directories of this process, removed on exit even when the benchmark is interrupted. */
const liveScratchDirectories = new Set<string>();
/** A scratch directory of the old naming (no process ID) this old is left over from an earlier run. */
const STALE_AFTER_MS = 60 * 60 * 1000;

/**
 * A new scratch directory under SCRATCH_ROOT, named `<prefix>-<pid>-<random>`. Directories that earlier runs
 * left behind when they died without cleaning up (killed, crashed) are removed first: those named after a
 * process that is gone, and those of the old `<prefix>-<random>` naming older than an hour. A run still in
 * progress keeps its own, and anything else in the folder is left alone.
 */
export async function makeScratchDirectory(prefix: string): Promise<string> {
  await mkdir(SCRATCH_ROOT, { recursive: true });
  await removeAbandonedScratchDirectories();
  installExitCleanup();
  const directory = await mkdtemp(join(SCRATCH_ROOT, `${prefix}-${process.pid}-`));
  liveScratchDirectories.add(directory);
  return directory;
}

/** Removes a scratch directory, and the scratch root too once nothing else is in it. */
export async function removeScratchDirectory(directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true });
  liveScratchDirectories.delete(directory);
  // Another run may still be using the root; then it stays.
  await rmdir(SCRATCH_ROOT).catch(() => undefined);
}

/** mkdtemp appends six letters and digits. */
const OWNED_NAME = /^[a-z]+(?:-[a-z]+)*-(\d+)-[A-Za-z0-9]{6}$/;
const OLD_NAME = /^[a-z]+(?:-[a-z]+)*-[A-Za-z0-9]{6}$/;

async function removeAbandonedScratchDirectories(): Promise<void> {
  const entries = await readdir(SCRATCH_ROOT, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const path = join(SCRATCH_ROOT, entry.name);
    const owner = OWNED_NAME.exec(entry.name)?.[1];
    const abandoned =
      owner !== undefined ? !isRunning(Number(owner)) : OLD_NAME.test(entry.name) && Date.now() - (await stat(path)).mtimeMs > STALE_AFTER_MS;
    if (abandoned) await rm(path, { recursive: true, force: true });
  }
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let exitCleanupInstalled = false;

/**
 * `finally` blocks do not run when the process is interrupted (Ctrl-C) or exits early: remove this run's
 * scratch directories synchronously on exit, and on SIGINT/SIGTERM before dying of the signal as usual.
 */
function installExitCleanup(): void {
  if (exitCleanupInstalled) return;
  exitCleanupInstalled = true;
  const cleanUp = (): void => {
    for (const directory of liveScratchDirectories) rmSync(directory, { recursive: true, force: true });
    liveScratchDirectories.clear();
    try {
      rmdirSync(SCRATCH_ROOT);
    } catch {
      // Not empty (another run) or already gone.
    }
  };
  process.once('exit', cleanUp);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanUp();
      process.kill(process.pid, signal);
    });
  }
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
