import { describe, expect, it } from 'vitest';
import { serviceOperationTools, type ServiceOperationTool } from '../../../../core/ai/openapi-tools.ts';
import { findServiceOperationTool, planToolCall, type ServiceOperationRequest } from '../../../../core/ai/tool-call.ts';
import type { ToolCatalog, ToolFilters, ToolListing, ToolNote } from '../../../../core/ai/tool-catalog.ts';
import { BadGatewayError, NotFoundError } from '../../../../core/errors.ts';

/** Tools made by openapi-tools.ts from a document, as GET /tools lists them. */
function toolsOf(service: string, paths: Record<string, unknown>, extra: Record<string, unknown> = {}): ServiceOperationTool[] {
  const outcome = serviceOperationTools(service, { openapi: '3.1.0', info: { title: service, version: '1' }, paths, ...extra });
  if (!outcome.ok) throw new Error(outcome.reason);
  return outcome.tools;
}

const PETS = toolsOf(
  'pets',
  {
    '/pets': {
      get: { operationId: 'listPets', parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', maximum: 100 } }, { name: 'tag', in: 'query', schema: { type: 'array', items: { type: 'string' } } }] },
      post: {
        operationId: 'createPet',
        parameters: [{ name: 'dry_run', in: 'query', schema: { type: 'boolean' } }, { name: 'Idempotency-Key', in: 'header', schema: { type: 'string' } }],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, kind: { enum: ['cat', 'dog'] }, toys: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } }, additionalProperties: false } } }, additionalProperties: false } } } },
      },
    },
    '/pets/{petId}/photos/{photoId}': {
      parameters: [{ name: 'petId', in: 'path', required: true, schema: { type: 'string' } }, { name: 'photoId', in: 'path', required: true, schema: { type: 'integer' } }],
      get: { operationId: 'getPhoto', parameters: [{ name: 'X-Locale', in: 'header', schema: { type: 'string' } }, { name: 'X-Sizes', in: 'header', schema: { type: 'array', items: { type: 'integer' } } }] },
      delete: { operationId: 'deletePhoto' },
      patch: { operationId: 'tagPhoto', requestBody: { content: { 'application/merge-patch+json': { schema: { type: 'object' } } } } },
      head: { operationId: 'photoExists' },
    },
    '/pets/{petId}/notes': { parameters: [{ name: 'petId', in: 'path', required: true, schema: { type: 'string' } }], put: { operationId: 'writeNotes', requestBody: { content: { 'text/plain': { schema: { type: 'string' } } } } } },
    '/batches': { post: { operationId: 'createBatch', requestBody: { content: { 'application/json': { schema: { type: 'array', items: { type: 'object' } } } } } } },
  },
);
const tool = (name: string): ServiceOperationTool => PETS.find((candidate) => candidate.name === `pets.${name}`)!;

function planned(name: string, args: Record<string, unknown>): ServiceOperationRequest {
  const plan = planToolCall(tool(name), args);
  if (!plan.ok) throw new Error(JSON.stringify(plan.issues));
  return plan.request;
}
function issuesOf(name: string, args: Record<string, unknown>) {
  const plan = planToolCall(tool(name), args);
  if (plan.ok) throw new Error(`expected issues, got ${JSON.stringify(plan.request)}`);
  return plan.issues;
}

describe('planToolCall: the request', () => {
  it('fills the path with each value percent-encoded as one segment, and keeps the query and headers apart', () => {
    expect(planned('getPhoto', { path: { petId: 'rex/../../admin?x=1', photoId: 7 }, header: { 'X-Locale': 'fr', 'X-Sizes': [1, 2] } })).toEqual({
      service: 'pets',
      method: 'GET',
      path: '/pets/rex%2F..%2F..%2Fadmin%3Fx%3D1/photos/7',
      query: {},
      headers: { 'x-locale': 'fr', 'x-sizes': '1,2' },
    });
    expect(planned('listPets', { query: { limit: 5, tag: ['a', 'b'] } })).toMatchObject({ method: 'GET', path: '/pets', query: { limit: 5, tag: ['a', 'b'] } });
  });

  it('sends a POST its query and its body separately, and its Idempotency-Key header as the key', () => {
    expect(planned('createPet', { query: { dry_run: true }, header: { 'Idempotency-Key': 'k-1' }, body: { name: 'Rex', kind: 'dog' } })).toEqual({
      service: 'pets',
      method: 'POST',
      path: '/pets',
      query: { dry_run: true },
      headers: {},
      idempotencyKey: 'k-1',
      body: { name: 'Rex', kind: 'dog' },
    });
  });

  it("says a +json body's media type; plain JSON is the runner's default", () => {
    expect(planned('tagPhoto', { path: { petId: 'p', photoId: 1 }, body: { tags: ['x'] } }).headers).toEqual({ 'content-type': 'application/merge-patch+json' });
    expect(planned('createPet', { body: { name: 'Rex' } }).headers).toEqual({});
  });
});

describe('planToolCall: the problems, each with its field and rule', () => {
  it("names every field that breaks the input schema, and the rule it breaks", () => {
    expect(issuesOf('createPet', { query: { dry_run: 'yes', page: 2 }, body: { kind: 'bird', toys: [{ name: 'ball' }, { name: 3, colour: 'red' }] } })).toEqual([
      { field: 'arguments.query.page', message: 'arguments.query.page is not a query parameter of this operation' },
      { field: 'arguments.query.dry_run', message: 'arguments.query.dry_run must be boolean (type)' },
      { field: 'arguments.body.name', message: 'arguments.body.name is required' },
      { field: 'arguments.body.kind', message: 'arguments.body.kind must be one of "cat", "dog" (enum)' },
      { field: 'arguments.body.toys[1].colour', message: 'arguments.body.toys[1].colour is not allowed here (additionalProperties: false)' },
      { field: 'arguments.body.toys[1].name', message: 'arguments.body.toys[1].name must be string (type)' },
    ]);
    expect(issuesOf('listPets', { query: { limit: 500 } })).toEqual([{ field: 'arguments.query.limit', message: 'arguments.query.limit must be <= 100 (maximum)' }]);
    expect(issuesOf('listPets', { filter: {} })).toEqual([{ field: 'arguments.filter', message: "arguments.filter is not part of this tool's input (it takes query)" }]);
  });

  it('refuses a missing path parameter, and values that would leave their segment', () => {
    expect(issuesOf('getPhoto', { path: { photoId: 1 } })).toEqual([{ field: 'arguments.path.petId', message: 'arguments.path.petId is required' }]);
    for (const petId of ['..', '.', '']) {
      expect(issuesOf('getPhoto', { path: { petId, photoId: 1 } })).toEqual([{ field: 'arguments.path.petId', message: `arguments.path.petId must not be ${JSON.stringify(petId)}: it would leave its place in the path /pets/{petId}/photos/{photoId}` }]);
    }
  });

  it('refuses credentials, hop-by-hop and orchestrator headers, whatever the schema says, and control characters in a value', () => {
    const permissive = { ...tool('getPhoto'), input_schema: { type: 'object' } };
    const plan = planToolCall(permissive, { path: { petId: 'p', photoId: 1 }, header: { Authorization: 'Bearer x', 'X-Session-Token': 't', Host: 'evil.test', Connection: 'close', 'X-Orchestrator-Tenant': 'other', Cookie: 'a=b', 'X-Note': 'a\r\nInjected: 1' }, query: { access_token: 't' } });
    expect(plan.ok).toBe(false);
    const fields = plan.ok ? [] : plan.issues.map((issue) => issue.field);
    expect(fields).toEqual([
      'arguments.header.Authorization',
      'arguments.header.X-Session-Token',
      'arguments.header.Host',
      'arguments.header.Connection',
      'arguments.header.X-Orchestrator-Tenant',
      'arguments.header.Cookie',
      'arguments.query.access_token',
      'arguments.header.X-Note',
    ]);
    expect(plan.ok ? '' : plan.issues[0]!.message).toContain("the orchestrator sends the service's own");
    expect(plan.ok ? '' : plan.issues.at(-1)!.message).toContain('control characters');
  });

  it("refuses what the action runner cannot send: a HEAD operation, a text body, an array body, a body with DELETE", () => {
    expect(issuesOf('photoExists', { path: { petId: 'p', photoId: 1 } })).toEqual([{ field: 'tool_name', message: "pets.photoExists is a HEAD operation; calls send GET, POST, PUT, PATCH, DELETE only (the action runner's methods)" }]);
    expect(issuesOf('writeNotes', { path: { petId: 'p' }, body: 'hello' })).toEqual([{ field: 'arguments.body', message: 'arguments.body cannot be sent: pets.writeNotes takes text/plain, and calls send JSON bodies only' }]);
    expect(issuesOf('createBatch', { body: [{}] })).toEqual([{ field: 'arguments.body', message: "arguments.body must be a JSON object: calls send object bodies only (the action runner's contract), not an array" }]);
    const withBody = { ...tool('deletePhoto'), input_schema: { type: 'object' } };
    const plan = planToolCall(withBody, { path: { petId: 'p', photoId: 1 }, body: {} });
    expect(plan.ok ? [] : plan.issues).toEqual([{ field: 'arguments.body', message: 'arguments.body cannot be sent: a DELETE call carries no body here (the action runner sends its parameters as the query)' }]);
  });

  it("answers a schema ajv cannot compile as the service document's fault (502), not the caller's", () => {
    const broken = { ...tool('listPets'), input_schema: { type: 'object', properties: { query: { $ref: '#/$defs/missing' } } } };
    expect(() => planToolCall(broken, {})).toThrow(BadGatewayError);
  });
});

describe('findServiceOperationTool', () => {
  /** A catalog that lists the given tools (filtered by service as the real one filters) and notes, recording each filter. */
  function catalogOf(tools: readonly ServiceOperationTool[], notes: readonly ToolNote[] = []) {
    const asked: ToolFilters[] = [];
    const catalog: ToolCatalog = {
      async list(filters) {
        asked.push(filters);
        const listed = tools.filter((candidate) => filters.service === undefined || candidate.service === filters.service);
        const noted = notes.filter((note) => filters.service === undefined || note.service === filters.service);
        return { generated_at: '', tools: listed, notes: noted, counts: { tools: listed.length, workflows: 0, service_operations: listed.length, services_read: 1, services_unreadable: noted.length } } satisfies ToolListing;
      },
    };
    return { catalog, asked };
  }

  it("reads only the service the name starts with (up to its last '.')", async () => {
    const dotted = toolsOf('acme.pets', { '/x': { get: { operationId: 'readX' } } });
    const { catalog, asked } = catalogOf([...PETS, ...dotted]);
    expect((await findServiceOperationTool(catalog, 'acme.pets.readX', {})).path).toBe('/x');
    expect(asked).toEqual([{ kind: 'service_operation', service: 'acme.pets' }]);
  });

  it('finds a name cut to the length limit among every service, its service part being unknown', async () => {
    // Cut before the service's end: no `.` left.
    const [undotted] = toolsOf(`s${'x'.repeat(140)}`, { '/x': { get: { operationId: 'readX' } } });
    // Cut after a `.` of the service's own name: the part before it is no service.
    const [dotted] = toolsOf(`acme.${'y'.repeat(122)}`, { '/x': { get: { operationId: 'readX' } } });
    expect([undotted!.name.length, dotted!.name.length]).toEqual([128, 128]);
    const { catalog, asked } = catalogOf([undotted!, dotted!]);
    expect(await findServiceOperationTool(catalog, undotted!.name, {})).toBe(undotted);
    expect(asked).toEqual([{ kind: 'service_operation' }]);
    asked.length = 0;
    expect(await findServiceOperationTool(catalog, dotted!.name, {})).toBe(dotted);
    expect(asked).toEqual([{ kind: 'service_operation', service: 'acme' }, { kind: 'service_operation' }]);
  });

  it("is NotFoundError pointing at GET /tools for an unknown name, with the listing's reason when its service's document could not be read", async () => {
    const { catalog } = catalogOf(PETS, [{ service: 'vault', source_url: 'http://vault/openapi.json', reason: 'connect ECONNREFUSED' }]);
    await expect(findServiceOperationTool(catalog, 'pets.nothing', {})).rejects.toThrow(NotFoundError);
    await expect(findServiceOperationTool(catalog, 'pets.nothing', {})).rejects.toThrow(/GET \/tools/);
    await expect(findServiceOperationTool(catalog, 'workflow.billing', {})).rejects.toThrow(/POST \/workflows\/\{workflow_id\}\/execute/);
    const down = findServiceOperationTool(catalog, 'vault.readSecret', {});
    await expect(down).rejects.toThrow(NotFoundError);
    await expect(down).rejects.toThrow(/the API document of service vault could not be read \(connect ECONNREFUSED\)/);
  });
});
