import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/poll.ts';

/**
 * The real `npm start`, as a user runs it, crashed (kill -9 of its whole process group) or stopped with
 * Ctrl-C (SIGINT to the group, as a terminal sends it) in the middle of runs, then started again on the same
 * data: no run is lost, none runs twice from the start, completed actions are not called again, and an action
 * that was in flight is called again with the same Idempotency-Key.
 */

const root = join(import.meta.dirname, '..', '..');

interface Orchestrator {
  readonly url: string;
  output(): string;
  /** Signals the whole process group (npm, its shell, node) and resolves with npm's exit code. */
  signal(signal: NodeJS.Signals): Promise<number | null>;
}

async function npmStart(dataDir: string, serviceUrl: string): Promise<Orchestrator> {
  const child: ChildProcess = spawn('npm', ['start'], {
    cwd: root,
    detached: true,
    env: { ...process.env, PORT: '0', ORCHESTRATOR_DATA_DIR: dataDir, SVC_URL: serviceUrl, ORCHESTRATOR_RATE_LIMIT_RPS: '100000', ORCHESTRATOR_RATE_LIMIT_BURST: '100000', ORCHESTRATOR_HEALTH_CHECK_INTERVAL: '0', ORCHESTRATOR_OPENAPI_POLL_INTERVAL: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(match[1]!);
      }
    }, 20);
    setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`no URL within 30 s:\n${output}`));
    }, 30_000).unref();
  });
  return {
    url,
    output: () => output,
    signal: async (signal) => {
      process.kill(-child.pid!, signal);
      return exited;
    },
  };
}

/** Services on loopback: every call counted by path and Idempotency-Key; `/slow` holds for `slowMs`. */
let services: Server;
let serviceUrl: string;
const received: { path: string; key: string }[] = [];
let slowMs = 3000;

beforeAll(async () => {
  services = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      received.push({ path, key: String(request.headers['idempotency-key']) });
      const reply = () => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ path }));
      };
      if (path === '/slow') setTimeout(reply, slowMs).unref();
      else reply();
    });
  });
  await new Promise<void>((resolve) => services.listen(0, '127.0.0.1', resolve));
  serviceUrl = `http://127.0.0.1:${(services.address() as AddressInfo).port}`;
});
afterAll(async () => {
  services.closeAllConnections();
  await new Promise<void>((resolve) => services.close(() => resolve()));
});

const step = (id: string, endpoint: string, dependsOn: string[] = []) => ({ action_id: id, action_type: 'service_call', depends_on: dependsOn, config: { service: 'svc', endpoint, method: 'POST', parameters: {} } });

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const parsed = (await response.json()) as { data: Record<string, unknown> };
  if (response.status >= 300) throw new Error(`${response.status}: ${JSON.stringify(parsed)}`);
  return parsed.data;
}

async function statusOf(url: string, executionId: string): Promise<{ status: string; actions: { action_id: string; status: string }[] }> {
  const response = await fetch(`${url}/workflows/executions/${executionId}`);
  return ((await response.json()) as { data: { status: string; actions: { action_id: string; status: string }[] } }).data;
}

const callsWith = (path: string, key: string) => received.filter((call) => call.path === path && call.key === key).length;

describe('runs of the real npm start process through a crash and a Ctrl-C', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'orchestrator-crash-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('kill -9 with 100 runs in flight: after a restart all 100 complete; completed actions were not called again, the one in flight got the same key', async () => {
    const first = await npmStart(dataDir, serviceUrl);
    const workflow = await post(`${first.url}/workflows`, { name: 'crash', actions: [step('before', '/before'), step('slow', '/slow', ['before']), step('after', '/after', ['slow'])] });
    slowMs = 60_000;
    const runs = await Promise.all(Array.from({ length: 100 }, async () => String((await post(`${first.url}/workflows/${String(workflow.workflow_id)}/execute`, { parameters: {} })).execution_id)));
    // Every run has finished `before` and is inside `slow` when the process dies.
    await until(() => runs.every((id) => callsWith('/slow', `${id}:slow`) === 1), 'all 100 runs to be in their slow call', 60_000, 50);
    await first.signal('SIGKILL');

    slowMs = 5;
    const second = await npmStart(dataDir, serviceUrl);
    try {
      await until(async () => (await Promise.all(runs.map((id) => statusOf(second.url, id)))).every((run) => run.status === 'completed'), 'all 100 runs to complete', 90_000, 50);
      for (const id of runs) {
        expect(callsWith('/before', `${id}:before`), `before of ${id}`).toBe(1);
        expect(callsWith('/slow', `${id}:slow`), `slow of ${id}`).toBe(2);
        expect(callsWith('/after', `${id}:after`), `after of ${id}`).toBe(1);
      }
      expect(second.output()).toMatch(/"kind":"runs_resumed","count":100/);
    } finally {
      expect(await second.signal('SIGTERM')).toBe(0);
    }
  });

  it('Ctrl-C during a run: npm exits 0 after the call in flight finished; the next start runs the rest without calling it again', async () => {
    const first = await npmStart(dataDir, serviceUrl);
    const workflow = await post(`${first.url}/workflows`, { name: 'ctrl-c', actions: [step('slow', '/slow'), step('after', '/after', ['slow'])] });
    slowMs = 1500;
    const id = String((await post(`${first.url}/workflows/${String(workflow.workflow_id)}/execute`, { parameters: {} })).execution_id);
    await until(() => callsWith('/slow', `${id}:slow`) === 1, 'the slow call', 15_000, 50);
    const code = await first.signal('SIGINT');
    expect(code, first.output()).toBe(0);
    expect(first.output()).not.toMatch(/Database is closed|Error:/);
    expect(callsWith('/after', `${id}:after`)).toBe(0);

    const second = await npmStart(dataDir, serviceUrl);
    try {
      await until(async () => (await statusOf(second.url, id)).status === 'completed', 'the run to complete', 30_000, 50);
      expect(callsWith('/slow', `${id}:slow`)).toBe(1);
      expect(callsWith('/after', `${id}:after`)).toBe(1);
    } finally {
      expect(await second.signal('SIGINT')).toBe(0);
    }
  });
});
