import { Worker } from 'node:worker_threads';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { findTemplate } from '../core/templates/catalog.ts';
import type { WorkflowDefinitionInput } from '../core/workflow/definition.ts';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import type { ClientLoad, ClientLoadResult, ClientRun, ServiceCall, WorkerMessage, WorkerRequest } from './executions-worker.ts';
import { median, round, since, table, verdict, type Cell } from './stats.ts';

/**
 * The local engine end to end: compiled workflows run by aws-local-stepfunctions inside the real local
 * runtime (startLocalRuntime: HTTP API, in-memory dynalite, the production action runner), driven over HTTP
 * as a user would. The services and the clients live on a worker thread (bench/executions-worker.ts), so the
 * engine's thread has what `npm start` has: the API, the engine and the emulator.
 *
 * 5a. Orchestration overhead: single runs (no concurrency) of chains of N service calls to a service that
 *     answers after SERVICE_DELAY_MS, and of a 10-action fan-out/fan-in DAG. Overhead = run wall time minus
 *     the services' own time (measured by the service, summed along the critical path), per action.
 * 5b. Throughput: CLIENTS client loops (execute, poll until the run ends, repeat) for a fixed time, Hello
 *     World and the 10-action DAG; completed runs per second and per-run latency.
 *
 * Every run must complete, each action once, and the service must have received exactly the calls the runs
 * made: anything else aborts the section (no figures from failed runs).
 */

export const OVERHEAD_TARGET_MS = 5;
/** What every service call of the section costs the service itself. */
export const SERVICE_DELAY_MS = 20;
export const CLIENTS = 50;
/** Status polls of the single runs: a finished run is seen at most this much (plus one GET) late. */
export const SINGLE_POLL_MS = 5;
/**
 * Status polls under load. Every poll is a GET through the API plus a DynamoDB read on the engine's own thread:
 * with 50 clients polling every 25 ms, polls were over a third of a DAG run's DynamoDB commands and most of its
 * API requests, competing with the runs they watch. Every 100 ms they are about a fifth, at ~50 ms (plus one
 * GET) added to each run's observed latency.
 */
export const LOAD_POLL_MS = 100;
/** The clients start spread over LOAD_RAMP_MS; runs ending before LOAD_WARMUP_MS do not count. */
const LOAD_RAMP_MS = 1000;
const LOAD_WARMUP_MS = 2000;
const LOAD_DURATION_MS = 8000;
const RUN_TIMEOUT_MS = 30_000;
/** Untimed runs of each workflow first (the first workflow also warms the runtime's code up). */
const WARMUP_RUNS = 2;
const SERVICE = 'bench_service';
const TABLE_NAME = 'bench-executions';

interface Scenario {
  readonly key: string;
  readonly label: string;
  readonly definition: WorkflowDefinitionInput;
  readonly parameters: Record<string, unknown>;
  /** Action id -> the actions it depends on, in definition (topological) order. */
  readonly graph: ReadonlyMap<string, readonly string[]>;
  /** Actions that call the service (all of them here, except Hello World's notification). */
  readonly serviceActions: ReadonlySet<string>;
  /** Actions on the longest path. */
  readonly depth: number;
}

export interface OverheadResult {
  readonly workflow: string;
  readonly actions: number;
  readonly criticalPathActions: number;
  readonly runs: number;
  readonly warmupRuns: number;
  /** Medians over the runs. Stored wall = ended_at - created_at as the execution record has them (ms resolution). */
  readonly storedWallMs: number;
  /** From sending POST .../execute to reading the status that showed `completed` (includes up to one poll interval). */
  readonly clientWallMs: number;
  /** The service's own handling time (arrival to response sent) along the critical path. */
  readonly servicesMs: number;
  readonly overheadMs: number;
  readonly overheadPerActionMs: number;
  readonly clientOverheadPerActionMs: number;
  /** The best run's overhead per action: far below the median means the machine was busy with something else. */
  readonly bestOverheadPerActionMs: number;
  /** Overhead divided by the actions on the critical path (the DAG's concurrent actions hide part of theirs). */
  readonly overheadPerCriticalActionMs: number;
  readonly withinTarget: boolean;
  readonly breakdown: {
    /** POST .../execute sent to the first service call's arrival (API, create, compile, start). */
    readonly startMs: number;
    /** Median over actions of: a dependency's response sent to the action's call arriving. */
    readonly hopMs: number;
    /** Last service response sent to ended_at (final progress writes and the end transition). */
    readonly tailMs: number;
    /** ended_at to the client seeing the final status (polling). */
    readonly pollLagMs: number;
  };
  /** DynamoDB commands per run (status polls included), e.g. `UpdateItem executions 31`. */
  readonly dynamoPerRun: readonly DynamoUse[];
  readonly pollsPerRun: number;
}

export interface DynamoUse {
  readonly command: string;
  readonly table: string;
  readonly perRun: number;
  readonly medianMs: number;
}

export interface ThroughputResult {
  readonly workflow: string;
  readonly actions: number;
  readonly clients: number;
  readonly windowSeconds: number;
  readonly runsInWindow: number;
  readonly runsPerSecond: number;
  /** Client-observed latency of the runs that ended in the window (execute sent to completed seen). */
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** ended_at - created_at of the same runs. */
  readonly storedP50Ms: number;
  readonly storedP95Ms: number;
  readonly pollsPerRun: number;
  readonly dynamoCallsPerRun: number;
  /** Share of the time the engine's thread (API, engine, emulator) and the clients' thread were busy. */
  readonly engineThreadBusy: number;
  readonly clientThreadBusy: number;
  /** Every run of the load, warm-up and drain included: all completed and verified. */
  readonly verifiedRuns: number;
  readonly serviceCalls: number;
}

export interface ExecutionsSection {
  readonly serviceDelayMs: number;
  readonly singlePollMs: number;
  readonly loadPollMs: number;
  readonly overheadTargetMs: number;
  readonly overhead: readonly OverheadResult[];
  readonly throughput: readonly ThroughputResult[];
  readonly withinTarget: boolean;
  readonly verifiedRuns: number;
  readonly verifiedServiceCalls: number;
}

export interface ExecutionsOptions {
  /** Timed single runs per workflow (after one warm-up run). */
  readonly chain10Runs?: number;
  readonly chain50Runs?: number;
  readonly dagRuns?: number;
  readonly loadSeconds?: number;
  readonly singlePollMs?: number;
  readonly loadPollMs?: number;
  /** Called once the runtime is up, before any workflow is created: for trying an engine change out in a script. */
  readonly prepareRuntime?: (runtime: LocalRuntime) => void;
}

export async function measureExecutions(options: ExecutionsOptions = {}): Promise<ExecutionsSection> {
  const singlePollMs = options.singlePollMs ?? SINGLE_POLL_MS;
  const loadPollMs = options.loadPollMs ?? LOAD_POLL_MS;
  const world = await startWorld();
  const logs = captureRuntimeLog();
  let runtime: LocalRuntime | undefined;
  try {
    runtime = await startLocalRuntime({
      port: 0,
      host: '127.0.0.1',
      workflowsTableName: TABLE_NAME,
      region: 'us-east-1',
      serviceVersion: 'bench',
      serviceUrls: { [`${SERVICE.toUpperCase()}_URL`]: world.servicesUrl },
      log: logs.log,
    });
    options.prepareRuntime?.(runtime);
    const dynamo = recordDynamo(runtime.documentClient);
    const apiUrl = runtime.url;
    const scenarios = { hello: helloWorld(), chain10: chain(10), chain50: chain(50), dag10: fanOutFanIn() };
    const ids = new Map<string, string>();
    for (const scenario of Object.values(scenarios)) ids.set(scenario.key, await createWorkflow(apiUrl, scenario.definition));
    const verifier = new Verifier(world, logs);

    const overhead: OverheadResult[] = [];
    const single = async (scenario: Scenario, runs: number) => {
      const load = (count: number): ClientLoad => ({
        apiUrl,
        workflowId: ids.get(scenario.key)!,
        parameters: scenario.parameters,
        clients: 1,
        runsPerClient: count,
        pollMs: singlePollMs,
        runTimeoutMs: RUN_TIMEOUT_MS,
      });
      await verifier.check(scenario, (await world.load(load(WARMUP_RUNS))).runs);
      const uses = dynamo.start();
      const result = await world.load(load(runs));
      dynamo.stop();
      const calls = await verifier.check(scenario, result.runs);
      overhead.push(overheadOf(scenario, result.runs, calls, uses));
    };
    await single(scenarios.chain10, options.chain10Runs ?? 9);
    await single(scenarios.chain50, options.chain50Runs ?? 5);
    await single(scenarios.dag10, options.dagRuns ?? 9);

    const throughput: ThroughputResult[] = [];
    const durationMs = (options.loadSeconds ?? LOAD_DURATION_MS / 1000) * 1000;
    for (const scenario of [scenarios.hello, scenarios.dag10]) {
      const uses = dynamo.start();
      const engineBusy = performance.eventLoopUtilization();
      const result = await world.load({
        apiUrl,
        workflowId: ids.get(scenario.key)!,
        parameters: scenario.parameters,
        clients: CLIENTS,
        durationMs: LOAD_WARMUP_MS + durationMs,
        rampMs: LOAD_RAMP_MS,
        pollMs: loadPollMs,
        runTimeoutMs: RUN_TIMEOUT_MS,
      });
      const engineThreadBusy = performance.eventLoopUtilization(engineBusy).utilization;
      dynamo.stop();
      const calls = await verifier.check(scenario, result.runs);
      throughput.push(throughputOf(scenario, result, durationMs, calls.length, uses, engineThreadBusy, result.clientThreadBusy));
      // Nothing of this load may still be running when the next one starts.
      await runtime.engine.idle();
    }
    logs.assertClean();
    return {
      serviceDelayMs: SERVICE_DELAY_MS,
      singlePollMs,
      loadPollMs,
      overheadTargetMs: OVERHEAD_TARGET_MS,
      overhead,
      throughput,
      withinTarget: overhead.every((result) => result.withinTarget),
      verifiedRuns: verifier.runs,
      verifiedServiceCalls: verifier.calls,
    };
  } finally {
    // Runs still in flight (only after a failure) are cancelled by close.
    await runtime?.close();
    await world.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Workflows

function serviceCall(actionId: string, dependsOn: readonly string[], parameters: Record<string, unknown>) {
  return {
    action_id: actionId,
    action_type: 'service_call',
    config: { service: SERVICE, endpoint: `/work/${SERVICE_DELAY_MS}`, method: 'POST', parameters },
    ...(dependsOn.length > 0 ? { depends_on: [...dependsOn] } : {}),
  } as const;
}

function scenarioOf(key: string, label: string, definition: WorkflowDefinitionInput, parameters: Record<string, unknown>): Scenario {
  const actions = (definition.actions ?? []) as readonly { action_id: string; action_type: string; depends_on?: readonly string[] }[];
  const graph = new Map(actions.map((action) => [action.action_id, action.depends_on ?? []]));
  const depthOf = new Map<string, number>();
  for (const [id, dependsOn] of graph) depthOf.set(id, 1 + Math.max(0, ...dependsOn.map((dependency) => depthOf.get(dependency) ?? 0)));
  return {
    key,
    label,
    definition,
    parameters,
    graph,
    serviceActions: new Set(actions.filter((action) => action.action_type === 'service_call').map((action) => action.action_id)),
    depth: Math.max(...depthOf.values()),
  };
}

function helloWorld(): Scenario {
  return scenarioOf('hello', 'Hello World (1 notification)', findTemplate('hello_world').definition as WorkflowDefinitionInput, { message: 'hello from the benchmark' });
}

/** s01 -> s02 -> ... -> sN, each passing on a value from its predecessor's response. */
function chain(length: number): Scenario {
  const id = (index: number) => `s${String(index).padStart(2, '0')}`;
  const actions = Array.from({ length }, (_, index) =>
    index === 0 ? serviceCall(id(1), [], { step: 1 }) : serviceCall(id(index + 1), [id(index)], { step: index + 1, previous: `{{${id(index)}.response.n}}` }),
  );
  return scenarioOf(`chain${length}`, `chain of ${length}`, { name: `Bench chain of ${length}`, actions } as WorkflowDefinitionInput, {});
}

/** 1 -> 4 in parallel -> 4 (each after its own branch) -> 1: ten service calls, four on the critical path. */
function fanOutFanIn(): Scenario {
  const branches = [1, 2, 3, 4];
  const actions = [
    serviceCall('split', [], { document: 'bench' }),
    ...branches.map((branch) => serviceCall(`extract_${branch}`, ['split'], { part: branch, from: '{{split.response.n}}' })),
    ...branches.map((branch) => serviceCall(`score_${branch}`, [`extract_${branch}`], { part: branch, from: `{{extract_${branch}.response.n}}` })),
    serviceCall('merge', branches.map((branch) => `score_${branch}`), Object.fromEntries(branches.map((branch) => [`score_${branch}`, `{{score_${branch}.response.n}}`]))),
  ];
  return scenarioOf('dag10', '10-action DAG (1-4-4-1)', { name: 'Bench fan-out fan-in', actions } as WorkflowDefinitionInput, {});
}

export async function createWorkflow(apiUrl: string, definition: WorkflowDefinitionInput): Promise<string> {
  const response = await fetch(`${apiUrl}/workflows`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user-id': 'bench' }, body: JSON.stringify(definition) });
  const envelope = (await response.json()) as { data?: { workflow_id?: string }; message?: string };
  if (response.status !== 201 || !envelope.data?.workflow_id) throw new Error(`creating "${definition.name}" answered ${response.status}: ${JSON.stringify(envelope).slice(0, 500)}`);
  return envelope.data.workflow_id;
}

// ---------------------------------------------------------------------------------------------------------
// The worker (services and clients)

/** Omit that keeps a union a union. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** The executions worker (bench/executions-worker.ts) from this thread: its stub services and client loops. */
export interface World {
  readonly servicesUrl: string;
  load(load: ClientLoad): Promise<ClientLoadResult>;
  takeCalls(): Promise<ServiceCall[]>;
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const worker = new Worker(new URL('./executions-worker.ts', import.meta.url));
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the executions worker exited (code ${code})`)));
  const servicesUrl = await new Promise<string>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message: WorkerMessage) => {
      if ('op' in message) return resolve(message.servicesUrl);
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if ('error' in message) waiter?.reject(new Error(`executions worker: ${message.error}`));
      else waiter?.resolve(message.result);
    });
  });
  const ask = <T>(request: WithoutId<WorkerRequest>): Promise<T> => {
    if (failure) return Promise.reject(failure);
    const id = ++nextId;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ ...request, id });
    });
  };
  return {
    servicesUrl,
    load: (load) => ask({ op: 'load', load }),
    takeCalls: () => ask({ op: 'takeCalls' }),
    close: async () => {
      if (!failure) await ask({ op: 'close' }).catch(() => undefined);
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Verification: no figure comes from a run that did not complete as it should

/** The runtime's log (its `log` option): each notification is an `event` entry, counted here; warnings and errors are kept. */
interface RuntimeLog {
  /** Notification events per execution id. */
  readonly events: Map<string, number>;
  /** The runtime's `log` option. */
  readonly log: (line: Record<string, unknown>) => void;
  assertClean(): void;
}

function captureRuntimeLog(): RuntimeLog {
  const events = new Map<string, number>();
  const unexpected: string[] = [];
  return {
    events,
    log: (line) => {
      if (line['kind'] === 'event') {
        const detail = line['detail'] as { execution_id?: unknown } | undefined;
        const executionId = String(detail?.execution_id);
        events.set(executionId, (events.get(executionId) ?? 0) + 1);
        return;
      }
      // The access log and other information lines are expected; a warning, an error, or one of the runtime's
      // kind-only lines (a dead letter, an event not published) is not.
      if (line['level'] === 'warn' || line['level'] === 'error' || line['level'] === undefined) unexpected.push(JSON.stringify(line));
    },
    assertClean: () => {
      if (unexpected.length > 0) throw new Error(`the runtime logged ${unexpected.length} unexpected line(s), first: ${unexpected[0]!.slice(0, 500)}`);
    },
  };
}

class Verifier {
  runs = 0;
  calls = 0;
  private readonly world: World;
  private readonly logs: RuntimeLog;

  constructor(world: World, logs: RuntimeLog) {
    this.world = world;
    this.logs = logs;
  }

  /** Throws unless every run completed with every action completed once and the service saw exactly those calls. */
  async check(scenario: Scenario, runs: readonly ClientRun[]): Promise<ServiceCall[]> {
    const calls = await this.world.takeCalls();
    const problems: string[] = [];
    const byExecution = new Map<string, ServiceCall[]>();
    for (const call of calls) byExecution.set(call.executionId, [...(byExecution.get(call.executionId) ?? []), call]);
    const expectedActions = [...scenario.graph.keys()].sort().join(',');
    const expectedCalls = [...scenario.serviceActions].sort().join(',');
    for (const run of runs) {
      const name = run.executionId ?? `client ${run.client}`;
      if (run.error) {
        problems.push(`${name}: ${run.error}`);
        continue;
      }
      const actions = run.actions ?? [];
      if (actions.map((action) => action.action_id).sort().join(',') !== expectedActions) problems.push(`${name}: actions ${actions.map((action) => action.action_id).join(',')}`);
      const notDone = actions.filter((action) => action.status !== 'completed' || action.attempts !== 1);
      if (notDone.length > 0) problems.push(`${name}: ${notDone.map((action) => `${action.action_id} ${action.status} after ${action.attempts} attempt(s)`).join('; ')}`);
      if (!run.createdAt || !run.startedAt || !run.endedAt) problems.push(`${name}: completed without created_at/started_at/ended_at`);
      const received = (byExecution.get(run.executionId!) ?? []).map((call) => call.actionId).sort().join(',');
      if (received !== expectedCalls) problems.push(`${name}: the service received [${received}], expected [${expectedCalls}]`);
      byExecution.delete(run.executionId!);
      const notifications = scenario.graph.size - scenario.serviceActions.size;
      const events = this.logs.events.get(run.executionId!) ?? 0;
      if (events !== notifications) problems.push(`${name}: ${events} notification event(s), expected ${notifications}`);
    }
    for (const [executionId, stray] of byExecution) problems.push(`${stray.length} service call(s) from ${executionId}, which no client ran`);
    if (problems.length > 0) {
      throw new Error(`executions benchmark, ${scenario.label}: ${problems.length} problem(s) in ${runs.length} run(s); no figures reported.\n  ${problems.slice(0, 10).join('\n  ')}`);
    }
    this.runs += runs.length;
    this.calls += calls.length;
    return calls;
  }
}

// ---------------------------------------------------------------------------------------------------------
// DynamoDB commands of the engine's client

interface DynamoRecord {
  readonly command: string;
  readonly table: string;
  readonly ms: number;
}

function recordDynamo(client: DynamoDBDocumentClient): { start(): DynamoRecord[]; stop(): void } {
  let active: DynamoRecord[] | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const log = active;
      if (!log) return next(args);
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        const table = String((args.input as { TableName?: unknown }).TableName ?? '?');
        log.push({ command: (context.commandName ?? '?').replace(/Command$/, ''), table: table === TABLE_NAME ? 'workflows' : table.replace(`${TABLE_NAME}-`, ''), ms: since(started) });
      }
    },
    { step: 'initialize', name: 'benchExecutionsDynamoRecorder' },
  );
  return {
    start: () => (active = []),
    stop: () => (active = undefined),
  };
}

function dynamoUses(records: readonly DynamoRecord[], runs: number): DynamoUse[] {
  const groups = new Map<string, DynamoRecord[]>();
  for (const record of records) groups.set(`${record.command} ${record.table}`, [...(groups.get(`${record.command} ${record.table}`) ?? []), record]);
  return [...groups.values()]
    .map((group) => ({ command: group[0]!.command, table: group[0]!.table, perRun: round(group.length / runs, 1), medianMs: round(median(group.map((record) => record.ms)), 2) }))
    .sort((a, b) => b.perRun - a.perRun);
}

// ---------------------------------------------------------------------------------------------------------
// Figures

function epoch(iso: string | undefined): number {
  return iso === undefined ? Number.NaN : Date.parse(iso);
}

function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

function overheadOf(scenario: Scenario, runs: readonly ClientRun[], calls: readonly ServiceCall[], uses: readonly DynamoRecord[]): OverheadResult {
  const perRun = runs.map((run) => {
    const own = new Map(calls.filter((call) => call.executionId === run.executionId).map((call) => [call.actionId, call]));
    // Longest path through the graph, each action weighted by the service's own time for its call.
    const pathMs = new Map<string, number>();
    const hops: number[] = [];
    let start = Number.POSITIVE_INFINITY;
    for (const [actionId, dependsOn] of scenario.graph) {
      const call = own.get(actionId)!;
      pathMs.set(actionId, call.finishedAt - call.arrivedAt + Math.max(0, ...dependsOn.map((dependency) => pathMs.get(dependency)!)));
      if (dependsOn.length === 0) start = Math.min(start, call.arrivedAt - run.requestedAt);
      else hops.push(call.arrivedAt - Math.max(...dependsOn.map((dependency) => own.get(dependency)!.finishedAt)));
    }
    const lastResponse = Math.max(...[...own.values()].map((call) => call.finishedAt));
    const servicesMs = Math.max(...pathMs.values());
    const storedWallMs = epoch(run.endedAt) - epoch(run.createdAt);
    const clientWallMs = run.observedEndAt! - run.requestedAt;
    return {
      storedWallMs,
      clientWallMs,
      servicesMs,
      start,
      hop: median(hops),
      tail: epoch(run.endedAt) - lastResponse,
      pollLag: run.observedEndAt! - epoch(run.endedAt),
      polls: run.polls,
    };
  });
  const med = (pick: (run: (typeof perRun)[number]) => number) => median(perRun.map(pick));
  const actions = scenario.graph.size;
  const overheadMs = med((run) => run.storedWallMs - run.servicesMs);
  const overheadPerActionMs = overheadMs / actions;
  return {
    workflow: scenario.label,
    actions,
    criticalPathActions: scenario.depth,
    runs: runs.length,
    warmupRuns: WARMUP_RUNS,
    storedWallMs: round(med((run) => run.storedWallMs)),
    clientWallMs: round(med((run) => run.clientWallMs)),
    servicesMs: round(med((run) => run.servicesMs)),
    overheadMs: round(overheadMs),
    overheadPerActionMs: round(overheadPerActionMs, 2),
    clientOverheadPerActionMs: round(med((run) => run.clientWallMs - run.servicesMs) / actions, 2),
    bestOverheadPerActionMs: round(Math.min(...perRun.map((run) => run.storedWallMs - run.servicesMs)) / actions, 2),
    overheadPerCriticalActionMs: round(overheadMs / scenario.depth, 2),
    withinTarget: overheadPerActionMs < OVERHEAD_TARGET_MS,
    breakdown: {
      startMs: round(med((run) => run.start)),
      hopMs: round(med((run) => run.hop), 2),
      tailMs: round(med((run) => run.tail)),
      pollLagMs: round(med((run) => run.pollLag)),
    },
    dynamoPerRun: dynamoUses(uses, runs.length),
    pollsPerRun: round(med((run) => run.polls), 1),
  };
}

function throughputOf(
  scenario: Scenario,
  result: ClientLoadResult,
  durationMs: number,
  serviceCalls: number,
  uses: readonly DynamoRecord[],
  engineThreadBusy: number,
  clientThreadBusy: number,
): ThroughputResult {
  const windowStart = result.startedAt + LOAD_WARMUP_MS;
  const windowEnd = windowStart + durationMs;
  const inWindow = result.runs.filter((run) => run.observedEndAt! >= windowStart && run.observedEndAt! < windowEnd);
  const latencies = inWindow.map((run) => run.observedEndAt! - run.requestedAt);
  const stored = inWindow.map((run) => epoch(run.endedAt) - epoch(run.createdAt));
  return {
    workflow: scenario.label,
    actions: scenario.graph.size,
    clients: CLIENTS,
    windowSeconds: durationMs / 1000,
    runsInWindow: inWindow.length,
    runsPerSecond: round(inWindow.length / (durationMs / 1000), 1),
    p50Ms: round(percentile(latencies, 0.5)),
    p95Ms: round(percentile(latencies, 0.95)),
    storedP50Ms: round(percentile(stored, 0.5)),
    storedP95Ms: round(percentile(stored, 0.95)),
    pollsPerRun: round(result.runs.reduce((sum, run) => sum + run.polls, 0) / result.runs.length, 1),
    dynamoCallsPerRun: round(uses.length / result.runs.length, 1),
    engineThreadBusy: round(engineThreadBusy, 2),
    clientThreadBusy: round(clientThreadBusy, 2),
    verifiedRuns: result.runs.length,
    serviceCalls,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Report

export function renderExecutionsSection(section: ExecutionsSection): string {
  const overheadRows: Cell[][] = section.overhead.map((result) => [
    result.workflow,
    result.actions,
    `${result.runs}+${result.warmupRuns}`,
    result.storedWallMs,
    result.clientWallMs,
    result.servicesMs,
    result.overheadMs,
    result.overheadPerActionMs,
    result.bestOverheadPerActionMs,
    result.clientOverheadPerActionMs,
    result.criticalPathActions === result.actions ? '' : `${result.overheadPerCriticalActionMs} (/${result.criticalPathActions})`,
    verdict(result.withinTarget),
  ]);
  const breakdownRows: Cell[][] = section.overhead.map((result) => [
    result.workflow,
    result.breakdown.startMs,
    result.breakdown.hopMs,
    result.breakdown.tailMs,
    result.breakdown.pollLagMs,
    result.pollsPerRun,
    result.dynamoPerRun.map((use) => `${use.command} ${use.table} ${use.perRun} (${use.medianMs} ms)`).join(', '),
  ]);
  const throughputRows: Cell[][] = section.throughput.map((result) => [
    result.workflow,
    result.actions,
    result.clients,
    result.runsInWindow,
    result.runsPerSecond,
    result.p50Ms,
    result.p95Ms,
    result.storedP50Ms,
    result.storedP95Ms,
    result.pollsPerRun,
    result.dynamoCallsPerRun,
    `${Math.round(result.engineThreadBusy * 100)} %`,
    `${Math.round(result.clientThreadBusy * 100)} %`,
  ]);
  return [
    `5. LOCAL ENGINE EXECUTIONS (startLocalRuntime: HTTP API + aws-local-stepfunctions + in-memory dynalite + the action runner, driven over HTTP; services and clients on a worker thread; every service call answers after ${section.serviceDelayMs} ms)`,
    `5a. Orchestration overhead, single runs one at a time (target < ${section.overheadTargetMs} ms per action). overhead = stored wall (ended_at - created_at, ms resolution) - the service's own time along the critical path;`,
    `    client wall = POST .../execute sent to the status poll (every ${section.singlePollMs} ms) that saw completed. Medians over the timed runs (runs = timed + warm-up).`,
    table(['workflow', 'actions', 'runs', 'stored wall ms', 'client wall ms', 'services ms', 'overhead ms', 'ms/action', 'best run', 'client ms/action', 'ms/critical action', 'check'], overheadRows),
    'Where the overhead goes (medians, ms): start = execute sent to the first service call; hop = a dependency answered to the next call arriving;',
    'tail = last service answer to ended_at; poll lag = ended_at to the client seeing it. DynamoDB commands per run (status polls included) with their median latency:',
    table(['workflow', 'start', 'hop', 'tail', 'poll lag', 'polls', 'DynamoDB commands per run'], breakdownRows),
    '',
    `5b. Throughput: ${CLIENTS} clients, each: execute, poll every ${section.loadPollMs} ms until completed, repeat; counted over the window after a ${LOAD_WARMUP_MS / 1000} s warm-up.`,
    `    Latency = execute sent to completed seen (polling adds ~${section.loadPollMs / 2} ms on average); stored = ended_at - created_at. busy = event-loop utilization of the engine's / the clients' thread.`,
    table(['workflow', 'actions', 'clients', 'runs', 'runs/s', 'p50 ms', 'p95 ms', 'stored p50', 'stored p95', 'polls/run', 'DynamoDB/run', 'engine busy', 'clients busy'], throughputRows),
    `  Verified: ${section.verifiedRuns} runs completed (warm-ups and drain included), each action once; the service received exactly their ${section.verifiedServiceCalls} calls.`,
    `  Overhead per action ${section.overhead.map((result) => `${result.workflow} ${result.overheadPerActionMs} ms`).join(', ')}: ${section.withinTarget ? `within the ${section.overheadTargetMs} ms target` : `OVER the ${section.overheadTargetMs} ms target`}.`,
  ].join('\n');
}
