import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, where `node_modules/.bin/node cli/main.ts` runs the CLI as users do. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const MAIN = join(ROOT, 'cli', 'main.ts');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of every run: nothing of this process's own (an ORCHESTRATOR_TOKEN set here would change
 * what is tested), only what Node needs and what the test gives.
 */
function environment(env: Readonly<Record<string, string>>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), TMPDIR: tmpdir(), ...env };
}

/** Runs `orchestrator <args>` to its end. */
export function cli(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliResult> {
  return new Promise((done) => {
    execFile(NODE, [MAIN, ...args], { cwd: ROOT, env: environment(env), timeout: 20_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      done({ code, stdout, stderr });
    });
  });
}

/** `orchestrator <args>` started and left running (events tail): its output so far, and its end. */
export function startCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(NODE, [MAIN, ...args], { cwd: ROOT, env: environment(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', () => undefined);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => stdout, exited };
}

/** A folder under the OS's temporary directory for definition files, with a way to remove it. */
export function scratchFolder(): { path: (name: string) => string; write: (name: string, content: string) => string; remove: () => void } {
  const folder = mkdtempSync(join(tmpdir(), 'orchestrator-cli-'));
  return {
    path: (name) => join(folder, name),
    write: (name, content) => {
      const file = join(folder, name);
      writeFileSync(file, content);
      return file;
    },
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}

/** JSON printed on stdout, parsed (a failing assertion shows what was printed instead). */
export function json<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${String(result.code)}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}
