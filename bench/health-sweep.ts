import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHealthSweep, DEFAULT_SWEEP_CONCURRENCY, type SweepSummary } from '../core/registry/health-sweep.ts';
import { systemClock } from '../core/system.ts';
import { createHttpHealthProbe } from '../adapters/http/http-health-probe.ts';
import { createOutboundHttp } from '../adapters/http/outbound-http.ts';
import { createOutboundPolicy, LOCAL_DEFAULT_OUTBOUND_ALLOW } from '../adapters/http/outbound-policy.ts';
import { startLocalRuntime } from '../local/runtime.ts';
import type { ServersData } from './health-sweep-servers.ts';
import { median, round, since, table } from './stats.ts';

/**
 * The health sweep over INSTANCES registered instances, each its own loopback HTTP server answering its health
 * path after SERVER_DELAY_MS (on a worker thread: bench/health-sweep-servers.ts), in the local runtime
 * (embedded dynalite, the production registry adapter, the production HTTP probe and sweep use case):
 *
 * - wall time of one sweep at several concurrencies, the sequential sweep (concurrency 1) against the default
 *   bounded one, as a ratio measured side by side in this run;
 * - DynamoDB commands per sweep and per instance (counted by a middleware on the runtime's client), which the
 *   design says is one listing query plus one write per instance;
 * - the same sweep through `POST /registry/health-check`, end to end.
 *
 * Every sweep must find every instance healthy: anything else aborts the section (no figures from failed sweeps).
 */

export const INSTANCES = 200;
export const SERVER_DELAY_MS = 20;
const SERVICES = 20;
const CONCURRENCIES = [1, 4, DEFAULT_SWEEP_CONCURRENCY, 64] as const;
/** Sequential sweeps take ~INSTANCES x (delay + overhead), about 5 s: two of them; the faster ones more. */
const REPETITIONS = (concurrency: number) => (concurrency < 8 ? 2 : 5);

export interface SweepTiming {
  readonly concurrency: number;
  readonly runs: number;
  readonly medianMs: number;
  readonly bestMs: number;
  /** The fastest a sweep could be: ceil(instances / concurrency) rounds of the server's delay. */
  readonly floorMs: number;
  /** Median wall time per instance probed. */
  readonly perInstanceMs: number;
}

export interface HealthSweepSection {
  readonly instances: number;
  readonly services: number;
  readonly serverDelayMs: number;
  readonly timings: readonly SweepTiming[];
  readonly defaultConcurrency: number;
  readonly sequentialMs: number;
  readonly boundedMs: number;
  /** sequentialMs / boundedMs. */
  readonly speedup: number;
  /**
   * The default sweep with its writes left out (a registry whose recordHealth does nothing): what probing
   * costs alone. The rest of boundedMs is the emulator's writes, which run on this thread (in AWS they are
   * network round trips, overlapping like the probes).
   */
  readonly probesOnlyMs: number;
  readonly dynamoCallsPerSweep: number;
  readonly dynamoCallsPerInstance: number;
  /** `Query[all-by-name] x1 + UpdateItem x200`. */
  readonly dynamoCommands: string;
  readonly http: { readonly status: number; readonly wallMs: number; readonly checked: number; readonly dynamoCalls: number };
}

interface Recorded {
  readonly command: string;
  readonly index?: string;
}

/** Records the DynamoDB commands the client sends while `active` (initialize step: each logical command once). */
function instrument(client: DynamoDBDocumentClient) {
  let active: Recorded[] | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { IndexName?: unknown };
      active?.push({ command: (context.commandName ?? 'Unknown').replace(/Command$/, ''), ...(typeof input.IndexName === 'string' ? { index: input.IndexName } : {}) });
      return next(args);
    },
    { step: 'initialize', name: 'benchHealthSweepCalls' },
  );
  return async <T>(work: () => Promise<T>): Promise<{ result: T; calls: Recorded[] }> => {
    const calls: Recorded[] = [];
    active = calls;
    try {
      return { result: await work(), calls };
    } finally {
      active = undefined;
    }
  };
}

function describeCalls(calls: readonly Recorded[]): string {
  const counts = new Map<string, number>();
  for (const call of calls) {
    const name = `${call.command}${call.index ? `[${call.index}]` : ''}`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([name, count]) => `${name} x${count}`).join(' + ');
}

/** The instances' servers on a worker thread; resolves with their ports and a way to close them. */
async function startInstances(data: ServersData): Promise<{ ports: number[]; close(): Promise<void> }> {
  const worker = new Worker(new URL('./health-sweep-servers.ts', import.meta.url), { workerData: data });
  const [message] = (await Promise.race([once(worker, 'message'), once(worker, 'error').then(([error]) => Promise.reject(error as Error))])) as [{ ports: number[] }];
  return {
    ports: message.ports,
    close: async () => {
      worker.postMessage('close');
      await once(worker, 'exit');
    },
  };
}

function requireAllHealthy(summary: Pick<SweepSummary, 'checked' | 'by_status'>, what: string): void {
  if (summary.checked !== INSTANCES || summary.by_status.healthy !== INSTANCES) {
    throw new Error(`${what}: expected ${INSTANCES} healthy instances, got ${JSON.stringify({ checked: summary.checked, by_status: summary.by_status })}`);
  }
}

export async function measureHealthSweep(): Promise<HealthSweepSection> {
  const servers = await startInstances({ count: INSTANCES, delayMs: SERVER_DELAY_MS });
  const runtime = await startLocalRuntime({ port: 0, host: '127.0.0.1', workflowsTableName: 'bench-health', region: 'us-east-1', serviceVersion: 'bench', logLevel: 'warn' });
  try {
    const record = instrument(runtime.documentClient);
    for (const [index, port] of servers.ports.entries()) {
      await runtime.services.registryService.register({ name: `bench-service-${index % SERVICES}`, url: `http://127.0.0.1:${port}` });
    }
    // The production probe and use case, at each concurrency; the local runtime's policy (loopback allowed).
    const probe = createHttpHealthProbe({ http: createOutboundHttp({ policy: createOutboundPolicy({ allow: LOCAL_DEFAULT_OUTBOUND_ALLOW }) }) });
    const sweepAt = (concurrency: number) => createHealthSweep({ registry: runtime.services.registry, probe, clock: systemClock }, { concurrency });
    // Warm-up: connections, JIT, the emulator's first writes.
    requireAllHealthy(await sweepAt(DEFAULT_SWEEP_CONCURRENCY)(), 'warm-up');

    const timings: SweepTiming[] = [];
    let dynamoCalls: Recorded[] = [];
    for (const concurrency of CONCURRENCIES) {
      const durations: number[] = [];
      for (let run = 0; run < REPETITIONS(concurrency); run++) {
        const started = performance.now();
        const { result, calls } = await record(() => sweepAt(concurrency)());
        durations.push(since(started));
        requireAllHealthy(result, `concurrency ${concurrency}`);
        if (concurrency === DEFAULT_SWEEP_CONCURRENCY) dynamoCalls = calls;
      }
      const medianMs = median(durations);
      timings.push({
        concurrency,
        runs: durations.length,
        medianMs: round(medianMs),
        bestMs: round(Math.min(...durations)),
        floorMs: Math.ceil(INSTANCES / concurrency) * SERVER_DELAY_MS,
        perInstanceMs: round(medianMs / INSTANCES, 2),
      });
    }

    const probesOnly: number[] = [];
    const noWrites = { list: () => runtime.services.registry.list(), instancesOf: (name: string) => runtime.services.registry.instancesOf(name), recordHealth: async () => true };
    for (let run = 0; run < REPETITIONS(DEFAULT_SWEEP_CONCURRENCY); run++) {
      const started = performance.now();
      requireAllHealthy(await createHealthSweep({ registry: noWrites, probe, clock: systemClock }, { concurrency: DEFAULT_SWEEP_CONCURRENCY })(), 'probes only');
      probesOnly.push(since(started));
    }

    const httpStarted = performance.now();
    const { result: reply, calls: httpCalls } = await record(async () => {
      const response = await fetch(`${runtime.url}/registry/health-check`, { method: 'POST' });
      return { status: response.status, body: (await response.json()) as { data: SweepSummary } };
    });
    const httpMs = since(httpStarted);
    requireAllHealthy(reply.body.data, 'POST /registry/health-check');

    const sequentialMs = timings.find((timing) => timing.concurrency === 1)!.medianMs;
    const boundedMs = timings.find((timing) => timing.concurrency === DEFAULT_SWEEP_CONCURRENCY)!.medianMs;
    return {
      instances: INSTANCES,
      services: SERVICES,
      serverDelayMs: SERVER_DELAY_MS,
      timings,
      defaultConcurrency: DEFAULT_SWEEP_CONCURRENCY,
      sequentialMs,
      boundedMs,
      speedup: round(sequentialMs / boundedMs, 1),
      probesOnlyMs: round(median(probesOnly)),
      dynamoCallsPerSweep: dynamoCalls.length,
      dynamoCallsPerInstance: round(dynamoCalls.length / INSTANCES, 3),
      dynamoCommands: describeCalls(dynamoCalls),
      http: { status: reply.status, wallMs: round(httpMs), checked: reply.body.data.checked, dynamoCalls: httpCalls.length },
    };
  } finally {
    await runtime.close();
    await servers.close();
  }
}

export function renderHealthSweepSection(section: HealthSweepSection): string {
  const rows = section.timings.map((timing) => [
    timing.concurrency === section.defaultConcurrency ? `${timing.concurrency} (default)` : timing.concurrency === 1 ? '1 (sequential)' : timing.concurrency,
    timing.runs,
    timing.medianMs,
    timing.bestMs,
    timing.floorMs,
    timing.perInstanceMs,
    round(section.sequentialMs / timing.medianMs, 1),
  ]);
  return [
    `7. HEALTH SWEEP (${section.instances} registered instances of ${section.services} services, each a loopback server answering after ${section.serverDelayMs} ms; local runtime on dynalite)`,
    table(['concurrency', 'runs', 'median ms', 'best ms', 'floor ms', 'ms/instance', 'x sequential'], rows),
    `  Bounded (${section.defaultConcurrency}) vs sequential: ${section.boundedMs} ms vs ${section.sequentialMs} ms, ${section.speedup}x faster (floor = rounds x server delay).`,
    `  Probing alone (default concurrency, writes left out): ${section.probesOnlyMs} ms; the rest is dynalite's ${section.instances} writes on this thread.`,
    `  DynamoDB per sweep: ${section.dynamoCallsPerSweep} calls (${section.dynamoCommands}) = ${section.dynamoCallsPerInstance} per instance.`,
    `  POST /registry/health-check (default concurrency, end to end): ${section.http.status}, ${section.http.checked} checked in ${section.http.wallMs} ms, ${section.http.dynamoCalls} DynamoDB calls.`,
  ].join('\n');
}
