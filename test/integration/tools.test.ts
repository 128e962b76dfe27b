import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyHeader, startSecureApi, type SecureApi } from '../support/security.ts';

/**
 * `GET /tools` over real HTTP, authentication required: API keys of two tenants, services on a loopback stub
 * serving their API documents (one down, one registered with credentials), workflows of both tenants.
 */

interface Tool {
  name: string;
  kind: 'workflow' | 'service_operation';
  title: string;
  description: string;
  input_schema: Record<string, unknown>;
  tags: string[];
  service?: string;
  method?: string;
  path?: string;
  operation_id?: string | null;
  workflow_id?: string;
}
interface Listing {
  tools: Tool[];
  notes: { service?: string; source_url?: string; reason: string }[];
  counts: Record<string, number>;
}

const marker = randomUUID().slice(0, 8);
const SERVICE_SECRET = `svc-token-${randomUUID()}`;
const METADATA_SECRET = `meta-${randomUUID()}`;

/** What the stub serves at each path, and every request it was sent. */
const documents = new Map<string, unknown>();
const requests: { path: string; headers: IncomingHttpHeaders }[] = [];
let stub: Server;
let stubUrl: string;
let downUrl: string;
let api: SecureApi;
const keys: Record<'acme' | 'globex' | 'acmeViewer', Record<string, string>> = { acme: {}, globex: {}, acmeViewer: {} };
let admin: Record<string, string>;

const petstore = (extra: Record<string, unknown> = {}) => ({
  openapi: '3.0.3',
  info: { title: 'Pets', version: '1' },
  paths: {
    '/pets': {
      get: { operationId: 'listPets', summary: 'List pets', tags: ['pets'], parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', maximum: 100 } }] },
      post: { operationId: 'createPet', summary: 'Add a pet', tags: ['pets', 'write'], requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } } },
    },
    '/pets/{petId}': { parameters: [{ name: 'petId', in: 'path', required: true, schema: { type: 'string' } }], delete: { summary: 'Remove a pet', tags: ['write'] } },
    ...extra,
  },
  components: { schemas: { Pet: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, parent: { $ref: '#/components/schemas/Pet' } } } } },
});

const legacy = {
  swagger: '2.0',
  info: { title: 'Legacy', version: '1' },
  paths: { '/orders': { post: { operationId: 'placeOrder', tags: ['orders'], parameters: [{ name: 'order', in: 'body', required: true, schema: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' } } } }] } } },
};

const secured = {
  openapi: '3.1.0',
  info: { title: 'Vault', version: '1' },
  components: { securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'X-Vault-Key' } } },
  paths: {
    '/secrets/{id}': {
      get: {
        operationId: 'readSecret',
        description: 'Reads one. Try: curl -H "Authorization: Bearer abcdef0123456789abcdef" -H "X-Vault-Key: sk-live0123456789abcdefgh"',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'X-Vault-Key', in: 'header', required: true, schema: { type: 'string', example: 'sk-live0123456789abcdefgh' } }],
      },
    },
  },
};

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const tools = (headers: Record<string, string>, query = '') => api.call<Listing>('GET', `/tools${query}`, { headers });
const names = (listing: Listing, kind?: Tool['kind']) => listing.tools.filter((tool) => kind === undefined || tool.kind === kind).map((tool) => tool.name);
const documentReads = (path: string) => requests.filter((request) => request.path === path).length;

async function createKey(name: string, role: string, tenant: string): Promise<Record<string, string>> {
  const reply = await api.call<{ api_key: string }>('POST', '/auth/api-keys', { headers: admin, body: { name: `${name}-${marker}`, role, tenant } });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return apiKeyHeader(reply.body.data.api_key);
}

async function workflow(headers: Record<string, string>, definition: Record<string, unknown>): Promise<string> {
  const reply = await api.call('POST', '/workflows', { headers, body: { actions: [{ action_id: 'tell', action_type: 'notification', config: { message: 'hi' } }], ...definition } });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.data.workflow_id as string;
}

async function register(body: Record<string, unknown>): Promise<void> {
  const reply = await api.call('POST', '/registry/register', { headers: admin, body });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
}

beforeAll(async () => {
  stub = createServer((request, response) => {
    requests.push({ path: request.url ?? '/', headers: request.headers });
    const document = documents.get(request.url ?? '/');
    response.writeHead(document === undefined ? 404 : 200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(document ?? { error: 'not found' }));
  });
  stubUrl = await listen(stub);
  // A port that nothing listens on any more: the service registered there is down.
  const gone = createServer();
  downUrl = await listen(gone);
  await new Promise<void>((resolve) => gone.close(() => resolve()));
  documents.set('/pets/openapi.json', petstore());
  documents.set('/legacy/swagger.json', legacy);
  documents.set('/vault/openapi.json', secured);

  api = await startSecureApi({ mode: 'required', overrides: { secretEnvironment: { TOOLS_VAULT_TOKEN: SERVICE_SECRET } } });
  admin = apiKeyHeader(api.adminApiKey);
  keys.acme = await createKey('acme', 'operator', 'acme');
  keys.globex = await createKey('globex', 'operator', 'globex');
  keys.acmeViewer = await createKey('acme-viewer', 'viewer', 'acme');

  await register({ name: 'pets', url: `${stubUrl}/pets`, openapi_path: '/openapi.json', tags: ['animals'] });
  await register({ name: 'legacy', url: `${stubUrl}/legacy`, openapi_path: '/swagger.json' });
  await register({ name: 'vault', url: `${stubUrl}/vault`, openapi_path: '/openapi.json', auth: { type: 'bearer', secret_ref: 'env:TOOLS_VAULT_TOKEN' }, metadata: { api_token: METADATA_SECRET } });
  await register({ name: 'down', url: `${downUrl}/api`, openapi_path: '/openapi.json' });
  await register({ name: 'plain', url: `${stubUrl}/plain` });

  await workflow(keys.acme, { name: 'Acme billing', tags: ['money'], parameters: [{ name: 'customer', type: 'string', required: true }, { name: 'amount', type: 'number', required: false, default: 1 }] });
  await workflow(keys.acme, { name: 'Acme draft', status: 'draft' });
  await workflow(keys.globex, { name: 'Globex report', tags: ['money'] });
});

afterAll(async () => {
  await api?.runtime.close();
  await new Promise<void>((resolve) => (stub ? stub.close(() => resolve()) : resolve()));
});

describe('GET /tools', () => {
  it("lists the tenant's active workflows and every service operation, and notes the service that is down", async () => {
    const reply = await tools(keys.acmeViewer);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const listing = reply.body.data;
    expect(names(listing, 'workflow')).toEqual(['workflow.acme_billing']);
    expect(names(listing, 'service_operation')).toEqual(['legacy.placeOrder', 'pets.listPets', 'pets.createPet', 'pets.delete_pets_petId', 'vault.readSecret']);
    expect(listing.notes).toEqual([{ service: 'down', source_url: `${downUrl}/api/openapi.json`, reason: expect.stringMatching(/ECONNREFUSED|refused/i) }]);
    expect(listing.counts).toEqual({ tools: 6, workflows: 1, service_operations: 5, services_read: 3, services_unreadable: 1 });
    expect(reply.body.message).toBe('6 tools: 1 workflow, 5 service operations; 1 service not read (see notes)');

    const billing = listing.tools[0]!;
    expect(billing).toMatchObject({ kind: 'workflow', title: 'Acme billing', tags: ['money'], input_schema: { type: 'object', required: ['customer'] } });
    const create = listing.tools.find((tool) => tool.name === 'pets.createPet')!;
    expect(create).toMatchObject({ service: 'pets', method: 'POST', path: '/pets', operation_id: 'createPet', tags: ['pets', 'write'], description: 'Add a pet' });
    // Every schema compiles in a 2020-12 validator and takes a well-formed call.
    const ajv = new Ajv2020({ strict: true, strictTypes: false });
    for (const tool of listing.tools) ajv.compile(tool.input_schema);
    expect(ajv.compile(create.input_schema)({ body: { name: 'Rex', parent: { name: 'Old Rex' } } })).toBe(true);
    expect(ajv.compile(create.input_schema)({ body: { parent: {} } })).toBe(false);
    expect(ajv.compile(billing.input_schema)({ customer: 'c-1', amount: 3 })).toBe(true);
  });

  it("shows each tenant its own workflows only; admins every tenant's, or one with ?tenant=", async () => {
    expect(names((await tools(keys.globex, '?kind=workflow')).body.data)).toEqual(['workflow.globex_report']);
    expect(names((await tools(keys.acme, '?kind=workflow')).body.data)).toEqual(['workflow.acme_billing']);
    // A tenant cannot ask for another's.
    expect(names((await tools(keys.acme, '?kind=workflow&tenant=globex')).body.data)).toEqual(['workflow.acme_billing']);
    expect(names((await tools(admin, '?kind=workflow')).body.data).sort()).toEqual(['workflow.acme_billing', 'workflow.globex_report']);
    expect(names((await tools(admin, '?kind=workflow&tenant=globex')).body.data)).toEqual(['workflow.globex_report']);
  });

  it('filters by kind, service and tag, and refuses a bad filter naming it', async () => {
    expect(names((await tools(keys.acme, '?kind=service_operation')).body.data)).toHaveLength(5);
    expect(names((await tools(keys.acme, '?service=pets')).body.data)).toEqual(['pets.listPets', 'pets.createPet', 'pets.delete_pets_petId']);
    expect(names((await tools(keys.acme, '?tag=write')).body.data)).toEqual(['pets.createPet', 'pets.delete_pets_petId']);
    expect(names((await tools(keys.acme, '?tag=money')).body.data)).toEqual(['workflow.acme_billing']);
    expect((await tools(keys.acme, '?service=nobody')).body.data).toMatchObject({ tools: [], notes: [] });
    const bad = await tools(keys.acme, '?kind=robot');
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([{ field: 'kind', message: 'kind must be one of workflow, service_operation' }]);
    expect((await api.call('GET', '/tools')).status).toBe(401);
  });

  it("never shows a registration's credentials, nor credentials a document shows, and sends none to read documents", async () => {
    const reply = await tools(keys.acme, '?service=vault');
    const text = JSON.stringify(reply.body);
    for (const secret of [SERVICE_SECRET, 'TOOLS_VAULT_TOKEN', 'secret_ref', METADATA_SECRET, 'sk-live0123456789abcdefgh', 'abcdef0123456789abcdef']) expect(text).not.toContain(secret);
    const [readSecret] = reply.body.data.tools;
    expect(readSecret!.description).toContain('Bearer ***');
    // The key the document's security scheme declares is the orchestrator's to send: it is no argument.
    expect(readSecret!.input_schema['properties']).toEqual({ path: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], additionalProperties: false } });
    const vaultReads = requests.filter((request) => request.path === '/vault/openapi.json');
    expect(vaultReads.length).toBeGreaterThan(0);
    for (const request of vaultReads) expect(request.headers.authorization).toBeUndefined();
  });

  it('reads a document again when a poll records a new one, and not before', async () => {
    await api.call('POST', '/registry/poll-openapi?name=pets', { headers: admin });
    await tools(keys.acme, '?service=pets');
    const before = documentReads('/pets/openapi.json');
    await tools(keys.acme, '?service=pets');
    await tools(keys.acmeViewer);
    expect(documentReads('/pets/openapi.json')).toBe(before);

    documents.set('/pets/openapi.json', petstore({ '/pets/search': { get: { operationId: 'searchPets', tags: ['pets'] } } }));
    const poll = await api.call<{ services: { status: string }[] }>('POST', '/registry/poll-openapi?name=pets', { headers: admin });
    expect(poll.body.data.services[0]?.status).toBe('drift');
    const afterPoll = documentReads('/pets/openapi.json');
    expect(names((await tools(keys.acme, '?service=pets')).body.data)).toContain('pets.searchPets');
    expect(documentReads('/pets/openapi.json')).toBe(afterPoll + 1);
  });
});
