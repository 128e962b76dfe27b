import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { serviceOperationTools, type ServiceOperationTool } from '../../../../core/ai/openapi-tools.ts';
import { MAX_INLINE_NODES } from '../../../../core/ai/openapi-schema.ts';

/**
 * Strict (unknown keywords refused), as an agent's validator may be. Not ajv's own style rules: types beside
 * keywords and tuples that may be short are valid JSON Schema. Formats are annotations in 2020-12 (int32...).
 */
const ajv = () => new Ajv2020({ strict: true, strictTypes: false, strictTuples: false, validateFormats: false });

function toolsOf(document: unknown, service = 'pets'): ServiceOperationTool[] {
  const outcome = serviceOperationTools(service, document);
  if (!outcome.ok) throw new Error(`expected tools, got: ${outcome.reason}`);
  return outcome.tools;
}

function tool(tools: readonly ServiceOperationTool[], name: string): ServiceOperationTool {
  const found = tools.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no tool ${name} among ${tools.map((candidate) => candidate.name).join(', ')}`);
  return found;
}

const validator = (candidate: ServiceOperationTool) => ajv().compile(candidate.input_schema);

/** No `$ref` anywhere in `value` but into the schema's own `$defs`. */
function foreignReferences(value: unknown): string[] {
  const found: string[] = [];
  const walk = (item: unknown) => {
    if (Array.isArray(item)) item.forEach(walk);
    else if (typeof item === 'object' && item !== null) {
      for (const [key, child] of Object.entries(item)) {
        if (key === '$ref' && typeof child === 'string' && !child.startsWith('#/$defs/')) found.push(child);
        walk(child);
      }
    }
  };
  walk(value);
  return found;
}

const petstore30 = {
  openapi: '3.0.3',
  info: { title: 'Pets', version: '1' },
  paths: {
    '/pets/{petId}': {
      parameters: [{ $ref: '#/components/parameters/PetId' }],
      put: {
        operationId: 'updatePet',
        summary: 'Replace a pet',
        description: 'Replaces every field of the pet.',
        tags: ['pets', 'write'],
        parameters: [
          { name: 'dry_run', in: 'query', schema: { type: 'boolean', default: false } },
          { name: 'X-Request-Id', in: 'header', required: true, description: 'Correlates logs', schema: { type: 'string', format: 'uuid' } },
          { name: 'session', in: 'cookie', schema: { type: 'string' } },
        ],
        requestBody: { $ref: '#/components/requestBodies/PetBody' },
        responses: { '200': { description: 'ok' } },
      },
    },
  },
  components: {
    parameters: { PetId: { name: 'petId', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } } },
    requestBodies: { PetBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } } },
    schemas: {
      Pet: {
        type: 'object',
        required: ['name', 'id'],
        properties: {
          id: { type: 'string', readOnly: true },
          name: { type: 'string', minLength: 1, example: 'Rex' },
          owner: { $ref: '#/components/schemas/Owner' },
          weight: { type: 'number', minimum: 0, exclusiveMinimum: true },
          nickname: { type: 'string', nullable: true },
        },
        additionalProperties: false,
      },
      Owner: { type: 'object', required: ['email'], properties: { email: { type: 'string', format: 'email' }, address: { $ref: '#/components/schemas/Address' } } },
      Address: { type: 'object', properties: { city: { type: 'string' } }, 'x-internal': true },
    },
  },
};

describe('service operations as tools', () => {
  it('group path, query and header parameters and the JSON body, resolve every reference, and validate what the operation accepts', () => {
    const update = tool(toolsOf(petstore30), 'pets.updatePet');
    expect(update).toMatchObject({ kind: 'service_operation', service: 'pets', method: 'PUT', path: '/pets/{petId}', operation_id: 'updatePet', tags: ['pets', 'write'], title: 'Replace a pet', body_media_type: 'application/json' });
    expect(update.description).toBe('Replace a pet\n\nReplaces every field of the pet.');
    expect(update.input_schema).toMatchObject({ type: 'object', required: ['path', 'header', 'body'], additionalProperties: false });
    expect(Object.keys(update.input_schema['properties'] as object)).toEqual(['path', 'query', 'header', 'body']);
    expect(foreignReferences(update.input_schema)).toEqual([]);
    expect(update.input_schema['$defs']).toBeUndefined();
    expect(JSON.stringify(update.input_schema)).not.toMatch(/example|x-internal|nullable|session/);

    const validate = validator(update);
    const valid = { path: { petId: 3 }, query: { dry_run: true }, header: { 'X-Request-Id': 'a0b1' }, body: { name: 'Rex', owner: { email: 'o@x', address: { city: 'Oslo' } }, weight: 0.5, nickname: null } };
    expect(validate(valid), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...valid, path: { petId: 0 } })).toBe(false); // minimum 1
    expect(validate({ ...valid, path: {} })).toBe(false); // path parameters are required
    expect(validate({ ...valid, header: {} })).toBe(false); // required header
    expect(validate({ ...valid, body: { ...valid.body, weight: 0 } })).toBe(false); // 3.0's exclusiveMinimum: true
    expect(validate({ ...valid, body: { ...valid.body, owner: {} } })).toBe(false); // the referenced Owner requires email
    expect(validate({ ...valid, body: { ...valid.body, id: 'p1' } })).toBe(false); // read-only: not part of a request
    expect(validate({ ...valid, query: { dry_run: 'yes' } })).toBe(false);
    expect(validate({ path: valid.path, header: valid.header })).toBe(false); // the body is required
    expect(validate({ ...valid, cookie: {} })).toBe(false);
  });

  it('keep cyclic references as $defs of the tool, so that trees and mutual references validate to any depth', () => {
    const document = {
      openapi: '3.1.0',
      info: { title: 'Trees', version: '1' },
      paths: {
        '/trees': { post: { operationId: 'plant', requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } } } },
        '/people': { post: { operationId: 'addPerson', requestBody: { content: { 'application/vnd.people+json': { schema: { $ref: '#/components/schemas/Person' } } } } } },
      },
      components: {
        schemas: {
          Node: { type: 'object', required: ['value'], properties: { value: { type: 'integer' }, children: { type: 'array', items: { $ref: '#/components/schemas/Node' } }, label: { $ref: '#/components/schemas/Label' } } },
          Label: { type: 'string', maxLength: 5 },
          Person: { type: 'object', properties: { name: { type: 'string' }, employer: { $ref: '#/components/schemas/Company' } } },
          Company: { type: 'object', required: ['title'], properties: { title: { type: 'string' }, staff: { type: 'array', items: { $ref: '#/components/schemas/Person' } } } },
        },
      },
    };
    const tools = toolsOf(document, 'forest');
    const plant = tool(tools, 'forest.plant');
    expect(foreignReferences(plant.input_schema)).toEqual([]);
    expect(Object.keys(plant.input_schema['$defs'] as object)).toEqual(['Node']);
    const validatePlant = validator(plant);
    const deep = { value: 1, children: [{ value: 2, children: [{ value: 3, label: 'leaf', children: [] }] }] };
    expect(validatePlant({ body: deep })).toBe(true);
    expect(validatePlant({ body: { value: 1, children: [{ value: 2, children: [{ value: 'three' }] }] } })).toBe(false);
    expect(validatePlant({ body: { value: 1, children: [{ value: 2, label: 'too long' }] } })).toBe(false); // the non-cyclic Label, inlined within the cycle

    const person = tool(tools, 'forest.addPerson');
    expect(person.body_media_type).toBe('application/vnd.people+json');
    expect(Object.keys(person.input_schema['$defs'] as object).sort()).toEqual(['Company', 'Person']);
    const validatePerson = validator(person);
    expect(validatePerson({ body: { name: 'a', employer: { title: 'c', staff: [{ name: 'b', employer: { title: 'd' } }] } } })).toBe(true);
    expect(validatePerson({ body: { employer: { staff: [] } } })).toBe(false); // Company requires title
  });

  it('read Swagger 2.0: body and formData parameters, keywords on the parameter itself, and consumes', () => {
    const document = {
      swagger: '2.0',
      info: { title: 'Legacy', version: '1' },
      consumes: ['application/json'],
      securityDefinitions: { key: { type: 'apiKey', name: 'X-Token', in: 'header' }, query_key: { type: 'apiKey', name: 'key', in: 'query' } },
      paths: {
        '/orders': {
          post: {
            parameters: [
              { name: 'order', in: 'body', required: true, schema: { $ref: '#/definitions/Order' } },
              { name: 'limit', in: 'query', type: 'integer', maximum: 10, exclusiveMaximum: true },
              { name: 'key', in: 'query', type: 'string' },
              { name: 'X-Token', in: 'header', type: 'string', required: true },
            ],
          },
        },
        '/files': {
          put: { operationId: 'upload', consumes: ['multipart/form-data'], parameters: [{ name: 'file', in: 'formData', type: 'file', required: true }, { name: 'note', in: 'formData', type: 'string' }] },
        },
      },
      definitions: { Order: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' }, quantity: { type: 'integer', 'x-nullable': true } } } },
    };
    const tools = toolsOf(document, 'shop');
    expect(tools.map((candidate) => candidate.name)).toEqual(['shop.post_orders', 'shop.upload']);
    const order = tool(tools, 'shop.post_orders');
    expect(order.operation_id).toBeNull();
    expect(order.title).toBe('POST /orders');
    expect(order.body_media_type).toBe('application/json');
    // The security scheme's parameters are the orchestrator's to send, never the agent's.
    expect(Object.keys(order.input_schema['properties'] as object)).toEqual(['query', 'body']);
    const validate = validator(order);
    expect(validate({ query: { limit: 9 }, body: { sku: 'a', quantity: null } })).toBe(true);
    expect(validate({ query: { limit: 10 }, body: { sku: 'a' } })).toBe(false);
    expect(validate({ body: { quantity: 1 } })).toBe(false);
    expect(validate({ query: { key: 'k' }, body: { sku: 'a' } })).toBe(false);

    const upload = tool(tools, 'shop.upload');
    expect(upload.body_media_type).toBe('multipart/form-data');
    expect(upload.input_schema['properties']).toEqual({ body: { type: 'object', properties: { file: { type: 'string', format: 'binary' }, note: { type: 'string' } }, required: ['file'], additionalProperties: false } });
    expect(upload.input_schema['required']).toEqual(['body']);
  });

  it('name operations without an operationId by method and path, keep names to MCP\'s characters and 128 characters, and make them unique', () => {
    const long = 'x'.repeat(100);
    const document = {
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {
        '/': { get: {} },
        '/users/{user-id}/photos.json': { get: {} },
        '/a': { get: { operationId: 'dup' }, post: { operationId: 'dup' } },
        '/b': { get: { operationId: 'list items!' }, post: { operationId: 'list.items' } },
        [`/${long}/one`]: { get: { operationId: `${long}_long_operation_one` } },
        [`/${long}/two`]: { get: { operationId: `${long}_long_operation_two` } },
      },
    };
    const service = 'a'.repeat(20);
    const names = toolsOf(document, service).map((candidate) => candidate.name);
    expect(names.slice(0, 2)).toEqual([`${service}.get_root`, `${service}.get_users_user-id_photos_json`]);
    expect(names).toHaveLength(8);
    expect(new Set(names).size).toBe(8);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_.-]{1,128}$/);
    // Both `dup`s are told apart, each by a digest of its own method and path, so neither name depends on the other's position.
    const dups = names.filter((name) => name.startsWith(`${service}.dup_`));
    expect(dups).toHaveLength(2);
    const reordered = toolsOf({ ...document, paths: { '/a': { post: { operationId: 'dup' }, get: { operationId: 'dup' } } } }, service).map((candidate) => candidate.name);
    expect(reordered.sort()).toEqual([...dups].sort());
    // `list items!` and `list.items` become `list_items` both (no `.` after the service's own).
    expect(names.filter((name) => name.startsWith(`${service}.list_items_`))).toHaveLength(2);
    // Long names are cut to 128 with a digest of the whole name, so two that share their first 128 characters stay apart.
    const longNames = names.filter((name) => name.length === 128);
    expect(longNames).toHaveLength(2);
    expect(longNames[0]).not.toBe(longNames[1]);
    // A service named `workflow` never shares a name with a workflow's tool.
    expect(toolsOf({ openapi: '3.1.0', info: { title: 't', version: '1' }, paths: { '/run': { post: { operationId: 'billing' } } } }, 'workflow')[0]!.name).toMatch(/^workflow\.billing_[0-9a-f]{8}$/);
  });

  it('carry no credential: no security or cookie parameter, no example, no default of a secret field, no token in the text', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    const document = {
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      components: { securitySchemes: { header_key: { type: 'apiKey', in: 'header', name: 'X-Service-Key' }, bearer: { type: 'http', scheme: 'bearer' } } },
      paths: {
        '/login': {
          post: {
            operationId: 'login',
            description: `Sign in. Example: curl -H "Authorization: Bearer ${jwt}" https://admin:hunter22@api.example.com/login?api_key=sk-live0123456789abcdef`,
            parameters: [
              { name: 'X-Service-Key', in: 'header', schema: { type: 'string', default: 'k-123456789' } },
              { name: 'Authorization', in: 'header', schema: { type: 'string' } },
              { name: 'X-API-Key', in: 'header', schema: { type: 'string' } },
              { name: 'page_token', in: 'query', schema: { type: 'string', default: 'abc' } },
            ],
            requestBody: {
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      username: { type: 'string', default: 'admin', examples: ['root'] },
                      password: { type: 'string', default: 'hunter22', example: 'hunter22' },
                      settings: { type: 'object', default: { theme: 'dark', api_token: 'ghp_abcdefghijklmnopqrstuvwxyz0123' } },
                      callback: { type: 'string', default: `Bearer ${jwt}` },
                    },
                  },
                },
              },
            },
          },
        },
      },
    };
    const [login] = toolsOf(document, 'auth');
    const text = JSON.stringify(login);
    for (const secret of [jwt, 'hunter22', 'sk-live0123456789abcdef', 'ghp_abcdefghijklmnopqrstuvwxyz0123', 'k-123456789', 'root']) expect(text).not.toContain(secret);
    expect(login!.description).toContain('Sign in.');
    expect(login!.description).toContain('Bearer ***');
    expect(login!.description).toContain('https://***@api.example.com');
    expect(Object.keys(login!.input_schema['properties'] as object)).toEqual(['query', 'body']);
    const body = (login!.input_schema['properties'] as Record<string, { properties: Record<string, Record<string, unknown>> }>)['body']!.properties;
    // The fields stay (a login takes a password); their values do not.
    expect(body['password']).toEqual({ type: 'string' });
    expect(body['username']).toEqual({ type: 'string', default: 'admin' });
    expect(body['settings']).toEqual({ type: 'object', default: { theme: 'dark' } });
    expect(body['callback']).toEqual({ type: 'string' });
    expect(validator(login!)({ body: { username: 'u', password: 'p' } })).toBe(true);
  });

  it('turn OpenAPI keywords into JSON Schema 2020-12: 3.1 type lists and $ref siblings, 3.0 nullable references, tuples; drop the rest', () => {
    const document = {
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: {
        '/things': {
          post: {
            operationId: 'make',
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    discriminator: { propertyName: 'kind' },
                    xml: { name: 'thing' },
                    'x-extra': 1,
                    properties: {
                      kind: { type: ['string', 'null'], enum: ['a', 'b', null] },
                      size: { $ref: '#/components/schemas/Size', description: 'How big', maximum: 5 },
                      pair: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }], additionalItems: false },
                      code: { type: 'string', pattern: '^[\\w-]+$' },
                      bad_pattern: { type: 'string', pattern: '(' },
                      external: { $ref: 'https://example.com/schemas/thing.json' },
                      missing: { $ref: '#/components/schemas/Nowhere' },
                    },
                    dependencies: { code: ['kind'] },
                  },
                },
              },
            },
          },
        },
      },
      components: { schemas: { Size: { type: 'integer', minimum: 1 } } },
    };
    const [make] = toolsOf(document, 'things');
    const body = (make!.input_schema['properties'] as Record<string, Record<string, unknown>>)['body']!;
    expect(JSON.stringify(body)).not.toMatch(/discriminator|xml|x-extra|additionalItems/);
    expect(body['dependentRequired']).toEqual({ code: ['kind'] });
    const properties = body['properties'] as Record<string, Record<string, unknown>>;
    expect(properties['size']).toEqual({ type: 'integer', minimum: 1, description: 'How big', maximum: 5 });
    expect(properties['pair']).toEqual({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], items: false });
    expect(properties['bad_pattern']).toEqual({ type: 'string' });
    const validate = validator(make!);
    expect(validate({ body: { kind: null, size: 3, pair: ['x', 1], code: 'a-b', external: { any: 'thing' }, missing: 1 } }), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ body: { size: 6 } })).toBe(false);
    expect(validate({ body: { size: 0 } })).toBe(false);
    expect(validate({ body: { pair: ['x', 1, 2] } })).toBe(false);
    expect(validate({ body: { code: 'x' } })).toBe(false); // code needs kind

    const nullableReference = toolsOf({
      openapi: '3.0.1',
      info: { title: 't', version: '1' },
      paths: { '/x': { post: { operationId: 'x', requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { size: { nullable: true, allOf: [{ $ref: '#/components/schemas/Size' }] } } } } } } } } },
      components: { schemas: { Size: { type: 'integer', minimum: 1 } } },
    }, 'n')[0]!;
    const validateNullable = validator(nullableReference);
    expect(validateNullable({ body: { size: null } })).toBe(true);
    expect(validateNullable({ body: { size: 2 } })).toBe(true);
    expect(validateNullable({ body: { size: 0 } })).toBe(false);
  });

  it('stay within size when one shared schema is reached many times: past a node budget, references go to $defs', () => {
    // Each level refers to the next twice: inlining it all would take 2^14 copies of the leaf.
    const schemas: Record<string, unknown> = { L14: { type: 'string' } };
    for (let level = 13; level >= 0; level--) schemas[`L${level}`] = { type: 'object', properties: { left: { $ref: `#/components/schemas/L${level + 1}` }, right: { $ref: `#/components/schemas/L${level + 1}` } } };
    const [wide] = toolsOf({ openapi: '3.0.0', info: { title: 't', version: '1' }, paths: { '/w': { post: { operationId: 'wide', requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/L0' } } } } } } }, components: { schemas } }, 'w');
    expect(JSON.stringify(wide!.input_schema).length).toBeLessThan(MAX_INLINE_NODES * 200);
    expect(Object.keys(wide!.input_schema['$defs'] as object).length).toBeGreaterThan(0);
    expect(foreignReferences(wide!.input_schema)).toEqual([]);
    const validate = validator(wide!);
    let value: unknown = 'leaf';
    for (let level = 14; level > 0; level--) value = { left: value, right: value };
    expect(validate({ body: value })).toBe(true);
    let broken: unknown = 42;
    for (let level = 14; level > 0; level--) broken = { left: broken, right: broken };
    expect(validate({ body: broken })).toBe(false);
  });

  it('refuse what is not an OpenAPI 3.x or Swagger 2.0 document, with the reason', () => {
    expect(serviceOperationTools('s', [])).toEqual({ ok: false, reason: 'the document is not a JSON object' });
    expect(serviceOperationTools('s', { openapi: '2.5' })).toMatchObject({ ok: false, reason: expect.stringContaining('not an OpenAPI 3.x or Swagger 2.0 document') });
    expect(serviceOperationTools('s', { swagger: '2.0', paths: [] })).toEqual({ ok: false, reason: '`paths` is not an object' });
    expect(serviceOperationTools('s', { openapi: '3.0.0' })).toEqual({ ok: true, tools: [] });
  });
});
