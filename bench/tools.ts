import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serviceOperationTools } from '../core/ai/openapi-tools.ts';
import { startDynalite } from '../local/dynalite.ts';
import { startFauxqsEmulator } from '../local/fauxqs.ts';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import { median, round, table } from './stats.ts';

/**
 * Issue 17: what `GET /tools` costs through the real local server with 50 registered services of 40 operations
 * each (their documents served by a loopback stub) and 20 active workflows. Cold is a listing's first, on a
 * freshly started runtime (every document read and converted); warm is a listing whose services' tools are
 * kept (read from the registry and workflows only). Each restart keeps the tables (one dynalite), so only the
 * runtime's own cache starts empty. Also the conversion alone, in process, for the same 50 documents.
 */
export interface ToolsSection {
  readonly services: number;
  readonly operations_per_service: number;
  readonly workflows: number;
  readonly tools: number;
  readonly response_kb: number;
  readonly document_kb: number;
  readonly cold: { readonly runs: number; readonly median_ms: number; readonly min_ms: number; readonly max_ms: number; readonly document_reads: number };
  readonly warm: { readonly runs: number; readonly median_ms: number; readonly min_ms: number; readonly max_ms: number; readonly document_reads: number };
  readonly ratio: number;
  readonly conversion_ms: number;
}

export const TOOL_BENCH_SERVICES = 50;
export const TOOL_BENCH_OPERATIONS = 40;
const WORKFLOWS = 20;
const COLD_RUNS = 5;
const WARM_RUNS = 20;
const TABLE = 'bench-tools';

/** 40 operations over 10 resources (list, create, read, replace): query, path and header parameters, JSON bodies with shared and cyclic references. */
export function benchDocument(service: number): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {
    Address: { type: 'object', required: ['city'], properties: { street: { type: 'string' }, city: { type: 'string' }, country: { type: 'string', minLength: 2, maxLength: 2 } } },
    Tag: { type: 'object', properties: { key: { type: 'string' }, value: { type: 'string' } } },
    Error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
  };
  for (let resource = 0; resource < TOOL_BENCH_OPERATIONS / 4; resource++) {
    const name = `Item${resource}`;
    const ref = { $ref: `#/components/schemas/${name}` };
    schemas[name] = {
      type: 'object',
      required: ['name'],
      properties: {
        id: { type: 'string', readOnly: true },
        name: { type: 'string', maxLength: 200 },
        count: { type: 'integer', minimum: 0 },
        address: { $ref: '#/components/schemas/Address' },
        tags: { type: 'array', items: { $ref: '#/components/schemas/Tag' } },
        parent: ref,
        status: { type: 'string', enum: ['new', 'open', 'closed'] },
      },
    };
    const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
    const body = { required: true, content: { 'application/json': { schema: ref } } };
    const ok = { '200': { description: 'ok', content: { 'application/json': { schema: ref } } }, default: { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } };
    paths[`/items${resource}`] = {
      get: { operationId: `list${name}`, summary: `List ${name} records`, tags: [`group${resource % 3}`], parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', maximum: 100 } }, { name: 'cursor', in: 'query', schema: { type: 'string' } }], responses: ok },
      post: { operationId: `create${name}`, summary: `Create a ${name}`, tags: [`group${resource % 3}`], requestBody: body, responses: ok },
    };
    paths[`/items${resource}/{id}`] = {
      parameters: [id],
      get: { operationId: `get${name}`, summary: `Read one ${name}`, responses: ok },
      put: { operationId: `replace${name}`, description: `Replaces a ${name} of service ${service}`, parameters: [{ name: 'If-Match', in: 'header', schema: { type: 'string' } }], requestBody: body, responses: ok },
    };
  }
  return { openapi: '3.0.3', info: { title: `Service ${service}`, version: '1.0.0' }, paths, components: { schemas } };
}

async function documentServer(): Promise<{ url: string; reads: () => number; close: () => Promise<void>; bytes: number }> {
  const bodies = new Map(Array.from({ length: TOOL_BENCH_SERVICES }, (_, index) => [`/svc${index}/openapi.json`, JSON.stringify(benchDocument(index))]));
  let reads = 0;
  const server = createServer((request, response) => {
    const body = bodies.get(request.url ?? '');
    if (body !== undefined) reads++;
    response.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' }).end(body ?? '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    reads: () => reads,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    bytes: [...bodies.values()].reduce((sum, body) => sum + body.length, 0) / bodies.size,
  };
}

async function post(runtime: LocalRuntime, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${runtime.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.status !== 201) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
}

async function timedListing(runtime: LocalRuntime): Promise<{ ms: number; bytes: number; tools: number; notes: number }> {
  const started = performance.now();
  const response = await fetch(`${runtime.url}/tools`);
  const text = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`GET /tools answered ${response.status}: ${text.slice(0, 300)}`);
  const data = (JSON.parse(text) as { data: { tools: unknown[]; notes: unknown[] } }).data;
  return { ms, bytes: text.length, tools: data.tools.length, notes: data.notes.length };
}

export async function measureTools(): Promise<ToolsSection> {
  const [dynamo, fauxqs, documents] = await Promise.all([startDynalite({}), startFauxqsEmulator(), documentServer()]);
  const start = () =>
    startLocalRuntime({ port: 0, host: '127.0.0.1', dynamoEndpoint: dynamo.endpoint, sqsEndpoint: fauxqs.endpoint, s3Endpoint: fauxqs.endpoint, workflowsTableName: TABLE, region: 'us-east-1', serviceVersion: 'bench', logLevel: 'warn' });
  const cold: number[] = [];
  const warm: number[] = [];
  let coldReads = 0;
  let warmReads = 0;
  let last = { ms: 0, bytes: 0, tools: 0, notes: 0 };
  try {
    const setup = await start();
    try {
      for (let index = 0; index < TOOL_BENCH_SERVICES; index++) await post(setup, '/registry/register', { name: `svc${index}`, url: `${documents.url}/svc${index}`, openapi_path: '/openapi.json' });
      for (let index = 0; index < WORKFLOWS; index++) {
        await post(setup, '/workflows', { name: `Flow ${index}`, parameters: [{ name: 'customer', type: 'string', required: true }, { name: 'amount', type: 'number', required: false }], actions: [{ action_id: 'note', action_type: 'notification', config: { message: '{{customer}}' } }] });
      }
    } finally {
      await setup.close();
    }
    for (let run = 0; run < COLD_RUNS; run++) {
      const runtime = await start();
      try {
        const readsBefore = documents.reads();
        last = await timedListing(runtime);
        cold.push(last.ms);
        coldReads = documents.reads() - readsBefore;
        const warmBefore = documents.reads();
        for (let index = 0; index < WARM_RUNS / COLD_RUNS; index++) warm.push((await timedListing(runtime)).ms);
        warmReads = (documents.reads() - warmBefore) / (WARM_RUNS / COLD_RUNS);
      } finally {
        await runtime.close();
      }
      if (last.notes > 0) throw new Error(`${last.notes} services were not read: the bench measures complete listings only`);
    }
    // The conversion alone: parsing is the document source's, this is what the catalog adds per document.
    const parsed = Array.from({ length: TOOL_BENCH_SERVICES }, (_, index) => benchDocument(index));
    const conversions: number[] = [];
    for (let run = 0; run < 5; run++) {
      const started = performance.now();
      for (const [index, document] of parsed.entries()) serviceOperationTools(`svc${index}`, document);
      conversions.push(performance.now() - started);
    }
    const summary = (values: number[], reads: number) => ({ runs: values.length, median_ms: round(median(values), 1), min_ms: round(Math.min(...values), 1), max_ms: round(Math.max(...values), 1), document_reads: reads });
    return {
      services: TOOL_BENCH_SERVICES,
      operations_per_service: TOOL_BENCH_OPERATIONS,
      workflows: WORKFLOWS,
      tools: last.tools,
      response_kb: round(last.bytes / 1024, 1),
      document_kb: round(documents.bytes / 1024, 1),
      cold: summary(cold, coldReads),
      warm: summary(warm, warmReads),
      ratio: round(median(cold) / median(warm), 1),
      conversion_ms: round(median(conversions), 1),
    };
  } finally {
    await Promise.all([documents.close(), dynamo.close(), fauxqs.close()]);
  }
}

export function renderToolsSection(section: ToolsSection): string {
  return [
    '17. TOOLS (GET /tools through the real local server: services\' OpenAPI documents on a loopback stub, tables in dynalite)',
    '',
    `${section.services} services x ${section.operations_per_service} operations (documents of ${section.document_kb} KB) and ${section.workflows} active workflows: ${section.tools} tools, a ${section.response_kb} KB answer.`,
    'Cold: the first listing after a start (every document read and converted). Warm: the services\' tools kept (the registry, its digests and the workflows are still read). No target: the ratio is what the cache buys.',
    '',
    table(
      ['listing', 'runs', 'median (ms)', 'min (ms)', 'max (ms)', 'documents read'],
      [
        ['cold', section.cold.runs, section.cold.median_ms, section.cold.min_ms, section.cold.max_ms, section.cold.document_reads],
        ['warm', section.warm.runs, section.warm.median_ms, section.warm.min_ms, section.warm.max_ms, section.warm.document_reads],
      ],
    ),
    '',
    `Cold / warm: ${section.ratio}x. Converting the ${section.services} parsed documents alone, in process: ${section.conversion_ms} ms (median of 5).`,
  ].join('\n');
}
