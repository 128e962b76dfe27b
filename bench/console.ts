import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { build } from 'vite';
import { createClient } from '../client/index.ts';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import { makeScratchDirectory, removeScratchDirectory } from './environment.ts';
import { median, round } from './stats.ts';

/**
 * Section 16: the web console. Its built assets (raw and gzipped, source maps left out: only devtools fetch
 * them), the first load to the workflow list in headless Chromium against the real local runtime (a fresh
 * browser context each time: no cache, no session), and how long after an action's service call answers its
 * node turns green on the run's page (the event stream's latency as a user sees it).
 */

export const CONSOLE_GZIP_TARGET_BYTES = 300 * 1024;
const LOAD_RUNS = 7;
const CHAIN_ACTIONS = 12;
/** Each call of the chain answers after this long: room for the page to follow one node at a time. */
const CALL_MS = 250;
const SERVICE = 'bench_console';

export interface ConsoleBench {
  readonly assets: readonly { readonly file: string; readonly bytes: number; readonly gzipBytes: number }[];
  readonly totalBytes: number;
  readonly totalGzipBytes: number;
  readonly gzipTargetBytes: number;
  /** Milliseconds from navigation to the sign-in page, and to the workflow list after "Continue without signing in". */
  readonly signInMs: readonly number[];
  readonly workflowListMs: readonly number[];
  readonly workflowListMedianMs: number;
  /** Per action: the node's turn to completed minus the moment its service call's answer was sent. */
  readonly greenAfterMs: readonly number[];
  readonly greenP50Ms: number;
  readonly greenMaxMs: number;
  readonly liveMode: string;
}

export async function measureConsole(): Promise<ConsoleBench> {
  const scratch = await makeScratchDirectory('bench-console-');
  const answered = new Map<string, number>();
  const service = await startService(answered);
  let runtime: LocalRuntime | undefined;
  let browser: Browser | undefined;
  try {
    await build({ configFile: join(import.meta.dirname, '..', 'console', 'vite.config.ts'), logLevel: 'error', build: { outDir: scratch, emptyOutDir: true, sourcemap: false } });
    const assets = await assetSizes(scratch);
    runtime = await startLocalRuntime({
      port: 0,
      host: '127.0.0.1',
      workflowsTableName: 'bench-console',
      region: 'us-east-1',
      serviceVersion: 'bench',
      consoleDirectory: scratch,
      serviceUrls: { [`${SERVICE.toUpperCase()}_URL`]: service.url },
      logLevel: 'error',
    });
    const client = createClient({ baseUrl: runtime.url });
    for (let index = 0; index < 20; index++) {
      await client.call('createWorkflow', { body: { name: `bench console ${index}`, parameters: [], actions: [{ action_id: 'a', action_type: 'transform', config: { output: { i: index } }, depends_on: [] }] } });
    }
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });

    const signInMs: number[] = [];
    const workflowListMs: number[] = [];
    for (let run = 0; run < LOAD_RUNS; run++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(`${runtime.url}/console/`);
      await page.getByRole('button', { name: 'Continue without signing in' }).click();
      signInMs.push(round(performance.now() - started, 1));
      await page.getByRole('link', { name: 'bench console 19' }).waitFor();
      workflowListMs.push(round(performance.now() - started, 1));
      await context.close();
    }

    // A chain of service calls, each answering after CALL_MS; the page records when each node turns completed.
    const ids = Array.from({ length: CHAIN_ACTIONS }, (_, index) => `step${index}`);
    const chain = await client.call('createWorkflow', {
      body: {
        name: 'bench console chain',
        parameters: [],
        actions: ids.map((id, index) => ({ action_id: id, action_type: 'service_call' as const, config: { service: SERVICE, endpoint: `/${id}`, method: 'POST' }, depends_on: index === 0 ? [] : [ids[index - 1]!] })),
      },
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${runtime.url}/console/`);
    await page.getByRole('button', { name: 'Continue without signing in' }).click();
    await page.getByRole('link', { name: 'bench console 19' }).waitFor();
    // The first call waits a second: time for the run's page to open and its stream to connect.
    service.holdFirst(1000);
    const started = await client.call('executeWorkflow', { params: { workflow_id: chain.workflow_id }, body: { parameters: {} } });
    await page.goto(`${runtime.url}/console/runs/${started.execution_id}`);
    await page.locator(`[data-node-id="${ids[0]}"]`).waitFor();
    // How the page follows the run while it runs (the event stream, or polling when the stream is unavailable).
    const liveMode = (await page.getByText(/^(Live|Polling)/).first().textContent({ timeout: 3000 }).catch(() => null)) ?? 'mode not shown';
    // Runs in the page (a string: this file is type-checked for Node, not the DOM).
    await page.evaluate(`(() => {
      const seen = {};
      window.__green = seen;
      const record = () => {
        for (const node of document.querySelectorAll('[data-node-id][data-status="completed"]')) {
          const id = node.getAttribute('data-node-id');
          if (!(id in seen)) seen[id] = Date.now();
        }
      };
      new MutationObserver(record).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-status'], childList: true });
      record();
    })()`);
    await page.locator(`[data-node-id="${ids.at(-1)!}"][data-status="completed"]`).waitFor({ timeout: 60_000 });
    const green = (await page.evaluate('window.__green')) as Record<string, number>;
    await context.close();
    // The first node may have turned green before the observer was installed (it answered during navigation).
    const greenAfterMs = ids.filter((id) => green[id] !== undefined && answered.has(id) && green[id]! >= answered.get(id)!).map((id) => green[id]! - answered.get(id)!);
    if (greenAfterMs.length < CHAIN_ACTIONS - 1) throw new Error(`only ${greenAfterMs.length} of ${CHAIN_ACTIONS} nodes were seen turning completed`);
    const sorted = [...greenAfterMs].sort((a, b) => a - b);
    return {
      assets,
      totalBytes: assets.reduce((sum, asset) => sum + asset.bytes, 0),
      totalGzipBytes: assets.reduce((sum, asset) => sum + asset.gzipBytes, 0),
      gzipTargetBytes: CONSOLE_GZIP_TARGET_BYTES,
      signInMs,
      workflowListMs,
      workflowListMedianMs: median(workflowListMs),
      greenAfterMs,
      greenP50Ms: median(greenAfterMs),
      greenMaxMs: sorted.at(-1) ?? Number.NaN,
      liveMode: liveMode.trim(),
    };
  } finally {
    await browser?.close();
    await runtime?.close();
    await service.close();
    await removeScratchDirectory(scratch);
  }
}

export function renderConsoleSection(bench: ConsoleBench): string {
  const kb = (bytes: number) => `${round(bytes / 1024, 1)} KB`;
  return [
    '16. WEB CONSOLE (Vite build of console/, headless Debian chromium through playwright-core, real local runtime)',
    `    Built assets (source maps left out): ${bench.assets.map((asset) => `${asset.file} ${kb(asset.bytes)} (${kb(asset.gzipBytes)} gzipped)`).join(', ')}`,
    `    Total ${kb(bench.totalBytes)}, ${kb(bench.totalGzipBytes)} gzipped: target under ${kb(bench.gzipTargetBytes)} gzipped: ${bench.totalGzipBytes < bench.gzipTargetBytes ? 'ok' : 'OVER'}.`,
    `    First load, fresh context (no cache, no session), ${bench.workflowListMs.length} runs: to the sign-in page answered ${median(bench.signInMs)} ms (median), to the workflow list ${bench.workflowListMedianMs} ms (median; all: ${bench.workflowListMs.join(', ')}).`,
    `    A node turning green after its service call answered (${bench.greenAfterMs.length} actions of a chain, ${CALL_MS} ms each, ${bench.liveMode}): p50 ${bench.greenP50Ms} ms, max ${bench.greenMaxMs} ms.`,
  ].join('\n');
}

async function assetSizes(directory: string): Promise<ConsoleBench['assets']> {
  const files: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder)) {
      const path = join(folder, entry);
      if ((await stat(path)).isDirectory()) await walk(path);
      else if (!entry.endsWith('.map')) files.push(path);
    }
  };
  await walk(directory);
  return Promise.all(
    files.sort().map(async (path) => {
      const content = await readFile(path);
      return { file: relative(directory, path), bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length };
    }),
  );
}

/** The chain's service: answers each call after CALL_MS (the first after `holdFirst`), recording when it answered. */
async function startService(answered: Map<string, number>): Promise<{ url: string; holdFirst: (ms: number) => void; close: () => Promise<void> }> {
  let firstHold = 0;
  let first = true;
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const id = new URL(request.url ?? '/', 'http://localhost').pathname.slice(1);
      const wait = first ? Math.max(CALL_MS, firstHold) : CALL_MS;
      first = false;
      setTimeout(() => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ id }), () => answered.set(id, Date.now()));
      }, wait);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    holdFirst: (ms) => {
      firstHold = ms;
      first = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
