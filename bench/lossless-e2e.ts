import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_ACTIONS, type WorkflowDefinitionInput } from '../core/workflow/definition.ts';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import { losslessStructure } from '../statemachines/lossless.ts';
import { criticalPath, makespan, seriesParallelStructure } from '../statemachines/structure.ts';
import type { ClientLoad, ClientRun, ServiceCall } from './executions-worker.ts';
import { createWorkflow, startWorld, type World } from './executions.ts';
import { readStg, type TaskGraph } from './stg.ts';
import { median, round, table, verdict, type Cell } from './stats.ts';

/**
 * The lossless compiler end to end (ADR 0016): each STG file of at most MAX_ACTIONS tasks becomes a workflow of
 * service calls, each to a stub service that answers after the task's cost x UNIT_MS (`/work/<ms>`, the
 * executions section's worker: bench/executions-worker.ts), run in the real local runtime (startLocalRuntime:
 * HTTP API, the local engine with its in-process dependency gates, the action runner) and driven over HTTP.
 * Wall time (ended_at - created_at) over the critical path x UNIT_MS is what the run lost to orchestration and
 * to any ordering the compiled structure added; a lossless compiler adds none, so what is left is overhead.
 * Every run must complete with every action once and the service must get exactly those calls.
 */

export const STG_DIRECTORY = '/work/shared/benchmarks/stg';
export const UNIT_MS = 20;
export const WALL_RATIO_TARGET = 1.1;
/** The API's limit: larger STG files (proto048) cannot be one workflow. */
const MAX_TASKS = MAX_ACTIONS;
const SERVICE = 'stg_service';
const TABLE_NAME = 'bench-lossless-e2e';
const WARMUP_RUNS = 1;
const TIMED_RUNS = 3;
const POLL_MS = 5;

export interface E2eFileResult {
  readonly file: string;
  readonly tasks: number;
  readonly edges: number;
  readonly gatedActions: number;
  readonly runs: number;
  /** Critical path of the costs, x UNIT_MS. */
  readonly criticalPathMs: number;
  /** What the structure before (SP-ization, no hints) would take at best: its makespan x UNIT_MS. */
  readonly spMakespanMs: number;
  /** Medians over the timed runs. */
  readonly wallMs: number;
  readonly ratio: number;
  readonly bestRatio: number;
  /** The service's own time (arrival to response) along the critical path: the stub's sleeps plus its timer slack. */
  readonly servicesPathMs: number;
  /** (wall - critical path x unit) / actions. */
  readonly overheadPerActionMs: number;
  /** (wall - the service's own time along the critical path) / actions: without the stub's timer slack. */
  readonly overheadPerActionNetMs: number;
  /** Per action: its call's arrival minus its dependencies' latest response (median and max over actions and runs). */
  readonly hopMedianMs: number;
  readonly hopMaxMs: number;
  /** The hop's median for actions that wait at a gate, and for the others. */
  readonly hopGatedMedianMs: number;
  readonly hopUngatedMedianMs: number;
  /** Event-loop utilization of the runtime's thread (API, engine, emulator, runner) during the timed runs. */
  readonly engineThreadBusy: number;
  readonly withinTarget: boolean;
}

export interface LosslessE2eSection {
  readonly unitMs: number;
  readonly target: number;
  readonly files: readonly E2eFileResult[];
  readonly skipped: readonly string[];
  /** Files whose runs failed or did not verify: no figures for them. */
  readonly failed: readonly { readonly file: string; readonly error: string }[];
  readonly verifiedRuns: number;
  readonly verifiedServiceCalls: number;
  readonly error?: string;
}

export async function measureLosslessE2e(options: { unitMs?: number; runs?: number; files?: readonly string[] } = {}): Promise<LosslessE2eSection> {
  const unitMs = options.unitMs ?? UNIT_MS;
  const graphs: TaskGraph[] = [];
  const skipped: string[] = [];
  const names = options.files ?? (await readdir(STG_DIRECTORY).catch(() => [] as string[])).filter((file) => file.endsWith('.stg')).sort();
  for (const file of names) {
    const graph = await readStg(join(STG_DIRECTORY, file), file);
    if (graph.nodes.length <= MAX_TASKS) graphs.push(graph);
    else skipped.push(`${file} (${graph.nodes.length} tasks)`);
  }
  const world = await startWorld();
  const problems: string[] = [];
  let runtime: LocalRuntime | undefined;
  const files: E2eFileResult[] = [];
  let verifiedRuns = 0;
  let verifiedServiceCalls = 0;
  const failed: { file: string; error: string }[] = [];
  try {
    runtime = await startLocalRuntime({
      port: 0,
      host: '127.0.0.1',
      workflowsTableName: TABLE_NAME,
      region: 'us-east-1',
      serviceVersion: 'bench',
      serviceUrls: { [`${SERVICE.toUpperCase()}_URL`]: world.servicesUrl },
      log: (line) => {
        if (line['level'] === 'warn' || line['level'] === 'error' || line['level'] === undefined) problems.push(JSON.stringify(line).slice(0, 500));
      },
    });
    for (const graph of graphs) {
      try {
        const result = await measureFile(runtime, world, graph, unitMs, options.runs ?? TIMED_RUNS);
        files.push(result.figures);
        verifiedRuns += result.runs;
        verifiedServiceCalls += result.calls;
      } catch (error) {
        failed.push({ file: graph.name, error: (error instanceof Error ? error.message : String(error)).slice(0, 1000) });
        // A failed run may leave calls behind: they must not count for the next file.
        await runtime.engine.idle();
        await world.takeCalls();
      }
    }
    if (problems.length > 0) throw new Error(`the runtime logged ${problems.length} unexpected line(s), first: ${problems[0]}`);
    return { unitMs, target: WALL_RATIO_TARGET, files, skipped, failed, verifiedRuns, verifiedServiceCalls };
  } catch (error) {
    // Reported, not thrown: the rest of the benchmark still runs, and the report says why there are no figures.
    const message = error instanceof Error ? error.message : String(error);
    return { unitMs, target: WALL_RATIO_TARGET, files, skipped, failed, verifiedRuns, verifiedServiceCalls, error: message.slice(0, 2000) };
  } finally {
    await runtime?.close();
    await world.close();
  }
}

/** One file: a warm-up run, then the timed runs, every one verified. */
async function measureFile(runtime: LocalRuntime, world: World, graph: TaskGraph, unitMs: number, runs: number): Promise<{ figures: E2eFileResult; runs: number; calls: number }> {
  const workflowId = await createWorkflow(runtime.url, workflowOf(graph, unitMs));
  const criticalPathMs = criticalPath(graph.nodes, (id) => graph.cost.get(id)!) * unitMs;
  const load = (count: number): ClientLoad => ({
    apiUrl: runtime.url,
    workflowId,
    parameters: {},
    clients: 1,
    runsPerClient: count,
    pollMs: POLL_MS,
    runTimeoutMs: 3 * criticalPathMs + 30_000,
  });
  verify(graph, (await world.load(load(WARMUP_RUNS))).runs, await world.takeCalls());
  const busy = performance.eventLoopUtilization();
  const timed = await world.load(load(runs));
  const engineThreadBusy = performance.eventLoopUtilization(busy).utilization;
  const calls = await world.takeCalls();
  verify(graph, timed.runs, calls);
  return {
    figures: { ...figures(graph, unitMs, criticalPathMs, timed.runs, calls), engineThreadBusy: round(engineThreadBusy, 2) },
    runs: WARMUP_RUNS + timed.runs.length,
    calls: calls.length + graph.nodes.length * WARMUP_RUNS,
  };
}

/** A service call per task, sleeping its cost x unit; each reads its first dependency's response, so outputs travel (gated ones with the release). */
function workflowOf(graph: TaskGraph, unitMs: number): WorkflowDefinitionInput {
  const actions = graph.nodes.map((node) => ({
    action_id: node.action_id,
    action_type: 'service_call',
    ...(node.depends_on.length > 0 ? { depends_on: [...node.depends_on] } : {}),
    config: {
      service: SERVICE,
      endpoint: `/work/${Math.round(graph.cost.get(node.action_id)! * unitMs)}`,
      method: 'POST',
      parameters: { task: node.action_id, ...(node.depends_on[0] === undefined ? {} : { input: `{{${node.depends_on[0]}.response.n}}` }) },
    },
  }));
  return { name: `Bench STG ${graph.name}`, actions } as WorkflowDefinitionInput;
}

/** Throws unless every run completed with each action completed once, and the service got exactly those calls. */
function verify(graph: TaskGraph, runs: readonly ClientRun[], calls: readonly ServiceCall[]): void {
  const expected = graph.nodes.map((node) => node.action_id).sort().join(',');
  const problems: string[] = [];
  for (const run of runs) {
    const name = run.executionId ?? `client ${run.client}`;
    if (run.error) {
      problems.push(`${name}: ${run.error}`);
      continue;
    }
    const actions = run.actions ?? [];
    const notDone = actions.filter((action) => action.status !== 'completed' || action.attempts !== 1);
    if (actions.map((action) => action.action_id).sort().join(',') !== expected || notDone.length > 0) {
      problems.push(`${name}: ${notDone.map((action) => `${action.action_id} ${action.status} x${action.attempts}`).join('; ') || 'actions differ'}`);
    }
    const received = calls.filter((call) => call.executionId === run.executionId).map((call) => call.actionId).sort().join(',');
    if (received !== expected) problems.push(`${name}: the service received [${received.slice(0, 200)}]`);
  }
  const stray = calls.filter((call) => !runs.some((run) => run.executionId === call.executionId)).length;
  if (stray > 0) problems.push(`${stray} service call(s) from runs no client made`);
  if (problems.length > 0) throw new Error(`${graph.name}: ${problems.length} problem(s) in ${runs.length} run(s); no figures.\n  ${problems.slice(0, 5).join('\n  ')}`);
}

function figures(graph: TaskGraph, unitMs: number, criticalPathMs: number, runs: readonly ClientRun[], calls: readonly ServiceCall[]): Omit<E2eFileResult, 'engineThreadBusy'> {
  const actions = graph.nodes.length;
  const hops: number[] = [];
  // Each action reads its first dependency's output (the workflow built above), as the compiler sees it.
  const lossless = losslessStructure(graph.nodes, (id) => graph.nodes.find((node) => node.action_id === id)?.depends_on.slice(0, 1) ?? []);
  const gatedHops: number[] = [];
  const ungatedHops: number[] = [];
  const perRun = runs.map((run) => {
    const own = new Map(calls.filter((call) => call.executionId === run.executionId).map((call) => [call.actionId, call]));
    const path = new Map<string, number>();
    for (const id of graphOrder(graph)) {
      const node = graph.nodes.find((each) => each.action_id === id)!;
      const call = own.get(id)!;
      path.set(id, call.finishedAt - call.arrivedAt + Math.max(0, ...node.depends_on.map((dep) => path.get(dep)!)));
      if (node.depends_on.length === 0) continue;
      const hop = call.arrivedAt - Math.max(...node.depends_on.map((dep) => own.get(dep)!.finishedAt));
      hops.push(hop);
      (lossless.gates.has(id) ? gatedHops : ungatedHops).push(hop);
    }
    return { wall: Date.parse(run.endedAt!) - Date.parse(run.createdAt!), services: Math.max(...path.values()) };
  });
  const wallMs = median(perRun.map((run) => run.wall));
  const servicesPathMs = median(perRun.map((run) => run.services));
  const ratio = wallMs / criticalPathMs;
  return {
    file: graph.name,
    tasks: actions,
    edges: graph.nodes.reduce((sum, node) => sum + node.depends_on.length, 0),
    gatedActions: lossless.gates.size,
    runs: runs.length,
    criticalPathMs,
    spMakespanMs: makespan(seriesParallelStructure(graph.nodes), (id) => graph.cost.get(id)!) * unitMs,
    wallMs: round(wallMs),
    ratio: round(ratio, 3),
    bestRatio: round(Math.min(...perRun.map((run) => run.wall)) / criticalPathMs, 3),
    servicesPathMs: round(servicesPathMs),
    overheadPerActionMs: round((wallMs - criticalPathMs) / actions, 2),
    overheadPerActionNetMs: round(median(perRun.map((run) => run.wall - run.services)) / actions, 2),
    hopMedianMs: round(median(hops), 2),
    hopMaxMs: round(Math.max(...hops), 1),
    hopGatedMedianMs: round(median(gatedHops), 2),
    hopUngatedMedianMs: round(median(ungatedHops), 2),
    withinTarget: ratio <= WALL_RATIO_TARGET,
  };
}

/** The graph's actions with every dependency before its dependents. */
function graphOrder(graph: TaskGraph): string[] {
  const done = new Set<string>();
  const order: string[] = [];
  while (order.length < graph.nodes.length) {
    for (const node of graph.nodes) {
      if (!done.has(node.action_id) && node.depends_on.every((dep) => done.has(dep))) {
        done.add(node.action_id);
        order.push(node.action_id);
      }
    }
  }
  return order;
}

// --- report ----------------------------------------------------------------------------------------------------

export function renderLosslessE2eSection(section: LosslessE2eSection): string {
  const rows: Cell[][] = section.files.map((file) => [
    file.file,
    file.tasks,
    file.edges,
    file.gatedActions,
    file.runs,
    file.criticalPathMs,
    file.spMakespanMs,
    file.wallMs,
    file.ratio.toFixed(3),
    file.bestRatio.toFixed(3),
    file.servicesPathMs,
    file.overheadPerActionMs,
    file.overheadPerActionNetMs,
    `${file.hopMedianMs} / ${file.hopMaxMs}`,
    `${file.hopGatedMedianMs} / ${file.hopUngatedMedianMs}`,
    `${Math.round(file.engineThreadBusy * 100)} %`,
    verdict(file.withinTarget),
  ]);
  return [
    `4e. LOSSLESS COMPILER END TO END (real local runtime: startLocalRuntime, HTTP API, local engine with in-process dependency gates, action runner; one run at a time)`,
    `    Each STG file of <= ${MAX_TASKS} tasks as a workflow of service calls to a stub service sleeping cost x ${section.unitMs} ms. ratio = wall (ended_at - created_at, median of the runs)`,
    `    / (critical path x ${section.unitMs} ms); target <= ${section.target}. overhead/action = (wall - critical path x unit) / actions; net = (wall - the service's own time along the critical path) / actions.`,
    section.files.length > 0
      ? table(['file', 'tasks', 'edges', 'gated', 'runs', 'crit. path ms', 'SP before ms', 'wall ms', 'ratio', 'best', 'services path ms', 'ms/action', 'net ms/action', 'hop ms med / max', 'hop gated / not', 'engine busy', 'check'], rows)
      : '  (no figures)',
    `  SP before ms = the makespan the structure before (SP-ization, no hints) would have at best (no overhead). hop = a call's arrival minus its dependencies' latest response.`,
    ...section.failed.map((failure) => `  ${failure.file}: NO FIGURES, ${failure.error.replaceAll('\n', ' ')}`),
    ...(section.skipped.length > 0 ? [`  Skipped (over ${MAX_TASKS} tasks, the API's limit): ${section.skipped.join(', ')}.`] : []),
    `  Within ${section.target}: ${section.files.filter((file) => file.withinTarget).length}/${section.files.length + section.failed.length}. Verified: ${section.verifiedRuns} runs completed, each action once; ${section.verifiedServiceCalls} service calls, exactly the runs'.`,
    ...(section.error ? [`  FAILED, figures incomplete: ${section.error}`] : []),
  ].join('\n');
}
