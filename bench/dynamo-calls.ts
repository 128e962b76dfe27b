import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { WorkflowDefinitionSchema } from '../core/workflow/definition.ts';
import type { RouteName } from '../functions/routes.ts';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import { DOCUMENT_ANALYSIS, EXTRA_SUMMARY_ACTION, seededWorkflow } from './fixtures.ts';
import { median, round, table } from './stats.ts';

export const CALLS_PER_REQUEST_TARGET = 2;

/** One DynamoDB command sent while a request was being served. */
export interface DynamoCall {
  /** `GetItem`, `Query`, ... (the low-level operation the document client sends). */
  readonly command: string;
  readonly index?: string;
  /** `COUNT` for count-only queries. */
  readonly select?: string;
  /** Items the table read for this call (Query/Scan ScannedCount; 1 for a Get that found its item). */
  readonly itemsRead?: number;
  /** Read or write capacity units DynamoDB charged, as the emulator reports them. */
  readonly capacityUnits?: number;
  readonly failed?: string;
}

export interface RequestMeasurement {
  readonly label: string;
  readonly route: RouteName;
  readonly request: string;
  readonly status: number;
  readonly expectedStatus: number;
  readonly calls: readonly DynamoCall[];
  readonly callCount: number;
  readonly usesScan: boolean;
  readonly overTarget: boolean;
}

export interface ScalingPoint {
  readonly workflows: number;
  readonly label: string;
  readonly request: string;
  readonly callCount: number;
  readonly commands: string;
  readonly itemsRead: number;
  readonly capacityUnits: number;
  /** Median of a few requests on the in-process emulator: relative growth, not a production latency. */
  readonly medianMs: number;
}

export interface DynamoSection {
  readonly seededWorkflows: number;
  readonly requests: readonly RequestMeasurement[];
  readonly scaling: readonly ScalingPoint[];
  /** Size of one workflow summary in the listing index, from the capacity a full-index read was charged. */
  readonly estimatedIndexItemBytes: number;
  /** How many summaries one Query page (1 MB) holds: past this, search and statistics need another call. */
  readonly summariesPerQueryPage: number;
  readonly scanCount: number;
  readonly routesOverTarget: readonly string[];
  readonly unexpectedStatuses: readonly string[];
}

/** Operations that accept ReturnConsumedCapacity: the recorder asks for it so the report can show read cost. */
const DATA_PLANE_COMMANDS = new Set([
  'GetItemCommand',
  'PutItemCommand',
  'DeleteItemCommand',
  'UpdateItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'BatchWriteItemCommand',
  'TransactGetItemsCommand',
  'TransactWriteItemsCommand',
]);

const SCENARIO_SEED = 60;
const LIST_PAGE_SIZE = 20;
/** 3000 goes past the ~1 MB a single Query page returns, to show where a second call per request begins. */
const SCALING_POINTS = [10, 200, 1000, 3000] as const;
const SCALING_REPETITIONS = 3;
const SEED_CONCURRENCY = 8;
/** DynamoDB stops a Query page after reading 1 MB (the emulator does the same). */
const QUERY_PAGE_BYTES = 1024 * 1024;
/** An eventually consistent read costs 0.5 capacity units per 4 KB read: 8 KB per unit. */
const BYTES_PER_EVENTUALLY_CONSISTENT_UNIT = 8 * 1024;

interface ConsumedCapacityShape {
  readonly CapacityUnits?: number;
}

interface CommandOutputShape {
  readonly Item?: unknown;
  readonly Count?: number;
  readonly ScannedCount?: number;
  readonly ConsumedCapacity?: ConsumedCapacityShape | readonly ConsumedCapacityShape[];
}

export interface CallRecorder {
  /** Runs `work` and returns what it returned together with every DynamoDB command it sent. */
  record<T>(work: () => Promise<T>): Promise<{ result: T; calls: DynamoCall[] }>;
}

/**
 * Counts commands with a middleware on the store's own client. It sits at the initialize step, so it sees
 * each logical command once (retries happen further down the stack and are not double counted).
 */
export function instrument(client: DynamoDBDocumentClient): CallRecorder {
  let active: DynamoCall[] | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const log = active;
      if (!log) return next(args);
      const commandName = context.commandName ?? 'UnknownCommand';
      const input = args.input as Record<string, unknown>;
      if (DATA_PLANE_COMMANDS.has(commandName)) input.ReturnConsumedCapacity = 'TOTAL';
      const position = log.length;
      const base = {
        command: commandName.replace(/Command$/, ''),
        index: typeof input.IndexName === 'string' ? input.IndexName : undefined,
        select: typeof input.Select === 'string' ? input.Select : undefined,
      };
      // Recorded before sending, so a call that fails (a conditional check) still counts.
      log.push(base);
      try {
        const result = await next(args);
        const output = result.output as CommandOutputShape;
        log[position] = { ...base, itemsRead: itemsReadBy(base.command, output), capacityUnits: capacityOf(output) };
        return result;
      } catch (error) {
        log[position] = { ...base, failed: error instanceof Error ? error.name : String(error) };
        throw error;
      }
    },
    { step: 'initialize', name: 'benchDynamoCallRecorder' },
  );
  return {
    async record(work) {
      const calls: DynamoCall[] = [];
      active = calls;
      try {
        return { result: await work(), calls };
      } finally {
        active = undefined;
      }
    },
  };
}

function itemsReadBy(command: string, output: CommandOutputShape): number | undefined {
  if (output.ScannedCount !== undefined) return output.ScannedCount;
  if (command === 'GetItem') return output.Item ? 1 : 0;
  return undefined;
}

function capacityOf(output: CommandOutputShape): number | undefined {
  const consumed = output.ConsumedCapacity;
  if (consumed === undefined) return undefined;
  const list: readonly ConsumedCapacityShape[] = Array.isArray(consumed) ? consumed : [consumed as ConsumedCapacityShape];
  return list.reduce((sum, entry) => sum + (entry.CapacityUnits ?? 0), 0);
}

interface ApiReply {
  readonly status: number;
  readonly etag: string | null;
  readonly data: unknown;
}

interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

async function callApi(baseUrl: string, request: ApiRequest): Promise<ApiReply> {
  const response = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers: { 'x-user-id': 'bench', ...(request.body === undefined ? {} : { 'content-type': 'application/json' }), ...request.headers },
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
  });
  const envelope = (await response.json()) as { data?: unknown };
  return { status: response.status, etag: response.headers.get('etag'), data: envelope.data };
}

function field<T>(data: unknown, name: string): T {
  const value = (data as Record<string, unknown> | null)?.[name];
  if (value === undefined) throw new Error(`response has no ${name}: ${JSON.stringify(data).slice(0, 300)}`);
  return value as T;
}

function runtimeOptions(tableName: string) {
  // Each seeded workflow puts a lifecycle event in the log: thousands of lines that say nothing here.
  return { port: 0, host: '127.0.0.1', workflowsTableName: tableName, region: 'us-east-1', serviceVersion: 'bench', log: () => undefined };
}

/** Creates workflows straight through the service (not measured), a few at a time. */
async function seed(runtime: LocalRuntime, from: number, to: number): Promise<void> {
  let next = from;
  const worker = async () => {
    while (next < to) {
      const { definition, creator } = seededWorkflow(next++);
      await runtime.services.workflows.createWorkflow(WorkflowDefinitionSchema.parse(definition), creator);
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
}

export async function measureDynamoCalls(): Promise<DynamoSection> {
  const requests = await measureEveryRoute();
  const scaling = await measureScaling();
  const everyCall = [...requests.flatMap((request) => request.calls)];
  const estimatedIndexItemBytes = estimateIndexItemBytes(scaling);
  const scanCount = everyCall.filter((call) => call.command === 'Scan').length + scaling.filter((point) => point.commands.includes('Scan')).length;
  return {
    seededWorkflows: SCENARIO_SEED,
    requests,
    scaling,
    estimatedIndexItemBytes,
    summariesPerQueryPage: Math.floor(QUERY_PAGE_BYTES / estimatedIndexItemBytes),
    scanCount,
    routesOverTarget: requests.filter((request) => request.overTarget).map((request) => `${request.label} (${request.callCount})`),
    unexpectedStatuses: requests.filter((request) => request.status !== request.expectedStatus).map((request) => `${request.label}: ${request.status}, expected ${request.expectedStatus}`),
  };
}

/** Every workflow route once, in the order a client would use them, on a table holding SCENARIO_SEED workflows. */
async function measureEveryRoute(): Promise<RequestMeasurement[]> {
  const runtime = await startLocalRuntime(runtimeOptions('bench-calls'));
  try {
    const recorder = instrument(runtime.documentClient);
    await seed(runtime, 0, SCENARIO_SEED);
    const measurements: RequestMeasurement[] = [];
    const measure = async (label: string, route: RouteName, request: ApiRequest, expectedStatus: number): Promise<ApiReply> => {
      const { result: reply, calls } = await recorder.record(() => callApi(runtime.url, request));
      measurements.push({
        label,
        route,
        request: `${request.method} ${request.path}`,
        status: reply.status,
        expectedStatus,
        calls,
        callCount: calls.length,
        usesScan: calls.some((call) => call.command === 'Scan'),
        overTarget: calls.length > CALLS_PER_REQUEST_TARGET,
      });
      return reply;
    };

    await measure('health', 'health', { method: 'GET', path: '/health' }, 200);
    await measure('workflows health', 'workflowsHealth', { method: 'GET', path: '/workflows/health' }, 200);
    await measure('templates', 'listTemplates', { method: 'GET', path: '/workflows/templates' }, 200);

    const created = await measure('create', 'createWorkflow', { method: 'POST', path: '/workflows', body: DOCUMENT_ANALYSIS }, 201);
    const workflowId = field<string>(created.data, 'workflow_id');
    const workflowPath = `/workflows/${workflowId}`;
    await measure('get', 'getWorkflow', { method: 'GET', path: workflowPath }, 200);
    await measure('update metadata only', 'updateWorkflow', { method: 'PUT', path: workflowPath, body: { description: 'Analyze contracts for quality and insights', tags: ['analysis', 'contracts'] } }, 200);
    const newVersion = await measure(
      'update definition (new version)',
      'updateWorkflow',
      { method: 'PUT', path: workflowPath, body: { actions: [...(DOCUMENT_ANALYSIS.actions ?? []), EXTRA_SUMMARY_ACTION] } },
      200,
    );
    await measure('update metadata with If-Match', 'updateWorkflow', { method: 'PUT', path: workflowPath, body: { status: 'paused' }, headers: { 'if-match': newVersion.etag ?? '*' } }, 200);
    await measure('get ?version=1', 'getWorkflow', { method: 'GET', path: `${workflowPath}?version=1` }, 200);
    await measure('versions', 'listWorkflowVersions', { method: 'GET', path: `${workflowPath}/versions` }, 200);

    const firstPage = await measure('list page 1', 'listWorkflows', { method: 'GET', path: `/workflows?page_size=${LIST_PAGE_SIZE}` }, 200);
    const nextToken = field<string | null>(firstPage.data, 'next_token');
    await measure('list next_token page', 'listWorkflows', { method: 'GET', path: `/workflows?page_size=${LIST_PAGE_SIZE}&next_token=${encodeURIComponent(nextToken ?? '')}` }, 200);
    await measure('list page 3 (offset)', 'listWorkflows', { method: 'GET', path: `/workflows?page_size=${LIST_PAGE_SIZE}&page=3` }, 200);
    await measure('list status=active', 'listWorkflows', { method: 'GET', path: '/workflows?status=active' }, 200);
    await measure('list created_by+status', 'listWorkflows', { method: 'GET', path: '/workflows?created_by=bob&status=active' }, 200);
    await measure('search', 'searchWorkflows', { method: 'GET', path: '/workflows/search?q=contract' }, 200);
    await measure('statistics', 'workflowStatistics', { method: 'GET', path: '/workflows/statistics' }, 200);

    const fromTemplate = await measure(
      'from-template',
      'createFromTemplate',
      { method: 'POST', path: '/workflows/from-template', body: { template_name: 'document_analysis', customizations: { name: 'Invoice Quality', parameter_defaults: { analysis_type: 'basic' } } } },
      201,
    );
    await measure('delete (2 versions)', 'deleteWorkflow', { method: 'DELETE', path: workflowPath }, 200);
    const templateWorkflowId = field<string>(fromTemplate.data, 'workflow_id');
    await measure('delete (1 version) with If-Match', 'deleteWorkflow', { method: 'DELETE', path: `/workflows/${templateWorkflowId}`, headers: { 'if-match': fromTemplate.etag ?? '*' } }, 200);
    return measurements;
  } finally {
    await runtime.close();
  }
}

/** Search, statistics and listing at growing table sizes: do they read more (and call more) as it grows? */
async function measureScaling(): Promise<ScalingPoint[]> {
  const runtime = await startLocalRuntime(runtimeOptions('bench-scaling'));
  try {
    const recorder = instrument(runtime.documentClient);
    const probes: readonly { label: string; path: string }[] = [
      { label: 'search (matches all)', path: '/workflows/search?q=analysis' },
      { label: 'search (matches ~1/7)', path: '/workflows/search?q=invoice' },
      { label: 'statistics', path: '/workflows/statistics' },
      { label: 'list page 1', path: '/workflows?page_size=50' },
      { label: 'list status=active', path: '/workflows?status=active&page_size=50' },
    ];
    const points: ScalingPoint[] = [];
    let seeded = 0;
    for (const workflows of SCALING_POINTS) {
      await seed(runtime, seeded, workflows);
      seeded = workflows;
      for (const probe of probes) {
        const durations: number[] = [];
        let calls: DynamoCall[] = [];
        for (let repetition = 0; repetition < SCALING_REPETITIONS; repetition++) {
          const started = performance.now();
          const recorded = await recorder.record(() => callApi(runtime.url, { method: 'GET', path: probe.path }));
          durations.push(performance.now() - started);
          if (recorded.result.status !== 200) throw new Error(`${probe.path} answered ${recorded.result.status} with ${workflows} workflows`);
          calls = recorded.calls;
        }
        points.push({
          workflows,
          label: probe.label,
          request: `GET ${probe.path}`,
          callCount: calls.length,
          commands: describeCalls(calls),
          itemsRead: calls.reduce((sum, call) => sum + (call.itemsRead ?? 0), 0),
          capacityUnits: round(calls.reduce((sum, call) => sum + (call.capacityUnits ?? 0), 0), 1),
          medianMs: round(median(durations)),
        });
      }
    }
    return points;
  } finally {
    await runtime.close();
  }
}

/**
 * Bytes per summary, from the largest full read of the index (search reads every summary). Capacity is
 * rounded up per call, so this slightly overestimates; good enough to say where paging starts.
 */
function estimateIndexItemBytes(scaling: readonly ScalingPoint[]): number {
  const fullReads = scaling.filter((point) => point.label.startsWith('search') && point.itemsRead > 0);
  const largest = fullReads.sort((a, b) => b.itemsRead - a.itemsRead)[0];
  if (!largest) return Number.NaN;
  return Math.round((largest.capacityUnits * BYTES_PER_EVENTUALLY_CONSISTENT_UNIT) / largest.itemsRead);
}

/** `Query[all-by-created,COUNT] + Query[all-by-created]`: what a request sent, in order, repeats folded. */
function describeCalls(calls: readonly DynamoCall[]): string {
  const names = calls.map((call) => {
    const details = [call.index, call.select].filter(Boolean).join(',');
    return `${call.command}${details ? `[${details}]` : ''}${call.failed ? `(${call.failed})` : ''}`;
  });
  const folded: string[] = [];
  for (let at = 0; at < names.length; ) {
    let repeat = 1;
    while (names[at + repeat] === names[at]) repeat++;
    folded.push(repeat > 1 ? `${names[at]} x${repeat}` : names[at]!);
    at += repeat;
  }
  return folded.join(' + ') || '-';
}

export function renderDynamoSection(section: DynamoSection): string {
  const rows = section.requests.map((request) => [
    request.label,
    request.request.length > 48 ? `${request.request.slice(0, 45)}...` : request.request,
    request.status === request.expectedStatus ? request.status : `${request.status}!`,
    request.callCount,
    request.usesScan ? 'SCAN' : request.overTarget ? 'OVER' : 'ok',
    describeCalls(request.calls),
  ]);
  const scalingRows = section.scaling.map((point) => [point.workflows, point.label, point.callCount, point.itemsRead, point.capacityUnits, point.medianMs, point.commands]);
  return [
    `3. DYNAMODB CALLS PER REQUEST (in-process local runtime on dynalite, ${section.seededWorkflows} Document Analysis workflows seeded; target <= ${CALLS_PER_REQUEST_TARGET} calls, no Scan)`,
    table(['request', 'HTTP', 'status', 'calls', 'check', 'commands in order'], rows),
    `  Scan commands: ${section.scanCount === 0 ? 'none' : section.scanCount}`,
    `  Above ${CALLS_PER_REQUEST_TARGET} calls: ${section.routesOverTarget.length === 0 ? 'none' : section.routesOverTarget.join('; ')}`,
    `  Unexpected HTTP statuses: ${section.unexpectedStatuses.length === 0 ? 'none' : section.unexpectedStatuses.join('; ')}`,
    '',
    'Scaling with table size (calls and reads per request; capacity units as the emulator charges them, ms = median of 3 in-process requests)',
    table(['workflows', 'request', 'calls', 'items read', 'capacity', 'ms', 'commands'], scalingRows),
    `  Search and statistics read every summary (items read = workflows); list reads them all too, for its COUNT.`,
    `  A summary is ~${section.estimatedIndexItemBytes} bytes in the index, so one 1 MB Query page covers ~${section.summariesPerQueryPage} workflows:`,
    `  search/statistics make ceil(workflows / ${section.summariesPerQueryPage}) calls, unfiltered list one more than that.`,
  ].join('\n');
}
