import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, jsonDigest, sha256Hex } from '../../../core/registry/digest.ts';
import { diffApiSummaries, isEmptyDiff, MAX_LABEL_LENGTH, summarizeApiDocument, type ApiSummary } from '../../../core/registry/drift.ts';

function summary(document: unknown): ApiSummary {
  const outcome = summarizeApiDocument(document);
  if (!outcome.ok) throw new Error(outcome.reason);
  return outcome.summary;
}

/** An API document as tests edit it. */
type Document = { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } } & Record<string, unknown>;

const base = (): Document => ({
  openapi: '3.0.3',
  info: { title: 'Orders', version: '2.1.0' },
  paths: {
    '/orders': {
      get: { operationId: 'listOrders', summary: 'List orders', responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Orders' } } } } } },
      post: { operationId: 'createOrder', responses: { '201': { description: 'created' } } },
      'x-internal': { note: 'not an operation' },
    },
    '/orders/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: { operationId: 'getOrder', responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Order' } } } } } },
    },
  },
  components: {
    schemas: {
      Orders: { type: 'array', items: { $ref: '#/components/schemas/Order' } },
      Order: { type: 'object', properties: { id: { type: 'string' }, lines: { type: 'array', items: { $ref: '#/components/schemas/Line' } } } },
      Line: { type: 'object', properties: { sku: { type: 'string' } } },
    },
  },
});

describe('SHA-256 and canonical JSON', () => {
  it('computes the same SHA-256 as node:crypto for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
      }),
      { numRuns: 300 },
    );
    for (const length of [55, 56, 63, 64, 65, 119, 120]) expect(sha256Hex('a'.repeat(length))).toBe(createHash('sha256').update('a'.repeat(length)).digest('hex'));
  });

  it('gives one text for equal values whatever their key order, and drops undefined members', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
        const reversed = Object.fromEntries(Object.entries(value).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(value));
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: undefined } })).toBe('{"a":{"d":[2,{"e":0,"f":1}]},"b":1}');
    expect(jsonDigest({ a: 1, b: 2 })).toBe(jsonDigest({ b: 2, a: 1 }));
  });
});

describe('summarizing an API document', () => {
  it('lists every operation by path then method, with its id, summary and a digest; skips extensions', () => {
    const result = summary(base());
    expect(result).toMatchObject({ format: 'openapi', spec_version: '3.0.3', title: 'Orders', api_version: '2.1.0', digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(result.operations.map((operation) => [operation.method, operation.path, operation.operation_id, operation.summary])).toEqual([
      ['GET', '/orders', 'listOrders', 'List orders'],
      ['POST', '/orders', 'createOrder', undefined],
      ['GET', '/orders/{id}', 'getOrder', undefined],
    ]);
  });

  it('reads Swagger 2.0 and refuses anything that is not OpenAPI 3.x or Swagger 2.0, saying why', () => {
    expect(summary({ swagger: '2.0', paths: { '/a': { get: { responses: {} } } } })).toMatchObject({ format: 'swagger', spec_version: '2.0', operations: [{ method: 'GET', path: '/a' }] });
    expect(summarizeApiDocument({ openapi: '2.0', paths: {} })).toMatchObject({ ok: false, reason: expect.stringMatching(/not an OpenAPI 3\.x or Swagger 2\.0/) });
    expect(summarizeApiDocument('openapi: 3.0.0')).toMatchObject({ ok: false, reason: 'the document is not a JSON object' });
    expect(summarizeApiDocument([])).toMatchObject({ ok: false });
    expect(summarizeApiDocument({ openapi: '3.1.0', paths: [] })).toMatchObject({ ok: false, reason: '`paths` is not an object' });
    // OpenAPI 3.1 allows a document with webhooks only.
    expect(summary({ openapi: '3.1.0', webhooks: {} }).operations).toEqual([]);
  });

  it('changes an operation digest when a schema it reaches through references changes, and only those', () => {
    const before = summary(base());
    const document = base();
    document.components.schemas['Line'] = { type: 'object', properties: { sku: { type: 'string' }, quantity: { type: 'integer' } } };
    const after = summary(document);
    const changed = diffApiSummaries(before, after).changed.map((operation) => `${operation.method} ${operation.path}`);
    expect(changed).toEqual(['GET /orders', 'GET /orders/{id}']);
  });

  it("changes an operation digest when its path's shared parameters change", () => {
    const document = base();
    document.paths['/orders/{id}']!['parameters'] = [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }];
    expect(diffApiSummaries(summary(base()), summary(document)).changed.map((operation) => operation.operation_id)).toEqual(['getOrder']);
  });

  it('survives reference cycles and references that lead nowhere', () => {
    const document = base();
    document.components.schemas['Line'] = { type: 'object', properties: { parent: { $ref: '#/components/schemas/Order' }, ghost: { $ref: '#/components/schemas/Missing' } } };
    expect(summary(document).operations).toHaveLength(3);
  });

  it('cuts long summaries, and gives the same summary whatever the key order', () => {
    const document = base();
    (document.paths['/orders']!['get'] as Record<string, unknown>)['summary'] = 'x'.repeat(500);
    expect(summary(document).operations[0]?.summary).toHaveLength(MAX_LABEL_LENGTH);
    const reversed = (value: unknown): unknown =>
      Array.isArray(value) ? value.map(reversed) : typeof value === 'object' && value !== null ? Object.fromEntries(Object.entries(value).reverse().map(([key, item]) => [key, reversed(item)])) : value;
    const reordered = reversed(base());
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(base()));
    expect(summary(reordered)).toEqual(summary(base()));
  });
});

describe('diffing two summaries', () => {
  it('finds operations added, removed and changed, and nothing between equal documents', () => {
    const before = summary(base());
    expect(isEmptyDiff(diffApiSummaries(before, summary(base())))).toBe(true);
    const document = base();
    delete document.paths['/orders']!['post'];
    document.paths['/orders']!['delete'] = { operationId: 'purgeOrders', responses: {} };
    document.paths['/orders']!['get'] = { ...(document.paths['/orders']!['get'] as object), deprecated: true };
    const diff = diffApiSummaries(before, summary(document));
    expect(diff.added.map((operation) => operation.operation_id)).toEqual(['purgeOrders']);
    expect(diff.removed.map((operation) => operation.operation_id)).toEqual(['createOrder']);
    expect(diff.changed).toEqual([{ method: 'GET', path: '/orders', operation_id: 'listOrders', previous_digest: before.operations[0]!.digest, digest: expect.any(String) }]);
  });

  it('treats a renamed path parameter as the same route, changed', () => {
    const document = base();
    document.paths['/orders/{order_id}'] = { ...document.paths['/orders/{id}'], parameters: [{ name: 'order_id', in: 'path', required: true, schema: { type: 'string' } }] };
    delete document.paths['/orders/{id}'];
    const diff = diffApiSummaries(summary(base()), summary(document));
    expect(diff).toMatchObject({ added: [], removed: [], changed: [{ method: 'GET', path: '/orders/{order_id}' }] });
  });
});
