import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument, type OpenApiDocument } from '../../functions/http/openapi.ts';
import { startTestApi } from '../support/api.ts';
import { validValue, type JsonSchema, type SchemaScope } from '../support/fuzz-arbitraries.ts';
import { createOracle, describeFailure, truncate, type FuzzRequest, type FuzzResponse, type Oracle } from '../support/fuzz-oracle.ts';
import { limitRequests, literalSegments, operationsOf, requestArbitrary, type Operation, type RequestContext } from '../support/fuzz-requests.ts';
import { startFuzzStub, type FuzzStub } from '../support/fuzz-stub.ts';
import { documentAnalysis } from '../support/workflows.ts';

/**
 * The API fuzzed from its own OpenAPI document: for every operation, valid and invalid requests over real
 * HTTP to one local API, and every answer checked against the document (a documented status below 500, a
 * body that validates against the documented schema, the documented headers).
 *
 * `npm test` sends about 10,000 requests with a fixed seed. `npm run fuzz` sends more (FUZZ_RUNS multiplies
 * them) with FUZZ_SEED (default: a new one each run); a failure prints the seed and every request it needs.
 */

const SEED = Number(process.env['FUZZ_SEED'] ?? 20_261_110);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 1);
const VERBOSE = process.env['FUZZ_VERBOSE'] === '1';
/** Requests for the whole table per run; each operation gets its share by weight. */
const REQUESTS_PER_RUN = Number(process.env['FUZZ_REQUESTS'] ?? 10_000);
const CONCURRENCY = 8;
const REQUEST_TIMEOUT_MS = 20_000;

/** Operations that sweep every registered instance or peer send fewer requests: each one costs many calls. */
// Deleting a schedule consumes one of the few seeded: rarer, so the other schedule routes meet existing ones.
const WEIGHTS: Readonly<Record<string, number>> = { runHealthCheck: 0.25, pollOpenApi: 0.25, syncPeers: 0.25, listPeers: 0.5, deleteSchedule: 0.25 };
/** Operations that remove what the others read go last, so the seeded objects serve most of the run. */
const DESTRUCTIVE = new Set(['deleteWorkflow', 'deregisterService', 'revokeApiKey', 'deleteEventSubscription']);

let stub: FuzzStub;
let api: Awaited<ReturnType<typeof startTestApi>>;
let document: OpenApiDocument;
let oracle: Oracle;
let context: RequestContext;

beforeAll(async () => {
  stub = await startFuzzStub();
  // A wait lasts 15 minutes (longer than the run), so that the seeded waiting runs are in flight when cancellations arrive.
  // The ecosystem services (proxies, ingestion, jobs) are the stub too.
  const ecosystem = Object.fromEntries(['REPORTING_URL', 'DOC_STORE_URL', 'SECURE_ANALYZER_URL', 'SOURCE_AGENT_URL', 'CONSISTENCY_ENGINE_URL', 'NOTIFICATION_URL'].map((name) => [name, stub.url]));
  // The model of POST /ai/plan is the stub too (LLM_GATEWAY_URL): planning's dependency is up like every other.
  api = await startTestApi({ peers: [stub.url], peerTimeoutMs: 1000, healthChecks: { timeoutMs: 1000 }, waitMilliseconds: 900_000, serviceUrls: ecosystem, llmGateway: { url: stub.url } });
  document = buildOpenApiDocument('test');
  oracle = createOracle(document);
  context = await seed(api.call, stub.url, document);
});

afterAll(async () => {
  await api?.runtime.close();
  await stub?.close();
});

/** A few of everything, so that valid requests find objects: workflows, versions, runs, services, API keys. */
async function seed(call: (typeof api)['call'], stubUrl: string, doc: OpenApiDocument): Promise<RequestContext> {
  const ok = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const reply = await call(method, path, body === undefined ? {} : { body });
    if (reply.status >= 300) throw new Error(`seeding ${method} ${path}: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body.data;
  };
  const services = ['alpha', 'beta', 'source_agent', 'analysis_service'];
  for (const name of services) await ok('POST', '/registry/register', { name, url: `${stubUrl}/${name}`, openapi_path: '/openapi.json', tags: ['fuzz'] });
  await ok('POST', '/registry/register', { name: 'alpha', url: `${stubUrl}/alpha-2`, instance_id: 'alpha-2' });
  await ok('POST', '/registry/register', { name: 'refused', url: 'http://127.0.0.1:1' });

  const active = await ok('POST', '/workflows', documentAnalysis({ name: 'fuzz active', tags: ['fuzz'] }));
  const draft = await ok('POST', '/workflows', documentAnalysis({ name: 'fuzz draft', status: 'draft' }));
  const typed = await ok('POST', '/workflows', {
    name: 'fuzz typed parameters',
    parameters: [
      { name: 'count', type: 'integer', default: 3 },
      { name: 'ratio', type: 'number' },
      { name: 'flag', type: 'boolean', default: false },
      { name: 'items', type: 'array', default: [] },
      { name: 'options', type: 'object' },
      { name: 'mode', type: 'string', enum: ['fast', 'slow'], default: 'fast' },
    ],
    actions: [
      { action_id: 'pause', action_type: 'wait', config: { seconds: 1 } },
      { action_id: 'call', action_type: 'service_call', config: { service: 'alpha', endpoint: '/work', method: 'POST' }, depends_on: ['pause'] },
    ],
  });
  const templates = (await ok('GET', '/workflows/templates')) as { templates: { name: string }[] };
  const fromTemplate = await ok('POST', '/workflows/from-template', { template_name: templates.templates[0]!.name });
  const activeId = String(active['workflow_id']);
  await ok('PUT', `/workflows/${activeId}`, { description: 'second version', actions: documentAnalysis().actions });
  const executions: string[] = [];
  for (let run = 0; run < 4; run++) {
    const started = await ok('POST', `/workflows/${activeId}/execute`, { parameters: { document_url: `https://example.org/${run}` } });
    executions.push(String(started['execution_id']));
  }
  await call('POST', `/workflows/executions/${executions[0]}/cancel`);
  // Runs that stay in flight for the whole fuzz run, so that some cancellations find one to cancel.
  const waiting = await ok('POST', '/workflows', { name: 'fuzz waiting', actions: [{ action_id: 'hold', action_type: 'wait', config: { seconds: 3600 } }] });
  for (let run = 0; run < 6; run++) {
    const started = await ok('POST', `/workflows/${String(waiting['workflow_id'])}/execute`, {});
    executions.push(String(started['execution_id']));
  }
  // Runs of a workflow with a compensation: sagas, for the saga routes.
  const saga = await ok('POST', '/workflows', {
    name: 'fuzz saga',
    actions: [
      {
        action_id: 'book',
        action_type: 'service_call',
        config: { service: 'alpha', endpoint: '/book', method: 'POST' },
        compensation: { action_type: 'service_call', config: { service: 'alpha', endpoint: '/unbook', method: 'POST' } },
      },
    ],
  });
  const sagas: string[] = [];
  for (let run = 0; run < 2; run++) sagas.push(String((await ok('POST', `/workflows/${String(saga['workflow_id'])}/execute`, {}))['execution_id']));
  const keys: string[] = [];
  for (const role of ['viewer', 'operator', 'admin']) {
    const created = await ok('POST', '/auth/api-keys', { name: `fuzz ${role}`, role });
    keys.push(String(created['key_id']));
  }
  const subscriptions: string[] = [];
  for (const path of ['/events-a', '/events-b', '/events-c']) {
    subscriptions.push(String((await ok('POST', '/infrastructure/events/subscriptions', { url: `${stubUrl}${path}`, pattern: { type: [{ prefix: 'orchestrator.run.' }] } }))['subscription_id']));
  }
  const workflowIds = [activeId, String(draft['workflow_id']), String(typed['workflow_id']), String(fromTemplate['workflow_id'])];
  const templateNames = templates.templates.map((template) => template.name);
  const stubUrls = [stubUrl, `${stubUrl}/v1`, `${stubUrl}/alpha`, 'http://127.0.0.1:1'];

  const STORABLE_ACTION_LISTS = [
    [{ action_id: 'note', action_type: 'notification', config: { message: 'fuzz' } }],
    [
      { action_id: 'call', action_type: 'service_call', config: { service: 'alpha', endpoint: '/work', method: 'POST' } },
      { action_id: 'after', action_type: 'transform', depends_on: ['call'], config: { output: { got: '{{call.response}}' } } },
    ],
  ];
  const scope: SchemaScope = {
    maxDepth: 3,
    resolve: (ref) => {
      const schema = doc.components.schemas[ref.replace('#/components/schemas/', '')];
      if (!schema) throw new Error(`unresolvable ${ref}`);
      return schema as JsonSchema;
    },
    // Values that reach something real: URLs of the stub (never the network), ids and names that exist.
    override: (property, schema) => {
      switch (property) {
        case 'url':
          return fc.constantFrom(...stubUrls);
        case 'template_name':
          return fc.oneof(fc.constantFrom(...templateNames), fc.string({ minLength: 1, maxLength: 20 }));
        case 'workflow_id':
          return fc.oneof(fc.constantFrom(...workflowIds), fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/));
        case 'service':
          return fc.oneof(fc.constantFrom(...services), fc.stringMatching(/^[a-z_]{1,20}$/));
        case 'actions':
          // Action lists generated from the schema almost never pass the cross-field rules (ids, references,
          // dependencies), so definitions that can be stored are mixed in: the success paths get exercised too.
          return schema['type'] === 'array' ? fc.oneof(fc.constantFrom(...STORABLE_ACTION_LISTS), validValue(schema, scope)) : undefined;
        // Event and dead-letter requests: windows in order, types that exist, queues and subscriptions that do.
        case 'since':
          return fc.oneof(fc.constant('2026-01-01T00:00:00Z'), validValue(schema, scope));
        case 'until':
        case 'before':
          return fc.oneof(fc.constant('2036-01-01T00:00:00Z'), validValue(schema, scope));
        case 'types':
          return fc.oneof(fc.constant(['orchestrator.run.*', 'orchestrator.workflow.created']), validValue(schema, scope));
        case 'queue':
          return fc.oneof(fc.constantFrom('actions', 'deliveries'), validValue(schema, scope));
        case 'subscription_id':
          return fc.oneof(fc.constantFrom(...subscriptions), validValue(schema, scope));
        // Schedules and ingestion: expressions and scopes that can be accepted, among generated ones.
        case 'expression':
          return fc.oneof(fc.constantFrom('rate(1 day)', 'cron(0 9 ? * MON-FRI *)', 'at(2030-01-01T00:00:00)'), validValue(schema, scope));
        case 'timezone':
          return fc.oneof(fc.constantFrom('UTC', 'Europe/Berlin'), validValue(schema, scope));
        case 'scope':
          return fc.oneof(fc.constantFrom({ repo: 'acme/x' }, { project: 'PAY' }, { space: 'ENG' }, { url: 'https://x.example/openapi.json' }), validValue(schema, scope));
        case 'schedule_id':
          return fc.constantFrom(...schedules);
        // A service operation's arguments (POST /tools/{tool_name}/call): the stub's operations take none.
        case 'arguments':
          return fc.oneof(fc.constant({}), validValue(schema, scope));
        case 'secret_ref':
          return fc.constantFrom('env:FUZZ_SERVICE_TOKEN', 'env:AWS_SECRET_ACCESS_KEY', 'file:/nonexistent/fuzz-secret', 'secretsmanager:orchestrator/fuzz', 'ssm:/orchestrator/fuzz', 'vault:x');
        default:
          return undefined;
      }
    },
  };
  // Schedules of the active workflow, for the schedule routes (far in the future: none fires during the run).
  const schedules = await Promise.all(Array.from({ length: 10 }, (_, index) => index).map(async () => String((await ok('POST', `/workflows/${activeId}/schedules`, { expression: 'at(2030-01-01T00:00:00)', parameters: { document_url: 'https://docs.example/fuzz' } }))['schedule_id'])));
  // Each run's trace, for the tracing routes (its request's span and, once they end, the run's are recorded).
  const traces = await Promise.all(executions.slice(0, 3).map(async (id) => String((await ok('GET', `/workflows/executions/${id}`))['trace_id'])));
  return {
    scope,
    existing: { trace_id: traces, workflow_id: workflowIds, execution_id: [...executions, ...sagas], saga_id: sagas, name: [...services, 'refused'], key_id: keys, subscription_id: subscriptions, schedule_id: schedules,
      // The stub's document gives each service one operation (fuzz-stub.ts): the tools GET /tools lists.
      tool_name: services.map((service) => `${service}.listThings`),
      // The event history's `type` filter: patterns that exist, among generated ones (which almost never pass its pattern).
      type: ['orchestrator.run.*', 'orchestrator.workflow.created'] },
    literals: literalSegments(doc),
  };
}

/** A deterministic shuffle (mulberry32), so one seed always sends the same requests in the same order. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

function generate(operations: readonly Operation[]): FuzzRequest[] {
  const totalWeight = operations.reduce((sum, operation) => sum + (WEIGHTS[operation.operationId] ?? 1), 0);
  const perWeight = (REQUESTS_PER_RUN * RUNS) / totalWeight;
  const batches = operations.map((operation, index) => {
    const count = Math.max(20, Math.round(perWeight * (WEIGHTS[operation.operationId] ?? 1)));
    return [...fc.sample(requestArbitrary(operation, context), { seed: SEED + index, numRuns: count }), ...limitRequests(operation, context)];
  });
  const first = shuffled(batches.filter((_, index) => !DESTRUCTIVE.has(operations[index]!.operationId)).flat(), SEED);
  const last = shuffled(batches.filter((_, index) => DESTRUCTIVE.has(operations[index]!.operationId)).flat(), SEED + 1);
  return [...first, ...last];
}

async function send(request: FuzzRequest): Promise<FuzzResponse> {
  const response = await fetch(`${api.runtime.url}${request.path}${request.query}`, {
    method: request.method,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
    redirect: 'manual',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

interface Outcome {
  readonly failures: Map<string, { count: number; example: string }>;
  readonly statuses: Map<string, Map<number, number>>;
  sent: number;
}

/** Sends every request, `CONCURRENCY` at a time, and judges each answer. */
async function run(requests: readonly FuzzRequest[], judge: (request: FuzzRequest, response: FuzzResponse) => string[]): Promise<Outcome> {
  const outcome: Outcome = { failures: new Map(), statuses: new Map(), sent: 0 };
  let next = 0;
  const startedAt = performance.now();
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++]!;
      let response: FuzzResponse | undefined;
      let problems: string[];
      let error: unknown;
      try {
        response = await send(request);
        problems = judge(request, response);
      } catch (caught) {
        error = caught;
        problems = ['the request got no response'];
      }
      outcome.sent += 1;
      if (VERBOSE && outcome.sent % 500 === 0) console.log(`${outcome.sent} sent, ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
      const byStatus = outcome.statuses.get(request.operationId ?? 'router') ?? new Map<number, number>();
      byStatus.set(response?.status ?? 0, (byStatus.get(response?.status ?? 0) ?? 0) + 1);
      outcome.statuses.set(request.operationId ?? 'router', byStatus);
      if (problems.length === 0) continue;
      // One entry per distinct failure: the operation, the status and the first problem without its values.
      const key = `${request.operationId ?? 'router'} ${response?.status ?? 'no response'} ${(problems[0] ?? '').replace(/'[^']*'|"[^"]*"|\d+/g, '…')}`;
      const seen = outcome.failures.get(key);
      if (seen) seen.count += 1;
      else outcome.failures.set(key, { count: 1, example: describeFailure(request, response, problems, error) });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return outcome;
}

function statusTable(outcome: Outcome): string {
  return [...outcome.statuses]
    .map(([operation, counts]) => `  ${operation.padEnd(24)} ${[...counts].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(' ')}`)
    .join('\n');
}

function report(outcome: Outcome): string[] {
  return [...outcome.failures.values()].map(({ count, example }) => `${count}× ${example}`);
}

describe('the API, fuzzed from its OpenAPI document', () => {
  it('answers every generated request with a documented status, body and headers', { timeout: 120_000 + RUNS * 180_000 }, async () => {
    const generating = performance.now();
    const requests = generate(operationsOf(document));
    if (VERBOSE) console.log(`generated ${requests.length} requests in ${((performance.now() - generating) / 1000).toFixed(1)} s`);
    const started = performance.now();
    const outcome = await run(requests, (request, response) => oracle.check(request, response));
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const summary = `${outcome.sent} requests in ${seconds} s (seed ${SEED}, runs ${RUNS}; replay: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} npx vitest run test/fuzz)`;
    if (VERBOSE) console.log(`${summary}\n${statusTable(outcome)}`);
    expect(outcome.sent).toBeGreaterThanOrEqual(REQUESTS_PER_RUN * RUNS);
    expect(report(outcome), `${summary}\nstatuses by operation:\n${statusTable(outcome)}\n`).toEqual([]);
    // The generators are not degenerate: every operation succeeded at least once.
    const neverSucceeded = [...outcome.statuses].filter(([, counts]) => ![...counts.keys()].some((status) => status >= 200 && status < 300)).map(([operation]) => operation);
    expect(neverSucceeded, statusTable(outcome)).toEqual([]);
  });

  it('answers HEAD, OPTIONS, methods a path lacks and unknown paths as the router documents them', { timeout: 120_000 }, async () => {
    const problems: string[] = [];
    const sample = (template: string) => template.replace(/\{(\w+)\}/g, (_, name: string) => context.existing[name]?.[0] ?? 'fuzz-none');
    for (const [template, item] of Object.entries(document.paths)) {
      const path = sample(template);
      const documented = Object.keys(item).map((method) => method.toUpperCase());
      const allowed = [...documented, ...(documented.includes('GET') ? ['HEAD'] : []), 'OPTIONS'];
      const options = await send({ method: 'OPTIONS', path, query: '', headers: {}, kind: 'OPTIONS' });
      const allow = (options.headers.get('allow') ?? '').split(/,\s*/).filter(Boolean);
      if (options.status !== 204 || [...allow].sort().join() !== [...allowed].sort().join()) problems.push(`OPTIONS ${path}: ${options.status}, Allow ${JSON.stringify(allow)} (expected 204, Allow ${allowed.join(', ')})`);
      if (documented.includes('GET')) {
        const [get, head] = [await send({ method: 'GET', path, query: '', headers: {}, kind: 'GET' }), await send({ method: 'HEAD', path, query: '', headers: {}, kind: 'HEAD' })];
        if (head.status !== get.status || head.text !== '') problems.push(`HEAD ${path}: ${head.status} with ${head.text.length} body characters (GET: ${get.status}; expected the same status, no body)`);
      }
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((candidate) => !documented.includes(candidate))) {
        const reply = await send({ method, path, query: '', headers: method === 'GET' ? {} : { 'content-type': 'application/json' }, ...(method === 'GET' ? {} : { body: '{}' }), kind: `${method} not on the path` });
        const found = reply.status === 405 ? oracle.checkRouter('MethodNotAllowed', reply) : [`status ${reply.status}, expected 405`];
        if (found.length > 0) problems.push(`${method} ${path}: ${truncate(reply.text, 200)}\n  ! ${found.join('\n  ! ')}`);
      }
    }
    const unknown = ['/', '/nope', '/workflows/a/b/c', '/registry/a/b', '/auth', '/auth/api-keys/abc/def', '/openapi.yaml', '/%FF', '/%2e%2e/etc/passwd', `/${'z'.repeat(2000)}`, '/health/system/extra', '/WORKFLOWS'];
    for (const path of unknown) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const reply = await send({ method, path, query: '', headers: {}, kind: 'unknown path' });
        const found = reply.status === 404 ? oracle.checkRouter('RouteNotFound', reply) : [`status ${reply.status}, expected 404 ROUTE_NOT_FOUND`];
        if (found.length > 0) problems.push(`${method} ${path}: ${truncate(reply.text, 200)}\n  ! ${found.join('\n  ! ')}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
