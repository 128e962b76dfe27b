import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoServiceRegistry } from '../adapters/aws/dynamo/dynamo-service-registry.ts';
import { REGISTRY_TABLE } from '../adapters/aws/dynamo/registry-table.ts';
import { CLOSED_CIRCUIT, INITIAL_HEALTH, type ServiceInstance } from '../core/registry/model.ts';
import { systemClock } from '../core/system.ts';
import { createOutboundHttp } from '../adapters/http/outbound-http.ts';
import { createOutboundPolicy, LOCAL_DEFAULT_OUTBOUND_ALLOW } from '../adapters/http/outbound-policy.ts';
import { createActionRunner, type ActionRunner } from '../functions/workers/action-runner.ts';
import type { ServiceCallPayload } from '../functions/workers/service-call.ts';
import { createServiceResolver, DEFAULT_REGISTRY_CACHE_TTL_MS, type ResolverRegistry, type ServiceResolver } from '../functions/workers/service-resolver.ts';
import { startDynalite } from '../local/dynalite.ts';
import { ensureTable } from '../local/tables.ts';
import { median, round, table, verdict, type Cell } from './stats.ts';

/**
 * What service resolution adds to a service_call: the registry lookup (DynamoDB Query of the service's item
 * collection), balancing and the circuit check, and after the call the circuit bookkeeping. The production
 * action runner calls a loopback service that answers at once, with the registry on an in-process dynalite:
 *
 *   baseline  the service at a configured `<NAME>_URL` and no registry at all (no DynamoDB call)
 *   warm      the registered service (two healthy instances), through the runner's registry cache (2 s TTL)
 *   cold      the same without a cache: one Query per call
 *   open      a service whose only instance's circuit is open: the call fails fast, warm cache
 *
 * Calls run one at a time, the variants interleaved in rounds so that drift on a shared machine hits them all.
 * Overhead = the variant's median minus the baseline's. The resolver alone (resolve + record of a success,
 * no HTTP) is timed too: it is the overhead without the call's own noise. DynamoDB commands are counted on
 * the registry's client: reads (Query) and writes (UpdateItem) per call.
 */

export const RESOLUTION_TARGET_MS = 2;
const ROUNDS = 20;
const CALLS_PER_ROUND = 100;
const COLD_CALLS_PER_ROUND = 25;
const WARMUP_CALLS = 200;
const RESOLVER_CALLS = 5000;
const REGISTERED = 'bench_registered';
const CONFIGURED = 'bench_configured';
const OPEN = 'bench_open';

export interface ResolutionVariant {
  readonly key: 'baseline' | 'warm' | 'cold' | 'open';
  readonly label: string;
  readonly calls: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  /** Median minus the baseline's median. */
  readonly overheadMs: number;
  readonly queriesPerCall: number;
  readonly writesPerCall: number;
}

export interface ResolverTiming {
  readonly label: string;
  readonly calls: number;
  readonly medianUs: number;
  readonly p95Us: number;
  readonly queriesPerCall: number;
}

export interface ServiceResolutionSection {
  readonly targetMs: number;
  readonly cacheTtlMs: number;
  readonly rounds: number;
  readonly variants: readonly ResolutionVariant[];
  readonly resolver: readonly ResolverTiming[];
  /** The warm overhead (end to end) is under the target. */
  readonly withinTarget: boolean;
  /** No variant read DynamoDB more than once per call. */
  readonly atMostOneReadPerCall: boolean;
}

export async function measureServiceResolution(): Promise<ServiceResolutionSection> {
  const dynamo = await startDynalite({});
  const client = createDocumentClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const counts = { queries: 0, writes: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'QueryCommand') counts.queries++;
      if (context.commandName === 'UpdateItemCommand') counts.writes++;
      return next(args);
    },
    { step: 'initialize', name: 'benchResolutionCounter' },
  );
  const service = await startService();
  try {
    const tableName = 'bench-registry';
    await ensureTable(client, REGISTRY_TABLE, tableName);
    const registry = new DynamoServiceRegistry(client, tableName);
    const now = systemClock.now();
    const healthy = { ...INITIAL_HEALTH, status: 'healthy' as const, checked_at: now };
    for (const id of ['a', 'b']) await registry.register(instance(REGISTERED, id, service.url, now, healthy));
    await registry.register(instance(OPEN, 'a', service.url, now, healthy));
    // Opened now; the `open` runner's cool-down is an hour, so it stays open for the whole run.
    await registry.updateCircuit(OPEN, 'a', { state: 'open', failures: [now], opened_at: now, revision: 1 }, 0);

    const noRegistry: ResolverRegistry = { instancesOf: async () => [], updateCircuit: async () => false };
    // The local runtime's outbound policy: the bench service listens on loopback.
    const http = createOutboundHttp({ policy: createOutboundPolicy({ allow: LOCAL_DEFAULT_OUTBOUND_ALLOW }) });
    const runners: Record<ResolutionVariant['key'], ActionRunner> = {
      baseline: createActionRunner({ registry: noRegistry, env: { [`${CONFIGURED.toUpperCase()}_URL`]: service.url }, http }),
      warm: createActionRunner({ registry, env: {}, http }),
      cold: createActionRunner({ registry, env: {}, http, registryCacheTtlMs: 0 }),
      open: createActionRunner({ registry, env: {}, http, circuitPolicy: { cooldownSeconds: 3600 } }),
    };
    const targets: Record<ResolutionVariant['key'], string> = { baseline: CONFIGURED, warm: REGISTERED, cold: REGISTERED, open: OPEN };
    const callOnce = async (key: ResolutionVariant['key']): Promise<number> => {
      const started = performance.now();
      await runners[key](payload(targets[key])).then(
        () => {
          if (key === 'open') throw new Error('a call to an open circuit went through');
        },
        (error: unknown) => {
          if (key !== 'open' || !(error instanceof Error) || error.name !== 'CircuitOpenError') throw error;
        },
      );
      return performance.now() - started;
    };

    const keys: ResolutionVariant['key'][] = ['baseline', 'warm', 'cold', 'open'];
    for (const key of keys) for (let call = 0; call < WARMUP_CALLS; call++) await callOnce(key);

    const samples = new Map(keys.map((key) => [key, [] as number[]]));
    const commands = new Map(keys.map((key) => [key, { queries: 0, writes: 0 }]));
    for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
      // A different variant goes first each round.
      const order = keys.map((_, index) => keys[(index + roundIndex) % keys.length]!);
      for (const key of order) {
        const calls = key === 'cold' ? COLD_CALLS_PER_ROUND : CALLS_PER_ROUND;
        const before = { ...counts };
        for (let call = 0; call < calls; call++) samples.get(key)!.push(await callOnce(key));
        const tally = commands.get(key)!;
        tally.queries += counts.queries - before.queries;
        tally.writes += counts.writes - before.writes;
      }
    }
    const baselineMedian = median(samples.get('baseline')!);
    const labels: Record<ResolutionVariant['key'], string> = {
      baseline: 'configured URL, no registry',
      warm: `registry, cache ${DEFAULT_REGISTRY_CACHE_TTL_MS} ms`,
      cold: 'registry, no cache (Query per call)',
      open: 'circuit open: fails fast (cached)',
    };
    const variants = keys.map((key): ResolutionVariant => {
      const durations = samples.get(key)!;
      const tally = commands.get(key)!;
      return {
        key,
        label: labels[key],
        calls: durations.length,
        medianMs: round(median(durations), 3),
        p95Ms: round(percentile(durations, 0.95), 3),
        overheadMs: round(median(durations) - baselineMedian, 3),
        queriesPerCall: round(tally.queries / durations.length, 3),
        writesPerCall: round(tally.writes / durations.length, 3),
      };
    });

    const resolver = [
      await timeResolver('resolve + record, cache warm', createServiceResolver({ registry, clock: systemClock }), counts),
      await timeResolver('resolve + record, no cache', createServiceResolver({ registry, clock: systemClock, cacheTtlMs: 0 }), counts, RESOLVER_CALLS / 10),
    ];
    const warm = variants.find((variant) => variant.key === 'warm')!;
    return {
      targetMs: RESOLUTION_TARGET_MS,
      cacheTtlMs: DEFAULT_REGISTRY_CACHE_TTL_MS,
      rounds: ROUNDS,
      variants,
      resolver,
      withinTarget: warm.overheadMs < RESOLUTION_TARGET_MS,
      atMostOneReadPerCall: variants.every((variant) => variant.queriesPerCall <= 1) && resolver.every((timing) => timing.queriesPerCall <= 1),
    };
  } finally {
    client.destroy();
    await service.close();
    await dynamo.close();
  }
}

export function renderServiceResolutionSection(section: ServiceResolutionSection): string {
  const rows: Cell[][] = section.variants.map((variant) => [
    variant.label,
    variant.calls,
    variant.medianMs,
    variant.p95Ms,
    variant.key === 'baseline' ? '' : variant.overheadMs,
    variant.queriesPerCall,
    variant.writesPerCall,
  ]);
  const resolverRows: Cell[][] = section.resolver.map((timing) => [timing.label, timing.calls, timing.medianUs, timing.p95Us, timing.queriesPerCall]);
  const warm = section.variants.find((variant) => variant.key === 'warm');
  return [
    `6. SERVICE RESOLUTION PER CALL (production action runner -> loopback service answering at once; registry on in-process dynalite; ${section.rounds} interleaved rounds; target: warm overhead < ${section.targetMs} ms, <= 1 DynamoDB read per call)`,
    table(['variant', 'calls', 'median ms', 'p95 ms', 'overhead ms', 'Query/call', 'Update/call'], rows),
    '',
    'The resolver alone (no HTTP): choose an instance, check its circuit, record the success',
    table(['variant', 'calls', 'median us', 'p95 us', 'Query/call'], resolverRows),
    `  Warm overhead ${warm?.overheadMs ?? '?'} ms: ${verdict(section.withinTarget)}. At most one read per call: ${section.atMostOneReadPerCall ? 'yes' : 'NO'}.`,
  ].join('\n');
}

async function timeResolver(label: string, resolver: ServiceResolver, counts: { queries: number }, calls = RESOLVER_CALLS): Promise<ResolverTiming> {
  const once = async () => {
    const resolution = await resolver.resolve(REGISTERED);
    if (resolution.kind !== 'registered') throw new Error(`${REGISTERED} did not resolve: ${resolution.kind}`);
    await resolver.record(resolution, 'answered');
  };
  for (let call = 0; call < WARMUP_CALLS; call++) await once();
  const before = counts.queries;
  const durations: number[] = [];
  for (let call = 0; call < calls; call++) {
    const started = performance.now();
    await once();
    durations.push(performance.now() - started);
  }
  return {
    label,
    calls,
    medianUs: round(median(durations) * 1000, 1),
    p95Us: round(percentile(durations, 0.95) * 1000, 1),
    queriesPerCall: round((counts.queries - before) / calls, 3),
  };
}

function instance(name: string, id: string, url: string, now: string, health: ServiceInstance['health']): ServiceInstance {
  return { name, instance_id: id, url, health_path: '/health', tags: [], metadata: {}, registered_at: now, updated_at: now, health, circuit: CLOSED_CIRCUIT };
}

function payload(service: string): ServiceCallPayload {
  return { action_id: 'call', execution_id: 'bench', workflow_id: 'bench', workflow_version: 1, service, endpoint: '/work', method: 'GET', timeout_seconds: 5 };
}

function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

async function startService(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
