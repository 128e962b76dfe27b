/**
 * Listings, search and statistics at scale: the WorkflowService use cases on a DynamoWorkflowStore on the
 * dynalite emulator (in memory, in-process, as the local runtime starts it): one table per size, of 100, 10,000
 * and 100,000 workflows seeded through `store.create`. Each use case runs on every table in interleaved rounds,
 * for p50/p99 latency and the DynamoDB commands each request sends. The targets: the first page of a listing
 * at the largest size within 1.5x of the smallest, and no request whose calls grow with the table.
 *
 * `npm run bench` runs it as one section; `node bench/listings.ts` runs it alone. BENCH_LISTING_MAX caps the
 * largest size (default 10000; 100000 to measure all three sizes): seeding runs at some 30-60 workflows/s on 2 shared cores, so 100,000 take
 * most of an hour there.
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { CursorCodec } from '../adapters/aws/dynamo/cursor-codec.ts';
import { DynamoWorkflowStore } from '../adapters/aws/dynamo/dynamo-workflow-store.ts';
import { WORKFLOW_TABLE } from '../adapters/aws/dynamo/workflow-table.ts';
import type { TenantScope } from '../core/auth/model.ts';
import type { WorkflowDefinitionInput, WorkflowStatus } from '../core/workflow/definition.ts';
import type { Workflow } from '../core/workflow/model.ts';
import { createWorkflowService, type WorkflowService } from '../core/workflow/service.ts';
import { startDynalite } from '../local/dynalite.ts';
import { ensureTable } from '../local/tables.ts';
import { documentAnalysis, storedWorkflow } from '../test/support/workflows.ts';
import { instrument as instrumentCalls, type DynamoCall } from './dynamo-calls.ts';
import { AWS_TEST_ENVIRONMENT } from './environment.ts';
import { round, since, table } from './stats.ts';

export const LIST_RATIO_TARGET = 1.5;
const DEFAULT_MAX_SIZE = 10_000;
const SIZES = [100, 10_000, 100_000] as const;
const PAGE_SIZE = 50;
const SEED_CONCURRENCY = 16;
/** Seeding is timed up to here first, to print how long the largest size will take before it starts. */
const SEED_ESTIMATE_AT = 1_000;
const MAX_ITERATIONS = 200;
const MIN_ITERATIONS = 5;
/** A probe stops after this much measuring once it has MIN_ITERATIONS: slow ones get fewer iterations. */
const PROBE_BUDGET_MS = 4_000;
const WARM_UP = 2;
/** A warm-up this slow is enough warming. */
const SLOW_REQUEST_MS = 500;
const TENANT = 'default';

/** What the seeded population is made of: the searched words' frequencies are chosen, the rest is varied. */
const USERS = Array.from({ length: 20 }, (_, index) => `user-${String(index + 1).padStart(2, '0')}`);
const ADJECTIVES = ['Nightly', 'Weekly', 'Urgent', 'Regional', 'Quarterly', 'Automated', 'Manual', 'Global'] as const;
const SUBJECTS = ['Invoice', 'Contract', 'Ticket', 'Report', 'Order', 'Payroll', 'Shipment', 'Claim'] as const;
const VERBS = ['Review', 'Approval', 'Sync', 'Export', 'Triage', 'Reconciliation'] as const;
/** One of these tags per workflow: COMMON_WORD is in about a quarter of them. */
const DOMAINS = ['finance', 'operations', 'legal', 'support'] as const;
const COMMON_WORD = 'finance';
/** In the description of one workflow in RARE_EVERY (1 at 100, 2 at 10,000, 20 at 100,000). */
const RARE_WORD = 'quasar';
const RARE_EVERY = 5_000;
const SEEDED_CREATOR = 'user-07';
/** Has created nothing: an admin's listing filtered by this creator finds no match to stop at. */
const ABSENT_CREATOR = 'nobody';
const ACTION_TYPES = ['service_call', 'notification', 'wait', 'transform', 'foreach', 'sub_workflow'] as const;
const FIRST_CREATED_AT = Date.parse('2026-01-01T00:00:00.000Z');

export interface ListingOptions {
  /** The largest table size measured (sizes above it are skipped); default 10000. */
  readonly maxSize?: number;
}

/** BENCH_LISTING_MAX, read once here: the only setting of this section. */
export function listingOptionsFromEnvironment(environment: Record<string, string | undefined> = process.env): ListingOptions {
  const raw = environment.BENCH_LISTING_MAX;
  if (raw === undefined || raw === '') return {};
  const maxSize = Number(raw);
  if (!Number.isSafeInteger(maxSize) || maxSize < SIZES[0]) throw new Error(`BENCH_LISTING_MAX must be a whole number >= ${SIZES[0]}, got ${JSON.stringify(raw)}`);
  return { maxSize };
}

export interface SeedingStep {
  /** The table being seeded (one per size). */
  readonly size: number;
  readonly from: number;
  readonly to: number;
  readonly seconds: number;
  readonly workflowsPerSecond: number;
  readonly callsPerCreate: number;
}

export interface ProbeResult {
  readonly size: number;
  readonly label: string;
  /** `member`: one tenant's caller (index per filter); `admin`: every tenant's listing. */
  readonly scope: 'member' | 'admin';
  readonly iterations: number;
  readonly p50Ms: number;
  /** With fewer than 100 iterations this is the slowest one. */
  readonly p99Ms: number;
  /** Mean DynamoDB commands per request, and the fewest and most of any one request. */
  readonly calls: number;
  readonly callsMin: number;
  readonly callsMax: number;
  /** Mean commands per request by command (and index), e.g. `Query[tenant-by-created]`. */
  readonly commands: Readonly<Record<string, number>>;
  /** Items DynamoDB read per request (Query ScannedCount, BatchGet/Get items returned). */
  readonly itemsRead: number;
  /** Workflows on the page, or search hits in total. */
  readonly returned: number;
}

export interface ListingsSection {
  readonly emulator: string;
  readonly sizes: readonly number[];
  readonly skippedSizes: readonly number[];
  readonly seedConcurrency: number;
  readonly seeding: readonly SeedingStep[];
  readonly seedingSeconds: number;
  readonly probes: readonly ProbeResult[];
  readonly listRatio: { readonly smallest: number; readonly largest: number; readonly ratio: number; readonly target: number; readonly pass: boolean };
  /** Probes whose calls per request grow between the two largest sizes measured. */
  readonly callsGrowing: readonly string[];
}

/** A command as this section reports it: named after the operation and the index it reads. */
interface Call {
  readonly name: string;
  readonly itemsRead: number;
}

interface CallRecorder {
  record<T>(work: () => Promise<T>): Promise<{ result: T; calls: Call[] }>;
  /** Every command sent while `work` ran, including concurrent ones (for seeding). */
  count(work: () => Promise<void>): Promise<number>;
}

/** dynamo-calls.ts's recorder (once per logical command; SDK retries are below it), its calls named by index. */
function instrument(client: DynamoDBDocumentClient): CallRecorder {
  const recorder = instrumentCalls(client);
  const named = (call: DynamoCall): Call => ({ name: call.index === undefined ? call.command : `${call.command}[${call.index}]`, itemsRead: call.itemsRead ?? 0 });
  return {
    async record(work) {
      const { result, calls } = await recorder.record(work);
      return { result, calls: calls.map(named) };
    },
    async count(work) {
      return (await recorder.record(work)).calls.length;
    },
  };
}

/** A small deterministic generator per workflow, so fields vary independently of each other. */
function draws(seed: number): () => number {
  let state = (seed + 0x6d2b79f5) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(values: readonly T[], draw: () => number): T => values[Math.floor(draw() * values.length)]!;

function actionOf(type: (typeof ACTION_TYPES)[number], position: number, previous: string | undefined): NonNullable<WorkflowDefinitionInput['actions']>[number] {
  const base = { action_id: `step_${position + 1}`, name: `Step ${position + 1}`, depends_on: previous ? [previous] : [] };
  switch (type) {
    case 'service_call':
      return { ...base, action_type: type, config: { service: 'records_service', endpoint: '/process', method: 'POST', parameters: { id: '{{record_id}}' } } };
    case 'notification':
      return { ...base, action_type: type, config: { message: 'Records processed', channels: ['log'] } };
    case 'wait':
      return { ...base, action_type: type, config: { seconds: 30 } };
    case 'transform':
      return { ...base, action_type: type, config: { output: { record: '{{record_id}}', processed: true } } };
    case 'foreach':
      return { ...base, action_type: type, config: { items: '{{record_ids}}', action: { action_type: 'notification', config: { message: 'item done' } } } };
    case 'sub_workflow':
      return { ...base, action_type: type, config: { workflow_id: 'child-workflow', parameters: {} } };
  }
}

/** The n-th workflow of the population: name words, tags, status, creator and 1-5 actions vary. */
export function benchWorkflow(index: number): Workflow {
  const draw = draws(index);
  const [adjective, subject, verb, domain] = [pick(ADJECTIVES, draw), pick(SUBJECTS, draw), pick(VERBS, draw), pick(DOMAINS, draw)];
  const status: WorkflowStatus = draw() < 0.6 ? 'active' : 'draft';
  const creator = pick(USERS, draw);
  const actionCount = 1 + Math.floor(draw() * 5);
  const actions: NonNullable<WorkflowDefinitionInput['actions']> = [];
  for (let position = 0; position < actionCount; position++) actions.push(actionOf(pick(ACTION_TYPES, draw), position, actions[position - 1]?.action_id));
  const rare = index % RARE_EVERY === 42 ? ` (${RARE_WORD} pilot)` : '';
  const at = new Date(FIRST_CREATED_AT + index * 60_000).toISOString();
  const definition = documentAnalysis({
    name: `${adjective} ${subject} ${verb}`,
    description: `${verb} of ${subject.toLowerCase()} records for the ${domain} team${rare}`,
    tags: [domain, subject.toLowerCase()],
    status,
    parameters: [{ name: 'record_id', type: 'string', required: true }],
    actions,
  });
  return storedWorkflow(`wf-${String(index).padStart(6, '0')}`, {
    tenant: TENANT,
    created_by: creator,
    updated_by: creator,
    version_created_by: creator,
    created_at: at,
    updated_at: at,
    version_created_at: at,
  }, definition);
}

async function seed(store: DynamoWorkflowStore, from: number, to: number): Promise<void> {
  let next = from;
  const worker = async () => {
    while (next < to) await store.create(benchWorkflow(next++));
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;
}

/** One table of `size` workflows and the service on it. */
interface SizedTable {
  readonly size: number;
  readonly service: WorkflowService;
  /** next_token of the first unfiltered page, for the second-page probe. */
  cursor?: string;
}

interface Probe {
  readonly label: string;
  readonly scope: 'member' | 'admin';
  /** Runs the use case once on `table`; returns how many workflows it returned. */
  readonly run: (table: SizedTable) => Promise<number>;
}

/** What one probe collected on one table. */
class ProbeSamples {
  readonly durations: number[] = [];
  readonly callCounts: number[] = [];
  readonly byCommand = new Map<string, number>();
  itemsRead = 0;
  returned = 0;
  measuringMs = 0;

  wantsMore(): boolean {
    return this.durations.length < MAX_ITERATIONS && (this.durations.length < MIN_ITERATIONS || this.measuringMs < PROBE_BUDGET_MS);
  }

  add(durationMs: number, returned: number, calls: readonly Call[]): void {
    this.durations.push(durationMs);
    this.measuringMs += durationMs;
    this.returned = returned;
    this.callCounts.push(calls.length);
    for (const call of calls) {
      this.byCommand.set(call.name, (this.byCommand.get(call.name) ?? 0) + 1);
      this.itemsRead += call.itemsRead;
    }
  }

  result(size: number, probe: Probe): ProbeResult {
    const sorted = [...this.durations].sort((a, b) => a - b);
    const iterations = sorted.length;
    return {
      size,
      label: probe.label,
      scope: probe.scope,
      iterations,
      p50Ms: round(percentile(sorted, 0.5), 2),
      p99Ms: round(percentile(sorted, 0.99), 2),
      calls: round(this.callCounts.reduce((sum, count) => sum + count, 0) / iterations, 1),
      callsMin: Math.min(...this.callCounts),
      callsMax: Math.max(...this.callCounts),
      commands: Object.fromEntries([...this.byCommand].map(([name, count]) => [name, round(count / iterations, 1)])),
      itemsRead: round(this.itemsRead / iterations, 0),
      returned: this.returned,
    };
  }
}

/**
 * One probe on every table, interleaved (a round runs it once per table) so that the machine's noise falls
 * on every size alike and the ratios compare like with like. A table leaves the rounds once it has its
 * iterations, or MIN_ITERATIONS and PROBE_BUDGET_MS of measuring: slow requests get fewer iterations.
 */
async function measureProbe(recorder: CallRecorder, tables: readonly SizedTable[], probe: Probe): Promise<ProbeResult[]> {
  for (const table of tables) {
    for (let warm = 0; warm < WARM_UP; warm++) {
      const started = performance.now();
      await probe.run(table);
      if (since(started) > SLOW_REQUEST_MS) break;
    }
  }
  const samples = tables.map(() => new ProbeSamples());
  while (samples.some((sample) => sample.wantsMore())) {
    for (const [position, table] of tables.entries()) {
      const sample = samples[position]!;
      if (!sample.wantsMore()) continue;
      const started = performance.now();
      const { result, calls } = await recorder.record(() => probe.run(table));
      sample.add(since(started), result, calls);
    }
  }
  return tables.map((table, position) => samples[position]!.result(table.size, probe));
}

function probes(): Probe[] {
  const member: TenantScope = { tenant: TENANT };
  const admin: TenantScope = {};
  const list = (scope: TenantScope, query: { status?: WorkflowStatus; createdBy?: string }) => async (table: SizedTable) =>
    (await table.service.listWorkflows({ page: 1, pageSize: PAGE_SIZE, ...query }, scope)).items.length;
  return [
    { label: 'list page 1', scope: 'member', run: list(member, {}) },
    { label: 'list status=active', scope: 'member', run: list(member, { status: 'active' }) },
    { label: `list created_by=${SEEDED_CREATOR}`, scope: 'member', run: list(member, { createdBy: SEEDED_CREATOR }) },
    {
      label: 'list page 2 (next_token)',
      scope: 'member',
      run: async (table) => (await table.service.listWorkflows({ page: 1, pageSize: PAGE_SIZE, cursor: table.cursor }, member)).items.length,
    },
    { label: `search '${COMMON_WORD}' (~1/4)`, scope: 'member', run: async (table) => (await table.service.searchWorkflows(COMMON_WORD, 20, member)).total_matches },
    { label: `search '${RARE_WORD}' (1/${RARE_EVERY})`, scope: 'member', run: async (table) => (await table.service.searchWorkflows(RARE_WORD, 20, member)).total_matches },
    { label: 'statistics', scope: 'member', run: async (table) => (await table.service.statistics(member)).total_workflows },
    { label: 'list page 1', scope: 'admin', run: list(admin, {}) },
    { label: 'list status=active', scope: 'admin', run: list(admin, { status: 'active' }) },
    { label: `list created_by=${SEEDED_CREATOR}`, scope: 'admin', run: list(admin, { createdBy: SEEDED_CREATOR }) },
    { label: `list created_by=${ABSENT_CREATOR}`, scope: 'admin', run: list(admin, { createdBy: ABSENT_CREATOR }) },
  ];
}

const progress = (line: string) => process.stderr.write(`bench: listings: ${line}\n`);

/**
 * One table per size on one in-memory dynalite, each seeded through `store.create`, then every probe on
 * every table side by side.
 */
export async function measureListings(options: ListingOptions = {}): Promise<ListingsSection> {
  const maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
  const sizes = SIZES.filter((size) => size <= maxSize);
  const skippedSizes = SIZES.filter((size) => size > maxSize);
  // In memory: seeding 1,000 took about as long as on disk (level) in a side-by-side try, and nothing here
  // needs to outlive the run.
  const dynalite = await startDynalite({});
  const client = createDocumentClient({ endpoint: dynalite.endpoint, region: AWS_TEST_ENVIRONMENT.AWS_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  try {
    const recorder = instrument(client);
    const cursors = new CursorCodec(randomBytes(32));
    const clock = { now: () => new Date().toISOString() };
    let nextId = 0;
    const ids = { next: () => `bench-${nextId++}` };
    const totalToSeed = sizes.reduce((sum, size) => sum + size, 0);
    const seeding: SeedingStep[] = [];
    const seedStep = async (store: DynamoWorkflowStore, size: number, from: number, to: number) => {
      const started = performance.now();
      const calls = await recorder.count(() => seed(store, from, to));
      const seconds = since(started) / 1000;
      const step = { size, from, to, seconds: round(seconds, 1), workflowsPerSecond: round((to - from) / seconds, 0), callsPerCreate: round(calls / (to - from), 1) };
      seeding.push(step);
      progress(`table of ${size}: seeded ${from}..${to} in ${step.seconds} s (${step.workflowsPerSecond} workflows/s, ${step.callsPerCreate} DynamoDB calls each)`);
    };

    const tables: SizedTable[] = [];
    for (const size of sizes) {
      const tableName = `bench-listings-${size}`;
      await ensureTable(client, WORKFLOW_TABLE, tableName);
      const store = new DynamoWorkflowStore(client, tableName, { cursors });
      // As the local runtime does at start-up: on an empty table this records that search words and counts
      // exist, so the first read later does not index the whole seeded table again.
      await store.ready();
      let seeded = 0;
      if (size > SEED_ESTIMATE_AT) {
        await seedStep(store, size, 0, SEED_ESTIMATE_AT);
        seeded = SEED_ESTIMATE_AT;
        const done = seeding.reduce((sum, step) => sum + step.to - step.from, 0);
        const rate = done / seeding.reduce((sum, step) => sum + step.seconds, 0);
        progress(`at ${round(rate, 0)} workflows/s, the remaining ${totalToSeed - done} take about ${round((totalToSeed - done) / rate / 60, 1)} min (BENCH_LISTING_MAX caps the largest size)`);
      }
      await seedStep(store, size, seeded, size);
      const service = createWorkflowService({ store, clock, ids });
      const cursor = (await service.listWorkflows({ page: 1, pageSize: PAGE_SIZE }, { tenant: TENANT })).nextCursor;
      if (cursor === undefined) throw new Error(`no second page with ${size} workflows`);
      tables.push({ size, service, cursor });
    }

    const results: ProbeResult[] = [];
    for (const probe of probes()) {
      const measured = await measureProbe(recorder, tables, probe);
      for (const result of measured) progress(`${result.size} ${probe.scope} ${probe.label}: p50 ${result.p50Ms} ms, ${result.calls} calls (${result.iterations} iterations)`);
      results.push(...measured);
    }
    results.sort((a, b) => a.size - b.size);
    return {
      emulator: 'dynalite 4, in memory, in-process (loopback HTTP)',
      sizes,
      skippedSizes,
      seedConcurrency: SEED_CONCURRENCY,
      seeding,
      seedingSeconds: round(seeding.reduce((sum, step) => sum + step.seconds, 0), 1),
      probes: results,
      listRatio: listRatio(results, sizes),
      callsGrowing: callsGrowing(results, sizes),
    };
  } finally {
    client.destroy();
    await dynalite.close();
  }
}

function listRatio(results: readonly ProbeResult[], sizes: readonly number[]): ListingsSection['listRatio'] {
  const firstPage = (size: number) => results.find((result) => result.size === size && result.scope === 'member' && result.label === 'list page 1')?.p50Ms ?? Number.NaN;
  const smallest = sizes[0]!;
  const largest = sizes[sizes.length - 1]!;
  const ratio = round(firstPage(largest) / firstPage(smallest), 2);
  return { smallest, largest, ratio, target: LIST_RATIO_TARGET, pass: ratio <= LIST_RATIO_TARGET };
}

/**
 * Compares the two largest sizes measured. From 100 up, a filtered page can grow from partly to fully read
 * (100 workflows hold only ~5 of one creator's), so growth from 100 is a hint; growth between two sizes past
 * a full page means a request reads something proportional to the table (or to its matches).
 */
function callsGrowing(results: readonly ProbeResult[], sizes: readonly number[]): string[] {
  if (sizes.length < 2) return [];
  const [before, after] = [sizes[sizes.length - 2]!, sizes[sizes.length - 1]!];
  const at = (size: number, probe: ProbeResult) => results.find((result) => result.size === size && result.scope === probe.scope && result.label === probe.label);
  return results
    .filter((result) => result.size === after)
    .flatMap((result) => {
      const earlier = at(before, result);
      return earlier && result.calls > earlier.calls * 1.2 + 0.5 ? [`${result.scope} ${result.label}: ${earlier.calls} -> ${result.calls} calls (${earlier.itemsRead} -> ${result.itemsRead} items read)`] : [];
    });
}

function describeCommands(commands: Readonly<Record<string, number>>): string {
  return Object.entries(commands).map(([name, count]) => `${name} ${count}`).join(' + ') || '-';
}

export function renderListingsSection(section: ListingsSection): string {
  const rows = section.probes.map((probe) => [
    probe.size,
    probe.scope,
    probe.label,
    probe.iterations,
    probe.p50Ms,
    probe.p99Ms,
    probe.callsMin === probe.callsMax ? probe.calls : `${probe.calls} (${probe.callsMin}-${probe.callsMax})`,
    probe.itemsRead,
    probe.returned,
    describeCommands(probe.commands),
  ]);
  const seedingRows = section.seeding.map((step) => [step.size, `${step.from}..${step.to}`, step.seconds, step.workflowsPerSecond, step.callsPerCreate]);
  const { listRatio } = section;
  return [
    `8. LISTINGS, SEARCH AND STATISTICS AT SCALE (WorkflowService on DynamoWorkflowStore, ${section.emulator}; page_size ${PAGE_SIZE})`,
    `Seeding through store.create, ${section.seedConcurrency} at a time: ${section.seedingSeconds} s in all${section.skippedSizes.length > 0 ? ` (skipped sizes ${section.skippedSizes.join(', ')}: BENCH_LISTING_MAX)` : ''}`,
    table(['table', 'workflows', 's', 'per s', 'calls each'], seedingRows),
    '',
    `Per request, one table per size, sizes interleaved round by round: p50/p99 over the iterations shown (${MAX_ITERATIONS}, or fewer once ${PROBE_BUDGET_MS / 1000} s were spent;`,
    'below 100 iterations p99 is the slowest one),',
    'calls = mean DynamoDB commands (min-max when they varied), items = items DynamoDB read, returned = page size or search matches.',
    'member = one tenant\'s caller (a GET /workflows by a user); admin = every tenant\'s listing (no tenant in scope).',
    table(['workflows', 'scope', 'request', 'iter', 'p50 ms', 'p99 ms', 'calls', 'items', 'returned', 'commands per request'], rows),
    '',
    `List page 1 p50 at ${listRatio.largest} / at ${listRatio.smallest}: ${listRatio.ratio}x (target <= ${listRatio.target}x): ${listRatio.pass ? 'PASS' : 'FAIL'}`,
    `Calls per request growing with the table (${section.sizes.length >= 2 ? `${section.sizes[section.sizes.length - 2]} -> ${section.sizes[section.sizes.length - 1]}` : 'needs two sizes'}): ${section.callsGrowing.length === 0 ? 'none' : section.callsGrowing.length}`,
    ...section.callsGrowing.map((line) => `  ${line}`),
  ].join('\n');
}

if (import.meta.main) {
  Object.assign(process.env, AWS_TEST_ENVIRONMENT);
  const section = await measureListings(listingOptionsFromEnvironment());
  console.log(renderListingsSection(section));
}
