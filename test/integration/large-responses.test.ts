import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ActionErrorName, NotFoundError, PayloadTooLargeError } from '../../core/errors.ts';
import { createS3Client, PREVIEW_CHARS, S3PayloadStore, type PayloadRef } from '../../adapters/aws/s3/payload-store.ts';
import { createActionRunner, type ActionRunnerDeps } from '../../functions/workers/action-runner.ts';
import { ServiceCallError, type ServiceCallFailure } from '../../functions/workers/service-call-errors.ts';
import type { ServiceCallPayload } from '../../functions/workers/service-call.ts';
import { isPayloadRef } from '../../functions/workers/payload-refs.ts';
import { ensureBucket } from '../../local/fauxqs.ts';
import { fixedRegistry } from '../support/fixed-registry.ts';
import { testHttp } from '../support/outbound.ts';

/** A 600 KB document: three times what one result may keep in state data. */
const CONTENT = Array.from({ length: 600 }, (_, index) => `line ${index}: ${'é'.repeat(500)}`).join('\n');
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const OTHER_TRACE = '0af7651916cd43dd8448eb211c80319c';

let services: Server;
let servicesUrl: string;
const received: { path: string; body: unknown }[] = [];
let s3: S3Client;
let store: S3PayloadStore;
const bucket = `large-${randomUUID()}`;

beforeAll(async () => {
  services = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const text = Buffer.concat(chunks).toString('utf8');
      received.push({ path: url.pathname, body: text ? (JSON.parse(text) as unknown) : Object.fromEntries(url.searchParams) });
      response.setHeader('content-type', 'application/json');
      if (url.pathname === '/document') response.end(JSON.stringify({ content: CONTENT, title: 'Quarterly report', pages: 600 }));
      else if (url.pathname === '/many') response.end(JSON.stringify({ items: Array.from({ length: 5000 }, (_, index) => ({ index, word: `w${index}` })) }));
      else if (url.pathname === '/text') {
        response.setHeader('content-type', 'text/plain');
        response.end(CONTENT);
      } else response.end(JSON.stringify({ received_bytes: Buffer.byteLength(text) }));
    });
  });
  await new Promise<void>((resolve) => services.listen(0, '127.0.0.1', resolve));
  servicesUrl = `http://127.0.0.1:${(services.address() as AddressInfo).port}`;
  s3 = createS3Client({ endpoint: inject('fauxqsEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await ensureBucket(s3, bucket);
  store = new S3PayloadStore(s3, bucket);
});
afterAll(async () => {
  s3.destroy();
  services.closeAllConnections();
  await new Promise<void>((resolve) => services.close(() => resolve()));
});

function runner(deps: Partial<ActionRunnerDeps> = {}) {
  return createActionRunner({ registry: fixedRegistry(), env: { SOURCE_URL: servicesUrl }, http: testHttp(), payloads: { store }, ...deps });
}

function payload(overrides: Partial<ServiceCallPayload> = {}): ServiceCallPayload {
  return { action_id: 'fetch_doc', execution_id: 'exec-1', workflow_id: 'wf-1', workflow_version: 1, service: 'source', endpoint: '/document', method: 'POST', timeout_seconds: 10, trace_id: TRACE, ...overrides };
}

async function failure(promise: Promise<unknown>): Promise<{ error: ServiceCallError; details: ServiceCallFailure }> {
  const error = await promise.then(
    () => new Error('expected the call to fail'),
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(ServiceCallError);
  return { error: error as ServiceCallError, details: JSON.parse((error as ServiceCallError).message) as ServiceCallFailure };
}

const keyOf = (ref: PayloadRef) => ref.payload_ref.slice(`s3://${bucket}/`.length);

describe('a response too large for state data', () => {
  it('is stored in S3 part by part: the large field becomes a reference, the rest stays inline', async () => {
    const result = await runner()(payload());
    const response = result.response as { content: PayloadRef; title: string; pages: number };
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(4 * 1024);
    expect(response.title).toBe('Quarterly report');
    expect(response.pages).toBe(600);
    expect(isPayloadRef(response.content)).toBe(true);
    expect(response.content.payload_ref).toMatch(new RegExp(`^s3://${bucket}/payloads/${TRACE}/exec-1/fetch_doc/[0-9a-f-]{36}\\.json$`));
    expect(response.content.size_bytes).toBe(Buffer.byteLength(JSON.stringify(CONTENT)));
    expect(response.content.preview).toBe(CONTENT.slice(0, PREVIEW_CHARS));

    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(response.content) }));
    expect(object.ContentType).toBe('application/json');
    expect(JSON.parse(await object.Body!.transformToString('utf-8'))).toBe(CONTENT);
  });

  it('keeps the result whole when it fits in the payload’s inline_result_bytes, and splits it when it does not', async () => {
    const small = await runner()(payload({ endpoint: '/echo', parameters: { note: 'n'.repeat(3000) } }));
    expect(small.response).toEqual({ received_bytes: 3011 });
    const split = await runner()(payload({ endpoint: '/many', inline_result_bytes: 4096 }));
    // 5,000 items of about 30 bytes: no handful of them is enough, so the array goes as one reference.
    const response = split.response as { items: PayloadRef };
    expect(isPayloadRef(response.items)).toBe(true);
    expect(JSON.stringify(split).length).toBeLessThanOrEqual(4096);
    expect((await store.get(response.items)).value).toHaveLength(5000);
  });

  it('stores a text body whole, and puts foreach items under their index', async () => {
    const result = await runner()(payload({ endpoint: '/text', item_index: 7 }));
    const ref = result.response as PayloadRef;
    expect(isPayloadRef(ref)).toBe(true);
    expect(ref.payload_ref).toContain(`/payloads/${TRACE}/exec-1/fetch_doc/7/`);
    expect((await store.get(ref)).value).toBe(CONTENT);
  });

  it('still becomes a truncated preview beyond the body cap', async () => {
    const result = await runner({ payloads: { store, maxBodyBytes: 100_000 } })(payload());
    expect(result.response).toMatchObject({ truncated: true, content_type: 'application/json' });
  });

  it('is truncated as before when the runner has no payload store', async () => {
    const result = await runner({ payloads: undefined })(payload());
    expect(result.response).toMatchObject({ truncated: true, preview: expect.stringMatching(/^\{"content":"line 0/) });
  });
});

describe('references in the parameters of a later call', () => {
  it('are replaced by the stored values, so the service receives the full content', async () => {
    const first = await runner()(payload());
    const content = (first.response as { content: PayloadRef }).content;
    await runner()(payload({ action_id: 'analyze', endpoint: '/analyze', parameters: { content, nested: { again: [content] }, title: 'kept' } }));
    const seen = received.filter((request) => request.path === '/analyze').at(-1)!.body as { content: string; nested: { again: string[] }; title: string };
    expect(seen.content).toBe(CONTENT);
    expect(seen.nested.again[0]).toBe(CONTENT);
    expect(seen.title).toBe('kept');
  });

  it('refuse a reference outside the call’s own trace, without calling the service (not retryable)', async () => {
    const stolen = await store.put(`payloads/${OTHER_TRACE}/exec-9/secret/${randomUUID()}.json`, 'another run’s data');
    const before = received.length;
    const { error, details } = await failure(runner()(payload({ endpoint: '/analyze', parameters: { content: stolen } })));
    expect(error.name).toBe(ActionErrorName.ServiceRejected);
    expect(error.retryable).toBe(false);
    expect(details.message).toMatch(/parameters\.content refers to .*not a payload of this execution's trace/);
    // The dead letter carries the reference, not the content.
    expect(details.request.parameters).toEqual({ content: stolen });
    expect(received.length).toBe(before);

    const elsewhere = { ...stolen, payload_ref: `s3://another-bucket/payloads/${TRACE}/x.json` };
    expect((await failure(runner()(payload({ parameters: { content: elsewhere } })))).error.name).toBe(ActionErrorName.ServiceRejected);
    const climbing = { ...stolen, payload_ref: `s3://${bucket}/payloads/${TRACE}/../${OTHER_TRACE}/exec-9/secret/x.json` };
    expect((await failure(runner()(payload({ parameters: { content: climbing } })))).details.message).toContain('refused');
  });

  it('refuse every reference when the call has no trace id', async () => {
    const first = await runner()(payload());
    const content = (first.response as { content: PayloadRef }).content;
    const { error } = await failure(runner()(payload({ trace_id: undefined, parameters: { content } })));
    expect(error.name).toBe(ActionErrorName.ServiceRejected);
    expect(error.message).toContain('no trace id');
  });

  it('fail without retrying when the object is gone, and when they add up to more than the call may send', async () => {
    const gone = { payload_ref: `s3://${bucket}/payloads/${TRACE}/exec-1/fetch_doc/${randomUUID()}.json`, size_bytes: 10, preview: 'x' };
    const missing = await failure(runner()(payload({ parameters: { content: gone } })));
    expect(missing.error.name).toBe(ActionErrorName.ServiceRejected);
    expect(missing.details.message).toContain('does not exist');

    const first = await runner()(payload());
    const content = (first.response as { content: PayloadRef }).content;
    const tooMuch = await failure(runner({ payloads: { store, maxDereferencedBytes: 100_000 } })(payload({ parameters: { content } })));
    expect(tooMuch.error.name).toBe(ActionErrorName.ServiceRejected);
    expect(tooMuch.details.message).toContain('more than the 100000 bytes');
  });

  it('leave data that merely looks like a reference alone when the runner has no payload store', async () => {
    const lookalike = { payload_ref: `s3://${bucket}/payloads/${OTHER_TRACE}/x.json`, size_bytes: 1, preview: 'x' };
    await runner({ payloads: undefined })(payload({ endpoint: '/plain', parameters: { content: lookalike } }));
    expect(received.filter((request) => request.path === '/plain').at(-1)!.body).toEqual({ content: lookalike });
  });
});

describe('S3PayloadStore', () => {
  it('round-trips JSON values and recognises only its own bucket’s references', async () => {
    const ref = await store.put(`payloads/${TRACE}/roundtrip/${randomUUID()}.json`, { a: [1, 'two', null], b: { c: true } });
    expect(ref.size_bytes).toBe(JSON.stringify({ a: [1, 'two', null], b: { c: true } }).length);
    expect(await store.get(ref)).toEqual({ value: { a: [1, 'two', null], b: { c: true } }, size_bytes: ref.size_bytes });
    expect(store.keyOf(ref)).toMatch(/^payloads\//);
    expect(store.keyOf({ payload_ref: `s3://${bucket}-other/payloads/x.json` })).toBeUndefined();
  });

  it('keeps a reference small whatever the text: the preview’s JSON is at most 512 bytes', async () => {
    const ref = await store.put(`payloads/${TRACE}/escapes/${randomUUID()}.json`, '\u0001"'.repeat(1000));
    expect(Buffer.byteLength(JSON.stringify(ref.preview))).toBeLessThanOrEqual(512);
    expect(ref.preview.length).toBeGreaterThan(32);
    expect(JSON.stringify(ref).length).toBeLessThan(800);
  });

  it('reports a missing object as NotFoundError and an object over the limit as PayloadTooLargeError', async () => {
    await expect(store.get({ payload_ref: `s3://${bucket}/payloads/none.json` })).rejects.toBeInstanceOf(NotFoundError);
    const ref = await store.put(`payloads/${TRACE}/big/${randomUUID()}.json`, 'x'.repeat(5000));
    await expect(store.get(ref, { maxBytes: 1000 })).rejects.toBeInstanceOf(PayloadTooLargeError);
  });
});
