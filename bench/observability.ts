import { execFile, fork, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { startDynalite } from '../local/dynalite.ts';
import { startFauxqsEmulator } from '../local/fauxqs.ts';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import { childEnvironment, makeScratchDirectory, PROJECT_ROOT, removeScratchDirectory } from './environment.ts';
import { ESBUILD_OPTIONS, runnerSource, timeColdInit, topContributors, type ColdInitSample, type Contributor } from './lambda-bundles.ts';
import { kilobytes, median, round, since, table, verdict } from './stats.ts';

/**
 * Issue 13's figures (observability):
 * 1. Per request: two local runtimes, each in a child process (bench/observability-run.ts --runtime-child), one
 *    with tracing and metrics on, one with both off, on the same emulators (dynalite and fauxqs in this
 *    process, which is also the client). Interleaved rounds of sequential `GET /workflows/{id}` (a DynamoDB
 *    read) and `GET /health`; medians per request, and each child's CPU time per request including writing
 *    the round's spans (flushed at the end of each round, so a round's spans are never written during the
 *    other runtime's round).
 * 2. Per action: a workflow of 20 sequential service calls to a loopback service that answers at once, run
 *    alternately on each runtime; time per action from the run's started_at/ended_at, and CPU per action.
 * 3. `GET /metrics` with 1,000 workflows and 100 services (2 instances each): render time and body size, the
 *    body parsed as Prometheus reads it.
 * 4. Every Lambda entry in both the baseline (BASELINE_COMMIT, the last commit before issue 13, extracted
 *    with `git archive`) and the working tree, built with the same esbuild options as CDK: size before and
 *    after, and cold init (fresh node processes, interleaved) for INIT_SUBJECTS.
 */

export const OVERHEAD_RATIO_TARGET = 1.05;
export const INIT_GROWTH_TARGET = 1.1;
export const BASELINE_COMMIT = 'fed4e15';
const ROUNDS = 10;
const REQUESTS_PER_ROUND = 200;
const CHAIN_LENGTH = 20;
const ACTION_RUNS = 10;
const WARMUP_RUNS = 2;
const METRICS_WORKFLOWS = 1000;
const METRICS_SERVICES = 100;
const INSTANCES_PER_SERVICE = 2;
const SCRAPES = 30;
const INIT_RUNS = 9;
/** Cold init is timed for these entries only (every one is built and sized): reads, a run's start, the event history, the two busiest workers. */
export const INIT_SUBJECTS = ['get-workflow', 'execute-workflow', 'health', 'get-event-history', 'action-runner-entry', 'status-listener-entry'] as const;
const SERVICE = 'bench_echo';
const RUNTIME_CHILD_FLAG = '--runtime-child';
const RUN_SCRIPT = join(import.meta.dirname, 'observability-run.ts');

export interface RequestOverhead {
  readonly request: string;
  readonly requests: number;
  readonly onMedianMs: number;
  readonly offMedianMs: number;
  readonly ratio: number;
  /** The runtime child's CPU (user + system) per request, the round's span writes included. */
  readonly onCpuUs: number;
  readonly offCpuUs: number;
  readonly cpuRatio: number;
  readonly spansPerRequest: number;
}

export interface ActionOverhead {
  readonly actions: number;
  readonly runs: number;
  /** Median of (ended_at - started_at) / actions. */
  readonly onMsPerAction: number;
  readonly offMsPerAction: number;
  readonly ratio: number;
  /** POST execute to the runtime idle, divided by actions. */
  readonly onClientMsPerAction: number;
  readonly offClientMsPerAction: number;
  readonly clientRatio: number;
  readonly onCpuUsPerAction: number;
  readonly offCpuUsPerAction: number;
  readonly cpuRatio: number;
  readonly spansPerRun: number;
  readonly serviceCalls: number;
}

export interface MetricsRender {
  readonly workflows: number;
  readonly services: number;
  readonly instances: number;
  readonly scrapes: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly bodyKb: number;
  readonly families: number;
  readonly samples: number;
  readonly workflowSeries: number;
  readonly workflowsCounted: number;
  readonly circuitStateSeries: number;
}

export interface BundleComparison {
  readonly entry: string;
  readonly kbBefore: number;
  readonly kbAfter: number;
  readonly topContributors: readonly Contributor[];
  /** Packages (or project folders) that grew most, in KB. */
  readonly growth: readonly Contributor[];
  readonly init?: {
    readonly beforeMs: number;
    readonly afterMs: number;
    readonly emptyMs: number;
    readonly ratio: number;
    readonly importBeforeMs: number;
    readonly importAfterMs: number;
    readonly importRatio: number;
    readonly runs: number;
  };
}

export interface ObservabilitySection {
  readonly requests: readonly RequestOverhead[];
  readonly actions: ActionOverhead;
  readonly metrics: MetricsRender;
  readonly baselineCommit: string;
  readonly bundles: readonly BundleComparison[];
}

export async function measureObservability(): Promise<ObservabilitySection> {
  const { requests, actions, metrics } = await measureRuntimes();
  const bundles = await compareBundles();
  return { requests, actions, metrics, baselineCommit: BASELINE_COMMIT, bundles };
}

// ---------------------------------------------------------------------------------------------------------
// Sections 1-3: the local runtime

async function measureRuntimes(): Promise<Pick<ObservabilitySection, 'requests' | 'actions' | 'metrics'>> {
  const dynalite = await startDynalite({});
  const fauxqs = await startFauxqsEmulator();
  let calls = 0;
  const service: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      calls += 1;
      response.setHeader('content-type', 'application/json');
      response.end('{"n":1}');
    });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  const serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
  const shared = { dynamoEndpoint: dynalite.endpoint, sqsEndpoint: fauxqs.endpoint, s3Endpoint: fauxqs.endpoint, serviceUrls: { [`${SERVICE.toUpperCase()}_URL`]: serviceUrl } };
  const children: RuntimeChild[] = [];
  try {
    const on = await startRuntimeChild({ ...shared, workflowsTableName: 'bench-obs-on', observability: { tracing: true, metrics: true } });
    children.push(on);
    const off = await startRuntimeChild({ ...shared, workflowsTableName: 'bench-obs-off', observability: { tracing: false, metrics: false } });
    children.push(off);
    const sides = [on, off];
    const workflowIds = new Map<RuntimeChild, string>();
    for (const side of sides) workflowIds.set(side, await createWorkflow(side.url, chainDefinition()));

    // 1. Per request.
    const kinds = [
      { request: 'GET /workflows/{id}', path: (side: RuntimeChild) => `/workflows/${workflowIds.get(side)!}` },
      { request: 'GET /health', path: () => '/health' },
    ];
    const latencies = new Map<string, number[]>();
    const cpu = new Map<string, number>();
    const spans = new Map<string, number>();
    const key = (side: RuntimeChild, request: string) => `${side === on ? 'on' : 'off'} ${request}`;
    for (let roundIndex = -1; roundIndex < ROUNDS; roundIndex++) {
      const warmup = roundIndex < 0;
      for (const side of roundIndex % 2 === 0 ? sides : [...sides].reverse()) {
        for (const kind of kinds) {
          const url = `${side.url}${kind.path(side)}`;
          const before = await side.call('mark');
          const times: number[] = [];
          for (let index = 0; index < REQUESTS_PER_ROUND; index++) {
            const started = performance.now();
            const response = await fetch(url);
            await response.arrayBuffer();
            times.push(since(started));
            if (response.status !== 200) throw new Error(`${kind.request} answered ${response.status}`);
          }
          const after = await side.call('flush');
          if (warmup) continue;
          const name = key(side, kind.request);
          latencies.set(name, [...(latencies.get(name) ?? []), ...times]);
          cpu.set(name, (cpu.get(name) ?? 0) + after.cpuUs - before.cpuUs);
          spans.set(name, (spans.get(name) ?? 0) + after.spansRecorded - before.spansRecorded);
        }
      }
    }
    const requestCount = ROUNDS * REQUESTS_PER_ROUND;
    const requests = kinds.map(({ request }): RequestOverhead => {
      const onMedianMs = median(latencies.get(key(on, request))!);
      const offMedianMs = median(latencies.get(key(off, request))!);
      const onCpuUs = cpu.get(key(on, request))! / requestCount;
      const offCpuUs = cpu.get(key(off, request))! / requestCount;
      return {
        request,
        requests: requestCount,
        onMedianMs: round(onMedianMs, 3),
        offMedianMs: round(offMedianMs, 3),
        ratio: round(onMedianMs / offMedianMs, 3),
        onCpuUs: round(onCpuUs, 0),
        offCpuUs: round(offCpuUs, 0),
        cpuRatio: round(onCpuUs / offCpuUs, 3),
        spansPerRequest: round(spans.get(key(on, request))! / requestCount, 2),
      };
    });

    // 2. Per action.
    const runs = new Map<RuntimeChild, { stored: number[]; client: number[]; cpuUs: number; spans: number }>(sides.map((side) => [side, { stored: [], client: [], cpuUs: 0, spans: 0 }]));
    const callsBefore = calls;
    for (let runIndex = -WARMUP_RUNS; runIndex < ACTION_RUNS; runIndex++) {
      for (const side of runIndex % 2 === 0 ? sides : [...sides].reverse()) {
        const before = await side.call('mark');
        const started = performance.now();
        const executionId = String((await api(side.url, 'POST', `/workflows/${workflowIds.get(side)!}/execute`, { parameters: {} })).execution_id);
        await side.call('idle');
        const clientMs = since(started);
        const execution = await api(side.url, 'GET', `/workflows/executions/${executionId}`);
        const after = await side.call('flush');
        if (execution.status !== 'completed') throw new Error(`run ${executionId} ended ${String(execution.status)}: ${JSON.stringify(execution).slice(0, 500)}`);
        if (runIndex < 0) continue;
        const record = runs.get(side)!;
        record.stored.push(Date.parse(String(execution.ended_at)) - Date.parse(String(execution.started_at)));
        record.client.push(clientMs);
        record.cpuUs += after.cpuUs - before.cpuUs;
        record.spans += after.spansRecorded - before.spansRecorded;
      }
    }
    const expectedCalls = (ACTION_RUNS + WARMUP_RUNS) * 2 * CHAIN_LENGTH;
    if (calls - callsBefore !== expectedCalls) throw new Error(`the service received ${calls - callsBefore} calls, expected ${expectedCalls}`);
    const perAction = (values: number[]) => median(values) / CHAIN_LENGTH;
    const onRuns = runs.get(on)!;
    const offRuns = runs.get(off)!;
    const actionCount = ACTION_RUNS * CHAIN_LENGTH;
    const actions: ActionOverhead = {
      actions: CHAIN_LENGTH,
      runs: ACTION_RUNS,
      onMsPerAction: round(perAction(onRuns.stored), 2),
      offMsPerAction: round(perAction(offRuns.stored), 2),
      ratio: round(median(onRuns.stored) / median(offRuns.stored), 3),
      onClientMsPerAction: round(perAction(onRuns.client), 2),
      offClientMsPerAction: round(perAction(offRuns.client), 2),
      clientRatio: round(median(onRuns.client) / median(offRuns.client), 3),
      onCpuUsPerAction: round(onRuns.cpuUs / actionCount, 0),
      offCpuUsPerAction: round(offRuns.cpuUs / actionCount, 0),
      cpuRatio: round(onRuns.cpuUs / offRuns.cpuUs, 3),
      spansPerRun: round(onRuns.spans / ACTION_RUNS, 1),
      serviceCalls: calls - callsBefore,
    };
    await Promise.all(children.splice(0).map((child) => child.close()));

    // 3. /metrics, with the runtime in this process.
    const metrics = await measureMetricsRender({ ...shared, serviceUrl });
    return { requests, actions, metrics };
  } finally {
    await Promise.all(children.map((child) => child.close()));
    service.closeAllConnections();
    await new Promise<void>((resolve) => service.close(() => resolve()));
    await fauxqs.close();
    await dynalite.close();
  }
}

async function measureMetricsRender(options: { dynamoEndpoint: string; sqsEndpoint: string; s3Endpoint: string; serviceUrl: string }): Promise<MetricsRender> {
  let runtime: LocalRuntime | undefined;
  try {
    runtime = await startLocalRuntime({ ...runtimeOptions(), ...options, workflowsTableName: 'bench-obs-metrics', observability: { tracing: true, metrics: true } });
    const url = runtime.url;
    // Through the API, ten at a time: the workflow counts the gauge reads are maintained by the store's writes.
    await inParallel(METRICS_WORKFLOWS, 10, (index) => createWorkflow(url, { name: `Bench metrics ${index}`, actions: [serviceCallAction('only', [])] }));
    await inParallel(METRICS_SERVICES * INSTANCES_PER_SERVICE, 10, async (index) => {
      const name = `bench_svc_${String(Math.floor(index / INSTANCES_PER_SERVICE)).padStart(3, '0')}`;
      await api(url, 'POST', '/registry/register', { name, url: options.serviceUrl, instance_id: `${name}-${index % INSTANCES_PER_SERVICE}` });
    });
    const scrape = async () => {
      const started = performance.now();
      const response = await fetch(`${url}/metrics`);
      const body = await response.text();
      const ms = since(started);
      if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}: ${body.slice(0, 300)}`);
      return { ms, body };
    };
    for (let index = 0; index < 3; index++) await scrape();
    const times: number[] = [];
    let body = '';
    for (let index = 0; index < SCRAPES; index++) ({ ms: times[index], body } = await scrape());
    const families = parsePrometheus(body);
    const samplesOf = (name: string) => families.filter((family) => family.name === name).flatMap((family) => family.metrics);
    const workflowSamples = samplesOf('orchestrator_workflows');
    return {
      workflows: METRICS_WORKFLOWS,
      services: METRICS_SERVICES,
      instances: METRICS_SERVICES * INSTANCES_PER_SERVICE,
      scrapes: SCRAPES,
      medianMs: round(median(times), 2),
      p95Ms: round(quantile(times, 0.95), 2),
      bodyKb: kilobytes(Buffer.byteLength(body)),
      families: families.length,
      samples: families.reduce((sum, family) => sum + family.metrics.length, 0),
      workflowSeries: workflowSamples.length,
      workflowsCounted: workflowSamples.reduce((sum, sample) => sum + Number(sample.value ?? 0), 0),
      circuitStateSeries: samplesOf('orchestrator_circuit_state').length,
    };
  } finally {
    await runtime?.close();
  }
}

interface ParsedFamily {
  readonly name: string;
  readonly metrics: readonly { readonly labels?: Record<string, string>; readonly value?: string }[];
}
/** The independent parser the metrics tests use (no types; see test/unit/functions/observability/metrics-text.ts). */
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

function runtimeOptions() {
  return { port: 0, host: '127.0.0.1', region: 'us-east-1', serviceVersion: 'bench', log: () => undefined };
}

function serviceCallAction(actionId: string, dependsOn: readonly string[], parameters: Record<string, unknown> = {}) {
  return { action_id: actionId, action_type: 'service_call', config: { service: SERVICE, endpoint: '/work', method: 'POST', parameters }, ...(dependsOn.length > 0 ? { depends_on: [...dependsOn] } : {}) };
}

/** s01 -> s02 -> ... -> s20, each passing on a value of its predecessor's response. */
function chainDefinition() {
  const id = (index: number) => `s${String(index).padStart(2, '0')}`;
  const actions = Array.from({ length: CHAIN_LENGTH }, (_, index) =>
    index === 0 ? serviceCallAction(id(1), [], { step: 1 }) : serviceCallAction(id(index + 1), [id(index)], { step: index + 1, previous: `{{${id(index)}.response.n}}` }),
  );
  return { name: `Bench observability chain of ${CHAIN_LENGTH}`, actions };
}

async function api(baseUrl: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${baseUrl}${path}`, { method, headers: { 'content-type': 'application/json', 'x-user-id': 'bench' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const envelope = (await response.json()) as { data?: Record<string, unknown> };
  if (response.status >= 300 || !envelope.data) throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(envelope).slice(0, 500)}`);
  return envelope.data;
}

async function createWorkflow(baseUrl: string, definition: unknown): Promise<string> {
  return String((await api(baseUrl, 'POST', '/workflows', definition)).workflow_id);
}

async function inParallel(count: number, concurrency: number, work: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let index = next++; index < count; index = next++) await work(index);
  }));
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

// ---------------------------------------------------------------------------------------------------------
// The runtime children

interface ChildMark {
  readonly cpuUs: number;
  readonly spansRecorded: number;
}
type ChildOp = 'mark' | 'flush' | 'idle' | 'close';

interface RuntimeChild {
  readonly url: string;
  call(op: ChildOp): Promise<ChildMark>;
  close(): Promise<void>;
}

/** Starts `observability-run.ts --runtime-child` with these runtime options and waits until it listens. */
async function startRuntimeChild(options: Record<string, unknown>): Promise<RuntimeChild> {
  const child: ChildProcess = fork(RUN_SCRIPT, [RUNTIME_CHILD_FLAG, JSON.stringify(options)], { cwd: PROJECT_ROOT, env: childEnvironment(), stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const waiting = new Map<number, { resolve: (mark: ChildMark) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let closed = false;
  const failAll = (error: Error) => {
    for (const waiter of waiting.values()) waiter.reject(error);
    waiting.clear();
  };
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (message: { id?: number; url?: string; mark?: ChildMark; error?: string }) => {
      if (message.url !== undefined) return resolve(message.url);
      const waiter = waiting.get(message.id!);
      waiting.delete(message.id!);
      if (message.error !== undefined) waiter?.reject(new Error(`runtime child: ${message.error}`));
      else waiter?.resolve(message.mark!);
    });
    child.once('exit', (code, signal) => {
      const error = new Error(`runtime child exited (${signal ?? code}): ${stderr.trim()}`);
      reject(error);
      if (!closed) failAll(error);
    });
  });
  const call = (op: ChildOp) =>
    new Promise<ChildMark>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      child.send({ id, op });
    });
  return {
    url,
    call,
    async close() {
      if (closed || child.exitCode !== null) return;
      closed = true;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await call('close').catch(() => undefined);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** The child's side: `node bench/observability-run.ts --runtime-child '<options JSON>'`. */
export async function serveRuntimeChild(optionsJson: string): Promise<void> {
  const runtime = await startLocalRuntime({ ...runtimeOptions(), ...(JSON.parse(optionsJson) as { workflowsTableName: string }) });
  const mark = (): ChildMark => {
    const usage = process.cpuUsage();
    return { cpuUs: usage.user + usage.system, spansRecorded: runtime.observability.spans.stats().recorded };
  };
  process.on('message', (message: { id: number; op: ChildOp }) => {
    const work = async (): Promise<ChildMark> => {
      if (message.op === 'flush') await runtime.observability.spans.flush();
      if (message.op === 'idle') await runtime.engine.idle();
      if (message.op === 'close') await runtime.close();
      return mark();
    };
    work().then(
      (result) => process.send!({ id: message.id, mark: result }, () => (message.op === 'close' ? process.exit(0) : undefined)),
      (error: unknown) => process.send!({ id: message.id, error: String(error) }),
    );
  });
  process.send!({ url: runtime.url });
}

export function isRuntimeChild(argv: readonly string[]): boolean {
  return argv[2] === RUNTIME_CHILD_FLAG;
}

// ---------------------------------------------------------------------------------------------------------
// Section 4: Lambda bundles before and after

const run = promisify(execFile);

async function compareBundles(): Promise<BundleComparison[]> {
  // Everything lives in one scratch directory inside the project (.bench-tmp, ignored by git, tsc, ESLint and
  // vitest), removed at the end, on failure and on Ctrl-C (bench/environment.ts). The baseline's sources are
  // extracted there with `git archive`, which touches nothing of the repository (a worktree would add
  // .git/worktrees metadata under other engineers' feet); its imports of npm packages resolve, walking up, to
  // this project's node_modules, as the bundles' run-time imports of @aws-sdk do.
  const scratch = await makeScratchDirectory('observability-bundles');
  try {
    const baselineRoot = join(scratch, 'baseline');
    await mkdir(baselineRoot);
    const archive = join(scratch, 'baseline.tar');
    await run('git', ['archive', '--format=tar', '-o', archive, BASELINE_COMMIT, 'core', 'statemachines', 'adapters', 'functions', 'infra', 'tsconfig.json', 'package.json'], { cwd: PROJECT_ROOT });
    await run('tar', ['-xf', archive, '-C', baselineRoot]);
    const before = new Set(await lambdaEntries(baselineRoot));
    const common = (await lambdaEntries(PROJECT_ROOT)).filter((entry) => before.has(entry)).sort();
    const built = await Promise.all(common.map(async (entry) => ({ entry, before: await buildIn(baselineRoot, entry, join(scratch, 'before')), after: await buildIn(PROJECT_ROOT, entry, join(scratch, 'after')) })));

    const runner = join(scratch, 'runner.mjs');
    const emptyModule = join(scratch, 'empty.mjs');
    await writeFile(runner, runnerSource());
    await writeFile(emptyModule, '');
    const timed = built.filter(({ entry }) => (INIT_SUBJECTS as readonly string[]).includes(basename(entry, '.ts')));
    const missing = INIT_SUBJECTS.filter((name) => !timed.some(({ entry }) => basename(entry, '.ts') === name));
    if (missing.length > 0) throw new Error(`entries to time not found in both trees: ${missing.join(', ')}`);
    type Kind = 'empty' | 'before' | 'after';
    const samples = new Map<string, Record<Kind, ColdInitSample[]>>(timed.map(({ entry }) => [entry, { empty: [], before: [], after: [] }]));
    // Interleaved: per round and entry, an empty module, the baseline bundle and the new one back to back, in
    // reverse order every other round, so drift in machine load lands on both sides of each ratio.
    for (let roundIndex = 0; roundIndex < INIT_RUNS; roundIndex++) {
      const order: Kind[] = roundIndex % 2 === 0 ? ['empty', 'before', 'after'] : ['after', 'before', 'empty'];
      for (const { entry, before: old, after: current } of timed) {
        for (const kind of order) {
          const file = kind === 'empty' ? emptyModule : kind === 'before' ? old.file : current.file;
          samples.get(entry)![kind].push(await timeColdInit(runner, file, scratch));
        }
      }
    }

    return built.map(({ entry, before: old, after: current }): BundleComparison => {
      const record = samples.get(entry);
      const wall = (kind: Kind) => median(record![kind].map((sample) => sample.wallMs));
      const imported = (kind: Kind) => median(record![kind].map((sample) => sample.importMs));
      const oldSizes = new Map(old.contributors.map((contributor) => [contributor.name, contributor.kb]));
      const growth = current.contributors
        .map((contributor) => ({ name: contributor.name, kb: round(contributor.kb - (oldSizes.get(contributor.name) ?? 0), 1), percent: round(((contributor.kb - (oldSizes.get(contributor.name) ?? 0)) / kilobytes(current.bytes)) * 100, 0) }))
        .filter((contributor) => contributor.kb > 0)
        .sort((a, b) => b.kb - a.kb)
        .slice(0, 3);
      return {
        entry: entry.replace(/^functions\//, '').replace(/\.ts$/, ''),
        kbBefore: kilobytes(old.bytes),
        kbAfter: kilobytes(current.bytes),
        topContributors: current.contributors.slice(0, 3),
        growth,
        ...(record
          ? {
              init: {
                beforeMs: round(wall('before')),
                afterMs: round(wall('after')),
                emptyMs: round(wall('empty')),
                ratio: round(wall('after') / wall('before'), 3),
                importBeforeMs: round(imported('before')),
                importAfterMs: round(imported('after')),
                importRatio: round(imported('after') / imported('before'), 3),
                runs: record.after.length,
              },
            }
          : {}),
      };
    });
  } finally {
    await removeScratchDirectory(scratch);
  }
}

/** Every Lambda entry of a tree: one per route (and the authorizer), and the workers'. */
async function lambdaEntries(root: string): Promise<string[]> {
  const inFolder = async (folder: string, suffix: string) => (await readdir(join(root, folder))).filter((file) => file.endsWith(suffix)).map((file) => `${folder}/${file}`);
  return [...(await inFolder('functions/entries', '.ts')), ...(await inFolder('functions/workers', '-entry.ts'))];
}

/** One entry built as CDK builds it (index.mjs in a folder of its own), with every contributor's share. */
async function buildIn(root: string, entry: string, directory: string): Promise<{ file: string; bytes: number; contributors: readonly Contributor[] }> {
  const file = join(directory, basename(entry, '.ts'), 'index.mjs');
  const result = await build({ ...ESBUILD_OPTIONS, absWorkingDir: root, entryPoints: [entry], outfile: file, metafile: true });
  const bytes = (await readFile(file)).byteLength;
  return { file, bytes, contributors: topContributors(result.metafile, bytes, Number.MAX_SAFE_INTEGER) };
}

// ---------------------------------------------------------------------------------------------------------
// Report

export function renderObservabilitySection(section: ObservabilitySection): string {
  const { requests, actions, metrics } = section;
  const x = (ratio: number) => `${ratio}x`;
  const target = (ratio: number, limit: number) => verdict(ratio < limit);
  const timedBundles = section.bundles.filter((bundle) => bundle.init !== undefined);
  const flagged = timedBundles.filter((bundle) => bundle.init!.ratio > INIT_GROWTH_TARGET || bundle.init!.importRatio > INIT_GROWTH_TARGET);
  const sizeGrowth = section.bundles.map((bundle) => bundle.kbAfter / bundle.kbBefore);
  const contributors = (list: readonly Contributor[]) => list.map((contributor) => `${contributor.name} ${contributor.kb} KB`).join(', ');
  return [
    `Observability (issue 13): tracing + metrics on against both off, two local runtimes in child processes on the same emulators (target ratio < ${OVERHEAD_RATIO_TARGET})`,
    `Per request: ${ROUNDS} interleaved rounds x ${REQUESTS_PER_ROUND} sequential requests per runtime and kind; CPU = the runtime process's user+system time, the round's span writes included`,
    table(
      ['request', 'on ms', 'off ms', 'ratio', 'target', 'on CPU us', 'off CPU us', 'CPU ratio', 'target', 'spans/request'],
      requests.map((row) => [row.request, row.onMedianMs, row.offMedianMs, x(row.ratio), target(row.ratio, OVERHEAD_RATIO_TARGET), row.onCpuUs, row.offCpuUs, x(row.cpuRatio), target(row.cpuRatio, OVERHEAD_RATIO_TARGET), row.spansPerRequest]),
    ),
    `Per action: a chain of ${actions.actions} service calls to a loopback service that answers at once, ${actions.runs} runs per runtime, interleaved (${actions.serviceCalls} calls received, all runs completed)`,
    table(
      ['measure', 'on', 'off', 'ratio', 'target'],
      [
        ['ms per action (started_at to ended_at, median run / actions)', actions.onMsPerAction, actions.offMsPerAction, x(actions.ratio), target(actions.ratio, OVERHEAD_RATIO_TARGET)],
        ['ms per action (client: execute sent to runtime idle)', actions.onClientMsPerAction, actions.offClientMsPerAction, x(actions.clientRatio), target(actions.clientRatio, OVERHEAD_RATIO_TARGET)],
        ['CPU us per action (span writes included)', actions.onCpuUsPerAction, actions.offCpuUsPerAction, x(actions.cpuRatio), target(actions.cpuRatio, OVERHEAD_RATIO_TARGET)],
      ],
    ),
    `  Spans recorded per run with tracing on: ${actions.spansPerRun} (requests of the run included).`,
    '',
    `GET /metrics with ${metrics.workflows} workflows and ${metrics.services} services (${metrics.instances} instances): ${metrics.scrapes} scrapes after 3 untimed`,
    table(
      ['measure', 'value'],
      [
        ['render median (ms)', metrics.medianMs],
        ['render p95 (ms)', metrics.p95Ms],
        ['body (KB)', metrics.bodyKb],
        ['families / samples parsed', `${metrics.families} / ${metrics.samples}`],
        ['orchestrator_workflows series (workflows counted)', `${metrics.workflowSeries} (${metrics.workflowsCounted})`],
        [`orchestrator_circuit_state series (expected ${metrics.instances * 3})`, metrics.circuitStateSeries],
      ],
    ),
    '',
    `Lambda bundles before (${section.baselineCommit}) and after issue 13: ${section.bundles.length} entries in both trees, the same esbuild options; size growth ${round(Math.min(...sizeGrowth), 2)}-${round(Math.max(...sizeGrowth), 2)}x`,
    table(
      ['entry', 'KB before', 'KB after', '+KB', 'grew most'],
      section.bundles.map((bundle) => [bundle.entry, bundle.kbBefore, bundle.kbAfter, round(bundle.kbAfter - bundle.kbBefore, 1), contributors(bundle.growth)]),
    ),
    `Cold init of ${timedBundles.length} of them (fresh node processes, spawn to exit, medians of ${timedBundles[0]?.init?.runs ?? 0} interleaved runs; target after/before < ${INIT_GROWTH_TARGET}); import() = inside the child, the module alone`,
    table(
      ['entry', 'empty ms', 'before ms', 'after ms', 'ratio', 'target', 'import() before', 'import() after', 'import ratio', 'target'],
      timedBundles.map((bundle) => {
        const init = bundle.init!;
        return [bundle.entry, init.emptyMs, init.beforeMs, init.afterMs, x(init.ratio), target(init.ratio, INIT_GROWTH_TARGET), init.importBeforeMs, init.importAfterMs, x(init.importRatio), target(init.importRatio, INIT_GROWTH_TARGET)];
      }),
    ),
    ...(flagged.length === 0
      ? [`  Init target met by all ${timedBundles.length} timed entries, wall and import() alike.`]
      : [
          `  OVER ${INIT_GROWTH_TARGET}x: ${flagged.map((bundle) => bundle.entry).join(', ')}. Their largest contributors now, and what grew:`,
          ...flagged.map((bundle) => `    ${bundle.entry}: ${contributors(bundle.topContributors)}; grew: ${contributors(bundle.growth)}`),
        ]),
  ].join('\n');
}
