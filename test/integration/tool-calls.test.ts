import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../client/index.ts';
import { createClientAccess } from '../../functions/mcp/client-access.ts';
import { createOrchestratorMcpServer } from '../../functions/mcp/server.ts';
import { apiKeyHeader, startSecureApi, type SecureApi } from '../support/security.ts';

/**
 * `POST /tools/{tool_name}/call` over real HTTP, authentication required: services on loopback stubs serving
 * their OpenAPI documents (one registered with a credential, one that goes down after its document was read,
 * one whose document cannot be read), called through the local runtime's action runner; and an MCP client
 * calling the same tools through createClientAccess against the running API.
 */

interface Answer {
  tool: string;
  service: string;
  method: string;
  path: string;
  status: number;
  body: unknown;
  attempts: number;
}
interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

const marker = randomUUID().slice(0, 8);
const SERVICE_SECRET = `svc-token-${randomUUID()}`;

const PETS_DOCUMENT = {
  openapi: '3.0.3',
  info: { title: 'Pets', version: '1' },
  paths: {
    '/pets': { get: { operationId: 'listPets', parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', maximum: 100 } }, { name: 'tag', in: 'query', schema: { type: 'array', items: { type: 'string' } } }] } },
    '/pets/{petId}': { parameters: [{ name: 'petId', in: 'path', required: true, schema: { type: 'string' } }], get: { operationId: 'getPet' }, put: { operationId: 'replacePet', requestBody: { content: { 'application/json': { schema: { type: 'object' } } } } } },
    '/pets/{petId}/visits': {
      post: {
        operationId: 'bookVisit',
        summary: 'Book a visit',
        parameters: [
          { name: 'petId', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'notify', in: 'query', schema: { type: 'boolean' } },
          { name: 'X-Locale', in: 'header', schema: { type: 'string', enum: ['en', 'fr'] } },
          { name: 'Idempotency-Key', in: 'header', schema: { type: 'string' } },
        ],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string', maxLength: 20 }, minutes: { type: 'integer', minimum: 5 } } } } } },
      },
    },
  },
};
const VAULT_DOCUMENT = {
  openapi: '3.1.0',
  info: { title: 'Vault', version: '1' },
  paths: { '/whoami': { get: { operationId: 'whoAmI', summary: 'Echoes what the vault was sent' } } },
};

/** Every request a stub was sent (documents included), by service. */
const received: Record<'pets' | 'vault' | 'fragile', Received[]> = { pets: [], vault: [], fragile: [] };
/** Calls per path, for the answers that fail the first time. */
const calls = new Map<string, number>();
const servers: Server[] = [];
let api: SecureApi;
let admin: Record<string, string>;
let operator: Record<string, string>;
let viewer: Record<string, string>;
let operatorKey: string;
let fragile: Server;

function stub(service: keyof typeof received, answer: (request: Received) => { status: number; body: unknown }): Server {
  return createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const record: Received = { method: request.method ?? '', url: request.url ?? '/', headers: request.headers, body: text === '' ? undefined : JSON.parse(text) };
      received[service].push(record);
      const { status, body } = answer(record);
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
}

/** The first call to a path fails with a 503, the next ones answer. */
function flakyOnce(request: Received, then: () => { status: number; body: unknown }) {
  const count = (calls.get(request.url) ?? 0) + 1;
  calls.set(request.url, count);
  return count === 1 ? { status: 503, body: { message: 'warming up' } } : then();
}

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const callTool = (name: string, args: Record<string, unknown>, headers = operator) => api.call<Answer>('POST', `/tools/${name}/call`, { headers, body: { arguments: args } });
const last = (service: keyof typeof received) => received[service].at(-1)!;

async function register(body: Record<string, unknown>): Promise<void> {
  const reply = await api.call('POST', '/registry/register', { headers: admin, body });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
}

async function createKey(name: string, role: string): Promise<string> {
  const reply = await api.call<{ api_key: string }>('POST', '/auth/api-keys', { headers: admin, body: { name: `${name}-${marker}`, role, tenant: 'acme' } });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.data.api_key;
}

beforeAll(async () => {
  const petsUrl = await listen(
    stub('pets', (request) => {
      const path = new URL(request.url, 'http://stub').pathname;
      if (path === '/openapi.json') return { status: 200, body: PETS_DOCUMENT };
      if (path === '/pets/missing') return { status: 404, body: { message: 'no pet missing' } };
      if (path.startsWith('/pets/flaky')) return flakyOnce(request, () => ({ status: 200, body: { done: true } }));
      return { status: 200, body: { handled: `${request.method} ${request.url}` } };
    }),
  );
  // Echoes the credential it was sent: the runner must scrub it from the answer.
  const vaultUrl = await listen(stub('vault', (request) => (request.url === '/openapi.json' ? { status: 200, body: VAULT_DOCUMENT } : { status: 200, body: { authorization: request.headers.authorization ?? null } })));
  fragile = stub('fragile', (request) => (request.url === '/openapi.json' ? { status: 200, body: PETS_DOCUMENT } : { status: 200, body: {} }));
  const fragileUrl = await listen(fragile);
  const gone = createServer();
  const downUrl = await listen(gone);
  await new Promise<void>((resolve) => gone.close(() => resolve()));

  api = await startSecureApi({ mode: 'required', overrides: { secretEnvironment: { TOOL_CALLS_VAULT_TOKEN: SERVICE_SECRET } } });
  admin = apiKeyHeader(api.adminApiKey);
  operatorKey = await createKey('operator', 'operator');
  operator = apiKeyHeader(operatorKey);
  viewer = apiKeyHeader(await createKey('viewer', 'viewer'));
  await register({ name: 'pets', url: petsUrl, openapi_path: '/openapi.json' });
  await register({ name: 'vault', url: vaultUrl, openapi_path: '/openapi.json', auth: { type: 'bearer', secret_ref: 'env:TOOL_CALLS_VAULT_TOKEN' } });
  await register({ name: 'fragile', url: fragileUrl, openapi_path: '/openapi.json' });
  await register({ name: 'down', url: downUrl, openapi_path: '/openapi.json' });
});

afterAll(async () => {
  await api?.runtime.close();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))));
});

describe('POST /tools/{tool_name}/call', () => {
  it('sends the path, query, headers and body where the operation takes them, and answers the service’s status and body', async () => {
    const reply = await callTool('pets.bookVisit', { path: { petId: 'rex/1' }, query: { notify: true }, header: { 'X-Locale': 'fr' }, body: { reason: 'checkup', minutes: 30 } });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.message).toBe('pets.bookVisit: HTTP 200');
    expect(reply.body.data).toEqual({ tool: 'pets.bookVisit', service: 'pets', method: 'POST', path: '/pets/rex%2F1/visits', status: 200, body: { handled: 'POST /pets/rex%2F1/visits?notify=true' }, attempts: 1 });
    const sent = last('pets');
    expect(sent).toMatchObject({ method: 'POST', url: '/pets/rex%2F1/visits?notify=true', body: { reason: 'checkup', minutes: 30 } });
    expect(sent.headers).toMatchObject({ 'x-locale': 'fr', 'content-type': 'application/json', 'x-orchestrator-tenant': 'acme' });
    // The caller's credential is for this API only.
    expect(JSON.stringify(sent.headers)).not.toContain(operatorKey);

    const listed = await callTool('pets.listPets', { query: { limit: 5, tag: ['a', 'b c'] } });
    expect(listed.body.data).toMatchObject({ method: 'GET', path: '/pets', status: 200 });
    expect(last('pets')).toMatchObject({ method: 'GET', url: '/pets?limit=5&tag=a&tag=b+c', body: undefined });
  });

  it("sends the service's credential to the service, and it appears nowhere in the answer", async () => {
    const reply = await callTool('vault.whoAmI', {});
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(last('vault').headers.authorization).toBe(`Bearer ${SERVICE_SECRET}`);
    expect(JSON.stringify(reply.body)).not.toContain(SERVICE_SECRET);
    expect(JSON.stringify([...reply.headers.entries()])).not.toContain(SERVICE_SECRET);
    // The service echoed it: the runner replaced it before the answer was made.
    expect(reply.body.data.body).toEqual({ authorization: expect.not.stringContaining(SERVICE_SECRET) });
  });

  it('refuses arguments that break the schema (400), naming each field and rule, without calling the service', async () => {
    const before = received.pets.length;
    const reply = await callTool('pets.bookVisit', { path: {}, query: { notify: 'yes' }, header: { 'X-Locale': 'de', Authorization: 'Bearer mine' }, body: { reason: 'x'.repeat(30), minutes: 1 }, extra: 1 });
    expect(reply.status).toBe(400);
    expect(reply.body.error_code).toBe('VALIDATION_ERROR');
    expect(reply.body.details!.map((detail) => detail.field).sort()).toEqual(
      ['arguments.body.minutes', 'arguments.body.reason', 'arguments.extra', 'arguments.header.Authorization', 'arguments.header.X-Locale', 'arguments.path.petId', 'arguments.query.notify'],
    );
    const message = (field: string) => reply.body.details!.find((detail) => detail.field === field)?.message;
    expect(message('arguments.body.reason')).toBe('arguments.body.reason must NOT have more than 20 characters (maxLength)');
    expect(message('arguments.body.minutes')).toBe('arguments.body.minutes must be >= 5 (minimum)');
    expect(message('arguments.header.X-Locale')).toBe('arguments.header.X-Locale must be one of "en", "fr" (enum)');
    expect(message('arguments.header.Authorization')).toContain('is a credential');
    expect(received.pets.length).toBe(before);

    const notAnObject = await api.call('POST', '/tools/pets.listPets/call', { headers: operator, body: { arguments: [1] } });
    expect(notAnObject.status).toBe(400);
    expect(notAnObject.body.details).toEqual([{ field: 'arguments', message: 'arguments must be an object' }]);
  });

  it('answers 404 for a tool GET /tools does not list, 403 for a viewer and 401 without a credential', async () => {
    const unknown = await callTool('pets.feedPets', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('No service operation tool named pets.feedPets');
    expect(unknown.body.message).toContain('GET /tools');
    expect((await callTool('nobody.listPets', {})).status).toBe(404);
    expect((await callTool('pets.listPets', {}, viewer)).status).toBe(403);
    expect((await api.call('POST', '/tools/pets.listPets/call', { body: { arguments: {} } })).status).toBe(401);
    const badName = await api.call('POST', `/tools/${encodeURIComponent('pets/../x')}/call`, { headers: operator, body: {} });
    expect(badName.status).toBe(400);
  });

  it("passes the service's 4xx on with its status and message, as the proxies do", async () => {
    const reply = await callTool('pets.getPet', { path: { petId: 'missing' } });
    expect(reply.status).toBe(404);
    expect(reply.body.error_code).toBe('UPSTREAM_REJECTED');
    expect(reply.body.message).toContain('no pet missing');
  });

  it('retries an idempotent call (PUT, or a POST with an Idempotency-Key) after a transient failure, and a POST without a key never', async () => {
    const put = await callTool('pets.replacePet', { path: { petId: 'flaky-put' }, body: { name: 'Rex' } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.data).toMatchObject({ status: 200, attempts: 2 });

    const keyed = await callTool('pets.bookVisit', { path: { petId: 'flaky-keyed' }, header: { 'Idempotency-Key': `visit-${marker}` }, body: { reason: 'again' } });
    expect(keyed.body.data).toMatchObject({ status: 200, attempts: 2 });
    const keyedSent = received.pets.filter((request) => request.url.startsWith('/pets/flaky-keyed'));
    expect(keyedSent.map((request) => request.headers['idempotency-key'])).toEqual([`visit-${marker}`, `visit-${marker}`]);

    const unkeyed = await callTool('pets.bookVisit', { path: { petId: 'flaky-unkeyed' }, body: { reason: 'once' } });
    expect(unkeyed.status).toBe(502);
    expect(received.pets.filter((request) => request.url.startsWith('/pets/flaky-unkeyed'))).toHaveLength(1);
  });

  it('answers 502 when the service is down after its document was read, then 503 once its circuit opened; never 500', async () => {
    expect((await callTool('fragile.getPet', { path: { petId: 'p' } })).status).toBe(200);
    fragile.closeAllConnections();
    await new Promise<void>((resolve) => fragile.close(() => resolve()));
    const refused = await callTool('fragile.getPet', { path: { petId: 'p' } });
    expect(refused.status).toBe(502);
    expect(refused.body.error_code).toBe('BAD_GATEWAY');
    expect(refused.body.message).toContain('fragile');
    // A GET is tried three times a call: the circuit (five failures) opens during the second call at the latest.
    const statuses = [refused.status];
    for (let call = 0; call < 3 && statuses.at(-1) !== 503; call++) statuses.push((await callTool('fragile.getPet', { path: { petId: 'p' } })).status);
    expect(statuses.at(-1)).toBe(503);
    expect(statuses.every((status) => status === 502 || status === 503)).toBe(true);
  });

  it("answers 404 with the listing's reason for a service whose document cannot be read", async () => {
    const down = await callTool('down.getPet', { path: { petId: 'p' } });
    expect(down.status).toBe(404);
    expect(down.body.message).toMatch(/the API document of service down could not be read \(.*(ECONNREFUSED|refused)/i);
  });
});

describe('an MCP client calling service tools through createClientAccess', () => {
  async function connect(): Promise<Client> {
    const access = createClientAccess(createClient({ baseUrl: api.runtime.url, apiKey: operatorKey }));
    const server = createOrchestratorMcpServer(access, { serviceTools: true });
    const client = new Client({ name: 'tool-calls-test', version: '1.0.0' });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    return client;
  }

  it("lists them as callable and answers the service's status and body; a refusal is an error result naming the status", async () => {
    const client = await connect();
    try {
      const { tools } = await client.listTools();
      const getPet = tools.find((tool) => tool.name === 'pets.getPet');
      expect(getPet?.description).not.toContain('cannot call');
      expect(getPet?.annotations).toMatchObject({ readOnlyHint: true, idempotentHint: true });
      expect(tools.find((tool) => tool.name === 'pets.bookVisit')?.annotations).toMatchObject({ readOnlyHint: false, idempotentHint: false });

      const found = (await client.callTool({ name: 'pets.getPet', arguments: { path: { petId: 'rex' } } })) as CallToolResult;
      expect(found.isError).toBeFalsy();
      expect(found.structuredContent).toMatchObject({ tool: 'pets.getPet', status: 200, body: { handled: 'GET /pets/rex' }, attempts: 1 });

      const missing = (await client.callTool({ name: 'pets.getPet', arguments: { path: { petId: 'missing' } } })) as CallToolResult;
      expect(missing.isError).toBe(true);
      expect(JSON.stringify(missing.content)).toMatch(/no pet missing.*HTTP 404/);

      const invalid = (await client.callTool({ name: 'pets.listPets', arguments: { query: { limit: 1000 } } })) as CallToolResult;
      expect(invalid.isError).toBe(true);
      expect(JSON.stringify(invalid.content)).toContain('arguments.query.limit must be <= 100 (maximum)');
    } finally {
      await client.close();
    }
  });
});
