import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentAnalysis } from '../support/workflows.ts';

const root = join(import.meta.dirname, '..', '..');

interface RunningProcess {
  url: string;
  /** What it printed so far. */
  output(): string;
  stop(signal: NodeJS.Signals): Promise<{ code: number | null; output: string }>;
}

/** `npm start` as a user runs it: a separate process, data on disk, stopped by a signal. */
async function startOrchestrator(dataDir: string): Promise<RunningProcess> {
  const child = spawn(process.execPath, ['local/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', ORCHESTRATOR_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed within 15 s:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
  });
  return {
    url,
    output: () => output,
    stop: async (signal) => {
      child.kill(signal);
      return { code: await exited, output };
    },
  };
}

describe('the local orchestrator process', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'orchestrator-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('prints its URL, keeps workflows on disk across a restart, and stops cleanly on SIGTERM and SIGINT', async () => {
    const first = await startOrchestrator(dataDir);
    expect((await fetch(`${first.url}/health`)).status).toBe(200);
    const created = await fetch(`${first.url}/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'restart-test' },
      body: JSON.stringify(documentAnalysis()),
    });
    expect(created.status).toBe(201);
    const { data } = (await created.json()) as { data: { workflow_id: string } };
    const stoppedFirst = await first.stop('SIGTERM');
    expect(stoppedFirst.code).toBe(0);
    expect(stoppedFirst.output).toContain('SIGTERM received');

    const second = await startOrchestrator(dataDir);
    await expect.poll(() => second.output(), { timeout: 5000 }).toMatch(/dead letters: \S+ \(SQS at \S+\)/);
    // The queue was created by the first process; its URL names the port the emulator listens on now.
    const [, queueUrl, sqsAt] = /dead letters: (\S+) \(SQS at (\S+)\)/.exec(second.output())!;
    expect(new URL(queueUrl!).port).toBe(new URL(sqsAt!).port);
    const read = await fetch(`${second.url}/workflows/${data.workflow_id}`);
    expect(read.status).toBe(200);
    expect(((await read.json()) as { data: { created_by: string } }).data.created_by).toBe('restart-test');
    expect((await second.stop('SIGINT')).code).toBe(0);
  });
});

/** `npm start` expected to refuse to start: its exit code and what it printed on stderr. */
function startRefused(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['local/main.ts'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

describe('a start that cannot succeed', () => {
  it('says in one line that PORT is not a port, and exits with code 2', async () => {
    const { code, stderr } = await startRefused({ PORT: 'eighty' });
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^orchestrator: invalid configuration: PORT \(env\): PORT must be a port number/)]);
  });

  it('says in one line that the port is in use, and exits with code 2', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'orchestrator-port-'));
    const first = await startOrchestrator(dataDir);
    try {
      const port = new URL(first.url).port;
      const { code, stderr } = await startRefused({ PORT: port, ORCHESTRATOR_DATA_DIR: join(dataDir, 'second') });
      expect(code).toBe(2);
      expect(stderr.trim().split('\n')).toEqual([`orchestrator: cannot listen on 127.0.0.1:${port}: the port is in use (set PORT to another, or 0 for any free one)`]);
    } finally {
      await first.stop('SIGTERM');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 40_000);
});
