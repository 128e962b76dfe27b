import { describe, expect, it } from 'vitest';
import { callPrefix, dereferenceParameters, externalizeResult, isPayloadRef, jsonBytes, tracePrefix, type PayloadRef, type PayloadStore } from '../../../../functions/workers/payload-refs.ts';

/** A payload store in memory: what externalizing and dereferencing do is under test here, not S3. */
function memoryStore(): PayloadStore & { readonly objects: Map<string, string> } {
  const objects = new Map<string, string>();
  return {
    objects,
    put: async (key, value) => {
      const text = JSON.stringify(value);
      objects.set(key, text);
      return { payload_ref: `s3://memory/${key}`, size_bytes: Buffer.byteLength(text), preview: (typeof value === 'string' ? value : text).slice(0, 256) };
    },
    keyOf: (ref) => (ref.payload_ref.startsWith('s3://memory/') ? ref.payload_ref.slice('s3://memory/'.length) : undefined),
    get: async (ref) => {
      const text = objects.get(ref.payload_ref.slice('s3://memory/'.length));
      if (text === undefined) throw Object.assign(new Error('gone'), { name: 'NotFoundError' });
      return { value: JSON.parse(text) as unknown, size_bytes: Buffer.byteLength(text) };
    },
  };
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const big = (bytes: number, letter = 'x') => letter.repeat(bytes);

async function externalize(response: unknown, inlineBytes: number, maxRefs = 16) {
  const store = memoryStore();
  const result = await externalizeResult({ status_code: 200, headers: { 'content-type': 'application/json' }, response }, { store, inlineBytes, keyPrefix: callPrefix(TRACE, 'e', 'a', undefined), maxRefs });
  return { result, store, refs: [...JSON.stringify(result.response).matchAll(/"payload_ref"/g)].length };
}

describe('externalizing a result', () => {
  it('leaves a result that fits alone', async () => {
    const response = { a: big(1000) };
    const { result, store } = await externalize(response, 4096);
    expect(result.response).toBe(response);
    expect(store.objects.size).toBe(0);
  });

  it('goes as deep as one value covers the excess, so siblings stay inline', async () => {
    const { result, refs } = await externalize({ doc: { body: big(50_000), meta: { author: 'ann', tags: ['a', 'b'] } }, id: 7 }, 8192);
    expect(refs).toBe(1);
    expect(result.response).toMatchObject({ doc: { body: { payload_ref: expect.stringMatching(/^s3:\/\/memory\/payloads\//) }, meta: { author: 'ann', tags: ['a', 'b'] } }, id: 7 });
  });

  it('takes several large values, largest first, when no single one is enough', async () => {
    const { result, refs } = await externalize({ a: big(30_000, 'a'), b: big(20_000, 'b'), c: big(3_000, 'c'), small: 1 }, 8192);
    expect(refs).toBe(2);
    const response = result.response as Record<string, unknown>;
    expect(isPayloadRef(response.a) && isPayloadRef(response.b)).toBe(true);
    expect(response.c).toBe(big(3_000, 'c'));
    expect(jsonBytes(result)).toBeLessThanOrEqual(8192);
  });

  it('stores the whole response as one reference when more than maxRefs would be needed', async () => {
    const response = Object.fromEntries(Array.from({ length: 20 }, (_, index) => [`part${index}`, big(5_000)]));
    const { result, store } = await externalize(response, 4096, 16);
    expect(isPayloadRef(result.response)).toBe(true);
    expect(store.objects.size).toBe(1);
    expect(JSON.parse([...store.objects.values()][0]!)).toEqual(response);
  });

  it('stores a container whole when its largest values together would not be enough', async () => {
    // Two references (maxRefs) of `a` and `b` leave `c` over the limit: `outer` goes as one.
    const { result, store } = await externalize({ outer: { a: big(6_000), b: big(5_000), c: big(5_000) }, id: 1 }, 2048, 2);
    expect(isPayloadRef((result.response as { outer: unknown }).outer)).toBe(true);
    expect((result.response as { id: number }).id).toBe(1);
    expect(store.objects.size).toBe(1);
    // What is stored is a value of the original response: never one holding a reference.
    for (const text of store.objects.values()) expect(text).not.toContain('payload_ref');
  });

  it('keeps a string response whole behind one reference, and never stores a response smaller than a reference', async () => {
    expect(isPayloadRef((await externalize(big(10_000), 2048)).result.response)).toBe(true);
    const store = memoryStore();
    const headers = Object.fromEntries(Array.from({ length: 50 }, (_, index) => [`x-h${index}`, big(100)]));
    const result = await externalizeResult({ status_code: 200, headers, response: { ok: true } }, { store, inlineBytes: 2048, keyPrefix: 'payloads/t/', maxRefs: 16 });
    expect(result.response).toEqual({ ok: true });
    expect(store.objects.size).toBe(0);
  });
});

describe('dereferencing parameters', () => {
  it('replaces references at any depth and returns the same object when there is none', async () => {
    const store = memoryStore();
    const ref = await store.put(`${tracePrefix(TRACE)}e/a/1.json`, { text: 'full' });
    const parameters = { top: ref, list: [1, { inner: ref }], plain: { payload_ref: 's3://memory/x', size_bytes: 1, preview: 'p', extra: true } };
    const resolved = await dereferenceParameters(parameters, { store, allowedPrefix: tracePrefix(TRACE), maxBytes: 1000 });
    expect(resolved).toEqual({ top: { text: 'full' }, list: [1, { inner: { text: 'full' } }], plain: parameters.plain });
    const none = { a: 1 };
    expect(await dereferenceParameters(none, { store, allowedPrefix: tracePrefix(TRACE), maxBytes: 1000 })).toBe(none);
  });

  it('names where a refused reference is', async () => {
    const store = memoryStore();
    const ref: PayloadRef = await store.put('payloads/other/e/a/1.json', 'secret');
    await expect(dereferenceParameters({ a: [ref] }, { store, allowedPrefix: tracePrefix(TRACE), maxBytes: 1000 })).rejects.toMatchObject({
      name: 'PayloadReferenceError',
      retryable: false,
      message: expect.stringContaining('parameters.a[0] refers to s3://memory/payloads/other/'),
    });
  });
});

describe('payload keys', () => {
  it('keep each id one key segment', () => {
    expect(callPrefix(TRACE, 'exec/../1', 'a b', 3)).toBe(`payloads/${TRACE}/exec_.._1/a_b/3/`);
    expect(callPrefix('..', '.', 'x.compensation', undefined)).toBe('payloads/_/_/x.compensation/');
  });
});
